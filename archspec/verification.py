"""``archspec verify``: the analysis, the torch model and the Keras model of one spec, layer by
layer — shapes, parameter counts, and (after moving Keras' weights into torch) the activations
of one random batch.

Tolerance: a layer passes when max|torch - keras| <= atol + rtol * max(1, max|keras|). Float32
sums of K products carry rounding of order sqrt(K) * 6e-8 relative to their magnitude, so a
relative bound is what a deep network with large activations needs; on outputs of order 1 it is
the absolute 1e-4.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .agreement import ATOL, RTOL, parameter_layer_outputs, torch_layer_output
from .ir.graph import Graph
from .weights import flatten_permutation, keras_to_numpy, torch_object


@dataclass
class LayerCheck:
    name: str
    type: str
    shape: tuple
    params: int
    torch_shape: Optional[tuple] = None
    keras_shape: Optional[tuple] = None
    torch_params: Optional[int] = None
    keras_params: Optional[int] = None
    max_diff: Optional[float] = None
    scale: Optional[float] = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    name: str
    backends: list[str]
    layers: list[LayerCheck]
    output_diff: Optional[float] = None
    notes: list[str] = field(default_factory=list)
    reference: Optional[Any] = None  # a reference_check.ReferenceReport, with --reference

    @property
    def passed(self) -> bool:
        return all(layer.passed for layer in self.layers) and (
            self.reference is None or self.reference.passed)


def installed(backend: str) -> bool:
    module = {"torch": "torch", "keras": "keras"}[backend]
    return importlib.util.find_spec(module) is not None


def verify(graph: Graph, batch: int = 2, seed: int = 0,
           step: Callable[[str], None] = lambda _: None, reference: Any = None,
           max_params: int | None = None) -> VerifyReport:
    """With ``reference`` ("keras.applications.<Name>", "torchvision.models.<name>", or such a
    model itself), both models take the reference's weights instead of Keras' random ones, and
    the report also compares them with the reference, layer by layer (``report.reference``).
    Raises reference.UnknownReference for a name that cannot be resolved; models past
    ``max_params`` parameters are refused as ``archspec.compile`` refuses them."""
    from .backends import build
    if isinstance(reference, str):
        # Fail early on a bad name, and import torchvision before Keras (see reference.py).
        from .reference import resolve_reference
        resolve_reference(reference)
    checks = {n.name: LayerCheck(n.name, n.type, tuple(n.meta["shape"]),
                                 n.meta["trainable"] + n.meta["non_trainable"])
              for n in graph.live()}
    backends = [b for b in ("torch", "keras") if installed(b)]
    report = VerifyReport(graph.name, backends, list(checks.values()))
    models = {}
    for backend in backends:
        step(f"building the {backend} model")
        models[backend] = build(graph, backend, max_params)
    rng = np.random.default_rng(seed)
    ref = None
    if reference is not None:
        from .reference_check import prepare
        step("building the reference and loading its weights")
        ref = prepare(reference, graph, models, rng)
    fitted = ref is not None and ref.report.error is None
    if "keras" in models and not fitted:
        _randomize_statistics(models["keras"], graph, rng)
    x = sample_input(graph, batch, rng)
    activations = {}
    if "keras" in models:
        step("running keras")
        activations["keras"] = _keras_activations(models["keras"], graph, x, checks)
    if "torch" in models:
        if "keras" in models and not fitted:
            step("moving keras' weights into torch")
            from .weights import transfer_weights
            transfer_weights(models["keras"], models["torch"], graph)
        step("running torch")
        activations["torch"] = _torch_activations(models["torch"], graph, x, checks)
    step("comparing")
    _compare_structure(checks, backends)
    if ref is not None:
        from .reference_check import compare
        report.reference = compare(ref, graph, x, activations)
    if len(activations) == 2:
        for name, check in checks.items():
            a, b = activations["torch"][name], activations["keras"][name]
            if a.shape != b.shape:
                continue  # already reported as a shape problem
            check.max_diff = float(np.max(np.abs(a - b))) if a.size else 0.0
            check.scale = float(np.max(np.abs(b))) if b.size else 0.0
            if not check.max_diff <= ATOL + RTOL * max(1.0, check.scale):
                check.problems.append(f"activations differ by {check.max_diff:.3g}")
        report.output_diff = checks[graph.output].max_diff if graph.output in checks else None
    else:
        missing = {"torch", "keras"} - set(backends)
        report.notes.append(f"{' and '.join(sorted(missing))} not installed: activations were "
                            f"not compared (pip install 'archspec[torch,keras]')")
    return report


def sample_input(graph: Graph, batch: int, rng) -> np.ndarray:
    """A random batch for the model (channels-last): standard normal floats — or, where the
    input feeds a layer that reads indices (Embedding), integers below the fewest it takes,
    as floats (both frameworks cast them)."""
    shape = (batch,) + tuple(graph.input_shape)
    source = graph.nodes[0].name
    bounds = [n.layer.index_bound() for n in graph.live() if source in n.inputs]
    bounds = [b for b in bounds if b is not None]
    if bounds:
        return rng.integers(0, min(bounds), shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def _compare_structure(checks: dict[str, LayerCheck], backends: list[str]) -> None:
    for check in checks.values():
        for backend in backends:
            shape = getattr(check, f"{backend}_shape")
            if shape != check.shape:
                check.problems.append(f"{backend} shape {list(shape or [])} != "
                                      f"{list(check.shape)}")
            params = getattr(check, f"{backend}_params")
            if params != check.params:
                check.problems.append(f"{backend} has {params} parameters, analysis {check.params}")


def _randomize_statistics(model, graph: Graph, rng) -> None:
    """Fresh BatchNorm layers normalize with mean 0 and variance 1 (and a fresh PReLU has slope
    0), which would hide a mix-up of their weights: give the slots that declare a
    ``verify_range`` distinct values first."""
    from .weights import keras_weights, set_keras_weights
    weights = keras_weights(model, graph)
    for name, arrays in weights.items():
        ranges = {s.keras: s.verify_range for s in graph[name].layer.weight_slots()}
        for key, array in arrays.items():
            if ranges.get(key) is not None:
                arrays[key] = rng.uniform(*ranges[key], array.shape).astype(array.dtype)
    set_keras_weights(model, graph, weights)


def _keras_activations(model, graph: Graph, x: np.ndarray, checks) -> dict[str, np.ndarray]:
    import keras
    names = [n.name for n in graph.live()]
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = probe(x, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    result = {}
    for name, out in zip(names, outputs):
        layer = model.get_layer(name)
        checks[name].keras_shape = tuple(int(n) for n in out.shape[1:])
        checks[name].keras_params = sum(int(np.prod(w.shape)) for w in layer.weights)
        result[name] = keras_to_numpy(out)
    return result


def _torch_only(buffer: str) -> bool:
    """BatchNorm's step counter, which Keras has no weight for (Normalization's integer count
    is Keras' own, and counts)."""
    return buffer.rsplit(".", 1)[-1] == "num_batches_tracked"


