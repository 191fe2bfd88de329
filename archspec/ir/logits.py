"""The logits transform: a model that returns the scores before its final softmax (or
sigmoid), for losses that apply it themselves — torch's ``CrossEntropyLoss`` and
``BCEWithLogitsLoss``, Keras' ``from_logits=True``. A pass over the analysed graph, before code
generation, so every backend compiles the same thing; shapes and parameters are unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import Diagnostic, SpecError
from .graph import INPUT, Graph, Node

# Output activations a loss can take over, and the meta note generated docstrings read.
SQUASHING = ("softmax", "sigmoid")
LOGITS_OF = "logits_of"  # node.meta key: the activation the transform dropped


def output_activation(node: Node) -> str | None:
    """The activation a node ends in: its own layer type (Softmax, Sigmoid, Activation) or a
    Conv/Dense ``activation:`` argument."""
    layer = node.layer
    if layer is None:
        return None
    if node.type in ("Softmax", "Sigmoid"):
        return node.type.lower()
    return getattr(layer, "activation", None)


def to_logits(graph: Graph) -> Graph:
    """A copy of ``graph`` whose output is the input of its final softmax or sigmoid: a
    Softmax/Sigmoid/Activation layer is left out; a layer's own ``activation: softmax`` is
    removed. Raises SpecError when the output is neither."""
    out = graph[graph.output]
    activation = output_activation(out)
    if activation not in SQUASHING:
        raise SpecError([_not_squashed(out, activation)])
    if out.type in ("Softmax", "Sigmoid", "Activation"):
        (source,) = out.inputs
        if source == INPUT:
            raise SpecError([Diagnostic(
                f"cannot return logits: the model is only a {activation}",
                path=out.path, location=out.location)])
        nodes = [_marked(n, activation) if n.name == source else n for n in graph.nodes]
        return replace(graph, nodes=nodes, output=source)
    bare = replace(out, layer=out.layer.model_copy(update={"activation": None}),
                   meta={**out.meta, LOGITS_OF: activation})
    return replace(graph, nodes=[bare if n is out else n for n in graph.nodes])


def _marked(node: Node, activation: str) -> Node:
    return replace(node, meta={**node.meta, LOGITS_OF: activation})


def _not_squashed(out: Node, activation: str | None) -> Diagnostic:
    own = f" (its activation is '{activation}')" if activation else ""
    return Diagnostic(
        f"cannot return logits: the model's output, {out.name} ({out.type}{own}), has no "
        f"final softmax or sigmoid to leave out", path=out.path, location=out.location,
        hint="such an output already is unnormalized scores (logits): compile without "
             "--logits (logits=False) and give it to a from-logits loss as it is")
