"""Merges, the layers that do nothing at inference, and the transformer family: embeddings,
tokens and attention (held channels last: (N, length, features))."""

from __future__ import annotations

import math

import numpy as np

from ..backends.common import emitter_registry
from .context import OnnxContext
from .graph import FLAT, INT64, LAST, layout_for, onnx_axis

EMITTERS, emits = emitter_registry()


def _common_layout(ctx: OnnxContext) -> str:
    """Merged inputs meet in the layout the first one with a layout is held in."""
    for index in range(len(ctx.node.inputs)):
        if ctx.layout_of(index) != FLAT:
            return ctx.layout_of(index)
    return FLAT


@emits("Add", "Multiply")
def _merge(ctx: OnnxContext):
    layout = _common_layout(ctx)
    op = "Add" if ctx.node.type == "Add" else "Mul"
    y = ctx.x(layout, 0)
    for index in range(1, len(ctx.node.inputs)):
        y = ctx.op(op, [y, ctx.x(layout, index)], f"{op}{index}")
    return y, layout


@emits("Concatenate")
def _concatenate(ctx: OnnxContext):
    layout = _common_layout(ctx)
    inputs = [ctx.x(layout, i) for i in range(len(ctx.node.inputs))]
    return ctx.op("Concat", inputs, axis=onnx_axis(ctx.resolved["axis"], ctx.out_shape,
                                                   layout)), layout


@emits("Dropout", "StochasticDepth")
def _identity_at_inference(ctx: OnnxContext):
    layout = ctx.layout_of()
    return ctx.x(layout), layout


@emits("Embedding")
def _embedding(ctx: OnnxContext):
    """Indices arrive as numbers (the model's one input is float) and are cast, as Keras
    does."""
    indices = ctx.op("Cast", [ctx.x(LAST)], "indices", to=INT64)
    table = ctx.const("embeddings", ctx.weight("embeddings"))
    return ctx.op("Gather", [table, indices], axis=0), layout_for(ctx.out_shape, LAST)


@emits("ClassToken")
def _class_token(ctx: OnnxContext):
    """The learned token in front of the sequence, once per sample. It is repeated over the
    batch by adding it to zeros shaped like one position (x[:, :1] * 0): an Expand to a shape
    computed at run time would leave the batch dimension unknown to shape inference."""
    x = ctx.x(LAST)
    size = ctx.in_shape[-1]
    first = ctx.op("Slice", [x, ctx.g.ints(f"{ctx.name}.zero", [0]),
                             ctx.g.ints(f"{ctx.name}.one", [1]),
                             ctx.g.ints(f"{ctx.name}.axis", [1])], "first")
    zeros = ctx.op("Mul", [first, ctx.const("nothing", 0.0)], "zeros")
    token = np.reshape(ctx.weight("token"), (1, 1, size))
    tokens = ctx.op("Add", [zeros, ctx.const("token", token)], "tokens")
    return ctx.op("Concat", [tokens, x], axis=1), LAST


@emits("PositionEmbedding")
def _position_embedding(ctx: OnnxContext):
    table = ctx.weight("embeddings")
    return ctx.op("Add", [ctx.x(LAST), ctx.const("embeddings", np.asarray(table)[None])]), LAST


@emits("Take")
def _take(ctx: OnnxContext):
    x = ctx.x(LAST)
    axis = onnx_axis(ctx.resolved["axis"], ctx.in_shape, LAST)
    index = ctx.g.const(f"{ctx.name}.index", np.asarray(ctx.resolved["index"], dtype=np.int64),
                        np.int64)
    return ctx.op("Gather", [x, index], axis=axis), layout_for(ctx.out_shape, LAST)


def _project(ctx: OnnxContext, x: str, which: str, heads: int, size: int) -> str:
    """x (N, L, features) @ Keras' kernel (features, heads, size) + bias → (N, heads, L, size)."""
    kernel = ctx.weight(f"{which}/kernel")
    y = ctx.op("MatMul", [x, ctx.const(f"{which}/kernel", kernel.reshape(kernel.shape[0], -1))],
               which)
    if ctx.layer.use_bias:
        y = ctx.op("Add", [y, ctx.const(f"{which}/bias", ctx.weight(f"{which}/bias").reshape(-1))],
                   f"{which}_bias")
    split = ctx.op("Reshape", [y, ctx.g.ints(f"{ctx.name}.{which}_heads", [0, 0, heads, size])],
                   f"{which}_heads")
    return ctx.op("Transpose", [split], f"{which}_by_head", perm=[0, 2, 1, 3])


@emits("MultiHeadAttention")
def _attention(ctx: OnnxContext):
    """Keras' MultiHeadAttention at inference: per-head projections, softmax(q k^T / sqrt(k)),
    the weighted values, the output projection. Inputs are query, value and key."""
    r = ctx.resolved
    heads, k, v = r["heads"], r["k"], r["v"]
    count = len(ctx.node.inputs)
    query = ctx.x(LAST, 0)
    value = ctx.x(LAST, 1) if count > 1 else query
    key = ctx.x(LAST, 2) if count > 2 else value
    q = _project(ctx, query, "query", heads, k)
    scaled = ctx.op("Mul", [q, ctx.const("scale", 1 / math.sqrt(k))], "query_scaled")
    keys = ctx.op("Transpose", [_project(ctx, key, "key", heads, k)], "keys_t",
                  perm=[0, 1, 3, 2])
    weights = ctx.op("Softmax", [ctx.op("MatMul", [scaled, keys], "scores")], "weights",
                     axis=-1)
    mixed = ctx.op("MatMul", [weights, _project(ctx, value, "value", heads, v)], "mixed")
    merged = ctx.op("Reshape", [ctx.op("Transpose", [mixed], "by_position", perm=[0, 2, 1, 3]),
                                ctx.g.ints(f"{ctx.name}.merged", [0, 0, heads * v])], "merged")
    out_kernel = ctx.weight("attention_output/kernel")
    y = ctx.op("MatMul", [merged, ctx.const("attention_output/kernel",
                                            out_kernel.reshape(heads * v, -1))], "output")
    if ctx.layer.use_bias:
        y = ctx.op("Add", [y, ctx.const("attention_output/bias",
                                        ctx.weight("attention_output/bias"))], "output_bias")
    return y, LAST
