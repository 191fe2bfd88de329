"""Speed of `archspec diagram` (issue 14: resnet152 in <= 0.5 s in process, after imports).

    python benchmarks/diagram_speed.py [--repeat 5]

In process, median of --repeat runs after one warm-up, the graph analysed once beforehand:
  - SVG with blocks collapsed (the default), and with everything expanded (--expand: a box
    for each of the 514 layers, in nested clusters, laid out without Graphviz)
  - Mermaid and DOT text, both ways
  - load + analyse + SVG: the spec read from its file, as the command does
Whole process: `archspec diagram specs/resnet152.yaml -o FILE.svg` (wall time).
The alternative, keras.utils.plot_model on keras.applications.ResNet152, needs pydot and a
Graphviz binary: it is measured when both are installed, and reported as not measurable
otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "specs" / "resnet152.yaml"


def median_seconds(function, repeat: int) -> float:
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def keras_plot_model(out: Path) -> str:
    """keras.utils.plot_model's time for ResNet152 (model built beforehand), or why not."""
    if importlib.util.find_spec("pydot") is None or shutil.which("dot") is None:
        return "not measurable here: keras.utils.plot_model needs pydot and Graphviz's dot"
    if importlib.util.find_spec("keras") is None:
        return "not measurable here: keras is not installed"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    model = keras.applications.ResNet152(weights=None)
    start = time.perf_counter()
    keras.utils.plot_model(model, to_file=str(out / "keras.png"), show_shapes=True)
    return f"{time.perf_counter() - start:.3f} s (one run, PNG)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import archspec
    from archspec.diagram import render
    from archspec.diagram.model import build

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    graph = archspec.analyze(SPEC)
    boxes = {"collapsed": len(build(graph).items), "expanded": len(build(graph, ["*"]).items)}
    print(f"resnet152: {len(graph.live())} layers; {boxes['collapsed']} boxes collapsed, "
          f"{boxes['expanded']} boxes and clusters expanded")
    for fmt in ("svg", "mermaid", "dot"):
        for label, expand in (("collapsed", ()), ("expanded", ("*",))):
            seconds = median_seconds(lambda f=fmt, e=expand: render(graph, f, e), args.repeat)
            print(f"  {fmt:8} {label:9} {seconds * 1000:7.1f} ms")
    seconds = median_seconds(lambda: render(archspec.analyze(SPEC), "svg"), args.repeat)
    print(f"  load + analyse + svg    {seconds * 1000:7.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archspec.cli", "diagram", str(SPEC), "-o",
                        str(out / "resnet152.svg")], check=True, capture_output=True)
        print(f"  whole process (archspec diagram ... -o resnet152.svg): "
              f"{time.perf_counter() - start:.3f} s")
        print(f"  keras.utils.plot_model(ResNet152): {keras_plot_model(out)}")


if __name__ == "__main__":
    main()
