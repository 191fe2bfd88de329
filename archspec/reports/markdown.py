"""GitHub-flavoured Markdown: ``archspec check --format markdown`` (a heading, a summary line,
the layer table, the totals) and ``archspec diff --format markdown`` (a pull-request comment:
a summary line, a totals table, a changes table). Every row of a model is written: a document
has no terminal height to fit."""

from __future__ import annotations

from .text import COLUMNS, RIGHT, change_name, change_shape, change_text, layer_cells, md, \
    md_code, shape, signed, signed_human, summary, totals


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> str:
    """Cells must be escaped already (``md``/``md_code``)."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(row) + " |" for row in [header, tuple(rule), *rows]]
    return "\n".join(lines)


def check_markdown(report) -> str:
    """One model's report."""
    parts = [f"## {md(report.name)}", ""]
    description = getattr(report.graph, "description", "") if report.graph is not None else ""
    if description:
        parts += [md(description), ""]
    parts += [summary(report), ""]  # numbers and shapes only: nothing to escape
    rows = [(md_code(c[0]), md(c[1]), *c[2:7], ", ".join(md_code(n) for n in c[7].split(", ")
                                                             if n))
            for c in layer_cells(report)]
    parts += [table(COLUMNS, rows, RIGHT), ""]
    parts += [table(("Total", "Value"), totals(report),
                    set()), ""]
    for warning in report.warnings:
        parts += [f"> **warning:** {md(warning.format())}", ""]
    return "\n".join(parts)


DIFF_TOTALS = [("layers", "Layers"), ("trainable_params", "Trainable params"),
               ("non_trainable_params", "Non-trainable params"),
               ("total_params", "Total params"), ("macs", "MACs"),
               ("peak_activation_bytes", "Peak activations (bytes)")]
SIGNS = {"added": "+", "removed": "−", "changed": "~"}


def diff_markdown(diff) -> str:
    counts = diff.to_dict()["counts"]
    if diff.identical:
        head = f"**No changes**: {counts['unchanged']:,} layers, the same totals."
    else:
        head = (f"**{counts['added']:,} added, {counts['removed']:,} removed, "
                f"{counts['changed']:,} changed** ({counts['unchanged']:,} unchanged layers "
                f"not listed); parameters {signed(_delta(diff, 'total_params'))}, MACs "
                f"{signed_human(_delta(diff, 'macs'))}.")
    if (diff.a.input_shape, diff.a.layout) != (diff.b.input_shape, diff.b.layout):
        head += (f" Input {shape(diff.a.input_shape)} ({diff.a.layout}) → "
                 f"{shape(diff.b.input_shape)} ({diff.b.layout}).")
    parts = [f"### {md(diff.a.source)} → {md(diff.b.source)}", "", head, ""]
    rows = [(label, f"{diff.totals[k][0]:,}", f"{diff.totals[k][1]:,}", signed(_delta(diff, k)))
            for k, label in DIFF_TOTALS]
    parts += [table(("", "A", "B", "Δ"), rows, {1, 2, 3}), ""]
    if diff.changes:
        rows = [(SIGNS[c.change], change_name(c, "→", md_code), md(c.type),
                 change_text(c, "→", md_code), change_shape(c, "→"),
                 signed(c.delta("total_params")), signed_human(c.delta("macs")))
                for c in diff.changes]
        parts += [table(("", "Layer", "Type", "Change", "Output shape", "Params Δ", "MACs Δ"),
                        rows, {5, 6}), ""]
    return "\n".join(parts)


def _delta(diff, key: str) -> int:
    a, b = diff.totals[key]
    return b - a
