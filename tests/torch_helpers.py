"""Shared by the torch tests: build a compiled model and record what each spec layer's
submodule produced (forward hooks), in the analytic IR's terms."""

from __future__ import annotations

import torch

import archspec
from archspec.agreement import torch_layer_output
from archspec.backends.torch_backend import attribute_names, torch_shape


def compiled(spec):
    graph = archspec.analyze(spec)
    return graph, archspec.compile(spec, backend="torch")


def layer_outputs(graph, model, batch: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Run a random batch; every live layer's output (a copy: later layers may work in place)."""
    attrs = attribute_names(graph)
    outputs, handles = {}, []
    for node in graph.live():
        module = model.get_submodule(attrs[node.name])
        post = torch_layer_output(node)  # the spec layer's output, as verify sees it
        handles.append(module.register_forward_hook(
            lambda _m, _i, out, name=node.name, post=post: outputs.__setitem__(
                name, post(out.detach().clone()))))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((batch,) + torch_shape(graph.input_shape), generator=generator)
    try:
        with torch.no_grad():
            outputs["__output__"] = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def assert_matches_analysis(graph, model) -> None:
    """Per-layer output shapes, trainable parameters and float buffers equal the analysis."""
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
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    assert trainable == sum(n.meta["trainable"] for n in live)
    assert buffers == sum(n.meta["non_trainable"] for n in live)
