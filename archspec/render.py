"""Human output: the per-layer table and totals (rich), and diagnostics.

Reports come in duck-typed (``report.Report``, ``verification.VerifyReport``...): this module
imports none of them, so that ``Report.render`` can use it without an import cycle."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .errors import Diagnostic


_MARKUP = re.compile(r"\[/?(?:bold|red|yellow|green)\]")


class PlainConsole:
    """The two methods of rich's Console this module uses, writing plain text: our markup
    tags are dropped and nothing is escaped (spec names are identifiers; messages carry no
    markup of their own)."""

    plain = True

    def __init__(self, file) -> None:
        self.file = file

    def print(self, text: str, highlight: bool = False) -> None:
        self.file.write(_MARKUP.sub("", text) + "\n")

    def out(self, text: str, highlight: bool = False) -> None:
        self.file.write(text + "\n")


def _escape(console):
    if getattr(console, "plain", False):
        return lambda text: text
    from rich.markup import escape
    return escape


def human(n: float, unit: str = "") -> str:
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {suffix}{unit}"
    return f"{n:g} {unit}".strip()


def mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


COLUMNS = ("Layer", "Type", "Output shape", "Params", "Non-train.", "MACs", "RF", "Inputs")
RIGHT = {3, 4, 5, 6}


def _inputs_cells(inputs: list[str], previous: str) -> list[str]:
    """Like Keras' "Connected to", but only where the wiring is not the row above (merges,
    branches, skips), one input per line so that a 4-way concatenation keeps the table narrow."""
    return [] if inputs == [previous] else list(inputs)


def _rows(report, max_rows: int | None) -> list[tuple[str, ...]]:
    rows = report.layers
    previous = ["input"] + [row.name for row in rows[:-1]]
    shown = list(zip(rows, previous))
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = len(rows) - max_rows
        shown = shown[: max_rows // 2] + shown[-(max_rows - max_rows // 2):]
    blank = ("",) * (len(COLUMNS) - 1)
    cells = []
    for i, (row, before) in enumerate(shown):
        if hidden and i == max_rows // 2:
            cells.append((f"... {hidden} more layers (--all shows them)",) + blank)
        rf = "global" if row.receptive_field is None else "x".join(map(str, row.receptive_field))
        first, *more = _inputs_cells(row.inputs, before) or [""]
        cells.append((row.name, row.type, str(tuple(row.output_shape)),
                      f"{row.trainable_params:,}",
                      f"{row.non_trainable_params:,}" if row.non_trainable_params else "",
                      human(row.macs) if row.macs else "", rf, first))
        cells.extend(blank + (name,) for name in more)
    return cells


def render_report(report, console=None, max_rows: int | None = None) -> None:
    """A Keras-summary-like table. Columns are laid out here rather than with rich.Table,
    whose measuring pass costs ~70 ms on a 200-row model against a 150 ms budget for the
    whole command; rich still does styling and the terminal."""
    if console is None:
        from rich.console import Console
        console = Console()
    escape = _escape(console)
    cells = _rows(report, max_rows)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(COLUMNS)]

    def line(values) -> str:
        return "  ".join(v.rjust(w) if i in RIGHT else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    console.print(f"[bold]{escape(report.name)}[/bold]  (input {report.input_shape}, "
                  f"{report.layout})", highlight=False)
    console.print(f"[bold]{escape(line(COLUMNS))}[/bold]", highlight=False)
    console.out("\n".join(line(r) for r in cells), highlight=False)
    t = report.totals
    console.print(
        f"[bold]Trainable params:[/bold] {t['trainable_params']:,}   "
        f"[bold]Non-trainable:[/bold] {t['non_trainable_params']:,}   "
        f"[bold]Total:[/bold] {t['total_params']:,} ({mib(t['param_bytes_fp32'])} fp32, "
        f"{mib(t['param_bytes_fp16'])} fp16)", highlight=False)
    console.print(
        f"[bold]MACs:[/bold] {t['macs']:,} ({human(t['macs'])})   "
        f"[bold]FLOPs:[/bold] {human(t['flops'])} (2 x MACs)   "
        f"[bold]Peak activations:[/bold] {mib(t['peak_activation_bytes'])} (batch 1, fp32)   "
        f"[bold]Output:[/bold] {tuple(report.output_shape)}", highlight=False)
    for warning in report.warnings:
        print_diagnostic(warning, console)


def print_diagnostic(diagnostic: "Diagnostic", console=None) -> None:
    if console is None:
        from rich.console import Console
        console = Console(stderr=True)
    escape = _escape(console)
    colour = "red" if diagnostic.severity == "error" else "yellow"
    first, *rest = diagnostic.format().split("\n")
    console.print(f"[{colour}]{escape(first)}[/{colour}]", highlight=False)
    for line in rest:
        console.print(escape(line), highlight=False)


def print_diagnostics(diagnostics: "Iterable[Diagnostic]", console=None) -> None:
    for d in diagnostics:
        print_diagnostic(d, console)


def render_verify(report, graph, console) -> None:
    """The per-layer verification table: analysis vs torch vs Keras, then a verdict."""
    from rich.table import Table

    compared = report.output_diff is not None
    table = Table(title=f"{report.name}: analysis vs {' vs '.join(report.backends) or '-'}",
                  title_justify="left")
    for column in ("Layer", "Type", "Output shape", "Params"):
        table.add_column(column, justify="right" if column == "Params" else "left")
    for backend in report.backends:
        table.add_column(backend)
    if compared:
        table.add_column("max |diff|", justify="right")
    table.add_column("Result")
    for check in report.layers:
        cells = [check.name, check.type, str(tuple(graph.to_spec_layout(check.shape))),
                 f"{check.params:,}"]
        for backend in report.backends:
            ok = getattr(check, f"{backend}_shape") == check.shape and \
                getattr(check, f"{backend}_params") == check.params
            cells.append("[green]ok[/green]" if ok else "[red]differs[/red]")
        if compared:
            cells.append("" if check.max_diff is None else f"{check.max_diff:.1e}")
        cells.append("[green]pass[/green]" if check.passed else
                     "[red]FAIL[/red] " + "; ".join(check.problems))
        table.add_row(*cells)
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    failed = sum(not c.passed for c in report.layers)
    if failed:
        console.print(f"[red]{failed} of {len(report.layers)} layers differ[/red]")
    else:
        diff = f"; outputs agree to {report.output_diff:.1e}" if compared else ""
        console.print(f"[green]all {len(report.layers)} layers agree{diff}[/green]")


def render_reference(report, console) -> None:
    """``verify --reference``: per backend, agreement with the reference or the first paired
    layer where the spec's model parts from it. Lines are not wrapped, so they stay greppable."""
    from rich.markup import escape

    console.print(f"reference: {escape(report.call)}", soft_wrap=True)
    if report.error is not None:
        console.print(f"[red]FAIL[/red] {escape(report.error)}", soft_wrap=True)
        return
    for backend, checks in report.backends.items():
        first = report.first_difference(backend)
        if first is None:
            worst = max((c.max_diff for c in checks), default=0.0)
            console.print(f"[green]{backend}: all {len(checks)} paired layers agree with the "
                          f"reference[/green] (max |diff| {worst:.1e})", soft_wrap=True)
        else:
            console.print(f"[red]FAIL[/red] {backend}: parts from the reference at layer "
                          f"'{first.layer}' (reference '{escape(first.reference_layer)}'): "
                          f"max |diff| {first.max_diff:.3g} > tolerance {first.tolerance:.3g}",
                          soft_wrap=True)
