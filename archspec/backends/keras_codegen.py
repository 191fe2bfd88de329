"""The Keras 3 backend: an inferred graph → functional-API source.

Each spec layer becomes the Keras layer of the same name; where Keras needs help to mean what
the spec means (explicit or asymmetric padding, ceil rounding, padded cells in an average,
channels-first element order) the emitter puts native helper layers before it (ZeroPadding,
Permute) or uses a small layer copied from ``keras_runtime.py``. The model is channels-last,
Keras' native layout, whatever the spec's layout. Only keras.layers and keras.ops are used, and
no native layer where one of Keras' backends (TensorFlow, torch, JAX) computes something else
or refuses it (uneven "same" averages, some transposed convolutions), so the code means the
same on each; tests/test_keras_backends_agree.py checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import shapes
from .common import LayerContext, Unsupported, call, emitter_registry, literal, short

RUNTIME = Path(__file__).with_name("keras_runtime.py")
HELPERS = frozenset({"PaddedPooling", "GELU", "CroppedConv1DTranspose", "CroppedConv2DTranspose",
                     "_CroppedTranspose", "_dilate", "Normalization", "LayerScale",
                     "ClassToken", "PositionEmbedding", "Take", "AxisLayerNormalization",
                     "ExplicitMultiHeadAttention"})


@dataclass
class Emitted:
    layer: str                                   # the spec layer's constructor, without name=
    before: list[tuple[str, str]] = field(default_factory=list)  # (suffix, constructor) helpers
    after: list[tuple[str, str]] = field(default_factory=list)
    helpers: tuple[str, ...] = ()
    # How the layer is called on its inputs, {0}, {1}... ("{0}, {0}": attention on itself);
    # by default one input, or a list of them. Only for a layer with nothing before it.
    arguments: str = ""


Context = LayerContext
EMITTERS, emits = emitter_registry("keras")


def _kwargs(layer, names: dict[str, object], **extra) -> dict:
    """Keyword arguments for the fields that differ from Keras' defaults."""
    out = {}
    for name, default in names.items():
        value = getattr(layer, name)
        if value != default:
            out[name] = _value(value)
    out.update(extra)
    return out


def _value(value) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return short(value)
    if hasattr(value, "l1") and hasattr(value, "l2"):
        return call("keras.regularizers.L1L2", l1=literal(value.l1), l2=literal(value.l2))
    if hasattr(value, "max_norm"):
        return call("keras.constraints.MaxNorm", max_value=literal(value.max_norm),
                    axis=literal(value.axis))
    return literal(value)


def _padding(ctx: Context, kernel, strides, dilation) -> tuple[str, list[tuple[str, str]]]:
    """'valid'/'same' when Keras' own padding gives the resolved pads; otherwise explicit
    ZeroPadding before a 'valid' layer (as keras.applications' ResNet does)."""
    pads = ctx.resolved["pads"]
    spatial = ctx.in_shape[:-1]
    if all(p == (0, 0) for p in pads):
        return "valid", []
    if pads == tuple(shapes.same_padding(n, k, s, d) for n, k, s, d
                     in zip(spatial, kernel, strides, dilation)):
        return "same", []
    rank = len(spatial)
    amount = pads[0] if rank == 1 else pads
    return "valid", [("pad", call(f"layers.ZeroPadding{rank}D", literal(amount)))]


def _window_kwargs(layer, extra: dict[str, object]) -> dict:
    kwargs = {}
    if set(layer.strides) != {1}:
        kwargs["strides"] = short(layer.strides)
    if set(layer.dilation_rate) != {1}:
        kwargs["dilation_rate"] = short(layer.dilation_rate)
    return {**kwargs, **_kwargs(layer, {"use_bias": True, "activation": None, **extra})}


_CONV_DEFAULTS = {"groups": 1, "kernel_initializer": "glorot_uniform",
                  "bias_initializer": "zeros", "kernel_regularizer": None,
                  "kernel_constraint": None}
_DEPTHWISE_DEFAULTS = {"depth_multiplier": 1, "depthwise_initializer": "glorot_uniform",
                       "bias_initializer": "zeros", "depthwise_regularizer": None,
                       "depthwise_constraint": None}
_SEPARABLE_DEFAULTS = {"depth_multiplier": 1, "depthwise_initializer": "glorot_uniform",
                       "pointwise_initializer": "glorot_uniform", "bias_initializer": "zeros"}


@emits("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
       "SeparableConv2D")
def _conv(ctx: Context) -> Emitted:
    layer, kind = ctx.layer, ctx.node.type
    padding, before = _padding(ctx, layer.kernel_size, layer.strides, layer.dilation_rate)
    kwargs = {"padding": repr(padding)} if padding != "valid" else {}
    defaults = (_DEPTHWISE_DEFAULTS if kind.startswith("Depthwise") else
                _SEPARABLE_DEFAULTS if kind.startswith("Separable") else _CONV_DEFAULTS)
    kwargs.update(_window_kwargs(layer, defaults))
    positional = (short(layer.kernel_size),) if kind.startswith("Depthwise") \
        else (layer.filters, short(layer.kernel_size))
    return Emitted(call(f"layers.{kind}", *positional, **kwargs), before)


