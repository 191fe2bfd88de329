"""A spec, however given, to its inferred graph IR: loading, expansion and the inference pass in
one call. It lives below the backends and the weight exchange so that they can start from a
spec without importing the top-level ``api``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Union

from .inference import infer
from .ir.bounds import with_room_to_recurse
from .ir.builder import build_graph
from .ir.graph import Graph
from .ir.logits import to_logits
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


@with_room_to_recurse
def analyze(spec: SpecLike, params: Mapping[str, Any] | None = None, *,
            logits: bool = False, max_layers: int | None = None) -> Graph:
    """The inferred graph IR (what backends compile). With ``logits``, the output is the
    input of the final softmax or sigmoid (see ``compile``). ``max_layers`` raises the limit
    on layers after expansion (``archspec.limits.MAX_LAYERS``). Raises SpecError."""
    graph = infer(build_graph(_as_spec(spec, params), max_layers))
    return to_logits(graph) if logits else graph
