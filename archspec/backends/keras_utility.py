"""Keras emitters for the hard activations and the utility layers (ops/utility.py). They join
keras_codegen's registry when the backends package loads. The Keras model is channels-last
whatever the spec's layout, so axes and permutations are the canonical ones.

Nothing here imports a framework.
"""

from __future__ import annotations

from .common import call, literal
from .keras_codegen import Context, Emitted, emits


@emits("HardSigmoid", "HardSwish")
def _hard(ctx: Context) -> Emitted:
    # Keras 3's names; Keras 2's hard_sigmoid was another function (0.2 * x + 0.5, clipped).
    name = {"HardSigmoid": "hard_sigmoid", "HardSwish": "hard_silu"}[ctx.node.type]
    return Emitted(call("layers.Activation", repr(name)))


@emits("Rescaling")
def _rescaling(ctx: Context) -> Emitted:
    layer = ctx.layer
    kwargs = {"offset": literal(layer.offset)} if layer.offset != 0 else {}
    return Emitted(call("layers.Rescaling", literal(layer.scale), **kwargs))


@emits("Normalization")
def _normalization(ctx: Context) -> Emitted:
    # Keras' own layer keeps given statistics as constants, not weights: the helper keeps
    # them as the weights Keras' layer has after adapt().
    layer = ctx.layer
    return Emitted(call("Normalization", axis=ctx.resolved["axis"] + 1, mean=literal(layer.mean),
                        variance=literal(layer.variance)), helpers=("Normalization",))


@emits("LayerScale")
def _layer_scale(ctx: Context) -> Emitted:
    return Emitted(call("LayerScale", literal(ctx.layer.init_values), ctx.in_shape[-1]),
                   helpers=("LayerScale",))


@emits("Permute")
def _permute(ctx: Context) -> Emitted:
    return Emitted(call("layers.Permute", literal(tuple(i + 1 for i in ctx.resolved["order"]))))


@emits("StochasticDepth")
def _stochastic_depth(ctx: Context) -> Emitted:
    # One draw per sample, as keras.applications' EfficientNet writes drop path.
    noise = (None,) + (1,) * len(ctx.in_shape)
    return Emitted(call("layers.Dropout", literal(ctx.layer.rate), noise_shape=literal(noise)))
