"""Layer types from other packages: the ``archspec.layers`` entry point group.

An installed package adds layer types by naming, in that group, a module (or a callable) that
defines ``Layer`` subclasses and hands their emitters to ``archspec.plugins.register_layer``.
The group is read once, the first time archspec needs its vocabulary (``base.layer_types()``:
validating a spec, ``archspec check``), never at import and never importing a framework.

A type whose name is taken — by a built-in type, or by a plugin loaded before it (entry points
load in the order of their package's name, then their own) — is refused at load and recorded
here, as is an entry point that fails to import: archspec and the plugin's other types keep
working. The records reach the user where they matter: the hint of an unknown layer type, a
warning where a spec uses a name some plugin was refused, ``archspec plugins``.

The backends attach their emitter tables and their reserved names here when they load
(``attach_table``, ``attach_names``): a plugin's emitters join the tables, and the names its
runtime helper files define join the reserved ones (so a block class or a variable of generated
code never shadows them). A plugin whose helpers would redefine a name the generated code
already uses gets no emitter in that backend, and the problem is recorded on its type.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sys
from pathlib import Path
from typing import Callable, Optional

from . import base

GROUP = "archspec.layers"
BACKENDS = ("torch", "keras", "onnx")
DISABLE = "ARCHSPEC_DISABLE_PLUGINS"  # set (to anything) to load none, e.g. to rule one out
_TYPE_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_SPEC_KEYWORDS = frozenset({"repeat", "group"})


# Plain classes, not dataclasses or NamedTuples: this module loads with every `archspec check`,
# where those would cost ~2.5 ms (~1 ms), more than the scan for plugins itself.
class Source:
    """Where a plugin type comes from: its distribution, and the entry point that loaded it
    (None for a module imported by hand before the plugins were loaded)."""
    __slots__ = ("package", "entry_point")

    def __init__(self, package: str, entry_point: Optional[str] = None):
        self.package, self.entry_point = package, entry_point

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Source) and (self.package, self.entry_point) == \
            (other.package, other.entry_point)

    def __hash__(self) -> int:
        return hash((self.package, self.entry_point))

    def __repr__(self) -> str:
        return f"Source({self.package!r}, {self.entry_point!r})"

    def __str__(self) -> str:
        where = f" (entry point '{self.entry_point}')" if self.entry_point else ""
        return f"plugin package '{self.package}'{where}"


class PluginType:
    """A registered plugin type: ``emitters`` and ``runtimes`` (helper source files) by
    backend, its case rows (as in tests/layer_cases.yaml), and for a backend that got no
    emitter, why (``problems``)."""
    __slots__ = ("cls", "source", "emitters", "runtimes", "cases", "problems")

    def __init__(self, cls: type, source: Source):
        self.cls, self.source = cls, source
        self.emitters: dict[str, Callable] = {}
        self.runtimes: dict[str, Path] = {}
        self.cases: list[dict] = []
        self.problems: dict[str, str] = {}


class Refusal:
    """A type the loader did not register: its name, class, source, and why."""
    __slots__ = ("name", "cls", "source", "reason")

    def __init__(self, name: str, cls: type, source: Source, reason: str):
        self.name, self.cls, self.source, self.reason = name, cls, source, reason

    @property
    def message(self) -> str:
        return f"layer type '{self.name}' of {self.source} was refused: {self.reason}"


class Failure:
    """An entry point that raised while it loaded: its source and the error."""
    __slots__ = ("source", "error")

    def __init__(self, source: Source, error: str):
        self.source, self.error = source, error

    @property
    def message(self) -> str:
        return f"{self.source} failed to load: {self.error}"


TYPES: dict[str, PluginType] = {}
REFUSED: list[Refusal] = []
FAILED: list[Failure] = []
LOADED: list[Source] = []  # the entry points that loaded, with or without types
# backend → its attached emitter tables, each with the plugin types installed in it
_tables: dict[str, list[tuple[dict, set]]] = {b: [] for b in BACKENDS}
_names: dict[str, list[tuple[set, frozenset, frozenset]]] = {b: [] for b in BACKENDS}
_loading: Optional[Source] = None


# --- loading -----------------------------------------------------------------------------------

def load() -> None:
    """Load every installed plugin (``base.layer_types()`` runs this once)."""
    if os.environ.get(DISABLE):
        return
    for entry_point in _entry_points():
        _load_one(entry_point)


def _entry_points() -> list:
    if not _may_have_plugins():
        return []
    from importlib.metadata import entry_points
    return sorted(entry_points(group=GROUP),
                  key=lambda ep: (normalize(_package(ep)), ep.name, ep.value))


def _may_have_plugins() -> bool:
    """Whether some package on sys.path may declare the group: one read of each installed
    package's entry_points.txt (~1-2 ms for the 60 of a torch + TensorFlow environment), where
    importlib.metadata parses every package's metadata (~5-9 ms), a cost ``check`` would pay on
    every run with no plugin installed. A sys.path entry it cannot look into (a zip) is a maybe."""
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as found:
                infos = [d.path for d in found if d.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for info in infos:
            try:
                with open(os.path.join(info, "entry_points.txt"), "rb") as stream:
                    if GROUP.encode() in stream.read():
                        return True
            except OSError:
                continue
    return False


def _package(entry_point) -> str:
    dist = getattr(entry_point, "dist", None)
    return dist.name if dist is not None else entry_point.value.split(":")[0].split(".")[0]


def normalize(package: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", package).lower()


def _load_one(entry_point) -> None:
    global _loading
    source = Source(_package(entry_point), f"{entry_point.name} = {entry_point.value}")
    staged: list = []
    base._staging, _loading = staged, source
    error = None
    try:
        target = entry_point.load()
        if callable(target) and not isinstance(target, type):
            target()
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not break archspec
        error = f"{type(exc).__name__}: {exc}"
    finally:
        base._staging, _loading = None, None
    if error is not None:
        for name in [n for n, t in TYPES.items() if t.source == source]:
            drop(name)
        FAILED.append(Failure(source, error))
        return
    for cls in staged:  # the classes register_layer was not given: types without emitters
        claim(cls, source)
    _adopt(entry_point, source)
    LOADED.append(source)


def _adopt(entry_point, source: Source) -> None:
    """Types registered by importing the plugin's module by hand, before the plugins were
    loaded, get the entry point as their source."""
    module = entry_point.value.split(":")[0]
    for info in TYPES.values():
        owner = info.cls.__module__
        if info.source.entry_point is None and (owner == module or
                                                owner.startswith(module + ".")):
            info.source = source


# --- registering -------------------------------------------------------------------------------

def type_name(cls: type) -> str:
    tag = getattr(cls, "model_fields", {}).get("type")
    if not (isinstance(cls, type) and issubclass(cls, base.Layer)) or tag is None:
        raise TypeError(f"{cls!r} is not a layer type: subclass archspec.plugins.Layer and "
                        f"declare `type: Literal[\"Name\"] = \"Name\"`")
    (name,) = tag.annotation.__args__
    return name


def holder_of(name: str, cls: type) -> str:
    info = TYPES.get(name)
    if info is not None and info.cls is cls:
        return str(info.source)
    if cls.__module__.startswith("archspec."):
        return f"archspec's built-in {name} ({cls.__module__})"
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(name: str) -> Optional[str]:
    if not isinstance(name, str) or not _TYPE_NAME.match(name):
        return "a type name must be 1-64 letters, digits and '_', not starting with a digit"
    if name in _SPEC_KEYWORDS:
        return f"'{name}' is a keyword of the spec language"
    holder = base.REGISTRY.get(name)
    return None if holder is None else f"the name is taken by {holder_of(name, holder)}"


def claim(cls: type, source: Source) -> bool:
    """Give ``cls`` its type name unless the name is taken or not a type name (then record
    the refusal). True when ``cls`` holds the name."""
    name = type_name(cls)
    if base.REGISTRY.get(name) is cls:
        return True
    if any(r.cls is cls for r in REFUSED):
        return False
    reason = _refusal(name)
    if reason is not None:
        REFUSED.append(Refusal(name, cls, source, reason))
        return False
    base.REGISTRY[name] = cls
    TYPES[name] = PluginType(cls, source)
    return True


def register(cls: type, emitters: dict[str, Callable], runtimes: dict[str, Path],
             cases: list[dict]) -> bool:
    """``archspec.plugins.register_layer``'s work, its arguments checked. While an entry point
    loads, a clash is recorded and False returned; a type registered by hand (a test, a module
    imported directly) whose name is taken raises ValueError."""
    name = type_name(cls)
    if _loading is not None:
        if not claim(cls, _loading):
            return False
    elif base.REGISTRY.get(name) is not cls:
        # Defined while another entry point loaded, and refused then.
        raise ValueError(f"layer type '{name}' of {cls.__module__} cannot be registered: "
                         f"{_refusal(name) or 'it was refused when the plugins loaded'}")
    elif name not in TYPES or TYPES[name].cls is not cls:
        TYPES[name] = PluginType(cls, Source(cls.__module__.split(".")[0]))
    info = TYPES[name]
    info.emitters.update(emitters)
    info.runtimes.update(runtimes)
    info.cases = [dict(row) for row in cases]
    for backend in BACKENDS:
        _reconcile(backend)
    return True


def drop(name: str) -> None:
    """Forget a plugin type: its name, emitters and helper names (tests; a failed load)."""
    info = TYPES.pop(name, None)
    if info is not None and base.REGISTRY.get(name) is info.cls:
        del base.REGISTRY[name]
    for backend in BACKENDS:
        _reconcile(backend)


def plugin_types() -> dict[str, PluginType]:
    """The registered plugin types by name (loading the plugins first)."""
    base.layer_types()
    return {n: t for n, t in TYPES.items() if base.REGISTRY.get(n) is t.cls}


def cases() -> list[dict]:
    """Every plugin type's case rows, in tests/layer_cases.yaml's form."""
    return [row for info in plugin_types().values() for row in info.cases]


# --- the backends' side --------------------------------------------------------------------------

def attach_table(backend: str, table: dict) -> None:
    """A backend's emitter table (type → emitter): plugin emitters join it, now and later."""
    _tables[backend].append((table, set()))
    _reconcile(backend)


