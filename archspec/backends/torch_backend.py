"""Assemble the PyTorch source of a model from the per-layer emitters, and load it.

The in-memory model is built by executing exactly the source that ``archspec compile`` writes,
so what users read is what runs.
"""

from __future__ import annotations

from ..ir.graph import Graph
from .common import (
    Facts,
    Unsupported,
    class_name,
    docstring,
    fit,
    header,
    helper_source,
    literal,
    raise_unsupported,
)
from .torch_codegen import (
    EMITTERS,
    HELPERS,
    MODULE_ATTRIBUTES,
    RUNTIME,
    Context,
    Emitted,
    attribute_names,
    torch_shape,
)

BACKEND = "torch"


def generate(graph: Graph) -> str:
    facts = Facts.of(graph)
    attrs = attribute_names(graph)
    emitted: dict[str, Emitted] = {}
    problems = []
    for node in facts.live:
        emitter = EMITTERS.get(node.type)
        try:
            if emitter is None:
                raise Unsupported("no mapping exists")
            emitted[node.name] = emitter(Context(facts, node))
        except Unsupported as exc:
            problems.append((node, str(exc)))
    raise_unsupported(problems, BACKEND)

    name = class_name(graph.name, MODULE_ATTRIBUTES | HELPERS | set(attrs.values()))
    helpers = sorted({h for e in emitted.values() for h in e.helpers}
                     | ({"keras_init_"} if any(e.weights for e in emitted.values()) else set())
                     | ({"max_norm_"} if any(e.constrained for e in emitted.values()) else set()))
    doc = header(facts, BACKEND, torch_shape(graph.input_shape),
                 torch_shape(graph[graph.output].meta["shape"]), "channels first",
                 "BatchNorm running statistics, stored as buffers")
    body = [f"class {name}(nn.Module):", docstring(doc, "    "), "",
            f"    input_shape = {literal(torch_shape(graph.input_shape))}", "",
            "    def __init__(self):", "        super().__init__()"]
    body += [f"        self.{attrs[n]} = {e.module}" for n, e in emitted.items()]
    body += ["        self.reset_parameters()", ""]
    body += _forward(facts, attrs, emitted)
    body += _reset_parameters(attrs, emitted)
    body += _regularization_loss(attrs, emitted)
    body += _apply_constraints(attrs, emitted)
    code = "\n".join(fit(line) for line in body).rstrip() + "\n"
    helper_code = helper_source(RUNTIME, helpers) if helpers else ""
    # What the code uses, not what spec text in the docstring happens to mention.
    used = helper_code + code.replace(docstring(doc, "    "), "")
    torch_imports = (["import torch"] if "torch." in used else []) + ["from torch import nn"]
    if "F." in used:
        torch_imports.append("from torch.nn import functional as F")
    groups = ([["import math"]] if "math." in used else []) + [torch_imports]
    parts = [docstring(doc), "", "\n\n".join("\n".join(group) for group in groups)]
    if helper_code:
        parts += ["", "", helper_code]
    parts += ["", "", code]
    return "\n".join(parts)


def _forward(facts: Facts, attrs: dict[str, str], emitted: dict[str, Emitted]) -> list[str]:
    """One line per layer. A tensor read only by the next line lives in ``x``; one read
    elsewhere (a branch point) gets its layer's name."""
    live = facts.live
    graph = facts.graph
    order = [n.name for n in live]
    follows = {a: b for a, b in zip([graph.nodes[0].name] + order, order)}

    def variable(name: str) -> str:
        users = facts.consumers[name]
        chained = users == [follows.get(name)] and name != graph.output
        if name == graph.nodes[0].name:
            return "x" if chained else "inputs"
        return "x" if chained or name == graph.output else attrs[name]

    lines = [f"    def forward(self, {variable(graph.nodes[0].name)}):"]
    for node in live:
        e = emitted[node.name]
        inputs = [variable(i) for i in node.inputs]
        if e.input_order:
            inputs = [inputs[i] for i in e.input_order]
        expr = e.call.format(m=f"self.{attrs[node.name]}", x=", ".join(inputs))
        lines.append(f"        {variable(node.name)} = {expr}")
    lines += ["        return x", ""]
    return lines


def _reset_parameters(attrs: dict[str, str], emitted: dict[str, Emitted]) -> list[str]:
    lines = ["    def reset_parameters(self):",
             '        """Initialize weights as the spec says, with Keras\' initializers and fans;',
             '        BatchNorm starts at gamma = 1, beta = 0, mean = 0, variance = 1."""']
    for name, e in emitted.items():
        for weight, scheme, fan_in, fan_out in e.weights:
            lines.append(f"        keras_init_(self.{attrs[name]}.{weight}, {scheme!r}, "
                         f"{fan_in}, {fan_out})")
    return lines + [""]


def _regularization_loss(attrs: dict[str, str], emitted: dict[str, Emitted]) -> list[str]:
    terms = []
    for name, e in emitted.items():
        for weight, l1, l2 in e.regularized:
            ref = f"self.{attrs[name]}.{weight}"
            if l1:
                terms.append(f"{literal(l1)} * {ref}.abs().sum()")
            if l2:
                terms.append(f"{literal(l2)} * {ref}.square().sum()")
    lines = ["    def regularization_loss(self):",
             '        """The spec\'s L1/L2 kernel penalties, as Keras adds them to the loss:',
             '        train on ``loss + model.regularization_loss()``."""']
    if not terms:
        return lines + ["        return torch.zeros(())", ""]
    joined = "\n                + ".join(terms)
    return lines + [f"        return ({joined})", ""]


def _apply_constraints(attrs: dict[str, str], emitted: dict[str, Emitted]) -> list[str]:
    lines = ["    def apply_constraints(self):",
             '        """The spec\'s max_norm constraints: call after every optimizer.step(), as',
             '        Keras applies them after each update."""']
    body = []
    for name, e in emitted.items():
        for weight, max_value, dims, grouped in e.constrained:
            extra = f", {literal(grouped)}" if grouped else ""
            body.append(f"        max_norm_(self.{attrs[name]}.{weight}, {literal(max_value)}, "
                        f"{literal(dims)}{extra})")
    return lines + (body or ["        pass"])


def build(source: str, graph: Graph):
    """Execute generated source and return an instance of its model class."""
    from .loader import load_module
    module = load_module(source, graph.name, BACKEND)
    cls = next(v for k, v in vars(module).items()
               if isinstance(v, type) and getattr(v, "__module__", None) == module.__name__
               and hasattr(v, "regularization_loss"))
    return cls()
