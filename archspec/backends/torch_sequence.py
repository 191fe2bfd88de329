"""PyTorch emitters for the transformer and sequence families (LayerNormalization,
MultiHeadAttention, Embedding, ClassToken, PositionEmbedding, Take), which join
torch_codegen's registry when the backends package loads; their helpers are in
torch_sequence_runtime.py.

A sequence is channels-first here as every tensor is, (N, features, length). ClassToken and
PositionEmbedding are bare parameters of their container, named after the layer, with no
module of their own: torchvision's ViT holds ``class_token`` and ``encoder.pos_embedding``
so, and its state_dict then loads as it is.

Nothing here imports a framework.
"""

from __future__ import annotations

from pathlib import Path

from .common import call, literal
from .torch_codegen import Context, Emitted, emits, torch_dim

RUNTIME = Path(__file__).with_name("torch_sequence_runtime.py")
HELPERS = frozenset({"AxisLayerNorm", "PackedAttention", "KerasAttention", "IndexEmbedding",
                     "Take"})
PARAMETER = "nn.Parameter("  # how the constructor of a bare-parameter layer starts


def _size(values: tuple[int, ...]) -> str:
    return literal(values[0]) if len(values) == 1 else literal(values)


@emits("LayerNormalization")
def _layer_norm(ctx: Context) -> Emitted:
    """nn.LayerNorm where the normalized dims are torch's trailing ones and gamma comes with
    any beta; otherwise AxisLayerNorm, which moves them there."""
    layer, shape = ctx.layer, ctx.in_shape
    axes = ctx.resolved["axes"]
    rank = len(shape)
    dims = tuple(torch_dim(a, rank) for a in axes)
    normalized = _size(tuple(shape[a] for a in axes))
    kwargs = {"eps": literal(layer.epsilon)} if layer.epsilon != 1e-5 else {}
    trailing = dims == tuple(range(rank + 1 - len(dims), rank + 1))
    if trailing and (layer.scale or not layer.center):
        if not layer.scale:
            kwargs["elementwise_affine"] = False
        elif not layer.center:
            kwargs["bias"] = False
        return Emitted(call("nn.LayerNorm", normalized, **kwargs))
    kwargs["dims"] = literal(dims)
    kwargs.update({flag: False for flag in ("center", "scale") if not getattr(layer, flag)})
    return Emitted(call("AxisLayerNorm", normalized, **kwargs), helpers=("AxisLayerNorm",))


@emits("MultiHeadAttention")
def _attention(ctx: Context) -> Emitted:
    """PackedAttention (nn.MultiheadAttention itself) where it can hold the layer, else
    KerasAttention; initialized as Keras does: glorot_uniform with the fans of a Dense from
    each projection's inputs to its outputs, zero biases."""
    layer, r = ctx.layer, ctx.resolved
    heads, k, v = r["heads"], r["k"], r["v"]
    kwargs = {"dropout": literal(layer.dropout)} if layer.dropout else {}
    if not layer.use_bias:
        kwargs["bias"] = False
    if r["fused"]:
        d = r["query"]
        out = Emitted(call("PackedAttention", d, heads, **kwargs), helpers=("PackedAttention",))
        out.weights += [("in_proj_weight", "glorot_uniform", d, d),
                        ("out_proj.weight", "glorot_uniform", d, d)]
        return out
    out = Emitted(call("KerasAttention", heads, k, v, query=r["query"], key=r["key"],
                       value=r["value"], output=r["output"], **kwargs),
                  helpers=("KerasAttention",))
    for name, fan_in, fan_out in (("query", r["query"], heads * k), ("key", r["key"], heads * k),
                                  ("value", r["value"], heads * v),
                                  ("attention_output", heads * v, r["output"])):
        out.weights.append((f"{name}.weight", "glorot_uniform", fan_in, fan_out))
        if layer.use_bias:
            out.weights.append((f"{name}.bias", "zeros", fan_out, fan_out))
    return out


@emits("Embedding")
def _embedding(ctx: Context) -> Emitted:
    layer = ctx.layer
    out = Emitted(call("IndexEmbedding", layer.input_dim, layer.output_dim),
                  helpers=("IndexEmbedding",))
    out.weights.append(("weight", layer.embeddings_initializer, layer.input_dim,
                        layer.output_dim))
    return out


def _parameter(shape: tuple[int, ...], call_text: str, initializer: str) -> Emitted:
    """A layer held as a bare parameter of its container: its forward is ``call_text`` with
    the parameter as {m}; Keras' fans are those of its shape without the leading 1."""
    out = Emitted(f"{PARAMETER}torch.zeros{literal(shape)})", call_text)
    if initializer != "zeros":
        out.weights.append(("", initializer, shape[-2], shape[-1]))
    return out


@emits("ClassToken")
def _class_token(ctx: Context) -> Emitted:
    features = ctx.in_shape[-1]
    return _parameter((1, 1, features),
                      "torch.cat([{m}.expand({x}.shape[0], -1, -1).mT, {x}], dim=2)",
                      ctx.layer.initializer)


@emits("PositionEmbedding")
def _position_embedding(ctx: Context) -> Emitted:
    return _parameter((1,) + tuple(ctx.in_shape), "{x} + {m}.mT", ctx.layer.initializer)


@emits("Take")
def _take(ctx: Context) -> Emitted:
    rank = len(ctx.in_shape)
    axis, index = ctx.resolved["axis"], ctx.resolved["index"]
    kwargs = {"channels_moved": True} if axis == rank - 1 and rank > 2 else {}
    return Emitted(call("Take", torch_dim(axis, rank), index, **kwargs), helpers=("Take",))

