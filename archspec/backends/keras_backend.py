"""Assemble Keras functional-API source from the per-layer emitters, and load it.

The generated file defines ``build_model()``; the in-memory model is built by running exactly
that source.
"""

from __future__ import annotations

from ..ir.graph import Graph
from ..ops.plugins import runtime_files
from .common import (
    Facts,
    docstring,
    emit_all,
    fit,
    header,
    header_split,
    helper_source,
    literal,
    source_file,
)
from .keras_codegen import RUNTIME, Context, emit
from .keras_layout import DEFAULTS, KerasLayout
from .keras_sequence import RUNTIME as SEQUENCE_RUNTIME
from .structure import build_tree
from .unify import unify

BACKEND = "keras"


def generate(graph: Graph, structured: bool = True) -> str:
    facts = Facts.of(graph)
    emitted = emit_all(facts, lambda node: emit(Context(facts, node)), BACKEND)
    root = build_tree(facts, structured)
    layout = KerasLayout(facts, emitted, root)
    output_shape = graph[graph.output].meta["shape"]
    doc = header(facts, BACKEND, graph.input_shape, output_shape, "channels last",
                 "normalization statistics")
    split = header_split(doc)
    body = []
    for name, template, container in layout.functions:
        body += layout.function_lines(name, template, container) + ["", ""]
    body += ["def build_model():", docstring(doc[split:], "    "),
             f"    inputs = keras.Input(shape={literal(tuple(graph.input_shape))}, "
             f"name={graph.nodes[0].name!r})"]
    (top,) = unify([layout.instance(root)], DEFAULTS)
    statements = layout.statements(top, root, "", ["inputs"], "    ")
    output = statements.pop()  # "return <output>"
    body += statements if facts.live else []
    result = output.split("return ", 1)[1] if facts.live else "inputs"
    body += [f"    return keras.Model(inputs, {result}, name={graph.name!r})", ""]
    code = "\n".join(fit(line) for line in body)
    helpers = sorted({h for e in emitted.values() for h in e.helpers})
    helper_code = (helper_source((RUNTIME, SEQUENCE_RUNTIME) + runtime_files(BACKEND), helpers)
                   if helpers else "")
    return source_file(doc, code, helper_code, _imports)


def _imports(used: str) -> list[list[str]]:
    imports = ["import keras"]
    if "layers." in used:
        imports.append("from keras import layers")
    if "ops." in used:
        imports.append("from keras import ops")
    return [imports]


def build(source: str, graph: Graph):
    """Execute generated source and return its ``build_model()``."""
    from .loader import load_module
    return load_module(source, graph.name, BACKEND).build_model()
