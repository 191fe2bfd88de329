"""PyTorch emitters for the utility layers (ops/utility.py): Rescaling, Normalization,
Permute and StochasticDepth, each a small helper from torch_runtime.py (torch has no module
with their exact meaning), and LayerScale, a bare parameter of its container as torchvision's
ConvNeXt holds it. They join torch_codegen's registry when the backends package loads.

Nothing here imports a framework.
"""

from __future__ import annotations

from .common import call, literal
from .torch_codegen import Context, Emitted, emits, torch_dim
from .torch_sequence import PARAMETER


@emits("Rescaling")
def _rescaling(ctx: Context) -> Emitted:
    layer = ctx.layer
    kwargs = {"offset": literal(layer.offset)} if layer.offset != 0 else {}
    return Emitted(call("Rescaling", scale=literal(layer.scale), **kwargs),
                   helpers=("Rescaling",))


@emits("Normalization")
def _normalization(ctx: Context) -> Emitted:
    layer, axis, rank = ctx.layer, ctx.resolved["axis"], len(ctx.in_shape)
    return Emitted(call("Normalization", mean=literal(layer.mean),
                        variance=literal(layer.variance), size=ctx.in_shape[axis],
                        dim=torch_dim(axis, rank)), helpers=("Normalization",))


@emits("LayerScale")
def _layer_scale(ctx: Context) -> Emitted:
    """A bare parameter of its container, shaped (C, 1, ..., 1) to broadcast over (N, C,
    *spatial) and multiplied as torchvision's CNBlock does (``self.layer_scale * x``): a spec
    that names the layer ``layer_scale`` loads torchvision ConvNeXt's state_dict as it is."""
    shape = (ctx.in_shape[-1],) + (1,) * (len(ctx.in_shape) - 1)
    return Emitted(f"{PARAMETER}torch.full({literal(shape)}, {literal(ctx.layer.init_values)}))",
                   "{m} * {x}")


def torch_order(order: tuple[int, ...]) -> tuple[int, ...]:
    """A canonical permutation (output axis i is input axis ``order[i]``, no batch) as the
    dims of ``Tensor.permute`` on torch's (N, C, *spatial)."""
    rank = len(order)
    # The canonical axis at each torch dim after the batch: channels first, then spatial.
    canonical = [rank - 1] + list(range(rank - 1))
    return (0,) + tuple(torch_dim(order[c], rank) for c in canonical)


@emits("Permute")
def _permute(ctx: Context) -> Emitted:
    return Emitted(call("Permute", dims=literal(torch_order(ctx.resolved["order"]))),
                   helpers=("Permute",))


@emits("StochasticDepth")
def _stochastic_depth(ctx: Context) -> Emitted:
    return Emitted(call("StochasticDepth", p=literal(ctx.layer.rate)),
                   helpers=("StochasticDepth",))
