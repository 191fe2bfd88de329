import ast
import ctypes
import functools
import gc
import importlib.util
import os
import sys
from pathlib import Path

# triton (which torchvision imports) crashes the process when it loads after TensorFlow: load
# it first wherever it is installed (the torchvision environment of .ci/torchvision.sh).
if importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401

import pytest

# Shared test helpers (spec_strategies, torch_helpers) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_policy  # noqa: E402
from reference_policy import pytest_runtest_makereport  # noqa: E402,F401 - a hook, by name

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

# torchvision's wheels need another torch than constraints.txt pins; its tests run in the
# environment .ci/torchvision.sh builds. Elsewhere they are left out, unless required (then a
# missing torchvision fails them).
HAVE_TORCHVISION = importlib.util.find_spec("torchvision") is not None
collect_ignore = [] if HAVE_TORCHVISION or os.environ.get("ARCHSPEC_REQUIRE_REFERENCES") == "1" \
    else ["test_torchvision.py"]


def pytest_report_header(config) -> str | None:
    if "test_torchvision.py" in collect_ignore:
        return ("torchvision is not installed: tests/test_torchvision.py is not collected "
                "(.ci/torchvision.sh runs it in .venv-tv)")
    return None


@pytest.fixture
def spec_dir() -> Path:
    return SPECS


# --- the fast loop: `pytest -m "not slow"` runs no framework ----------------------------------
# A test that imports torch, Keras, TensorFlow or JAX (at the top of its file, in its body, in a
# fixture or helper of its file, or through torch_helpers & co.) is marked `framework` and
# `slow`. In a run that leaves slow tests out, files that import a framework at the top are not
# even collected, and a test that loads a framework anyway fails, naming it.

FRAMEWORKS = {"torch", "torchvision", "keras", "tensorflow", "jax"}
_FRAMEWORK_HELPERS = {"torch_helpers", "keras_helpers", "course_models"}