def _native_transpose(layer) -> bool:
    """Whether Keras' own transposed convolution runs the spec on every backend. Not where
    TensorFlow's CPU kernels refuse it: any dilation, or "same" with an output_padding of 0
    and an even kernel (TensorFlow's "same" needs ceil(output / stride) to be the input
    length, and that output is a stride short); nor where Keras refuses an output_padding of
    the stride or more (the spec allows up to the dilation, as PyTorch does)."""
    if set(layer.dilation_rate) != {1}:
        return False
    extra = layer.output_padding or ()
    if any(o >= s for o, s in zip(extra, layer.strides)):
        return False
    return not (layer.padding == "same" and any(
        o == 0 and k % 2 == 0 for o, k in zip(extra, layer.kernel_size)))


@emits("Conv1DTranspose", "Conv2DTranspose")
def _transpose(ctx: Context) -> Emitted:
    layer = ctx.layer  # the spec's transposed convolution is Keras' own, where Keras can say it
    kwargs = {"padding": repr(layer.padding)} if layer.padding != "valid" else {}
    if layer.output_padding is not None:
        kwargs["output_padding"] = short(layer.output_padding)
    kwargs.update(_window_kwargs(layer, {
        "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
        "kernel_regularizer": None, "kernel_constraint": None}))
    if not _native_transpose(layer):
        for given_by_crops in ("padding", "output_padding"):
            kwargs.pop(given_by_crops, None)
        name = f"Cropped{ctx.node.type}"
        return Emitted(call(name, layer.filters, short(layer.kernel_size), **kwargs,
                            crops=literal(ctx.resolved["crops"])), helpers=(name,))
    return Emitted(call(f"layers.{ctx.node.type}", layer.filters, short(layer.kernel_size),
                        **kwargs))


@emits("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
       "AveragePooling3D")
