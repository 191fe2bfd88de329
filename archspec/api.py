"""The Python API: ``load`` a spec, ``check`` it, ``compile`` it to a framework."""

from __future__ import annotations

from typing import Any, Mapping

from .analysis import SpecLike, analyze
from .backends import backend_module, build, check_model_size
from .errors import SpecError
from .ir.bounds import with_room_to_recurse
from .report import Report

__all__ = ["SpecLike", "analyze", "build", "check", "check_model_size", "compile", "generate"]


@with_room_to_recurse  # layer loops at an unlucky stack depth: see its comment
def check(spec: SpecLike, params: Mapping[str, Any] | None = None, strict: bool = False, *,
          max_layers: int | None = None) -> Report:
    """Validate a spec and infer every layer's shape and costs. Raises ``SpecError`` with all
    errors found; with ``strict``, warnings count as errors. ``max_layers`` as for
    ``analyze``."""
    report = Report.from_graph(analyze(spec, params, max_layers=max_layers))
    if strict and report.warnings:
        raise SpecError(report.warnings)
    return report


@with_room_to_recurse
def generate(spec: SpecLike, backend: str = "torch",
             params: Mapping[str, Any] | None = None, *, logits: bool = False,
             max_layers: int | None = None) -> str:
    """The source of the model in ``backend`` ("torch" or "keras"): deterministic, readable,
    importing only that framework. ``logits`` as for ``compile``, ``max_layers`` as for
    ``analyze``; the parameter count is not limited (nothing is allocated). Raises SpecError,
    or UnsupportedError for a layer the backend cannot express."""
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