def _imports_framework(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            names = [alias.name for alias in sub.names]
        elif isinstance(sub, ast.ImportFrom):
            names = [sub.module or ""]
        elif isinstance(sub, ast.Call) and getattr(sub.func, "attr", None) == "importorskip" \
                and sub.args and isinstance(sub.args[0], ast.Constant):
            names = [str(sub.args[0].value)]
        else:
            continue
        if any(name.split(".")[0] in FRAMEWORKS | _FRAMEWORK_HELPERS for name in names):
            return True
    return False


_SPAWNING_HELPERS = {"run_measured"}  # budget_helpers: the CLI in a process, time and memory kept


def _spawns_process(node: ast.AST) -> bool:
    """Starts an interpreter: ``subprocess.*``, ``sys.executable`` or a helper that does
    (about a second each)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and (
                sub.value.id == "subprocess" or (sub.value.id, sub.attr) == ("sys", "executable")):
            return True
        if isinstance(sub, ast.Name) and sub.id in _SPAWNING_HELPERS:
            return True
    return False


def _functions_that(tree: ast.Module, does) -> frozenset[str]:
    """The file's functions (tests, fixtures, helpers) that do something, directly or by
    calling one of the file's functions that does."""
    functions = {node.name: node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    using = {name for name, node in functions.items() if does(node)}
    calls = {name: {sub.func.id for sub in ast.walk(node)
                    if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)}
             for name, node in functions.items()}
    while True:
        more = {name for name, called in calls.items() if called & using} - using
        if not more:
            return frozenset(using)
        using |= more


@functools.lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def framework_use(path: Path) -> tuple[bool, frozenset[str]]:
    """Whether the file's top level imports a framework, and which of its functions do."""
    tree = _tree(path)
    top = [node for node in tree.body
           if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return (any(_imports_framework(node) for node in top),
            _functions_that(tree, _imports_framework))


@functools.lru_cache(maxsize=None)
def process_use(path: Path) -> frozenset[str]:
    """The file's functions that start an interpreter (the CLI end to end, the hostile-input
    cases with their own time and memory limits): about a second each, so not in the fast
    loop; CI runs them all."""
    return _functions_that(_tree(path), _spawns_process)


def fast_loop(config) -> bool:
    """Whether this run leaves the slow tests out (`-m "not slow"`, `-m "not framework"`)."""
    expression = " ".join(config.getoption("markexpr", "").split())
    return "not slow" in expression or "not framework" in expression


def pytest_configure(config) -> None:
    reference_policy.pytest_configure(config)
    config.addinivalue_line(
        "markers", "framework: imports torch, Keras, TensorFlow or JAX (marked slow too)")
    config.addinivalue_line(
        "markers", "subprocess: starts an interpreter, e.g. the CLI end to end (slow too)")
    if fast_loop(config):
        config.pluginmanager.register(_FrameworkGuard(), "archspec-framework-guard")


def pytest_ignore_collect(collection_path: Path, config):
    if fast_loop(config) and collection_path.suffix == ".py" \
            and collection_path.name.startswith("test_") and framework_use(collection_path)[0]:
        return True
    return None


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        path = item.path
        if path.suffix != ".py" or not path.name.startswith("test_"):
            continue
        at_top, functions = framework_use(path)
        names = {getattr(item, "originalname", item.name), *getattr(item, "fixturenames", ())}
        if at_top or names & functions:
            item.add_marker(pytest.mark.framework)
        if names & process_use(path):
            item.add_marker(pytest.mark.subprocess)
        if item.get_closest_marker("framework") or item.get_closest_marker("subprocess"):
            item.add_marker(pytest.mark.slow)


def _loaded_frameworks() -> set[str]:
    return FRAMEWORKS & set(sys.modules)


class _FrameworkGuard:
    """In the fast loop, fails the test during which a framework was first imported, and the
    run if one was imported outside any test (collection, a plugin)."""

    def __init__(self) -> None:
        self.blamed: set[str] = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        new = _loaded_frameworks() - self.blamed
        if not new:
            return
        self.blamed |= new
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} imported {', '.join(sorted(new))} in a run without "
                           f"slow tests; mark it @pytest.mark.slow (or @pytest.mark.framework) "
                           f"so that `pytest -m \"not slow\"` stays framework-free")

    def _stray(self) -> set[str]:
        return _loaded_frameworks() - self.blamed

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self._stray():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self._stray():
            terminalreporter.write_line(
                f"FAILED: {', '.join(sorted(self._stray()))} imported outside any test in a "
                f"run without slow tests (a conftest, a plugin, or a test file's top level "
                f"that the collection filter missed)", red=True)


# --- memory: the full suite builds hundreds of models in one process --------------------------

def release_memory(freeze: bool = False) -> None:
    """Keras keeps every layer it built in its global state until cleared, and cyclic garbage
    (models reference their layers and back) waits for a full collection; then glibc keeps
    the freed pages of big weight arrays in its heaps unless asked to give them back, so a
    test after a VGG starts 1-2 GB higher than it needs to.

    A full collection walks every object: with TensorFlow, torch and onnx loaded that is
    600,000+ and about 1 s, twice (clear_session collects too), a minute and a half over the
    suite. ``freeze`` (at the end of a test file, when what is left lives as long as the
    session: modules, the frameworks' state) moves the survivors out of the collector's
    sight, so later collections walk only what tests made since."""
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.backend.clear_session()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
    if freeze:
        gc.freeze()


@pytest.fixture(autouse=True, scope="module")
def _release_models_after_each_file():
    """Without this the suite's peak grows file by file (6.5 GB measured, mostly long dead
    models). Runs after the file's other fixtures are finalized: nothing of its tests is left
    to freeze."""
    yield
    release_memory(freeze=True)


@pytest.fixture
def released():
    """For a test that builds models of hundreds of MB (VGG, ResNet-152): memory is released
    after it, not only at the end of its file."""
    yield
    release_memory()
