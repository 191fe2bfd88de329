"""Dense, normalization, activations and the layers that move elements (Flatten, Reshape,
Permute)."""

from __future__ import annotations

import numpy as np

from ..backends.common import emitter_registry
from .context import OnnxContext, activate
from .graph import FIRST, FLAT, LAST, held_shape, layout_for, onnx_axis

EMITTERS, emits = emitter_registry()


def _same(ctx: OnnxContext) -> tuple[str, str]:
    """An element-wise layer works in whatever layout its input is held."""
    layout = ctx.layout_of()
    return ctx.x(layout), layout


@emits("Dense")
def _dense(ctx: OnnxContext):
    """Keras' kernel (in, out) multiplies the last axis: the features of a vector, the
    channels of a feature map or sequence (held channels last for it)."""
    x = ctx.x(LAST)
    kernel = ctx.const("kernel", ctx.weight("kernel"))
    layout = layout_for(ctx.out_shape, LAST)
    if layout == FLAT:
        inputs = [x, kernel] + ([ctx.const("bias", ctx.weight("bias"))]
                                if ctx.layer.use_bias else [])
        y = ctx.op("Gemm", inputs)
    else:
        y = ctx.op("MatMul", [x, kernel])
        if ctx.layer.use_bias:
            y = ctx.op("Add", [y, ctx.const("bias", ctx.weight("bias"))], "bias")
    return activate(ctx, y, ctx.layer.activation, layout), layout


@emits("BatchNormalization")
def _batch_norm(ctx: OnnxContext):
    size = ctx.in_shape[-1]
    gamma = ctx.weight("gamma")
    beta = ctx.weight("beta")
    inputs = [ctx.x(FIRST),
              ctx.const("gamma", gamma if gamma is not None else np.ones(size)),
              ctx.const("beta", beta if beta is not None else np.zeros(size)),
              ctx.const("moving_mean", ctx.weight("moving_mean")),
              ctx.const("moving_variance", ctx.weight("moving_variance"))]
    return (ctx.op("BatchNormalization", inputs, epsilon=float(ctx.layer.epsilon)),
            layout_for(ctx.in_shape, FIRST))


def _over_axes(ctx: OnnxContext, array, axes) -> np.ndarray:
    """A weight over the normalized canonical ``axes`` (in order) → over the whole canonical
    shape, 1 along the others, ready for ``broadcastable``."""
    shape = ctx.in_shape
    full = [shape[a] if a in axes else 1 for a in range(len(shape))]
    return np.asarray(array, dtype=np.float32).reshape(full)


@emits("LayerNormalization")
def _layer_norm(ctx: OnnxContext):
    """Over the features alone it is ONNX's LayerNormalization; over other axes it is spelled
    out (mean, variance, scale and shift along those axes)."""
    layer, shape, axes = ctx.layer, ctx.in_shape, ctx.resolved["axes"]
    size = int(np.prod([shape[a] for a in axes]))
    gamma = ctx.weight("gamma") if layer.scale else np.ones(size)
    beta = ctx.weight("beta") if layer.center else np.zeros(size)
    if tuple(axes) == (len(shape) - 1,):
        layout = layout_for(shape, LAST)
        return ctx.op("LayerNormalization", [ctx.x(LAST), ctx.const("gamma", gamma),
                                             ctx.const("beta", beta)],
                      axis=-1, epsilon=float(layer.epsilon)), layout
    x, layout = _same(ctx)
    onnx_axes = sorted(onnx_axis(a, shape, layout) for a in axes)
    mean = ctx.op("ReduceMean", [x], "mean", axes=onnx_axes, keepdims=1)
    centred = ctx.op("Sub", [x, mean], "centred")
    variance = ctx.op("ReduceMean", [ctx.op("Mul", [centred, centred], "square")], "variance",
                      axes=onnx_axes, keepdims=1)
    std = ctx.op("Sqrt", [ctx.op("Add", [variance, ctx.const("epsilon", layer.epsilon)])])
    y = ctx.op("Div", [centred, std], "normed")
    g = ctx.g.broadcastable(f"{ctx.name}.gamma", _over_axes(ctx, gamma, axes), shape, layout)
    b = ctx.g.broadcastable(f"{ctx.name}.beta", _over_axes(ctx, beta, axes), shape, layout)
    return ctx.op("Add", [ctx.op("Mul", [y, g], "scaled"), b]), layout


def _along(ctx: OnnxContext, values, axis: int, layout: str, suffix: str) -> str:
    """Numbers given per entry of canonical ``axis`` (or one number) as a broadcasting
    constant."""
    shape = ctx.in_shape
    array = np.asarray(values, dtype=np.float32)
    if array.ndim:
        array = array.reshape([shape[a] if a == axis else 1 for a in range(len(shape))])
    return ctx.g.broadcastable(f"{ctx.name}.{suffix}", array, shape, layout)


