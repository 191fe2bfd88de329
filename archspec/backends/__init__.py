"""Backends: compile an inferred graph to framework source, and load that source.

Each backend module offers ``generate(graph) -> str`` (deterministic source that imports only its
framework) and ``build(source, graph)`` (the model object). Frameworks are imported only when a
model is built, never to generate source.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..errors import Diagnostic, SpecError
from ..limits import MAX_PARAMS

if TYPE_CHECKING:
    from ..ir.graph import Graph

from . import torch_activations  # noqa: E402,F401 - registers its emitters with torch_codegen's
from . import torch_utility  # noqa: E402,F401 - as torch_activations
from . import keras_utility  # noqa: E402,F401 - registers its emitters with keras_codegen's
from . import torch_sequence, keras_sequence  # noqa: E402,F401 - as the two above

BACKENDS = {"torch": "archspec.backends.torch_backend",
            "keras": "archspec.backends.keras_backend"}


def backend_module(name: str):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])


def build(graph: Graph, backend: str, max_params: int | None = None):
    """The model of an analysed graph in `backend`, from its generated source; refused (a
    SpecError naming the count and its fp32 memory) past ``max_params`` parameters."""
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
