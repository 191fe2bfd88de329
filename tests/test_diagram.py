"""``archspec diagram``: every zoo spec in every format; the SVG's geometry read back from the
file itself (no box overlaps another, no edge crosses a box, every edge starts and ends on a
box, text fits its box as DejaVu Sans measures it); collapsed blocks and --expand; the edges
against the IR's inputs; Mermaid and DOT syntax; PNG through cairosvg."""

from __future__ import annotations

import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from spec_strategies import specs

import archspec
from archspec.cli import main
from archspec.diagram import render
from archspec.diagram.model import build

SPECS = Path(__file__).resolve().parent.parent / "specs"
ZOO = sorted(SPECS.glob("*.yaml"))
NS = "{http://www.w3.org/2000/svg}"
LOOKED_AT = [("mnist_cnn", ()), ("resnet50", ()), ("resnet50", ("*",)), ("googlenet", ()),
             ("googlenet", ("*",)), ("mobilenet_v2", ()), ("mobilenet_v2", ("*",))]


def graph(name: str):
    return archspec.analyze(SPECS / f"{name}.yaml")


# --- reading an SVG back ---------------------------------------------------------------------

def _cubic(p0, p1, p2, p3, steps=12):
    for i in range(1, steps + 1):
        t = i / steps
        yield tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c
                    + t ** 3 * d for a, b, c, d in zip(p0, p1, p2, p3))


