"""The Python API: ``load`` a spec, ``check`` it, ``compile`` it to a framework."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Union

from .errors import SpecError
from .inference import infer
from .ir.builder import build_graph
from .ir.graph import Graph
from .report import Report
from .spec.load import load
from .spec.model import Spec

SpecLike = Union[Spec, str, Path]


def _as_spec(spec: SpecLike, params: Mapping[str, Any] | None) -> Spec:
    if isinstance(spec, Spec):
        return spec.with_params(**params) if params else spec
    return load(spec, params)


def analyze(spec: SpecLike, params: Mapping[str, Any] | None = None) -> Graph:
    """The inferred graph IR (what backends compile). Raises SpecError."""
    return infer(build_graph(_as_spec(spec, params)))


def check(spec: SpecLike, params: Mapping[str, Any] | None = None, strict: bool = False) -> Report:
    """Validate a spec and infer every layer's shape and costs. Raises ``SpecError`` with all
    errors found; with ``strict``, warnings count as errors."""
    report = Report.from_graph(analyze(spec, params))
    if strict and report.warnings:
        raise SpecError(report.warnings)
    return report


def generate(spec: SpecLike, backend: str = "torch",
             params: Mapping[str, Any] | None = None) -> str:
    """The source of the model in ``backend`` ("torch" or "keras"): deterministic, readable,
    importing only that framework. Raises SpecError, or UnsupportedError for a layer the
    backend cannot express."""
    from .backends import backend_module
    return backend_module(backend).generate(analyze(spec, params))


def compile(spec: SpecLike, backend: str = "torch", params: Mapping[str, Any] | None = None):
    """The model itself: a ``torch.nn.Module`` (channels-first input) or a ``keras.Model``
    (channels-last input), built by running exactly the source ``generate`` returns."""
    return build(analyze(spec, params), backend)


def build(graph: Graph, backend: str):
    """The model of an analysed graph in `backend`, from its generated source."""
    from .backends import backend_module
    module = backend_module(backend)
    return module.build(module.generate(graph), graph)
