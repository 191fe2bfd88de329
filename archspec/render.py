"""Human output: the per-layer table and totals (rich), and diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .errors import Diagnostic
    from .report import Report


def human(n: float, unit: str = "") -> str:
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {suffix}{unit}"
    return f"{n:g} {unit}".strip()


def mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


def render_report(report: "Report", console=None, max_rows: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"{report.name}  (input {report.input_shape}, {report.layout})",
                  title_justify="left", header_style="bold", box=None, pad_edge=False)
    table.add_column("Layer")
    table.add_column("Type")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    table.add_column("Non-train.", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("RF", justify="right")
    rows = report.layers
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = len(rows) - max_rows
        rows = rows[: max_rows // 2] + rows[-(max_rows - max_rows // 2):]
    for i, row in enumerate(rows):
        if hidden and i == (max_rows or 0) // 2:
            table.add_row(f"... {hidden} more layers (use --all)", "", "", "", "", "", "")
        rf = "global" if row.receptive_field is None else "x".join(map(str, row.receptive_field))
        table.add_row(row.name, row.type, str(tuple(row.output_shape)),
                      f"{row.trainable_params:,}", f"{row.non_trainable_params:,}" if row.non_trainable_params else "",
                      human(row.macs) if row.macs else "", rf)
    console.print(table)
    t = report.totals
    console.print(
        f"[bold]Trainable params:[/bold] {t['trainable_params']:,}   "
        f"[bold]Non-trainable:[/bold] {t['non_trainable_params']:,}   "
        f"[bold]Total:[/bold] {t['total_params']:,} ({mib(t['param_bytes_fp32'])} fp32, "
        f"{mib(t['param_bytes_fp16'])} fp16)")
    console.print(
        f"[bold]MACs:[/bold] {t['macs']:,} ({human(t['macs'])})   "
        f"[bold]FLOPs:[/bold] {human(t['flops'])} (2 x MACs)   "
        f"[bold]Peak activations:[/bold] {mib(t['peak_activation_bytes'])} (batch 1, fp32)   "
        f"[bold]Output:[/bold] {tuple(report.output_shape)}")
    for warning in report.warnings:
        print_diagnostic(warning, console)


def print_diagnostic(diagnostic: "Diagnostic", console=None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(stderr=True)
    colour = "red" if diagnostic.severity == "error" else "yellow"
    first, *rest = diagnostic.format().split("\n")
    console.print(f"[{colour}]{escape(first)}[/{colour}]", highlight=False)
    for line in rest:
        console.print(escape(line), highlight=False)


def print_diagnostics(diagnostics: "Iterable[Diagnostic]", console=None) -> None:
    for d in diagnostics:
        print_diagnostic(d, console)
