"""``archspec diff`` on a terminal (rich colours) or into a pipe (plain text): a header, the
changed layers, the totals with their deltas. Columns are laid out here, as ``render`` does
for ``check``."""

from __future__ import annotations

from .text import change_name, change_shape, change_text, shape, signed, signed_human

SIGNS = {"added": "+", "removed": "-", "changed": "~"}
COLOURS = {"added": "green", "removed": "red", "changed": "yellow"}
HEADER = ("", "Layer", "Type", "Change", "Output shape", "Params Δ", "MACs Δ")
RIGHT = {5, 6}
TOTALS = [("layers", "Layers"), ("trainable_params", "Trainable params"),
          ("non_trainable_params", "Non-trainable params"), ("total_params", "Total params"),
          ("macs", "MACs"), ("peak_activation_bytes", "Peak activations (bytes)")]
WIDEST = 60  # a Change cell is cut here on a terminal; --json and markdown keep it whole


def _cut(text: str) -> str:
    return text if len(text) <= WIDEST else text[:WIDEST - 3] + "..."


def _cells(diff, max_rows: int | None) -> list[tuple[str, tuple[str, ...]]]:
    """(colour, cells) per row; the middle of a long list is left out."""
    changes = diff.changes
    hidden = 0
    if max_rows is not None and len(changes) > max_rows:
        hidden = len(changes) - max_rows
        changes = changes[:max_rows // 2] + changes[-(max_rows - max_rows // 2):]
    rows = []
    for i, c in enumerate(changes):
        if hidden and i == max_rows // 2:
            rows.append(("", ("", f"... {hidden} more changes (--all shows them)") + ("",) * 5))
        rows.append((COLOURS[c.change], (
            SIGNS[c.change], change_name(c), c.type, _cut(change_text(c)), change_shape(c),
            signed(c.delta("total_params")), signed_human(c.delta("macs")))))
    return rows


def _columns(rows: list[tuple[str, ...]], right: set[int]):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(values) -> str:
        return "  ".join(v.rjust(w) if i in right else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()
    return line


def render_diff(diff, console, max_rows: int | None = 200) -> None:
    plain = getattr(console, "plain", False)
    if plain:
        def show(text: str, style: str = "") -> None:
            console.out(text)
    else:
        from rich.markup import escape

        def show(text: str, style: str = "") -> None:
            console.print(f"[{style}]{escape(text)}[/{style}]" if style else escape(text),
                          highlight=False)

    counts = diff.to_dict()["counts"]
    for letter, side in (("a", diff.a), ("b", diff.b)):
        show(f"{letter}: {side.source} ({side.name}, input {shape(side.input_shape)}, "
             f"{side.layout})", "bold")
    if diff.identical:
        show(f"no changes: {counts['unchanged']:,} layers, the same totals", "green")
    else:
        show(f"{counts['added']:,} added, {counts['removed']:,} removed, "
             f"{counts['changed']:,} changed, {counts['unchanged']:,} unchanged (not listed)")
    if diff.changes:
        rows = _cells(diff, max_rows)
        line = _columns([HEADER] + [cells for _, cells in rows], RIGHT)
        show(line(HEADER), "bold")
        for colour, cells in rows:
            show(line(cells), colour)
    totals = [("", "a", "b", "delta")] + [
        (label, f"{diff.totals[k][0]:,}", f"{diff.totals[k][1]:,}",
         signed(diff.totals[k][1] - diff.totals[k][0])) for k, label in TOTALS]
    line = _columns(totals, {1, 2, 3})
    show(line(totals[0]), "bold")
    for row in totals[1:]:
        show(line(row))
