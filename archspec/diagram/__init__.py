"""``archspec diagram``: the architecture as a picture, drawn from the analysed graph.

``render(graph, "svg")`` gives a self-contained SVG (no Graphviz, no browser: the layout is
``layout``'s own), ``"mermaid"`` a flowchart that GitHub renders in Markdown, ``"dot"`` Graphviz
source, ``"png"`` the SVG rasterised by cairosvg when it is installed. Blocks and stages are
collapsed into one box each unless ``expand`` names them (``"*"``: all); see ``model``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from ..ir.graph import Graph

FORMATS = ("svg", "mermaid", "dot", "png")


def render(graph: Graph, fmt: str = "svg", expand: Iterable[str] = ()) -> str | bytes:
    """The diagram of an analysed graph (``archspec.analyze``) as text, or PNG bytes. Raises
    ValueError for an unknown format or an ``expand`` name that is no block or stage, and
    ImportError for PNG without cairosvg."""
    from .model import build

    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r} (one of {', '.join(FORMATS)})")
    diagram = build(graph, expand)
    if fmt == "mermaid":
        from .text import to_mermaid
        return to_mermaid(diagram)
    if fmt == "dot":
        from .text import to_dot
        return to_dot(diagram)
    from .layout import layout
    from .svg import to_svg
    svg = to_svg(diagram, layout(diagram))
    return svg if fmt == "svg" else to_png(svg)


# cairo's image surfaces stop at 32,767 pixels a side; past 100 M pixels (400 MB) a PNG is no
# longer something to look at. A larger diagram is scaled down to fit both.
MAX_PNG_SIDE, MAX_PNG_PIXELS = 32_767, 100_000_000


def png_scale(svg: str, scale: float = 1.0) -> float:
    """``scale``, or less where the SVG's size would pass cairo's or the pixel budget."""
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    if not match:
        return scale
    width, height = float(match[1]) * scale, float(match[2]) * scale
    fit = min(1.0, MAX_PNG_SIDE / max(width, height, 1.0),
              math.sqrt(MAX_PNG_PIXELS / max(width * height, 1.0)))
    return scale * fit


def to_png(svg: str, scale: float = 1.0) -> bytes:
    """Rasterise with cairosvg (``pip install cairosvg``; needs the system's libcairo), scaled
    down where the diagram is too large for one image (``png_scale``)."""
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # OSError: the package is there, libcairo is not
        raise ImportError(f"PNG output needs cairosvg: pip install 'archspec[png]' "
                          f"(or cairosvg), or write .svg ({exc})") from None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=png_scale(svg, scale))