def attach_names(backend: str, names: set, taken: frozenset = frozenset()) -> None:
    """A backend's set of names generated code reserves for its helpers: plugin helper names
    join it; a plugin helper may not redefine one of them or of ``taken`` (its imports, ...)."""
    _names[backend].append((names, frozenset(names), frozenset(taken)))
    _reconcile(backend)


def runtime_files(backend: str) -> tuple[Path, ...]:
    """The helper source files of the plugin types that have an emitter in ``backend``."""
    return tuple(info.runtimes[backend] for info in TYPES.values()
                 if backend in info.runtimes and backend not in info.problems
                 and base.REGISTRY.get(type_name(info.cls)) is info.cls)


@functools.lru_cache(maxsize=None)
def defined_names(path: Path) -> frozenset[str]:
    """The top-level names a runtime helper file defines (what the generator may copy)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    names = set()
    for item in tree.body:
        if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
            names.add(item.name)
        elif isinstance(item, ast.Assign):
            names.update(t.id for t in item.targets if isinstance(t, ast.Name))
    return frozenset(names)


def _reconcile(backend: str) -> None:
    """Rebuild what ``backend`` holds of the plugins: each registered type's emitter in every
    attached table, its helpers' names in every reserved set, in registration order — or, for a
    type whose helpers would redefine a name already used, no emitter and a recorded problem."""
    used = set().union(*(builtin | taken for _, builtin, taken in _names[backend]))
    contributed: set = set()
    installed: dict[str, Callable] = {}
    for name, info in TYPES.items():
        info.problems.pop(backend, None)
        if backend not in info.emitters or base.REGISTRY.get(name) is not info.cls:
            continue
        path = info.runtimes.get(backend)
        helpers = defined_names(path) if path is not None and _names[backend] else frozenset()
        clash = sorted(helpers & (used | contributed))
        if clash:
            info.problems[backend] = (f"its {backend} helpers in {path.name} define "
                                      f"{', '.join(clash)}, names archspec's generated code "
                                      f"already uses: rename them")
            continue
        contributed |= helpers
        installed[name] = info.emitters[backend]
    for names, builtin, _ in _names[backend]:
        names.clear()
        names.update(builtin | contributed)
    for table, held in _tables[backend]:
        for name in held - set(installed):
            table.pop(name, None)
        table.update(installed)
        held.clear()
        held.update(installed)


base._first_use.append(load)
