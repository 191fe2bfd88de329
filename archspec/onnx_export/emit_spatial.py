"""Convolutions, pooling, padding and resampling: the layers ONNX holds channels first."""

from __future__ import annotations

import numpy as np

from ..backends.common import emitter_registry
from .context import OnnxContext, activate
from .graph import FIRST, FLAT

EMITTERS, emits = emitter_registry()


def _pads(pairs) -> list[int]:
    """((before, after) per spatial dim) → ONNX's [before..., after...]."""
    return [b for b, _ in pairs] + [a for _, a in pairs]


def _conv_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras (*k, in, out) → ONNX (out, in, *k); the same move turns a transposed Keras kernel
    (*k, out, in) into ONNX's ConvTranspose weight (in, out, *k)."""
    rank = kernel.ndim - 2
    return kernel.transpose((rank + 1, rank) + tuple(range(rank)))


def _depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras (*k, C, M) → ONNX (C*M, 1, *k): output channel c*M + m, as Keras orders them."""
    rank = kernel.ndim - 2
    channels, mult = kernel.shape[-2:]
    moved = kernel.transpose((rank, rank + 1) + tuple(range(rank)))
    return moved.reshape((channels * mult, 1) + kernel.shape[:rank])


def _conv(ctx: OnnxContext, x: str, kernel: np.ndarray, bias, group: int, step: str,
          kernel_name: str = "kernel") -> str:
    """Initializers are named ``<layer>.<Keras weight name>``."""
    layer = ctx.layer
    inputs = [x, ctx.const(kernel_name, kernel)]
    if bias is not None:
        inputs.append(ctx.const("bias", bias))
    return ctx.op("Conv", inputs, step, kernel_shape=list(kernel.shape[2:]),
                  strides=list(layer.strides), dilations=list(layer.dilation_rate),
                  pads=_pads(ctx.resolved["pads"]), group=group)


def _finish(ctx: OnnxContext, y: str) -> tuple[str, str]:
    return activate(ctx, y, ctx.layer.activation, FIRST), FIRST


@emits("Conv1D", "Conv2D", "Conv3D")
def _standard(ctx: OnnxContext):
    kernel = _conv_kernel(ctx.weight("kernel"))
    return _finish(ctx, _conv(ctx, ctx.x(FIRST), kernel, ctx.weight("bias"),
                              ctx.layer.groups, "conv"))


@emits("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(ctx: OnnxContext):
    kernel = _depthwise_kernel(ctx.weight("kernel"))
    return _finish(ctx, _conv(ctx, ctx.x(FIRST), kernel, ctx.weight("bias"),
                              ctx.in_shape[-1], "depthwise"))


@emits("SeparableConv1D", "SeparableConv2D")
def _separable(ctx: OnnxContext):
    depthwise = _conv(ctx, ctx.x(FIRST), _depthwise_kernel(ctx.weight("depthwise_kernel")),
                      None, ctx.in_shape[-1], "depthwise", "depthwise_kernel")
    pointwise = _conv_kernel(ctx.weight("pointwise_kernel"))
    y = ctx.op("Conv", [depthwise, ctx.const("pointwise_kernel", pointwise)]
               + ([ctx.const("bias", ctx.weight("bias"))] if ctx.layer.use_bias else []),
               "pointwise", kernel_shape=list(pointwise.shape[2:]))
    return _finish(ctx, y)


@emits("Conv1DTranspose", "Conv2DTranspose")
def _transposed(ctx: OnnxContext):
    """The full transposed result, then Keras' crop (or zeros where Keras' output is longer)."""
    layer = ctx.layer
    kernel = _conv_kernel(ctx.weight("kernel"))
    inputs = [ctx.x(FIRST), ctx.const("kernel", kernel)]
    if layer.use_bias:
        inputs.append(ctx.const("bias", ctx.weight("bias")))
    crops = ctx.resolved["crops"]
    y = ctx.op("ConvTranspose", inputs, "full", kernel_shape=list(kernel.shape[2:]),
               strides=list(layer.strides), dilations=list(layer.dilation_rate))
    before = [max(b, 0) for b, _ in crops]
    after = [max(a, 0) for _, a in crops]
    if any(before) or any(after):
        rank = len(crops)
        full = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(
            ctx.in_shape[:-1], layer.kernel_size, layer.strides, layer.dilation_rate)]
        y = ctx.op("Slice", [y, ctx.g.ints(f"{ctx.name}.starts", before),
                             ctx.g.ints(f"{ctx.name}.ends", [f - a for f, a in zip(full, after)]),
                             ctx.g.ints(f"{ctx.name}.axes", list(range(2, 2 + rank)))], "crop")
    grow = [-a if a < 0 else 0 for _, a in crops]
    if any(grow):
        y = ctx.op("Pad", [y, ctx.g.ints(f"{ctx.name}.grow", [0] * (2 + len(grow)) + [0, 0]
                                         + grow)], "grow")
    return _finish(ctx, y)


@emits("MaxPooling1D", "MaxPooling2D", "MaxPooling3D")
def _max_pool(ctx: OnnxContext):
    """Padding with every window the layer reaches, ceil-mode overhang included: the max of
    a window never sees a padded cell (ONNX pads MaxPool with -inf)."""
    r = ctx.resolved
    return ctx.op("MaxPool", [ctx.x(FIRST)], kernel_shape=list(r["pool"]),
                  strides=list(r["strides"]), pads=_pads(r["effective_pads"])), FIRST


@emits("AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
def _average_pool(ctx: OnnxContext):
    """Keras' mean leaves padding out. torch's count_include_pad counts the declared padding
    but never a ceil-mode overhang: that padding becomes real zeros, the overhang not."""
    r = ctx.resolved
    x = ctx.x(FIRST)
    pads = r["effective_pads"]
    if ctx.layer.count_include_pad and any(b or a for b, a in r["pads"]):
        declared = r["pads"]
        x = ctx.op("Pad", [x, ctx.g.ints(f"{ctx.name}.pads", [0, 0] + [b for b, _ in declared]
                                         + [0, 0] + [a for _, a in declared])], "pad")
        pads = [(0, e - a) for (_, a), (_, e) in zip(declared, pads)]
    return ctx.op("AveragePool", [x], kernel_shape=list(r["pool"]), strides=list(r["strides"]),
                  pads=_pads(pads), count_include_pad=0), FIRST


@emits("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
       "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _global_pool(ctx: OnnxContext):
    op = "GlobalMaxPool" if "Max" in ctx.node.type else "GlobalAveragePool"
    y = ctx.op(op, [ctx.x(FIRST)])
    if ctx.layer.keepdims:
        return y, FIRST
    return ctx.op("Flatten", [y], axis=1), FLAT


@emits("ZeroPadding1D", "ZeroPadding2D")
def _zero_padding(ctx: OnnxContext):
    pads = ctx.resolved["pads"]
    spec = [0, 0] + [b for b, _ in pads] + [0, 0] + [a for _, a in pads]
    return ctx.op("Pad", [ctx.x(FIRST), ctx.g.ints(f"{ctx.name}.pads", spec)]), FIRST


@emits("UpSampling1D", "UpSampling2D")
def _upsampling(ctx: OnnxContext):
    """Nearest repeats each cell; bilinear is half-pixel without corner alignment (Keras',
    and torch's align_corners=False)."""
    size = ctx.resolved["size"]
    scales = ctx.const("scales", [1.0, 1.0] + [float(s) for s in size])
    if ctx.layer.interpolation == "nearest":
        attrs = {"mode": "nearest", "nearest_mode": "floor",
                 "coordinate_transformation_mode": "asymmetric"}
    else:
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    return ctx.op("Resize", [ctx.x(FIRST), "", scales], **attrs), FIRST
