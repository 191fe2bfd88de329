"""The analysis pass: fills each node's ``meta`` with its output shape (canonical layout),
parameter counts, MACs, activation size and receptive field, using only the layers' own shape
rules. No framework is imported here.

Conventions (also in docs/spec-language.md):
- MACs count one multiply-accumulate per kernel tap per output element of convolutions and
  dense layers (fvcore's conv+linear convention); FLOPs = 2 × MACs. Bias, BatchNorm, pooling and
  activations are not counted.
- Activation memory is fp32 at batch 1; the peak assumes each tensor is freed after its last
  consumer and nothing runs in place.
"""

from __future__ import annotations

from typing import Optional

from .errors import Diagnostic, ShapeError, SpecError
from .ir.graph import Graph, Node
from .limits import MAX_DIM
from .ops.base import GLOBAL, Window, product

BYTES_FP32 = 4


def infer(graph: Graph) -> Graph:
    """Annotate every node; raise SpecError with all shape errors (and the warnings so far)."""
    diagnostics = graph.diagnostics
    for node in graph.nodes:
        if node.is_input:
            spatial = len(graph.input_shape) - 1
            # ints while strides only grow; a Fraction appears only after upsampling
            node.meta.update(shape=graph.input_shape, trainable=0, non_trainable=0, macs=0,
                             rf=(1,) * spatial if spatial else None,
                             jump=(1,) * spatial if spatial else None)
            continue
        _infer_node(graph, node, diagnostics)
    if not any(d.severity == "error" for d in diagnostics):
        _warn_unused(graph, diagnostics)
        graph.peak_activation_bytes = peak_activation_bytes(graph)
    if any(d.severity == "error" for d in diagnostics):
        raise SpecError(sorted(diagnostics, key=_document_order))
    return graph


def _document_order(d: Diagnostic) -> tuple:
    return (d.location.file, d.location.line or 0, d.location.column or 0)


def _report(diagnostics: list, node: Node, message: str, hint: Optional[str] = None,
            severity: str = "error") -> None:
    diagnostics.append(Diagnostic(f"{node.layer.type_name} '{node.name}': {message}",
                                  path=node.path, location=node.location, hint=hint,
                                  severity=severity, via=node.via))


def _infer_node(graph: Graph, node: Node, diagnostics: list[Diagnostic]) -> None:
    layer = node.layer
    if layer is None or "invalid" in node.meta:
        return  # already reported
    by_name = graph._by_name
    parents, shapes = [], []
    for name in node.inputs:
        parent = by_name.get(name)
        if parent is None or "shape" not in parent.meta:
            return  # downstream of a reported error
        parents.append(parent)
        shapes.append(parent.meta["shape"])
    count = len(parents)
    if count < layer.min_inputs or (layer.max_inputs is not None and count > layer.max_inputs):
        want = (f"exactly {layer.min_inputs}" if layer.min_inputs == layer.max_inputs
                else f"at least {layer.min_inputs}")
        _report(diagnostics, node, f"takes {want} input(s), got {count}",
                hint="list the branches to join in 'inputs: [a, b]'"
                if layer.min_inputs > 1 else None)
        return
    try:
        result = _cached_infer(layer, shapes, graph.channels_first)
    except ShapeError as exc:
        detail = f" (input shape {list(graph.to_spec_layout(shapes[0]))})" if count == 1 else ""
        _report(diagnostics, node, f"{exc}{detail}", exc.hint)
        return
    if any(d > MAX_DIM for d in result.shape):
        _report(diagnostics, node, f"output shape {list(graph.to_spec_layout(result.shape))} has "
                f"a dimension larger than {MAX_DIM:,}, the limit for every layer",
                "check the sizes this layer is given (units, filters, size, ...)")
        return
    for message, hint in result.warnings:
        if not (layer.kind == "dense" and _channel_mlp(by_name, parents[0])):
            _report(diagnostics, node, message, hint, severity="warning")
    meta = node.meta
    meta["shape"] = result.shape
    meta["trainable"] = result.trainable
    meta["non_trainable"] = result.non_trainable
    meta["macs"] = result.macs
    meta["resolved"] = result.resolved
    meta["input_shapes"] = shapes
    meta["rf"], meta["jump"] = _receptive_field(result.window, parents, result.shape)


