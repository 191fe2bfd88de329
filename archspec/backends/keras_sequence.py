"""Keras emitters for the transformer and sequence families, which join keras_codegen's
registry when the backends package loads. LayerNormalization (over trailing axes),
MultiHeadAttention and Embedding are Keras' own layers; ClassToken, PositionEmbedding, Take and
LayerNormalization over other axes and attention with value heads of their own size are small
layers from keras_sequence_runtime.py, copied into the generated file.

Nothing here imports a framework.
"""

from __future__ import annotations

from pathlib import Path

from .common import call, literal
from .keras_codegen import Context, Emitted, emits

RUNTIME = Path(__file__).with_name("keras_sequence_runtime.py")


@emits("LayerNormalization")
def _layer_norm(ctx: Context) -> Emitted:
    """Keras' own layer over the trailing axes; elsewhere AxisLayerNormalization, since Keras'
    torch backend normalizes the trailing axes for any adjacent ones (Keras 3.15)."""
    layer = ctx.layer
    rank = len(ctx.in_shape)
    axes = tuple(a + 1 for a in ctx.resolved["axes"])  # the Keras model's own counting
    kwargs = {}
    if axes != (rank,):
        kwargs["axis"] = literal(axes[0] if len(axes) == 1 else list(axes))
    if layer.epsilon != 1e-3:
        kwargs["epsilon"] = literal(layer.epsilon)
    kwargs.update({flag: "False" for flag in ("center", "scale") if not getattr(layer, flag)})
    if axes == tuple(range(rank + 1 - len(axes), rank + 1)):
        return Emitted(call("layers.LayerNormalization", **kwargs))
    return Emitted(call("AxisLayerNormalization", **kwargs), helpers=("AxisLayerNormalization",))


# Keras calls attention with the query, the value and, by keyword, the key.
_ATTENTION_ARGUMENTS = {1: "{0}, {0}", 2: "{0}, {1}", 3: "{0}, {1}, key={2}"}


@emits("MultiHeadAttention")
def _attention(ctx: Context) -> Emitted:
    layer = ctx.layer
    kwargs = {"num_heads": layer.num_heads, "key_dim": layer.key_dim}
    if layer.value_dim is not None:
        kwargs["value_dim"] = layer.value_dim
    if layer.dropout:
        kwargs["dropout"] = literal(layer.dropout)
    if not layer.use_bias:
        kwargs["use_bias"] = "False"
    if layer.output_shape is not None:
        kwargs["output_shape"] = layer.output_shape
    arguments = _ATTENTION_ARGUMENTS[len(ctx.node.inputs)]
    if layer.value_dim in (None, layer.key_dim):
        return Emitted(call("layers.MultiHeadAttention", **kwargs), arguments=arguments)
    # Keras' JAX backend fails on value heads of another size (ExplicitMultiHeadAttention).
    return Emitted(call("ExplicitMultiHeadAttention", **kwargs), arguments=arguments,
                   helpers=("ExplicitMultiHeadAttention",))


@emits("Embedding")
def _embedding(ctx: Context) -> Emitted:
    layer = ctx.layer
    kwargs = {} if layer.embeddings_initializer == "uniform" else {
        "embeddings_initializer": repr(layer.embeddings_initializer)}
    return Emitted(call("layers.Embedding", layer.input_dim, layer.output_dim, **kwargs))


@emits("ClassToken", "PositionEmbedding")
def _learned_table(ctx: Context) -> Emitted:
    name = ctx.node.type
    default = "zeros" if name == "ClassToken" else "glorot_uniform"
    initializer = ctx.layer.initializer
    kwargs = {} if initializer == default else {"initializer": repr(initializer)}
    return Emitted(call(name, **kwargs), helpers=(name,))


@emits("Take")
def _take(ctx: Context) -> Emitted:
    axis = ctx.resolved["axis"] + 1
    kwargs = {} if axis == 1 else {"axis": axis}
    return Emitted(call("Take", ctx.resolved["index"], **kwargs), helpers=("Take",))