def _pool(ctx: Context) -> Emitted:
    layer, resolved = ctx.layer, ctx.resolved
    pool, strides, pads = resolved["pool"], resolved["strides"], resolved["pads"]
    spatial = ctx.in_shape[:-1]
    is_max = ctx.node.type.startswith("Max")
    reach = tuple((b, eff) for (b, _), (_, eff) in zip(pads, resolved["effective_pads"]))
    kwargs = {} if strides == pool else {"strides": short(strides)}
    only_input_counts = is_max or not layer.count_include_pad or all(p == (0, 0) for p in pads)
    out = ctx.node.meta["shape"][:-1]
    if all(r == (0, 0) for r in reach) and out == tuple(
            (n - k) // s + 1 for n, k, s in zip(spatial, pool, strides)):
        return Emitted(call(f"layers.{ctx.node.type}", short(pool), **kwargs))
    # Native "same" is exact on every Keras backend but in one case: where the padding splits
    # unevenly, Keras' torch backend pads by repeating the edge values, which a max ignores
    # and an average counts (keras-team/keras#18452). Those averages take the helper.
    same = tuple(shapes.same_padding(n, k, s) for n, k, s in zip(spatial, pool, strides))
    if only_input_counts and reach == same and (is_max or all(b == a for b, a in same)) \
            and out == tuple(-(-n // s) for n, s in zip(spatial, strides)):
        return Emitted(call(f"layers.{ctx.node.type}", short(pool), **kwargs,
                            padding=repr("same")))
    clipped = tuple((b, min(a, eff)) for (b, a), (_, eff) in zip(pads, reach))
    overhang = tuple(max(eff - a, 0) for (_, a), (_, eff) in zip(pads, reach))
    extra = {} if is_max else {"count_include_pad": layer.count_include_pad}
    return Emitted(call("PaddedPooling", kind=repr("max" if is_max else "avg"),
                        pool_size=literal(pool), strides=literal(strides),
                        pads=literal(clipped), overhang=literal(overhang), **extra),
                   helpers=("PaddedPooling",))


@emits("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
       "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _global_pool(ctx: Context) -> Emitted:
    kwargs = {"keepdims": True} if ctx.layer.keepdims else {}
    return Emitted(call(f"layers.{ctx.node.type}", **kwargs))


def _to_spec_order(rank: int) -> str:
    """Permute a channels-last map to channels-first (the spec's element order)."""
    return call("layers.Permute", literal((rank,) + tuple(range(1, rank))))


def _to_keras_order(rank: int) -> str:
    return call("layers.Permute", literal(tuple(range(2, rank + 1)) + (1,)))


@emits("Flatten")
def _flatten(ctx: Context) -> Emitted:
    rank = len(ctx.in_shape)
    if rank < 2 or not ctx.facts.graph.channels_first or ctx.facts.flatten_order_free(ctx.node):
        return Emitted("layers.Flatten()")
    return Emitted("layers.Flatten()", before=[("to_spec_order", _to_spec_order(rank))])


@emits("Reshape")
def _reshape(ctx: Context) -> Emitted:
    out = tuple(ctx.node.meta["shape"])
    if not ctx.facts.graph.channels_first:
        return Emitted(call("layers.Reshape", literal(out)))
    # A channels-first spec reshapes in C, H, W order: permute there and back.
    rank_in, rank_out = len(ctx.in_shape), len(out)
    target = out if rank_out < 2 else (out[-1],) + out[:-1]
    before = [("to_spec_order", _to_spec_order(rank_in))] if rank_in > 1 else []
    after = [("to_keras_order", _to_keras_order(rank_out))] if rank_out > 1 else []
    return Emitted(call("layers.Reshape", literal(target)), before, after)


@emits("Dense")
def _dense(ctx: Context) -> Emitted:
    layer = ctx.layer
    return Emitted(call("layers.Dense", layer.units, **_kwargs(layer, {
        "activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
        "bias_initializer": "zeros", "kernel_regularizer": None, "kernel_constraint": None})))


@emits("Dropout")
def _dropout(ctx: Context) -> Emitted:
    return Emitted(call("layers.Dropout", literal(ctx.layer.rate)))


@emits("BatchNormalization")
def _batch_norm(ctx: Context) -> Emitted:
    return Emitted(call("layers.BatchNormalization", **_kwargs(ctx.layer, {
        "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True})))


@emits("ZeroPadding1D", "ZeroPadding2D")
def _zero_padding(ctx: Context) -> Emitted:
    pads = ctx.resolved["pads"]
    return Emitted(call(f"layers.{ctx.node.type}", literal(pads[0] if len(pads) == 1 else pads)))


@emits("UpSampling1D", "UpSampling2D")
def _upsampling(ctx: Context) -> Emitted:
    layer = ctx.layer
    kwargs = {"interpolation": repr(layer.interpolation)} if layer.interpolation != "nearest" \
        else {}
    size = layer.size[0] if layer.rank == 1 else short(layer.size)
    return Emitted(call(f"layers.{ctx.node.type}", size, **kwargs))


@emits("ReLU")
def _relu(ctx: Context) -> Emitted:
    return Emitted(call("layers.ReLU", **_kwargs(ctx.layer, {
        "max_value": None, "negative_slope": 0.0, "threshold": 0.0})))


@emits("LeakyReLU")
def _leaky_relu(ctx: Context) -> Emitted:
    return Emitted(call("layers.LeakyReLU", negative_slope=literal(ctx.layer.negative_slope)))


@emits("ELU")
def _elu(ctx: Context) -> Emitted:
    return Emitted(call("layers.ELU", **_kwargs(ctx.layer, {"alpha": 1.0})))


@emits("Sigmoid", "Tanh", "SiLU")
def _named_activation(ctx: Context) -> Emitted:
    return Emitted(call("layers.Activation", repr(ctx.node.type.lower())))


@emits("GELU")
def _gelu(ctx: Context) -> Emitted:
    return Emitted(call("GELU", approximate=ctx.layer.approximate), helpers=("GELU",))


@emits("Activation")
def _activation(ctx: Context) -> Emitted:
    return Emitted(call("layers.Activation", repr(ctx.layer.activation)))


@emits("Softmax")
def _softmax(ctx: Context) -> Emitted:
    axis = ctx.resolved["axis"] + 1
    rank = len(ctx.in_shape)
    return Emitted("layers.Softmax()" if axis == rank else call("layers.Softmax", axis=axis))


@emits("PReLU")
def _prelu(ctx: Context) -> Emitted:
    # Shared axes in the Keras model's own (channels-last) counting, whatever the spec's layout.
    alpha, shape = ctx.resolved["alpha_shape"], ctx.in_shape
    shared = [i + 1 for i, (a, n) in enumerate(zip(alpha, shape)) if a == 1 and n != 1]
    kwargs = _kwargs(ctx.layer, {"alpha_initializer": "zeros"})
    if shared:
        kwargs["shared_axes"] = literal(shared)
    return Emitted(call("layers.PReLU", **kwargs))


@emits("Add", "Multiply")
def _merge(ctx: Context) -> Emitted:
    return Emitted(f"layers.{ctx.node.type}()")


@emits("Concatenate")
def _concatenate(ctx: Context) -> Emitted:
    axis = ctx.resolved["axis"] + 1
    rank = len(ctx.in_shape)
    return Emitted("layers.Concatenate()" if axis == rank else
                   call("layers.Concatenate", axis=axis))


def emit(ctx: Context) -> Emitted:
    emitter = EMITTERS.get(ctx.node.type)
    if emitter is None:
        raise Unsupported("no mapping exists")
    return emitter(ctx)
