"""Assemble Keras functional-API source from the per-layer emitters, and load it.

The generated file defines ``build_model()``; the in-memory model is built by running exactly
that source.
"""

from __future__ import annotations

from ..ir.graph import Graph
from .common import (
    Facts,
    Unsupported,
    docstring,
    fit,
    header,
    helper_source,
    identifier,
    literal,
    raise_unsupported,
)
from .keras_codegen import HELPERS, RUNTIME, Context, Emitted, emit

BACKEND = "keras"
# Names build_model's locals must not shadow: what it reads (modules, helpers, builtins that
# literals may use) and its own variables.
RESERVED = frozenset({"x", "inputs", "model", "keras", "layers", "ops", "build_model",
                      "float", "math"}) | HELPERS


def variable_names(graph: Graph) -> dict[str, str]:
    reserved = set(RESERVED)
    names = {}
    for node in graph.nodes:
        names[node.name] = identifier(node.name, reserved)
        reserved.add(names[node.name])
    return names


def generate(graph: Graph) -> str:
    facts = Facts.of(graph)
    emitted: dict[str, Emitted] = {}
    problems = []
    for node in facts.live:
        try:
            emitted[node.name] = emit(Context(facts, node))
        except Unsupported as exc:
            problems.append((node, str(exc)))
    raise_unsupported(problems, BACKEND)

    output_shape = graph[graph.output].meta["shape"]
    doc = header(facts, BACKEND, graph.input_shape, output_shape, "channels last",
                 "BatchNormalization moving mean and variance")
    helpers = sorted({h for e in emitted.values() for h in e.helpers})
    body = ["def build_model():", docstring(doc, "    "),
            f"    inputs = keras.Input(shape={literal(tuple(graph.input_shape))}, "
            f"name={graph.nodes[0].name!r})"]
    body += _statements(facts, emitted)
    body += [f"    return keras.Model(inputs, x, name={graph.name!r})", ""]
    code = "\n".join(fit(line) for line in body)
    helper_code = helper_source(RUNTIME, helpers) if helpers else ""
    used = helper_code + code.replace(docstring(doc, "    "), "")  # not the spec's own text
    imports = ["import keras"]
    if "layers." in used:
        imports.append("from keras import layers")
    if "ops." in used:
        imports.append("from keras import ops")
    parts = [docstring(doc), "", "\n".join(imports)]
    if helper_code:
        parts += ["", "", helper_code]
    parts += ["", "", code]
    return "\n".join(parts)


def _statements(facts: Facts, emitted: dict[str, Emitted]) -> list[str]:
    graph = facts.graph
    names = variable_names(graph)
    taken = {n.name for n in graph.nodes}
    order = [n.name for n in facts.live]
    follows = {a: b for a, b in zip([graph.nodes[0].name] + order, order)}

    def variable(name: str) -> str:
        if name == graph.nodes[0].name:
            return "inputs"
        chained = facts.consumers[name] == [follows.get(name)]
        return "x" if chained or name == graph.output else names[name]

    def layer_name(base: str, suffix: str) -> str:
        name, n = f"{base}_{suffix}", 1
        while name in taken:
            n += 1
            name = f"{base}_{suffix}{n}"
        taken.add(name)
        return name

    lines = []
    if not facts.live:
        return ["    x = inputs"]
    for node in facts.live:
        e = emitted[node.name]
        inputs = [variable(i) for i in node.inputs]
        current = inputs[0] if len(inputs) == 1 else "[" + ", ".join(inputs) + "]"
        target = variable(node.name)
        # The spec's name goes to the step that produces the spec layer's output.
        steps = [(layer_name(node.name, s), c) for s, c in e.before]
        if e.after:
            steps.append((layer_name(node.name, "core"), e.layer))
            steps += [(layer_name(node.name, s), c) for s, c in e.after[:-1]]
            steps.append((node.name, e.after[-1][1]))
        else:
            steps.append((node.name, e.layer))
        for name, constructor in steps:
            with_name = constructor[:-1] + (", " if not constructor.endswith("()") else "") \
                + f"name={name!r})"
            lines.append(f"    {target} = {with_name}({current})")
            current = target
    return lines


def build(source: str, graph: Graph):
    """Execute generated source and return its ``build_model()``."""
    from .loader import load_module
    return load_module(source, graph.name, BACKEND).build_model()