def path_points(d: str) -> list[tuple[float, float]]:
    """The points along an SVG path of M, L and C commands (curves sampled)."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points, i, command = [], 0, None
    numbers = []
    while i < len(tokens):
        if tokens[i] in "MLC":
            command = tokens[i]
            i += 1
            continue
        numbers.append(float(tokens[i]))
        i += 1
        need = 6 if command == "C" else 2
        if len(numbers) == need:
            if command == "C":
                p0 = points[-1]
                points.extend(_cubic(p0, numbers[0:2], numbers[2:4], numbers[4:6]))
            else:
                points.append((numbers[0], numbers[1]))
            numbers = []
    return points


class Picture:
    """Boxes (name, x, y, w, h, texts), clusters and edges of a diagram, in one frame."""

    def __init__(self, svg: str) -> None:
        root = ET.fromstring(svg)
        self.width, self.height = float(root.get("width")), float(root.get("height"))
        body = next(g for g in root.iter(f"{NS}g") if g.get("transform"))
        dx, dy = map(float, re.findall(r"-?\d+(?:\.\d+)?", body.get("transform")))
        self.boxes, self.clusters, self.edges = [], [], []
        for element in body:
            if element.tag == f"{NS}g":
                rect = element.find(f"{NS}rect")
                texts = [(t.text, float(t.get("font-size")), t.get("font-weight") == "bold")
                         for t in element.findall(f"{NS}text")]
                self.boxes.append((texts[0][0], *self._rect(rect, dx, dy), texts))
            elif element.tag == f"{NS}rect" and element.get("stroke-dasharray"):
                self.clusters.append(self._rect(element, dx, dy))
            elif element.tag == f"{NS}path":
                self.edges.append([(x + dx, y + dy) for x, y in path_points(element.get("d"))])

    @staticmethod
    def _rect(rect, dx, dy):
        return (float(rect.get("x")) + dx, float(rect.get("y")) + dy,
                float(rect.get("width")), float(rect.get("height")))

    @property
    def names(self) -> set[str]:
        return {box[0] for box in self.boxes}


def inside(point, rect, margin=0.0) -> bool:
    x, y, w, h = rect
    return x + margin < point[0] < x + w - margin and y + margin < point[1] < y + h - margin


def overlap(a, b, gap=0.0) -> bool:
    return not (a[0] + a[2] + gap <= b[0] or b[0] + b[2] + gap <= a[0]
                or a[1] + a[3] + gap <= b[1] or b[1] + b[3] + gap <= a[1])


def contains(outer, inner) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])


def touches(point, rect, side: str) -> bool:
    x, y, w, h = rect
    edge_y = y + h if side == "bottom" else y
    return abs(point[1] - edge_y) <= 1.5 and x - 1 <= point[0] <= x + w + 1


def geometry_problems(picture: Picture) -> list[str]:
    problems = []
    rects = [(b[0], b[1:5]) for b in picture.boxes]
    for i, (name, rect) in enumerate(rects):
        for other, rect2 in rects[i + 1:]:
            if overlap(rect, rect2, gap=4):
                problems.append(f"boxes {name} and {other} overlap")
        for cluster in picture.clusters:
            if overlap(rect, cluster) and not contains(cluster, rect):
                problems.append(f"box {name} straddles a cluster border")
        if not contains((0, 0, picture.width, picture.height), rect):
            problems.append(f"box {name} is outside the picture")
    for i, a in enumerate(picture.clusters):
        for b in picture.clusters[i + 1:]:
            if overlap(a, b) and not (contains(a, b) or contains(b, a)):
                problems.append(f"clusters {a} and {b} overlap")
    for points in picture.edges:
        start = [n for n, r in rects if touches(points[0], r, "bottom")]
        end = [n for n, r in rects if touches(points[-1], r, "top")]
        if not start or not end:
            problems.append(f"an edge from {points[0]} to {points[-1]} misses its boxes")
            continue
        for name, rect in rects:
            if name not in start + end and any(inside(p, rect, margin=1) for p in points):
                problems.append(f"the edge {start[0]} → {end[0]} crosses {name}")
    return problems


def _font(bold: bool, size: float):
    from PIL import ImageFont
    return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)


def text_overflows(picture: Picture) -> list[str]:
    """Text wider than its box, as DejaVu Sans itself measures it (PIL)."""
    if importlib.util.find_spec("PIL") is None:
        return []
    try:
        _font(False, 11)
    except OSError:  # no DejaVu Sans here
        return []
    problems = []
    for name, x, y, w, h, texts in picture.boxes:
        for text, size, bold in texts:
            if _font(bold, size).getlength(text) > w - 4:
                problems.append(f"{text!r} overflows the box of {name}")
    return problems


# --- the tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["svg", "mermaid", "dot"])
def test_every_zoo_spec_renders_in_every_text_format(path, fmt):
    g = archspec.analyze(path)
    text = render(g, fmt)
    assert isinstance(text, str) and text.endswith("\n")
    if fmt == "svg":
        ET.fromstring(text)
    elif fmt == "mermaid":
        assert mermaid_problems(text) == []
    else:
        assert dot_problems(text) == []


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_collapsed_zoo_diagrams_are_clean_and_show_every_layer(path):
    g = archspec.analyze(path)
    picture = Picture(render(g, "svg"))
    assert geometry_problems(picture) == []
    assert text_overflows(picture) == []
    assert uncovered(g, picture.names) == []


@pytest.mark.parametrize("name,expand", LOOKED_AT, ids=lambda v: str(v))
def test_the_diagrams_looked_at_are_clean(name, expand):
    g = graph(name)
    picture = Picture(render(g, "svg", expand))
    assert geometry_problems(picture) == []
    assert text_overflows(picture) == []
    assert uncovered(g, picture.names) == []
    if expand:  # everything open: one box per live layer, and the input
        assert len(picture.boxes) == len(g.live()) + 1
        assert len(picture.edges) == sum(len(set(n.inputs)) for n in g.live())


def uncovered(g, names: set[str]) -> list[str]:
    """Live layers with neither a box of their own nor a collapsed block's box: a box named
    like the block (``layer1``, whose layers are ``layer1_*``) or a run of blocks
    (``features_2–4``: features_2_*, features_3_*, features_4_*)."""
    prefixes = set()
    for name in names:
        match = re.fullmatch(r"(.*?)(\d+)–(\d+)", name)
        if match:
            stem, first, last = match.group(1), int(match.group(2)), int(match.group(3))
            prefixes.update(f"{stem}{i}" for i in range(first, last + 1))
        elif " … " in name:
            prefixes.update(name.split(" … "))
        else:
            prefixes.add(name)
    return [n.name for n in g.live() if n.name not in names
            and not any(n.name.startswith(p + "_") for p in prefixes)]


def test_edges_follow_the_real_inputs():
    """Expanded, the edges are exactly the IR's (input, layer) pairs; collapsed, an edge joins
    two boxes when a layer of one reads a layer of the other."""
    for name in ("googlenet", "resnet_course", "densenet"):
        g = archspec.analyze(SPECS / f"{name}.yaml")
        d = build(g, ["*"])
        named = {(d.items[s].name, d.items[t].name) for s, t in d.edges}
        assert named == {(i, n.name) for n in g.live() for i in n.inputs}
    d = build(graph("resnet50"))
    pairs = [(d.items[s].name, d.items[t].name) for s, t in d.edges]
    assert pairs == [("input", "conv1"), ("conv1", "bn1"), ("bn1", "relu"), ("relu", "maxpool"),
                     ("maxpool", "layer1"), ("layer1", "layer2"), ("layer2", "layer3"),
                     ("layer3", "layer4"), ("layer4", "avgpool"), ("avgpool", "fc")]


def test_collapsed_resnet50_is_a_few_boxes_with_summaries():
    g = graph("resnet50")
    svg = render(g, "svg")
    picture = Picture(svg)
    assert len(g.live()) == 174 and len(picture.boxes) == 11  # input, stem 4, stages 4, head 2
    # torchvision's resnet50.layer1: 215,808 parameters, and 2 running statistics for each
    # of its BatchNorm channels: 3 x (64 + 64 + 256) + 256 (the downsample's) = 1,408.
    assert "bottleneck ×3" in svg and f"{round((215_808 + 2 * 1_408) / 1000)} K params" in svg
    assert "bottleneck ×6" in svg and "(14, 14, 1024)" in svg  # layer3's output shape


def test_channels_first_shapes_are_shown_as_check_prints_them(tmp_path):
    spec = tmp_path / "cf.yaml"
    spec.write_text("name: cf\ninput: {shape: [3, 32, 32], layout: channels_first}\n"
                    "layers: [Conv2D: {filters: 8, kernel_size: 3}, Flatten, Dense: 10]\n")
    svg = render(archspec.analyze(spec), "svg")
    assert "(3, 32, 32)" in svg and "(8, 30, 30)" in svg and "(7200,)" in svg


def test_runs_of_one_repeat_share_a_box_per_stage():
    """MobileNetV2's 17 inverted residuals come from one repeat; torchvision's stages
    (1, 2, 3, 4, 3, 3, 1 blocks) are where the shape changes."""
    d = build(graph("mobilenet_v2"))
    counts = [item.count for item in d.items.values()
              if item.kind == "box" and item.lines[0].startswith("inverted_residual")]
    assert counts == [1, 2, 3, 4, 3, 3, 1]


def test_expand_a_name_opens_only_that_block():
    g = graph("resnet50")
    names = Picture(render(g, "svg", ["layer2"])).names
    assert {"layer1", "layer3", "layer4"} <= names and "layer2" not in names
    assert {n.name for n in g.live() if n.name.startswith("layer2_")} <= names
    assert not any(n.startswith(("layer1_", "layer3_", "layer4_")) for n in names)
    inner = Picture(render(g, "svg", ["layer3_1"])).names  # one call: its stage opens around it
    assert {"layer3_0", "layer3_1_conv1", "layer3_2–5"} <= inner  # the calls after it: a run
    assert "layer3_0_conv1" not in inner
    every = Picture(render(g, "svg", ["bottleneck"])).names  # a block's name: all its calls
    assert every == {"input"} | {n.name for n in g.live()}


def test_an_unknown_expand_name_is_a_usage_error_listing_the_names():
    result = CliRunner().invoke(main, ["diagram", str(SPECS / "resnet50.yaml"), "--expand",
                                       "layer9"])
    assert result.exit_code == 2
    assert "no block or stage named layer9" in result.output and "bottleneck" in result.output


def test_cli_picks_the_format_from_the_suffix(tmp_path):
    runner, spec = CliRunner(), str(SPECS / "mnist_cnn.yaml")
    for suffix, marker in ((".svg", "<svg"), (".mmd", "flowchart TD"), (".dot", "digraph"),
                           (".md", "```mermaid\n")):
        out = tmp_path / f"m{suffix}"
        result = runner.invoke(main, ["diagram", spec, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text().startswith(marker) or marker in out.read_text()
    result = runner.invoke(main, ["diagram", spec, "--format", "mermaid"])
    assert result.exit_code == 0 and "conv2d_1" in result.output
    assert runner.invoke(main, ["diagram", spec, "-o", str(tmp_path / "m.txt")]).exit_code == 2
    assert runner.invoke(main, ["diagram", spec, "--format", "png"]).exit_code == 2  # no -o
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: {shape: [4]}\nlayers: [Dense: {units: -1}]\n")
    assert runner.invoke(main, ["diagram", str(bad)]).exit_code == 1


def test_png_without_cairosvg_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # import fails as when not installed
    result = CliRunner().invoke(main, ["diagram", str(SPECS / "mnist_cnn.yaml"), "-o",
                                       str(tmp_path / "m.png")])
    assert result.exit_code == 2 and "pip install" in result.output
    assert "cairosvg" in result.output and not (tmp_path / "m.png").exists()


@pytest.mark.parametrize("name,expand", [
    pytest.param(*case, marks=[pytest.mark.slow] if case[1] else [])  # ~1.5 s each, 17,000 px
    for case in LOOKED_AT], ids=lambda v: str(v))
def test_png_renders(name, expand, tmp_path):
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):  # OSError: the package without the system's libcairo
        pytest.skip("PNG needs cairosvg and libcairo")
    from PIL import Image
    svg = render(graph(name), "svg", expand)
    out = tmp_path / "d.png"
    result = CliRunner().invoke(main, ["diagram", str(SPECS / f"{name}.yaml"), "-o", str(out),
                                       *[f"--expand={e}" for e in expand]])
    assert result.exit_code == 0, result.output
    picture = Picture(svg)
    with Image.open(out) as image:
        assert image.size == (round(picture.width), round(picture.height))
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        corner = rgb.getpixel((2, 2))
    assert colours is not None and len(colours) > 50  # text, boxes and fills, not a blank
    assert corner == (255, 255, 255)  # the background is painted, not transparent


# --- Mermaid and DOT syntax ------------------------------------------------------------------

def mermaid_problems(text: str) -> list[str]:
    lines = text.splitlines()
    body = lines[lines.index("flowchart TD") + 1:]
    problems, depth, declared = [], 0, set()
    for line in body:
        stripped = line.strip()
        if stripped.startswith("subgraph "):
            depth += 1
            declared.add(re.match(r"subgraph (\w+)\[", stripped).group(1))
        elif stripped == "end":
            depth -= 1
            if depth < 0:
                problems.append("'end' without a subgraph")
        elif re.match(r"^\w+\[", stripped):
            node = re.match(r"^(\w+)\[", stripped).group(1)
            if node in declared:
                problems.append(f"{node} declared twice")
            declared.add(node)
            if stripped.count('"') != 2:
                problems.append(f"a quote inside a label: {stripped}")
    if depth:
        problems.append(f"{depth} subgraphs not closed")
    for line in body:
        match = re.match(r"^\s*(\w+) (?:-->|-\.->) (\w+)$", line)
        if match:
            problems += [f"{n} used undeclared" for n in match.groups() if n not in declared]
    if not any("-->" in line or "-.->" in line for line in body) and len(declared) > 1:
        problems.append("no edges")
    return problems


def dot_problems(text: str) -> list[str]:
    problems = []
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    unquoted = re.sub(r"<<.*?>>", "<>", unquoted)  # HTML labels
    if unquoted.count("{") != unquoted.count("}"):
        problems.append("unbalanced braces")
    declared = set(re.findall(r'^\s*"([^"]+)" \[label=', text, re.MULTILINE))
    for source, target in re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', text, re.MULTILINE):
        problems += [f"{n} used undeclared" for n in (source, target) if n not in declared]
    return problems


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "mobilenet_v2", "densenet", "vit"])
def test_expanded_mermaid_and_dot_are_well_formed(name):
    g = graph(name)
    for expand in ((), ("*",)):
        mermaid = render(g, "mermaid", expand)
        assert mermaid_problems(mermaid) == []
        assert mermaid.count("subgraph ") == sum(1 for line in mermaid.splitlines()
                                                 if line.strip() == "end")
        assert dot_problems(render(g, "dot", expand)) == []


# --- random specs ----------------------------------------------------------------------------

@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs(max_layers=12))
def test_random_specs_draw_cleanly(doc):
    """Branches, merges (gates too), block calls and repeats, read from anywhere: every way
    of drawing them is clean and shows every layer."""
    g = archspec.analyze(doc)
    for expand in ((), ("*",)):
        picture = Picture(render(g, "svg", expand))
        assert geometry_problems(picture) == []
        assert uncovered(g, picture.names) == []
        assert mermaid_problems(render(g, "mermaid", expand)) == []
        assert dot_problems(render(g, "dot", expand)) == []


@pytest.mark.parametrize("image,spec,expand", [("resnet50.svg", "resnet50", ()),
                                               ("inception_course.svg", "inception_course",
                                                ("*",))])
def test_the_readme_images_are_current(image, spec, expand):
    """docs/images holds what `archspec diagram` draws now; after a change to the drawing,
    regenerate them with the commands in docs/diagrams.md."""
    path = SPECS.parent / "docs" / "images" / image
    assert f"docs/images/{image}" in (SPECS.parent / "README.md").read_text()
    assert path.read_text() == render(graph(spec), "svg", expand), f"regenerate {path}"


def test_a_diagram_too_large_for_one_image_is_scaled_to_fit():
    """cairo refuses surfaces over 32,767 pixels a side (resnet152 expanded is about 40,000
    high): the PNG is scaled down instead of failing."""
    from archspec.diagram import MAX_PNG_PIXELS, MAX_PNG_SIDE, png_scale
    tall = '<svg xmlns="http://www.w3.org/2000/svg" width="700" height="40000" viewBox="0 0 1 1">'
    assert png_scale(tall) * 40000 <= MAX_PNG_SIDE
    assert png_scale(tall) == pytest.approx(MAX_PNG_SIDE / 40000)
    wide = '<svg width="20000" height="20000">'
    assert (20000 * png_scale(wide)) ** 2 <= MAX_PNG_PIXELS * 1.0001
    assert png_scale('<svg width="600" height="900">') == 1.0
    assert png_scale('<svg width="600" height="900">', 2.0) == 2.0


def test_a_wide_fan_is_laid_out_in_linear_work(monkeypatch):
    """n branches meeting in one Concatenate: each box's column search resumes where the last
    one for the same ranks ended (probing from the middle again was n^2 / 2 probes: a
    6,000-way fan took 36 s)."""
    from archspec.diagram import layout as layout_module
    from archspec.diagram import render
    probes = []
    original = layout_module._Grid.free

    def counted(self, *args):
        probes.append(1)
        return original(self, *args)

    monkeypatch.setattr(layout_module._Grid, "free", counted)
    n = 400
    spec = {"archspec": 1, "name": "fan", "input": {"shape": [4]},
            "layers": [{"Dense": {"units": 2, "name": f"d{i}", "inputs": "input"}}
                       for i in range(n)] + [{"Concatenate": {"inputs": [f"d{i}"
                                                                      for i in range(n)]}}]}
    svg = render(archspec.analyze(spec), "svg")
    assert svg.count("<rect") >= n
    assert len(probes) < 20 * n, len(probes)