@emits("Normalization")
def _normalization(ctx: OnnxContext):
    """``(x - mean) / max(sqrt(variance), 1e-7)``, Keras' formula, statistics from the
    layer's weights."""
    x, layout = _same(ctx)
    axis = ctx.resolved["axis"]
    mean = _along(ctx, ctx.weight("mean"), axis, layout, "mean")
    std = np.maximum(np.sqrt(np.asarray(ctx.weight("variance"), dtype=np.float64)), 1e-7)
    return ctx.op("Div", [ctx.op("Sub", [x, mean], "centred"),
                          _along(ctx, std, axis, layout, "std")]), layout


@emits("Rescaling")
def _rescaling(ctx: OnnxContext):
    x, layout = _same(ctx)
    channels = len(ctx.in_shape) - 1
    scale = _along(ctx, ctx.layer.scale, channels, layout, "scale")
    offset = _along(ctx, ctx.layer.offset, channels, layout, "offset")
    return ctx.op("Add", [ctx.op("Mul", [x, scale], "scaled"), offset]), layout


@emits("LayerScale")
def _layer_scale(ctx: OnnxContext):
    x, layout = _same(ctx)
    gamma = _along(ctx, ctx.weight("gamma"), len(ctx.in_shape) - 1, layout, "gamma")
    return ctx.op("Mul", [x, gamma]), layout


@emits("Activation")
def _activation(ctx: OnnxContext):
    x, layout = _same(ctx)
    return activate(ctx, x, ctx.layer.activation, layout), layout


@emits("Sigmoid", "Tanh", "SiLU", "ELU", "GELU")
def _named(ctx: OnnxContext):
    x, layout = _same(ctx)
    kind = ctx.node.type
    if kind == "ELU":
        return ctx.op("Elu", [x], alpha=float(ctx.layer.alpha)), layout
    return activate(ctx, x, kind.lower(), layout,
                    approximate=getattr(ctx.layer, "approximate", False)), layout


@emits("Softmax")
def _softmax(ctx: OnnxContext):
    x, layout = _same(ctx)
    return activate(ctx, x, "softmax", layout, axis=ctx.resolved["axis"]), layout


@emits("ReLU")
def _relu(ctx: OnnxContext):
    """Keras' ReLU in full: ``negative_slope * (x - threshold)`` below the threshold, x up to
    ``max_value``, then ``max_value``."""
    layer = ctx.layer
    x, layout = _same(ctx)
    if layer.negative_slope == 0 and layer.threshold == 0:
        y = ctx.op("Relu", [x])
    else:
        threshold = ctx.const("threshold", layer.threshold)
        below = ctx.op("Mul", [ctx.op("Sub", [x, threshold], "shifted"),
                               ctx.const("slope", layer.negative_slope)], "below")
        y = ctx.op("Where", [ctx.op("GreaterOrEqual", [x, threshold], "above"), x, below])
    if layer.max_value is not None:
        y = ctx.op("Min", [y, ctx.const("max_value", layer.max_value)], "cap")
    return y, layout


@emits("LeakyReLU")
def _leaky_relu(ctx: OnnxContext):
    x, layout = _same(ctx)
    return ctx.op("LeakyRelu", [x], alpha=float(ctx.layer.negative_slope)), layout


@emits("PReLU")
def _prelu(ctx: OnnxContext):
    """Keras' alpha has the input's shape with 1 on the shared axes: it broadcasts as held."""
    x, layout = _same(ctx)
    alpha = ctx.g.broadcastable(f"{ctx.name}.alpha", ctx.weight("alpha"), ctx.in_shape, layout)
    return ctx.op("PRelu", [x, alpha]), layout


@emits("HardSigmoid", "HardSwish")
def _hard(ctx: OnnxContext):
    """Keras 3's relu6(x + 3) / 6 is ONNX's HardSigmoid with alpha 1/6, beta 1/2."""
    x, layout = _same(ctx)
    if ctx.node.type == "HardSwish":
        return ctx.op("HardSwish", [x]), layout
    return ctx.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5), layout


@emits("Flatten")
def _flatten(ctx: OnnxContext):
    """Elements in the spec's order: channels last unless the spec is channels first. A
    Flatten read only by Dense layers flattens channels last whatever the spec: the order
    Keras' kernel rows follow in the weight exchange (archspec.weights permutes torch's)."""
    order = LAST if ctx.facts.flatten_order_free(ctx.node) else ctx.spec_layout
    return ctx.op("Flatten", [ctx.x(order)], axis=1), FLAT


@emits("Reshape")
def _reshape(ctx: OnnxContext):
    layout = layout_for(ctx.out_shape, ctx.spec_layout)
    target = [0] + list(held_shape(ctx.out_shape, layout))
    return ctx.op("Reshape", [ctx.x(ctx.spec_layout), ctx.g.ints(f"{ctx.name}.shape", target)]), \
        layout


@emits("Permute")
def _permute(ctx: OnnxContext):
    """Keras' dims count the spec's axes from 1, as held in the spec's layout."""
    layout = layout_for(ctx.out_shape, ctx.spec_layout)
    return ctx.op("Transpose", [ctx.x(ctx.spec_layout)], perm=[0] + list(ctx.layer.dims)), layout
