"""The Python API: ``load`` a spec, ``check`` it, ``compile`` it to a framework."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Union

from .errors import Diagnostic, SpecError
from .inference import infer
from .ir.builder import build_graph
from .ir.graph import Graph
from .limits import MAX_PARAMS
from .ir.logits import to_logits
from .report import Report
from .spec.load import load
from .spec.model import Spec
from .spec.overrides import checked_params

# A str is a path (or "-" for standard input), never spec text: text goes through
# archspec.loads, so a file name such as "{a}.yaml" cannot be mistaken for a document.
SpecLike = Union[Spec, str, Path, Mapping[str, Any]]


def _as_spec(spec: SpecLike, params: Mapping[str, Any] | None) -> Spec:
    if isinstance(spec, Spec):
        return spec.with_params(**checked_params(params)) if params else spec
    return load(spec, params)


def analyze(spec: SpecLike, params: Mapping[str, Any] | None = None, *,
            logits: bool = False, max_layers: int | None = None) -> Graph:
    """The inferred graph IR (what backends compile). With ``logits``, the output is the
    input of the final softmax or sigmoid (see ``compile``). ``max_layers`` raises the limit
    on layers after expansion (``archspec.limits.MAX_LAYERS``). Raises SpecError."""
    graph = infer(build_graph(_as_spec(spec, params), max_layers))
    return to_logits(graph) if logits else graph


def check(spec: SpecLike, params: Mapping[str, Any] | None = None, strict: bool = False, *,
          max_layers: int | None = None) -> Report:
    """Validate a spec and infer every layer's shape and costs. Raises ``SpecError`` with all
    errors found; with ``strict``, warnings count as errors. ``max_layers`` as for
    ``analyze``."""
    report = Report.from_graph(analyze(spec, params, max_layers=max_layers))
    if strict and report.warnings:
        raise SpecError(report.warnings)
    return report


def generate(spec: SpecLike, backend: str = "torch",
             params: Mapping[str, Any] | None = None, *, logits: bool = False,
             max_layers: int | None = None) -> str:
    """The source of the model in ``backend`` ("torch" or "keras"): deterministic, readable,
    importing only that framework. ``logits`` as for ``compile``, ``max_layers`` as for
    ``analyze``; the parameter count is not limited (nothing is allocated). Raises SpecError,
    or UnsupportedError for a layer the backend cannot express."""
    from .backends import backend_module
    return backend_module(backend).generate(analyze(spec, params, logits=logits,
                                                    max_layers=max_layers))


def compile(spec: SpecLike, backend: str = "torch", params: Mapping[str, Any] | None = None,
            *, logits: bool = False, max_layers: int | None = None,
            max_params: int | None = None):
    """The model itself: a ``torch.nn.Module`` (channels-first input) or a ``keras.Model``
    (channels-last input), built by running exactly the source ``generate`` returns.

    A spec that ends in softmax gives probabilities. With ``logits=True`` the final softmax
    (a Softmax layer, or a last layer's ``activation: softmax``; sigmoid likewise) is left
    out, for losses that apply it themselves: torch ``nn.CrossEntropyLoss()``, Keras
    ``SparseCategoricalCrossentropy(from_logits=True)``. Weights are the same either way. A
    spec whose output is neither raises SpecError.

    A model of more than ``max_params`` parameters (default ``archspec.limits.MAX_PARAMS``)
    is refused before anything is allocated; ``generate`` still writes its source."""
    return build(analyze(spec, params, logits=logits, max_layers=max_layers), backend,
                 max_params=max_params)


def build(graph: Graph, backend: str, max_params: int | None = None):
    """The model of an analysed graph in `backend`, from its generated source; refused (a
    SpecError naming the count and its fp32 memory) past ``max_params`` parameters."""
    from .backends import backend_module
    check_model_size(graph, max_params)
    module = backend_module(backend)
    return module.build(module.generate(graph), graph)


def check_model_size(graph: Graph, max_params: int | None = None) -> None:
    """Refuse to allocate a model past ``max_params`` parameters (default MAX_PARAMS), naming
    the largest layer."""
    max_params = MAX_PARAMS if max_params is None else max_params
    live = graph.live()
    total = sum(n.meta["trainable"] + n.meta["non_trainable"] for n in live)
    if total <= max_params:
        return
    largest = max(live, key=lambda n: n.meta["trainable"] + n.meta["non_trainable"])
    size = largest.meta["trainable"] + largest.meta["non_trainable"]
    raise SpecError([Diagnostic(
        f"the model has {total:,} parameters ({_gib(total * 4)} in fp32), more than the "
        f"{max_params:,} archspec builds in memory; the largest layer, {largest.type} "
        f"'{largest.name}', has {size:,}", path=largest.path, location=largest.location,
        via=largest.via,
        hint=f"if this size is meant and the memory is there, raise the limit: --max-params "
             f"{total} (Python: max_params={total}); 'archspec compile -o FILE' writes the "
             f"source without building it")])


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**70 else f"about 10^{len(str(n)) - 1} bytes"
