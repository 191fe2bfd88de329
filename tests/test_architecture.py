"""The package's shape, checked without importing it: the layering of its import graph, no
import cycles, module size, and function complexity (ruff's C901)."""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archspec"

# Bottom to top. A module may import its own layer or a lower one. Names are relative to the
# package; a package's __init__ is its own name ("ops"), the package itself is "__init__".
LAYERS: list[tuple[str, list[str]]] = [
    ("base", ["errors", "limits", "expr_values", "expr", "_version"]),
    ("shapes", ["shapes"]),
    ("ops", ["ops", "ops.*"]),
    ("spec", ["spec", "spec.*", "schema"]),  # schema: the JSON Schema of the spec document
    ("ir", ["ir", "ir.*"]),
    ("inference", ["inference", "analysis"]),
    ("backends", ["backends", "backends.*"]),
    ("exchange", ["weights", "agreement", "verification", "reference", "reference_check"]),
    # ONNX out of the IR, specs in from Keras and torch models (issue 13)
    ("interchange", ["onnx_export", "onnx_export.*", "importing", "importing.*"]),
    ("report", ["report", "render", "diagram", "diagram.*", "diff", "diff.*", "reports",
                "reports.*"]),
    ("api", ["api", "plugins"]),  # plugins: the plugin authors' API and checks
    ("cli", ["cli", "cli_*", "_entry"]),
    # the public facade imports lazily from every layer; nothing may import it
    ("facade", ["__init__"]),
]

MAX_LINES = 400
# Known offenders, each owned by a rewrite in progress (issue 11); the lead empties these.
OVERSIZED_ALLOWED: set[str] = set()  # none left; a new entry needs a reason
COMPLEX_ALLOWED: set[tuple[str, str]] = set()


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name relative to the package → file."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module an absolute dotted name (``archspec.x.y``) lands in, or None outside."""
    if name == "archspec":
        return "__init__"
    if not name.startswith("archspec."):
        return None
    name = name[len("archspec."):]
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or "__init__"


def _imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every archspec module ``module`` imports anywhere: at the top, inside functions, and
    under TYPE_CHECKING alike (each is a dependency a reader and a type checker follow)."""
    is_package = path.name == "__init__.py"
    here = ["archspec"] + ([] if module == "__init__" else module.split("."))
    package = here if is_package else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            # `from pkg import sub` imports the submodule where one has that name
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            names = [sub if sub.partition(".")[2] in modules else stem for sub in subs]
        else:
            continue
        found.update(t for t in (_target(n, modules) for n in names) if t and t != module)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: _imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> list[int]:
    return [i for i, (_, patterns) in enumerate(LAYERS)
            if any(fnmatch.fnmatchcase(module, p) for p in patterns)]


def _file(module: str) -> str:
    return "__init__.py" if module == "__init__" else module.replace(".", "/") + ".py"


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, imported in sorted(graph.items()):
        (mine,) = layer_of(module)
        for other in sorted(imported):
            (theirs,) = layer_of(other)
            if theirs > mine:
                problems.append(f"{_file(module)} imports {other} (layer {LAYERS[theirs][0]} "
                                f"above {LAYERS[mine][0]})")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Each strongly connected component of more than one module, as one path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_cycle_path(sorted(component), graph))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _cycle_path(component: list[str], graph: dict[str, set[str]]) -> str:
    """A shortest cycle through the component's first module, for the message."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for succ in sorted(graph[node] & members):
                if succ == start:
                    return "import cycle: " + " -> ".join(map(_file, paths[node] + [start]))
                if succ not in paths:
                    paths[succ] = paths[node] + [succ]
                    nxt.append(succ)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # a component always has one


# --- the checks ------------------------------------------------------------------------------

def test_every_module_is_in_exactly_one_layer():
    misplaced = {m: [LAYERS[i][0] for i in layer_of(m)] for m in module_files()}
    misplaced = {m: layers for m, layers in misplaced.items() if len(layers) != 1}
    assert not misplaced, f"place each module in exactly one layer of LAYERS: {misplaced}"


def test_no_module_imports_a_higher_layer():
    problems = layering_violations(import_graph())
    assert not problems, "\n".join(problems)


def test_no_import_cycles():
    problems = cycles(import_graph())
    assert not problems, "\n".join(problems)


def test_checker_reports_an_upward_import_and_a_cycle():
    graph = {"errors": {"api"}, "api": {"report"}, "report": {"render"},
             "render": {"report"}, "ops.base": {"ops.conv"}, "ops.conv": {"ops.base"}}
    assert layering_violations(graph) == ["errors.py imports api (layer api above base)"]
    assert sorted(cycles(graph)) == ["import cycle: ops/base.py -> ops/conv.py -> ops/base.py",
                             "import cycle: render.py -> report.py -> render.py"]


def test_import_parsing_resolves_relative_and_lazy_imports(tmp_path):
    root = tmp_path / "archspec"
    (root / "ops").mkdir(parents=True)
    (root / "__init__.py").write_text("__version__ = '0'\n")
    (root / "errors.py").write_text("")
    (root / "ops" / "__init__.py").write_text("from . import base\n")
    (root / "ops" / "base.py").write_text(
        "from .. import __version__\nfrom ..errors import X\n"
        "def f():\n    from . import conv\n    import archspec.api\n")
    (root / "ops" / "conv.py").write_text("from .base import Layer\n")
    (root / "api.py").write_text("from typing import TYPE_CHECKING\n"
                                 "if TYPE_CHECKING:\n    from .ops.conv import Conv2D\n")
    assert import_graph(root) == {
        "__init__": set(), "api": {"ops.conv"}, "errors": set(), "ops": {"ops.base"},
        "ops.base": {"__init__", "errors", "ops.conv", "api"}, "ops.conv": {"ops.base"}}


def test_modules_are_small():
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
             for path in module_files().values()}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVERSIZED_ALLOWED}
    assert not over, f"modules over {MAX_LINES} lines (split them): {over}"


def _ruff() -> str | None:
    """The environment's ruff (the one constraints.txt pins), else any on PATH."""
    return shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def test_functions_are_simple():
    """ruff's C901 with pyproject's max-complexity (15) over the package."""
    ruff = _ruff()
    if ruff is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("ruff is not installed (pip install -e '.[test]' -c constraints.txt)")
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "--select", "C901", "--output-format", "json", "--no-cache",
                str(PACKAGE)], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    found = [(str(Path(d["filename"]).relative_to(PACKAGE)), d["message"])
             for d in json.loads(result.stdout)]
    offenders = [f"{file}: {message}" for file, message in found
                 if not any(file == f and f"`{fn}`" in message for f, fn in COMPLEX_ALLOWED)]
    assert not offenders, "functions over the complexity limit (split them):\n" + \
        "\n".join(offenders)
