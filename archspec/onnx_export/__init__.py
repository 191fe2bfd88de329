"""ONNX straight from the IR: no framework builds the model first.

``to_onnx(graph, weights)`` writes one ONNX node sequence per layer with the ``onnx`` package's
helper API; every layer's output tensor carries the layer's name, the batch dimension is
symbolic ("N"), and the input and output are in the spec's layout. Weights are Keras-layout
arrays by layer (``archspec.weights``' exchange form), drawn from a seed when none are given.
"""

from __future__ import annotations

import os
from typing import Any

from .._version import __version__
from ..backends.common import Facts, Unsupported, raise_unsupported
from ..ir.graph import Graph
from ..ops.plugins import attach_table
from .context import OnnxContext
from .emit_core import EMITTERS as _CORE
from .emit_sequence import EMITTERS as _SEQUENCE
from .emit_spatial import EMITTERS as _SPATIAL
from .graph import FIRST, LAST, OnnxGraph, Value, layout_for, value_info
from . import wire
from .init import initial_weights

# Protobuf refuses messages of 2 GiB or more: past this the weights go to a file beside the model.
_INLINE_LIMIT = 1_800_000_000
OPSET = 17  # LayerNormalization's first; onnxruntime 1.14+ and TensorRT 8.6+ read it
EMITTERS: dict[str, Any] = {**_SPATIAL, **_CORE, **_SEQUENCE}
attach_table("onnx", EMITTERS)  # plugin types' ONNX emitters join it (ops/plugins.py)

__all__ = ["EMITTERS", "OPSET", "check_support", "initial_weights", "save_onnx", "to_onnx"]


def _emit(g: OnnxGraph, node, facts: Facts, weights: dict) -> None:
    emitter = EMITTERS.get(node.type)
    if emitter is None:
        raise Unsupported(f"{node.type} has no ONNX mapping")
    tensor, layout = emitter(OnnxContext(facts, node, g=g, weights=weights.get(node.name, {})))
    g.values[node.name] = Value(g.name_output(tensor, node.name), node.meta["shape"], layout)


def check_support(graph: Graph) -> None:
    """Raise UnsupportedError, every such layer located, when a layer has no ONNX form: for
    commands that would otherwise find out only after long work (verify --onnx)."""
    raise_unsupported([(node, f"{node.type} has no ONNX mapping") for node in graph.live()
                       if node.layer is not None and node.type not in EMITTERS], "onnx")


def to_onnx(graph: Graph, weights: dict | None = None, seed: int = 0):
    """The analyzed ``graph`` as an ``onnx.ModelProto``. Layers with no ONNX form are
    reported together (UnsupportedError), each at its place in the spec."""
    return _build(graph, weights, seed).materialize()


def save_onnx(graph: Graph, path: str, weights: dict | None = None, seed: int = 0) -> str:
    """Write the model to ``path``; returns "" — or, past protobuf's 2 GiB, where the weights
    went (a ``.data`` file beside it, ONNX's external data)."""
    g = _build(graph, weights, seed)
    if sum(a.nbytes for _, a in g.arrays) < _INLINE_LIMIT:
        partial = f"{path}.partial"  # a failed write leaves no truncated model behind
        try:
            with open(partial, "wb") as stream:
                wire.write(g.model, g.arrays, stream)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return ""
    import onnx
    location = os.path.basename(path) + ".data"
    data = os.path.join(os.path.dirname(path), location)
    if os.path.exists(data):  # onnx appends to (or, since 1.23, refuses) an existing one
        os.remove(data)
    onnx.save_model(g.materialize(), path, save_as_external_data=True, location=location)
    return location


def _build(graph: Graph, weights: dict | None, seed: int) -> OnnxGraph:
    from onnx import helper

    weights = weights if weights is not None else initial_weights(graph, seed)
    facts = Facts.of(graph)
    spec_layout = FIRST if graph.channels_first else LAST
    g = OnnxGraph(reserved={n.name for n in graph.nodes})
    entry = graph.nodes[0]
    input_layout = layout_for(graph.input_shape, spec_layout)
    g.values[entry.name] = Value(entry.name, graph.input_shape, input_layout)
    problems = []
    for node in facts.live:
        if node.layer is None:
            continue
        try:
            _emit(g, node, facts, weights)
        except Unsupported as exc:
            problems.append((node, str(exc)))
            # A stand-in, so the layers after it are still tried and every one reported.
            g.values[node.name] = Value(node.name, node.meta["shape"],
                                        layout_for(node.meta["shape"], spec_layout))
    raise_unsupported(problems, "onnx")
    out = g.values[graph.output]
    output = g.held(graph.output, spec_layout)
    model = g.model
    model.graph.name = graph.name
    model.graph.input.append(value_info(entry.name, graph.input_shape, input_layout))
    model.graph.output.append(value_info(output, out.shape, layout_for(out.shape, spec_layout)))
    model.opset_import.append(helper.make_opsetid("", OPSET))
    model.ir_version = 8  # what onnxruntime releases since 1.14 read
    model.producer_name, model.producer_version = "archspec", __version__
    model.doc_string = graph.description
    helper.set_model_props(model, {"archspec.spec": graph.name,
                                   "archspec.description": graph.description,
                                   "archspec.source": graph.source})
    return g
