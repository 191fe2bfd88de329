"""The diagram as one self-contained SVG file: no scripts, no external fonts or stylesheets,
presentation attributes only (which every renderer reads: browsers, GitHub, cairosvg, rsvg)."""

from __future__ import annotations

from html import escape

from .labels import PALETTE, colours, compact, text_width
from .layout import LABEL_SIZE, LINE_SIZE, NAME_SIZE, NODE_H, Layout
from .model import Diagram, Item

MARGIN = 20
TITLE_H = 30
LEGEND_H = 30
FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
EDGE, SKIP = "#64748b", "#d97706"
CLUSTER_FILLS = ("#f8fafc", "#eef2f7")
LEGEND_NAMES = {"block": "block (collapsed)", "regularization": "dropout"}


def _attrs(**values) -> str:
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                    for k, v in values.items())


def _el(tag: str, text: str | None = None, **values) -> str:
    """An element; ``text`` is escaped here."""
    if text is None:
        return f"<{tag} {_attrs(**values)}/>"
    return f"<{tag} {_attrs(**values)}>{escape(text)}</{tag}>"


def _path(points: list[tuple[float, float]]) -> str:
    """Straight where the x stays, an S-curve with vertical ends where it changes."""
    (x0, y0), parts = points[0], [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for x1, y1 in points[1:]:
        if abs(x1 - x0) < 0.5:
            parts.append(f"L{x1:.1f},{y1:.1f}")
        else:
            ym = (y0 + y1) / 2
            parts.append(f"C{x0:.1f},{ym:.1f} {x1:.1f},{ym:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _tooltip(item: Item) -> str:
    lines = [item.name, *[line for line in item.lines if line]]
    if item.kind in ("layer", "box"):
        macs = sum(n.meta["macs"] for n in item.nodes)
        if macs:
            lines.append(f"{compact(macs)} MACs")
        if item.kind == "box":
            lines.append(f"{len(item.nodes)} layers")
    return escape("\n".join(lines))


def _box(item: Item, x: float, y: float, w: float, out: list[str]) -> None:
    fill, stroke = colours(item.colour)
    for offset in ((6, 3) if item.count > 2 else (3,) if item.count == 2 else ()):
        out.append(_el("rect", x=x + offset, y=y + offset, width=w, height=NODE_H, rx=6,
                       fill=fill, stroke=stroke, stroke_width=1))
    out.append(f"<g><title>{_tooltip(item)}</title>")
    out.append(_el("rect", x=x, y=y, width=w, height=NODE_H, rx=6, fill=fill, stroke=stroke,
                   stroke_width=2.0 if item.kind == "box" else 1.3))
    lines = [line for line in item.lines if line]
    height = NAME_SIZE + 3 + len(lines) * (LINE_SIZE + 3)
    baseline = y + (NODE_H - height) / 2 + NAME_SIZE
    cx = f"{x + w / 2:.1f}"
    out.append(_el("text", item.name, x=cx, y=f"{baseline:.1f}", font_size=NAME_SIZE,
                   font_weight="bold", fill="#0f172a", text_anchor="middle"))
    for line in lines:
        baseline += LINE_SIZE + 3
        out.append(_el("text", line, x=cx, y=f"{baseline:.1f}", font_size=LINE_SIZE,
                       fill="#334155", text_anchor="middle"))
    out.append("</g>")


def _cluster(item: Item, lay: Layout, depth: int, out: list[str]) -> None:
    g = lay.geo[item.id]
    if depth:
        fill = CLUSTER_FILLS[(depth - 1) % len(CLUSTER_FILLS)]
        out.append(_el("rect", x=g.x, y=g.y, width=g.w, height=g.h, rx=9, fill=fill,
                       stroke="#94a3b8", stroke_width=1, stroke_dasharray="5 3"))
        out.append(_el("text", item.name, x=f"{g.x + g.label_x:.1f}", y=f"{g.y + 16:.1f}",
                       font_size=LABEL_SIZE, font_weight="bold", fill="#475569"))
    for kid in item.children:
        if kid.kind == "cluster":
            _cluster(kid, lay, depth + 1, out)


def _legend(diagram: Diagram, x: float, y: float, out: list[str], skips: bool) -> float:
    present = {item.colour for item in diagram.items.values() if item.kind != "cluster"}
    for kind in (k for k in PALETTE if k in present):
        label = LEGEND_NAMES.get(kind, kind)
        fill, stroke = colours(kind)
        out.append(_el("rect", x=x, y=y, width=14, height=14, rx=3, fill=fill, stroke=stroke,
                       stroke_width=1.3))
        out.append(_el("text", label, x=x + 19, y=y + 11.5, font_size=11, fill="#334155"))
        x += 19 + text_width(label, 11) + 16
    if skips:
        out.append(_el("path", d=f"M{x},{y + 7} L{x + 22},{y + 7}", stroke=SKIP,
                       stroke_width=2, fill="none"))
        out.append(_el("text", "skip connection", x=x + 27, y=y + 11.5, font_size=11,
                       fill="#334155"))
        x += 27 + text_width("skip connection", 11) + 16
    return x


def to_svg(diagram: Diagram, lay: Layout) -> str:
    root = lay.geo[""]
    top = MARGIN + TITLE_H + LEGEND_H
    body: list[str] = []
    _cluster(diagram.root, lay, 0, body)
    # skips first: where one shares its start with an ordinary edge, the ordinary one shows
    for edge, points in sorted(lay.routes.items(), key=lambda e: e[0] not in diagram.skips):
        skip = edge in diagram.skips
        body.append(_el("path", d=_path(points), fill="none", stroke=SKIP if skip else EDGE,
                        stroke_width=1.8 if skip else 1.3,
                        marker_end="url(#skip)" if skip else "url(#arrow)"))
    for item in diagram.items.values():
        if item.kind != "cluster":
            g = lay.geo[item.id]
            _box(item, g.x, g.y, g.w, body)
    body.append("</g>")
    head: list[str] = []
    totals = diagram.totals
    title = (f"{diagram.name} · input {diagram.input_shape} · {totals['layers']} layers · "
             f"{compact(totals['params'])} params · {compact(totals['macs'])} MACs")
    head.append(_el("text", title, x=MARGIN, y=MARGIN + 16, font_size=15, font_weight="bold",
                    fill="#0f172a"))
    legend_end = _legend(diagram, MARGIN, MARGIN + TITLE_H, head, bool(diagram.skips))
    width = max(root.w + 2 * MARGIN, legend_end + MARGIN,
                text_width(title, 15, bold=True) + 2 * MARGIN)
    height = top + root.h + MARGIN
    left = (width - root.w) / 2  # centred under the title and legend
    body.insert(0, f'<g transform="translate({left:.1f},{top})">')
    markers = "".join(
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>' for name, colour in (("arrow", EDGE), ("skip", SKIP)))
    return "\n".join([
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
         f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">'),
        f"<title>{escape(diagram.name)}</title>",
        f"<defs>{markers}</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        *head, *body, "</svg>", ""])
