"""When two models' activations agree, for ``verify`` and ``verify --reference`` alike: the
tolerance, and the inline activation a torch hook must apply to see what Keras sees. Both
checks import it from here, so that neither imports the other's module."""

from __future__ import annotations

from typing import Optional

# A layer passes when max|ours - theirs| <= ATOL + RTOL * max(1, max|theirs|) (see
# verification's docstring for why the bound is relative).
ATOL = RTOL = 1e-4


def torch_activation(name: Optional[str]):
    """The torch function of an inline ``activation:`` — torch hooks see a submodule's output
    before the activation the generated forward applies, Keras layers after it."""
    import torch
    from torch.nn import functional as F
    return {None: lambda t: t, "linear": lambda t: t, "relu": torch.relu, "relu6": F.relu6,
            "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softmax": lambda t: F.softmax(t, 1),
            "elu": F.elu, "gelu": F.gelu, "silu": F.silu, "swish": F.silu,
            "softplus": F.softplus}[name]


def torch_layer_output(node):
    """What a torch forward hook on a layer's submodule must apply to see the layer's output:
    the inline activation, and the flatten after a global pool (the generated forward writes
    ``torch.flatten(self.avgpool(x), 1)``, as torchvision's models do)."""
    import torch
    act = torch_activation(node.layer.fused_activation())
    if node.type.startswith("Global") and not node.layer.keepdims:
        return lambda t: act(torch.flatten(t, 1))
    return act


def parameter_layer_outputs(model, graph, captured: dict, batch) -> None:
    """Add to ``captured`` (layer name → torch output, as hooks record them) the layers the
    torch model holds as a bare parameter of their container (ClassToken, PositionEmbedding):
    no forward hook sees them, so each is computed from its inputs' captured outputs with the
    expression the generated forward applies to them — the generated code's own text, as
    ``build`` runs it."""
    import torch
    from torch.nn import functional as F

    from .backends.torch_backend import parameter_layers
    with torch.no_grad():
        for name, (path, template) in parameter_layers(graph).items():
            values = [batch if graph[i].is_input else captured[i] for i in graph[name].inputs]
            names = [f"x{i}" for i in range(len(values))]
            scope = {"torch": torch, "F": F, "m": model.get_parameter(path),
                     **dict(zip(names, values))}
            captured[name] = eval(template.format(m="m", x=", ".join(names)), scope)
