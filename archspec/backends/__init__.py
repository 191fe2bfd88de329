"""Backends: compile an inferred graph to framework source, and load that source.

Each backend module offers ``generate(graph) -> str`` (deterministic source that imports only its
framework) and ``build(source, graph)`` (the model object). Frameworks are imported only when a
model is built, never to generate source.
"""

from __future__ import annotations

import importlib

BACKENDS = {"torch": "archspec.backends.torch_backend",
            "keras": "archspec.backends.keras_backend"}


def backend_module(name: str):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])
