"""What the document formats share: escaping for Markdown and HTML, the check table's cells
(as the terminal shows them), and how values and deltas are written."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ..render import COLUMNS, RIGHT, _inputs_cells, human, mib

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that could start
# emphasis, a link, code or strike-through anywhere, or end a table cell. `<` and `&` become
# entities so that spec text never turns into raw HTML (a GitHub comment would sanitise it; a
# static site generator might not). A heading or list can only start a line: _MD_LEADING.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^(\d*)([#+\-=.)])(?=\s|$)")


def md(text: Any) -> str:
    """Spec text as literal Markdown inline text, safe inside a table cell."""
    text = " ".join(str(text).split())  # a newline would end the table row
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_LEADING.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def md_code(text: str) -> str:
    """An identifier-like string as inline code. Names are identifiers already, so there is no
    backtick to fence; a pipe would still end a table cell, even inside code."""
    text = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{text}`" if text else ""


def esc(text: Any) -> str:
    """Spec text for HTML element content and attribute values alike."""
    return html.escape(str(text), quote=True)


def value(v: Any) -> str:
    """An argument value as a spec would write it: strings bare, the rest as JSON."""
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(", ", ": "))


def arguments(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={value(v)}" for k, v in args.items())


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def signed_human(n: int) -> str:
    return ("+" if n > 0 else "") + human(n) if n else "0"


def shape(values: list) -> str:
    return str(tuple(values))


def _plain(text: str) -> str:
    return text


def change_text(change, arrow: str = "->", esc=_plain) -> str:
    """A diff row's Change cell: an added or removed layer's arguments as the spec wrote them;
    what changed of a changed one (type, arguments old -> new, rewired inputs)."""
    if change.change != "changed":
        return esc(arguments(change.written))
    a, b = change.a, change.b
    parts = [f"type: {esc(a.type)} {arrow} {esc(b.type)}"] if a.type != b.type else []
    parts += [f"{esc(k)}: {esc(value(old))} {arrow} {esc(value(new))}"
              for k, (old, new) in sorted(change.arguments.items())]
    if change.inputs_changed:
        parts.append(f"inputs: {esc(', '.join(a.inputs))} {arrow} {esc(', '.join(b.inputs))}")
    return "; ".join(parts)


def change_name(change, arrow: str = "->", code=_plain) -> str:
    a, b = change.a, change.b
    if a is not None and b is not None and a.name != b.name:
        return f"{code(a.name)} {arrow} {code(b.name)}"
    return code(change.name)


def change_shape(change, arrow: str = "->") -> str:
    a, b = change.a, change.b
    if a is None or b is None or a.output_shape == b.output_shape:
        return shape((b or a).output_shape)
    return f"{shape(a.output_shape)} {arrow} {shape(b.output_shape)}"


def layer_cells(report) -> list[tuple[str, ...]]:
    """One row per layer, the terminal table's columns (``render.COLUMNS``), inputs joined."""
    rows = report.layers
    previous = ["input"] + [row.name for row in rows[:-1]]
    cells = []
    for row, before in zip(rows, previous):
        rf = "global" if row.receptive_field is None else "x".join(map(str, row.receptive_field))
        cells.append((row.name, row.type, shape(row.output_shape), f"{row.trainable_params:,}",
                      f"{row.non_trainable_params:,}" if row.non_trainable_params else "",
                      human(row.macs) if row.macs else "", rf,
                      ", ".join(_inputs_cells(row.inputs, before))))
    return cells


def summary(report) -> str:
    """The one-line summary above a document's table."""
    t = report.totals
    return (f"input {shape(report.input_shape)} ({report.layout}) → output "
            f"{shape(report.output_shape)}; {t['layers']:,} layers; {t['total_params']:,} "
            f"parameters ({t['trainable_params']:,} trainable, {mib(t['param_bytes_fp32'])} "
            f"fp32); {human(t['macs'])} MACs")


def totals(report) -> list[tuple[str, str]]:
    """(label, value) pairs: what the terminal prints under its table."""
    t = report.totals
    return [
        ("Trainable params", f"{t['trainable_params']:,}"),
        ("Non-trainable params", f"{t['non_trainable_params']:,}"),
        ("Total params", f"{t['total_params']:,} ({mib(t['param_bytes_fp32'])} fp32, "
                         f"{mib(t['param_bytes_fp16'])} fp16)"),
        ("MACs", f"{t['macs']:,} ({human(t['macs'])})"),
        ("FLOPs", f"{human(t['flops'])} (2 x MACs)"),
        ("Peak activations", f"{mib(t['peak_activation_bytes'])} (batch 1, fp32)"),
        ("Output", shape(report.output_shape)),
    ]


__all__ = ["COLUMNS", "RIGHT", "arguments", "change_name", "change_shape", "change_text", "esc",
           "layer_cells", "md", "md_code", "shape", "signed", "signed_human", "summary",
           "totals", "value"]
