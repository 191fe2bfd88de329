"""The diagram as text for other tools to lay out: a Mermaid flowchart (GitHub renders it in
Markdown, in a ```mermaid block) and Graphviz DOT (for those who have Graphviz). Both show the
same boxes, clusters, colours and edges as the SVG."""

from __future__ import annotations

from html import escape

from .labels import colours, compact
from .model import Diagram, Item

SKIP = "#d97706"
MERMAID_MAX_EDGES = 500  # Mermaid's default maxEdges, which GitHub's renderer keeps


def _title(diagram: Diagram) -> str:
    totals = diagram.totals
    return (f"{diagram.name} · input {diagram.input_shape} · {totals['layers']} layers · "
            f"{compact(totals['params'])} params · {compact(totals['macs'])} MACs")


def _mermaid_text(text: str) -> str:
    """Mermaid reads entities in quoted labels; quotes and angle brackets must be one."""
    return escape(text, quote=True).replace("&quot;", "#quot;").replace("&#x27;", "#39;")


def _mermaid_item(item: Item, indent: str, out: list[str]) -> None:
    if item.kind == "cluster":
        out.append(f'{indent}subgraph {item.id}["{_mermaid_text(item.name)}"]')
        out.append(f"{indent}  direction TB")
        for kid in item.children:
            _mermaid_item(kid, indent + "  ", out)
        out.append(f"{indent}end")
        return
    lines = [f"<b>{_mermaid_text(item.name)}</b>"]
    lines += [_mermaid_text(line) for line in item.lines if line]
    shape = ('[["', '"]]') if item.kind == "box" else ('["', '"]')
    out.append(f"{indent}{item.id}{shape[0]}{'<br/>'.join(lines)}{shape[1]}:::{item.colour}")


def to_mermaid(diagram: Diagram) -> str:
    title = _title(diagram).replace("\\", "\\\\").replace('"', '\\"')
    out = ["---", f'title: "{title}"', "---", "flowchart TD"]
    used = sorted({i.colour for i in diagram.items.values() if i.kind != "cluster"})
    for kind in used:
        fill, stroke = colours(kind)
        width = "2px" if kind == "block" else "1px"
        out.append(f"  classDef {kind} fill:{fill},stroke:{stroke},stroke-width:{width},"
                   f"color:#0f172a")
    for kid in diagram.root.children:
        _mermaid_item(kid, "  ", out)
    skipped = []
    for index, (source, target) in enumerate(diagram.edges):
        if (source, target) in diagram.skips:
            skipped.append(str(index))
            out.append(f"  {source} -.-> {target}")
        else:
            out.append(f"  {source} --> {target}")
    if skipped:
        out.append(f"  linkStyle {','.join(skipped)} stroke:{SKIP},stroke-width:2px")
    return "\n".join(out) + "\n"


def _dot_label(item: Item) -> str:
    lines = [f"<b>{escape(item.name, quote=False)}</b>"]
    lines += [escape(line, quote=False) for line in item.lines if line]
    return "<" + "<br/>".join(lines) + ">"


def _dot_item(item: Item, indent: str, out: list[str]) -> None:
    if item.kind == "cluster":
        out.append(f'{indent}subgraph "cluster_{item.id}" {{')
        out.append(f'{indent}  label="{_dot_string(item.name)}"; style="rounded,dashed"; '
                   f'color="#94a3b8"; fontcolor="#475569"; fontname="Helvetica-Bold"; '
                   'fontsize=11;')
        for kid in item.children:
            _dot_item(kid, indent + "  ", out)
        out.append(f"{indent}}}")
        return
    fill, stroke = colours(item.colour)
    width = 2 if item.kind == "box" else 1
    out.append(f'{indent}"{item.id}" [label={_dot_label(item)}, fillcolor="{fill}", '
               f'color="{stroke}", penwidth={width}];')


def _dot_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(diagram: Diagram) -> str:
    out = [f'digraph "{_dot_string(diagram.name)}" {{',
           (f'  graph [rankdir=TB, labelloc=t, fontname="Helvetica-Bold", '
            f'label="{_dot_string(_title(diagram))}", nodesep=0.3, ranksep=0.35];'),
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
           '  edge [color="#64748b", arrowsize=0.7];']
    for kid in diagram.root.children:
        _dot_item(kid, "  ", out)
    for source, target in diagram.edges:
        style = f' [color="{SKIP}", penwidth=1.8]' if (source, target) in diagram.skips else ""
        out.append(f'  "{source}" -> "{target}"{style};')
    out.append("}")
    return "\n".join(out) + "\n"
