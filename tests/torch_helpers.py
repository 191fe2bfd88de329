"""Shared by the torch tests: build a compiled model and record what each spec layer's
submodule produced (forward hooks), in the analytic IR's terms."""

from __future__ import annotations

import numpy as np
import torch

import archspec
from archspec.agreement import parameter_layer_outputs, torch_layer_output
from archspec.backends.torch_backend import attribute_names, torch_shape
from archspec.verification import sample_input
from archspec.weights import torch_object


def compiled(spec):
    graph = archspec.analyze(spec)
    return graph, archspec.compile(spec, backend="torch")


def layer_outputs(graph, model, batch: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Run a random batch; every live layer's output (a copy: later layers may work in place)."""
    attrs = attribute_names(graph)
    outputs, handles = {}, []
    for node in graph.live():
        module = torch_object(model, attrs[node.name])
        if isinstance(module, torch.nn.Parameter):
            continue  # held as a bare parameter: parameter_layer_outputs computes it
        post = torch_layer_output(node)  # the spec layer's output, as verify sees it
        handles.append(module.register_forward_hook(
            lambda _m, _i, out, name=node.name, post=post: outputs.__setitem__(
                name, post(out.detach().clone()))))
    x = random_input(graph, batch, seed)
    try:
        with torch.no_grad():
            outputs["__output__"] = model(x)
        parameter_layer_outputs(model, graph, outputs, x)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def random_input(graph, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """A random batch in torch's layout: standard normal, or the indices an Embedding reading
    the input takes (verify's rule)."""
    x = torch.from_numpy(sample_input(graph, batch, np.random.default_rng(seed)))
    return x.movedim(-1, 1).contiguous() if x.dim() > 2 else x


def assert_matches_analysis(graph, model) -> None:
    """Per-layer output shapes, trainable parameters and buffers equal the analysis."""
    model.eval()
    outputs = layer_outputs(graph, model)
    wrong = []
    for n in graph.live():
        got, want = tuple(outputs[n.name].shape[1:]), torch_shape(n.meta["shape"])
        if got != want:
            wrong.append((n.name, n.type, got, want))
    assert not wrong, f"shapes differ (name, type, torch, analysis): {wrong}"
    live = graph.live()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # Every buffer but BatchNorm's step counter, which Keras has no weight for.
    buffers = sum(b.numel() for key, b in model.named_buffers()
                  if not key.endswith("num_batches_tracked"))
    assert trainable == sum(n.meta["trainable"] for n in live)
    assert buffers == sum(n.meta["non_trainable"] for n in live)
