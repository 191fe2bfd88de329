"""``archspec check --format html``: one self-contained page — inline CSS, the diagram as
inline SVG, no script, no external request — with the summary, the layer table and the totals
of each spec. Every text from a spec goes through ``esc``."""

from __future__ import annotations

import re
from typing import Callable

from .text import COLUMNS, RIGHT, esc, layer_cells, summary, totals

CSS = """
:root { color-scheme: light; --rule: #d0d7de; --muted: #57606a; --head: #f6f8fa; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #1f2328; margin: 2rem auto; max-width: 76rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
p.description { margin: 0 0 .25rem; }
p.summary { color: var(--muted); margin: 0 0 1rem; }
section + section { border-top: 2px solid var(--rule); margin-top: 2.5rem; padding-top: 1.5rem; }
.diagram { overflow: auto; border: 1px solid var(--rule); border-radius: 6px; padding: .5rem;
           margin: 0 0 1rem; max-height: 80vh; }
.diagram svg { display: block; margin: 0 auto; max-width: none; height: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: .2rem .6rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
th { background: var(--head); position: sticky; top: 0; }
td.num, th.num { text-align: right; }
td.name, td.inputs { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                     font-size: 12.5px; }
td.inputs { white-space: normal; color: var(--muted); }
table.totals th { position: static; text-align: left; }
.warning { color: #9a6700; }
@media print {
  body { margin: 0; max-width: none; }
  .diagram { max-height: none; overflow: visible; border: none; padding: 0; }
  .diagram svg { max-width: 100%; }
  th { position: static; }
  @page { margin: 1.2cm; }
  th, td { padding: .1rem .3rem; font-size: 9.5px; }
  td.name, td.inputs { font-size: 9px; }
  td.inputs { overflow-wrap: anywhere; }
  tr { break-inside: avoid; }
}
"""

_PROLOG = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?", re.IGNORECASE)


def diagram_svg(graph) -> str:
    """The model's diagram (archspec/diagram/), blocks collapsed as ``archspec diagram``
    draws it by default."""
    from ..diagram import render
    return render(graph, "svg")


def inline_svg(svg: str) -> str:
    """SVG text as an element of an HTML page: without the XML prolog and doctype, which HTML
    does not allow there."""
    return _PROLOG.sub("", svg, count=1)


def _table(report) -> str:
    head = "".join(f'<th class="num">{esc(c)}</th>' if i in RIGHT else f"<th>{esc(c)}</th>"
                   for i, c in enumerate(COLUMNS))
    rows = []
    for *cells, inputs in layer_cells(report):
        out = [f'<td class="num">{esc(c)}</td>' if i in RIGHT else
               f'<td class="name">{esc(c)}</td>' if i == 0 else f"<td>{esc(c)}</td>"
               for i, c in enumerate(cells)]
        # one input a line, as the terminal shows a merge's inputs
        out.append(f'<td class="inputs">{"<br>".join(map(esc, inputs.split(", ")))}</td>')
        rows.append("<tr>" + "".join(out) + "</tr>")
    return (f'<table class="layers">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>")


def _totals(report) -> str:
    rows = "\n".join(f"<tr><th>{esc(label)}</th><td>{esc(text)}</td></tr>"
                     for label, text in totals(report))
    return f'<table class="totals">\n{rows}\n</table>'


def _section(report, diagram: Callable) -> str:
    graph = report.graph
    parts = [f'<section id="{esc(report.name)}">', f"<h1>{esc(report.name)}</h1>"]
    if graph is not None and graph.description:
        parts.append(f'<p class="description">{esc(graph.description)}</p>')
    parts.append(f'<p class="summary">{esc(summary(report))}</p>')
    svg = diagram(graph) if graph is not None else None
    if svg:
        parts.append(f'<figure class="diagram">\n{inline_svg(svg)}\n</figure>')
    parts += ["<h2>Layers</h2>", _table(report), "<h2>Totals</h2>", _totals(report)]
    parts += [f'<p class="warning">{esc(w.format())}</p>' for w in report.warnings]
    parts.append("</section>")
    return "\n".join(parts)


def check_html(reports: list, diagram: Callable = diagram_svg) -> str:
    """One page for all ``reports``; ``diagram`` (graph → SVG text or None) draws each."""
    title = ", ".join(r.name for r in reports)
    body = "\n".join(_section(r, diagram) for r in reports)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="archspec">\n'
            f"<title>{esc(title)} — archspec</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
