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
