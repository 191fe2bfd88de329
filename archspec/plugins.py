"""What a plugin package uses to add layer types (docs/plugins.md has the whole story).

A plugin names a module of its own in the ``archspec.layers`` entry point group; archspec
imports it the first time it needs its vocabulary. The module defines each type as archspec
defines its own — a ``Layer`` subclass with a ``type`` tag, pydantic fields, ``kind``, ``slots``
and ``infer`` — and hands its emitters to ``register_layer``::

    class SqueezeExcite(Layer):
        type: Literal["SqueezeExcite"] = "SqueezeExcite"
        ...

    register_layer(SqueezeExcite, torch=emit_torch, keras=emit_keras,
                   torch_runtime=HERE / "torch_runtime.py", cases=[...])

``problems(name)`` runs the checks tests/test_completeness.py runs on the built-in types (case
rows against the shape rule and counts, weight slots against the counts, the kind, each
backend's source for each case row) — a plugin's own tests assert it returns nothing.

Importing this module costs nothing beyond the op base classes: the checks import the rest
when they run, and nothing here imports a framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from .errors import ShapeError
from .ops.base import (
    GLOBAL,
    KINDS,
    Inferred,
    Layer,
    Shape,
    WeightSlot,
    Window,
    bias_slot,
    layer_types,
    product,
    require_rank,
)
from .ops.plugins import DISABLE, GROUP, defined_names, plugin_types, register, type_name

__all__ = ["DISABLE", "GLOBAL", "GROUP", "Inferred", "KINDS", "Layer", "Shape", "ShapeError",
           "WeightSlot", "Window", "bias_slot", "case_rows", "layer_types", "problems",
           "product", "register_layer", "require_rank", "slot_problems"]

# What emitters build their result from (TorchEmitted, KerasEmitted, call, literal, short),
# imported on first use: the backends' modules are framework-free, but a plugin that only
# checks specs need not load them.
_LAZY = {"TorchEmitted": ("archspec.backends.torch_codegen", "Emitted"),
         "KerasEmitted": ("archspec.backends.keras_codegen", "Emitted"),
         "call": ("archspec.backends.common", "call"),
         "literal": ("archspec.backends.common", "literal"),
         "short": ("archspec.backends.common", "short")}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'archspec.plugins' has no attribute {name!r}")
    import importlib
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value

PathLike = Union[str, Path]


def register_layer(cls: type, *, torch: Optional[Callable] = None,
                   keras: Optional[Callable] = None, onnx: Optional[Callable] = None,
                   torch_runtime: Optional[PathLike] = None,
                   keras_runtime: Optional[PathLike] = None,
                   cases: Iterable[dict] = ()) -> type:
    """Give the layer type ``cls`` its emitters and case rows; returns ``cls``.

    ``torch``/``keras``/``onnx``: emitters as the backends' own (archspec/backends/
    torch_codegen.py, keras_codegen.py, onnx_export/), called with the backend's context and
    returning its ``Emitted`` (onnx: as onnx_export's). At least one of torch and keras.
    ``torch_runtime``/``keras_runtime``: a Python file whose top-level definitions the generator
    copies into generated code where an emitter names them in ``helpers`` (as
    archspec/backends/torch_runtime.py); never imported by archspec. ``cases``: rows as in
    tests/layer_cases.yaml (``{"layer": {"Name": {...}}, "input": [...], "shape": [...],
    "params": n, "non_trainable": n, "macs": n}``), which ``problems`` and archspec's own
    tests check.

    While the plugins load, a type whose name is taken is refused and recorded (``archspec
    plugins`` shows it); registered by hand, it raises ValueError. Bad arguments raise."""
    name = type_name(cls)
    emitters = {b: f for b, f in (("torch", torch), ("keras", keras), ("onnx", onnx))
                if f is not None}
    if not any(b in emitters for b in ("torch", "keras")):
        raise ValueError(f"register_layer({name}): give an emitter for torch or keras (or both)")
    for backend, emitter in emitters.items():
        if not callable(emitter):
            raise TypeError(f"register_layer({name}): the {backend} emitter is not callable")
    runtimes = {}
    for backend, path in (("torch", torch_runtime), ("keras", keras_runtime)):
        if path is not None:
            if not Path(path).is_file():
                raise ValueError(f"register_layer({name}): {backend}_runtime {path} is no file")
            try:  # now, inside the loader: not later, when a backend first needs the names
                defined_names(Path(path))
            except (SyntaxError, UnicodeDecodeError) as exc:
                raise ValueError(f"register_layer({name}): {backend}_runtime {path} does not "
                                 f"parse: {exc}") from None
            runtimes[backend] = Path(path)
    register(cls, emitters, runtimes, [_case(name, row) for row in cases])
    return cls


def _case(name: str, row: Any) -> dict:
    if not isinstance(row, dict) or "shape" not in row or not ("input" in row or "inputs" in row):
        raise ValueError(f"register_layer({name}): a case row needs 'layer', 'input' (or "
                         f"'inputs') and 'shape', as in tests/layer_cases.yaml; got {row!r}")
    layer = row.get("layer", name)
    if (layer if isinstance(layer, str) else next(iter(layer), None)) != name:
        raise ValueError(f"register_layer({name}): a case row of another type: {layer!r}")
    return {**row, "layer": layer}


def case_rows(rows: Iterable[dict], name: str) -> list[tuple[dict, list[Shape]]]:
    """(arguments, input shapes) of each row of ``rows`` that is of the type ``name``."""
    out = []
    for row in rows:
        layer = row["layer"]
        type_of, args = (layer, {}) if isinstance(layer, str) else next(iter(layer.items()))
        if type_of == name:
            out.append((args or {}, [tuple(s) for s in row.get("inputs", [row.get("input")])]))
    return out


def slot_problems(name: str, cls: type, rows: list[tuple[dict, list[Shape]]]) -> list[str]:
    """Each row's parameters against the weight slots the layer declares for its arguments."""
    from .weights import LAYOUTS
    source = cls.__module__.replace(".", "/") + ".py"
    problems = []
    for args, inputs in rows:
        layer = cls.model_validate(args)
        inferred: Inferred = layer.infer(inputs)
        slots = layer.weight_slots()
        if not slots:
            if inferred.trainable or inferred.non_trainable:
                problems.append(f"{name}: has parameters (args {args}) but declares no weight "
                                f"slots: set `slots` on its class in {source}")
            continue
        shapes = layer.weight_shapes(inputs)
        missing = [s.keras for s in slots if s.keras not in shapes]
        if missing:
            problems.append(f"{name}: weight_shapes() in {source} gives no shape for {missing}")
            continue
        bad = [s.layout for s in slots if s.layout not in LAYOUTS]
        if bad:
            problems.append(f"{name}: slot layouts {bad} are not among {sorted(LAYOUTS)} "
                            f"(archspec/weights.py converts those)")
        for trainable, counted in ((True, inferred.trainable),
                                   (False, inferred.non_trainable)):
            size = sum(product(shapes[s.keras]) for s in slots if s.trainable == trainable)
            if size != counted:
                what = "trainable" if trainable else "non-trainable"
                problems.append(f"{name}: its {what} weight slots hold {size} values for args "
                                f"{args}, the analysis counts {counted}: fix `slots` or "
                                f"weight_shapes() in {source}")
    return problems


def problems(name: str) -> list[str]:
    """What the plugin type ``name`` lacks or gets wrong, one message each; [] when it is
    complete. Framework-free: each backend's source is generated, not run."""
    info = plugin_types().get(name)
    if info is None:
        return [f"{name}: no plugin provides this layer type (is its package installed, and "
                f"does it register the type? 'archspec plugins' shows what loaded)"]
    cls, source = info.cls, info.cls.__module__.replace(".", "/") + ".py"
    found = [f"{name}: {why}" for why in info.problems.values()]
    if cls.kind not in KINDS:
        found.append(f"{name}: kind {cls.kind!r} is not one of {sorted(KINDS)}: set `kind` on "
                     f"its class in {source}")
    if not info.cases:
        found.append(f"{name}: no case rows: pass cases=[{{'layer': {{{name!r}: {{...}}}}, "
                     f"'input': [...], 'shape': [...], 'params': n}}] to register_layer")
    usable = set(info.emitters) - set(info.problems)  # a refused emitter is reported above
    rows = [p for row in info.cases for p in _row_problems(name, cls, row, usable)]
    # The slots are checked against rows the shape rule agrees with.
    return found + (rows or slot_problems(name, cls, case_rows(info.cases, name)))


def _row_problems(name: str, cls: type, row: dict, emitters: set[str]) -> list[str]:
    """The row's shape and counts against ``infer``; then each backend's source for a spec of
    that one layer, which runs the emitter and copies its helpers."""
    (args, inputs), = case_rows([row], name)
    try:
        inferred = cls.model_validate(args).infer(inputs)
    except Exception as exc:  # noqa: BLE001 - reported as the plugin's problem
        return [f"{name}: case {row} fails: {type(exc).__name__}: {exc}"]
    want = {"shape": list(row["shape"]), "params": row.get("params", 0),
            "non_trainable": row.get("non_trainable", 0), "macs": row.get("macs")}
    got = {"shape": list(inferred.shape), "params": inferred.trainable,
           "non_trainable": inferred.non_trainable, "macs": inferred.macs}
    found = [f"{name}: case {row}: infer gives {key} {got[key]}, the row says {want[key]}"
             for key in want if want[key] is not None and want[key] != got[key]]
    if found or "inputs" in row:
        return found
    from .analysis import analyze
    from .backends import backend_module
    graph = analyze({"name": "case", "input": list(row["input"]), "layers": [row["layer"]]})
    for backend in ("torch", "keras"):
        if backend in emitters:
            try:
                backend_module(backend).generate(graph)
            except Exception as exc:  # noqa: BLE001 - reported as the plugin's problem
                found.append(f"{name}: the {backend} source of case {row} fails: "
                             f"{type(exc).__name__}: {exc}")
    return found


def installed() -> dict[str, Any]:
    """What the plugins brought, for ``archspec plugins``: each loaded entry point with its
    types and their backends, and every refusal and failure."""
    from .ops import plugins as state
    types = plugin_types()
    loaded = []
    for source in state.LOADED + sorted({t.source for t in types.values()} - set(state.LOADED),
                                        key=str):
        mine = {n: t for n, t in types.items() if t.source == source}
        loaded.append({"package": source.package, "entry_point": source.entry_point,
                       "types": {n: {"backends": sorted(set(t.emitters) - set(t.problems)),
                                     "problems": sorted(t.problems.values()),
                                     "module": t.cls.__module__} for n, t in mine.items()}})
    return {"disabled": bool(_disabled()), "plugins": loaded,
            "refused": [r.message for r in state.REFUSED],
            "failed": [f.message for f in state.FAILED]}


def _disabled() -> Optional[str]:
    import os
    return os.environ.get(DISABLE)