def _channel_mlp(by_name: dict, parent: Node) -> bool:
    """Whether a Dense on a feature map reads a LayerNormalization through dense layers,
    activations and dropout only: a per-position MLP over the channels (ConvNeXt's block,
    MLP-Mixer's channel mixing), which Dense's forgotten-Flatten warning is not about."""
    while parent.layer is not None and len(parent.inputs) == 1 and \
            parent.layer.kind in ("dense", "activation", "regularization"):
        parent = by_name[parent.inputs[0]]
    return parent.layer is not None and parent.layer.type_name == "LayerNormalization"


# A shape rule is a pure function of an immutable layer and its input shapes; the layer object
# is kept in the value, so its id cannot be reused while the entry lives.
_INFERRED: dict[tuple, tuple] = {}
CACHE_LIMIT = 50_000


def _cached_infer(layer, shapes: list, channels_first: bool):
    key = (id(layer), tuple(shapes), channels_first)
    hit = _INFERRED.get(key)
    if hit is None:
        try:
            hit = (layer, layer.infer(shapes, channels_first), None)
        except ShapeError as exc:
            hit = (layer, None, exc)
        if len(_INFERRED) > CACHE_LIMIT:
            _INFERRED.clear()
        _INFERRED[key] = hit
    if hit[2] is not None:
        raise hit[2]
    return hit[1]


def _receptive_field(window, parents: list[Node], shape) -> tuple:
    """Receptive field and effective stride (the "jump" between neighbouring outputs, in input
    pixels) per spatial dim; (None, None) once a layer has seen the whole input."""
    if window is None and len(parents) == 1:  # element-wise: most layers of most networks
        meta = parents[0].meta
        rf = meta.get("rf")
        if rf is None or len(rf) != len(shape) - 1:
            return None, None
        return rf, meta.get("jump")
    fields = [p.meta.get("rf") for p in parents]
    jumps = [p.meta.get("jump") for p in parents]
    if window == GLOBAL or any(f is None for f in fields):
        return None, None
    spatial = len(shape) - 1
    if any(len(f) != spatial for f in fields) or spatial == 0:
        return None, None
    if len(fields) == 1:
        rf, jump = fields[0], jumps[0]
    else:
        rf = tuple(max(f[d] for f in fields) for d in range(spatial))
        jump = tuple(max(j[d] for j in jumps) for d in range(spatial))
    if isinstance(window, Window):
        if window.order is not None:
            rf, jump = tuple(rf[i] for i in window.order), tuple(jump[i] for i in window.order)
        if window.upsample:
            from fractions import Fraction  # only upsampling needs it
            jump = tuple(Fraction(j) / s for j, s in zip(jump, window.stride))
            rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, window.kernel, jump))
        else:
            rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, window.kernel, jump))
            jump = tuple(j * s for j, s in zip(jump, window.stride))
    return rf, jump


def _warn_unused(graph: Graph, diagnostics: list[Diagnostic]) -> None:
    needed = {graph.output}
    for node in reversed(graph.nodes):
        if node.name in needed:
            needed.update(node.inputs)
    for node in graph.layers:
        if node.name not in needed:
            diagnostics.append(Diagnostic(
                f"the output of {node.type} '{node.name}' is never used", path=node.path,
                location=node.location, severity="warning", via=node.via,
                hint="a later layer probably needs it in 'inputs', or it can be removed"))


def peak_activation_bytes(graph: Graph) -> int:
    """Largest sum of live tensors while running the graph in order at batch 1 (fp32)."""
    last_use = {}
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_use[name] = index
    last_use[graph.output] = len(graph.nodes)
    live: dict[str, int] = {}
    total = peak = 0
    for index, node in enumerate(graph.nodes):
        size = product(node.meta["shape"]) * BYTES_FP32
        live[node.name] = size
        total += size
        peak = max(peak, total)
        for name in set(node.inputs):
            if last_use.get(name) == index and name in live:
                total -= live.pop(name)
        if last_use.get(node.name, -1) < index and node.name in live:
            total -= live.pop(node.name)
    return peak