def _torch_activations(model, graph: Graph, x: np.ndarray, checks) -> dict[str, np.ndarray]:
    import torch

    from .backends.torch_backend import attribute_names
    attrs = attribute_names(graph)
    model.eval()
    captured, handles = {}, []
    for node in graph.live():
        module = torch_object(model, attrs[node.name])
        if isinstance(module, torch.nn.Parameter):  # no module to hook: computed after the run
            checks[node.name].torch_params = module.numel()
            continue
        act = torch_layer_output(node)
        handles.append(module.register_forward_hook(
            lambda _m, _i, out, name=node.name, act=act: captured.__setitem__(
                name, act(out.detach().clone()))))
        checks[node.name].torch_params = sum(p.numel() for p in module.parameters()) + sum(
            b.numel() for key, b in module.named_buffers() if not _torch_only(key))
    batch = torch.from_numpy(x)
    if batch.dim() > 2:
        batch = batch.movedim(-1, 1).contiguous()
    try:
        with torch.no_grad():
            model(batch)
        parameter_layer_outputs(model, graph, captured, batch)
    finally:
        for handle in handles:
            handle.remove()
    result = {}
    for node in graph.live():
        out = captured[node.name]
        if out.dim() > 2:
            out = out.movedim(1, -1)
        array = out.numpy()
        consumers = [n for n in graph.live() if node.name in n.inputs]
        perms = [flatten_permutation(graph, c) for c in consumers]
        if node.type == "Flatten" and perms and perms[0] is not None:
            array = array[:, perms[0]]  # torch's C, H, W order → Keras' H, W, C
        checks[node.name].torch_shape = tuple(array.shape[1:])
        result[node.name] = array
    return result
