"""``archspec verify --reference``: the spec's compiled models against the implementation the
spec reproduces (a keras.applications or torchvision model), layer by layer.

The reference is built untrained (nothing is downloaded), given random BatchNorm statistics and
biases, and its weights are loaded into the spec's models; one random batch then runs through
all of them. Paired layers (those with weights, paired as ``load_reference_weights`` pairs them)
are compared on their outputs, in the spec's convention: a Keras layer's output includes its
inline activation, a torch module's does not, so the spec layer's inline activation is applied
to a torch reference's module output. A wrong layer without weights (a pooling, an activation,
a merge) shows at the next paired layer after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .agreement import ATOL, RTOL, torch_layer_output
from .ir.graph import Graph, Node
from .reference import build_reference, randomize_statistics, reference_exchange, reference_pairs
from .weights import framework_of, keras_to_numpy, set_weights


@dataclass
class PairCheck:
    layer: str  # the spec's
    reference_layer: str
    max_diff: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_diff <= self.tolerance


@dataclass
class ReferenceReport:
    name: str
    call: str  # how the reference was built
    backends: dict[str, list[PairCheck]] = field(default_factory=dict)
    error: Optional[str] = None  # the reference's weights did not fit the spec's models

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for checks in self.backends.values()
                                          for c in checks)

    def first_difference(self, backend: str) -> Optional[PairCheck]:
        return next((c for c in self.backends[backend] if not c.passed), None)


@dataclass
class Reference:
    model: Any
    report: ReferenceReport
    pairs: list[tuple[Node, str, Any]] = field(default_factory=list)


def prepare(reference, graph: Graph, models: dict, rng) -> Reference:
    """Build (or take) the reference, randomize its statistics and load its weights into each
    of ``models``. A reference that does not fit is recorded in the report, not raised."""
    if not isinstance(reference, str):
        result = Reference(reference, ReferenceReport(
            type(reference).__name__, f"the given {framework_of(reference)} model"))
    else:
        try:
            model, call = build_reference(reference, graph)
        except ValueError as exc:
            return Reference(None, ReferenceReport(reference, reference, error=str(exc)))
        result = Reference(model, ReferenceReport(reference, call))
    randomize_statistics(result.model, rng)
    try:
        result.pairs = reference_pairs(result.model, graph, models.get("keras"))
        exchange = reference_exchange(result.pairs, graph)
        for backend_model in models.values():
            set_weights(backend_model, graph, exchange)
    except ValueError as exc:
        result.report.error = f"its weights do not fit the spec's models: {exc}"
    return result


def compare(reference: Reference, graph: Graph, x: np.ndarray,
            activations: dict[str, dict[str, np.ndarray]]) -> ReferenceReport:
    """Each paired layer's output in the reference against the spec's models' (``activations``:
    backend → spec layer → channels-last array, as verify collects them)."""
    report = reference.report
    if report.error is not None:
        return report
    outputs = _reference_outputs(reference, graph, x)
    consumers = graph.consumers()
    for backend, ours in activations.items():
        checks = report.backends[backend] = []
        for node, their_name, item in reference.pairs:
            if node.name not in outputs:  # a bare torch parameter: no module, no output
                continue
            expected = outputs[node.name]
            got = ours[_ours_to_compare(node, item, graph, consumers)]
            tolerance = ATOL + RTOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
            diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape \
                else float("inf")
            checks.append(PairCheck(node.name, their_name, diff, tolerance))
    return report


def _ours_to_compare(node: Node, item: Any, graph: Graph, consumers: dict) -> str:
    """The spec layer whose output a reference layer's is: the layer itself — or, where a
    Keras layer applies an activation inline (``Conv2D(..., activation="relu")``) and the
    spec writes it as its own layer after (torchvision's style), that layer."""
    theirs = getattr(getattr(item, "activation", None), "__name__", "linear")
    if theirs == "linear" or node.layer.fused_activation() not in (None, "linear"):
        return node.name
    users = consumers.get(node.name, [])
    if len(users) == 1 and graph[users[0]].layer is not None and \
            graph[users[0]].layer.kind == "activation":
        return users[0]
    return node.name


def _reference_outputs(reference: Reference, graph: Graph, x: np.ndarray) -> dict[str, Any]:
    if framework_of(reference.model) == "torch":
        return _torch_outputs(reference, x)
    return _keras_outputs(reference, x)


def _keras_outputs(reference: Reference, x: np.ndarray) -> dict[str, Any]:
    """A layer of a nested Sequential (keras.applications' ConvNeXt stem) has no output in
    the outer model's graph: the probe takes that Sequential's input, and its layers run one
    by one from there."""
    import keras
    model = reference.model
    owner = {id(inner): nested for nested in model.layers if hasattr(nested, "layers")
             for inner in nested.layers}
    items = [item for _, _, item in reference.pairs]
    probed = [owner[id(item)]._inbound_nodes[0].input_tensors[0] if id(item) in owner
              else item.output for item in items]
    outputs = keras.Model(model.input, probed)(x, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    results = {}
    for (node, _, item), out in zip(reference.pairs, outputs):
        if id(item) in owner:
            for inner in owner[id(item)].layers:
                out = inner(out, training=False)
                if inner is item:
                    break
        results[node.name] = keras_to_numpy(out)
    return results


def _torch_outputs(reference: Reference, x: np.ndarray) -> dict[str, np.ndarray]:
    import torch
    captured, handles = {}, []
    for node, _, module in reference.pairs:
        if not hasattr(module, "register_forward_hook"):
            continue
        # Clone: torchvision's in-place ReLUs overwrite a BatchNorm's output after the hook.
        act = torch_layer_output(node)
        handles.append(module.register_forward_hook(
            lambda _m, _i, out, name=node.name, act=act: captured.__setitem__(
                name, act(out.detach().clone()))))
    batch = torch.from_numpy(x)
    if batch.dim() > 2:
        batch = batch.movedim(-1, 1).contiguous()
    try:
        with torch.no_grad():
            reference.model(batch)
    finally:
        for handle in handles:
            handle.remove()
    shapes = {node.name: tuple(node.meta["shape"]) for node, _, _ in reference.pairs}
    return {name: _channels_last(out, shapes[name]).numpy() for name, out in captured.items()}


def _channels_last(out, shape: tuple):
    """A torch output in the spec's channels-last layout. Modules between torchvision's
    Permutes (ConvNeXt's LayerNorm and Linear) give channels-last outputs already; a module
    on a pooled (C, 1, 1) map (ConvNeXt's head LayerNorm2d) stands for one on (C,)."""
    if out.dim() <= 2 or (tuple(out.shape[1:]) == shape
                          and tuple(out.movedim(1, -1).shape[1:]) != shape):
        moved = out
    else:
        moved = out.movedim(1, -1)
    if [d for d in moved.shape[1:] if d != 1] == [d for d in shape if d != 1]:
        return moved.reshape(moved.shape[0], *shape)
    return moved
