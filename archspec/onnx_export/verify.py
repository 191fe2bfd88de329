"""``archspec verify --onnx``: the exported model, run by onnxruntime, against the compiled
torch model with the same weights — every layer's output, not only the last."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..ir.graph import Graph
from ..verification import ATOL, RTOL, _torch_activations, LayerCheck, sample_input
from .graph import FIRST
from .init import initial_weights


@dataclass
class OnnxLayer:
    name: str
    max_diff: float
    scale: float

    @property
    def passed(self) -> bool:
        return self.max_diff <= ATOL + RTOL * max(1.0, self.scale)


@dataclass
class OnnxReport:
    layers: list[OnnxLayer] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(layer.passed for layer in self.layers)

    def first_difference(self) -> Optional[OnnxLayer]:
        return next((layer for layer in self.layers if not layer.passed), None)


def randomized_weights(graph: Graph, seed: int = 0) -> dict:
    """Seeded weights with the slots whose start would hide a mix-up (BatchNorm's statistics,
    PReLU's slopes) drawn from their ``verify_range``."""
    weights = initial_weights(graph, seed)
    rng = np.random.default_rng(seed + 1)
    for name, arrays in weights.items():
        node = graph[name]
        ranges = {s.keras: s.verify_range
                  for s in node.layer.weight_slots(node.meta["input_shapes"])}
        for key, array in arrays.items():
            if ranges.get(key) is not None:
                arrays[key] = rng.uniform(*ranges[key], array.shape).astype(np.float32)
    return weights


def _onnx_activations(graph: Graph, weights: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every live layer's output from onnxruntime, channels last (as the analysis and the
    other backends report them)."""
    import onnxruntime
    from onnx import helper

    from . import _build
    g = _build(graph, weights, 0)
    names = [n.name for n in graph.live() if n.layer is not None]
    known = {o.name for o in g.model.graph.output}
    for name in names:
        if name not in known:
            g.model.graph.output.append(helper.make_empty_tensor_value_info(name))
    session = onnxruntime.InferenceSession(g.materialize().SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    spec_x = np.moveaxis(x, -1, 1) if graph.channels_first and x.ndim > 2 else x
    outputs = dict(zip([o.name for o in session.get_outputs()],
                       session.run(None, {"input": np.ascontiguousarray(spec_x)})))
    result = {}
    for name in names:
        out = outputs[name]
        if g.values[name].layout == FIRST:
            out = np.moveaxis(out, 1, -1)
        result[name] = out
    return result


def verify_onnx(graph: Graph, batch: int = 2, seed: int = 0) -> OnnxReport:
    """Export ``graph`` with seeded weights (random normalization statistics), run it in
    onnxruntime and the torch model with the same weights, and compare each layer."""
    from ..backends import build
    from ..weights import set_weights

    weights = randomized_weights(graph, seed)
    x = sample_input(graph, batch, np.random.default_rng(seed))
    model = build(graph, "torch")
    set_weights(model, graph, weights)
    checks = {n.name: LayerCheck(n.name, n.type, tuple(n.meta["shape"]), 0)
              for n in graph.live()}
    want = _torch_activations(model, graph, x, checks)
    got = _onnx_activations(graph, weights, x)
    report = OnnxReport()
    for node in graph.live():
        if node.layer is None:
            continue
        a, b = got[node.name], want[node.name]
        if a.shape != b.shape:
            report.error = (f"layer '{node.name}': onnxruntime gives shape {list(a.shape[1:])}, "
                            f"torch {list(b.shape[1:])}")
            return report
        report.layers.append(OnnxLayer(node.name, float(np.abs(a - b).max()) if a.size else 0.0,
                                       float(np.abs(b).max()) if b.size else 0.0))
    return report
