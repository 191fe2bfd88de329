"""The PyTorch backend: an inferred graph → the source of one ``nn.Module``.

Every spec layer becomes a submodule named after it (so state_dict keys and forward hooks follow
the spec), and ``forward`` has one line per layer. Where torch's own layer means something else
than the spec (asymmetric padding, pooling over padding, Flatten order, ...) the emitter picks a
torch form with the spec's meaning, or a small helper copied from ``torch_runtime.py`` into the
generated file, which then runs without archspec. Semantics are documented in
docs/backends.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..ops.base import product
from .common import (
    LayerContext,
    Unsupported,
    call,
    emitter_registry,
    literal,
    short,
)
from .torch_names import (  # noqa: F401 - re-exported: weights and verification use them
    HELPERS,
    MODULE_ATTRIBUTES,
    safe_attributes,
    torch_dim,
    torch_shape,
)

RUNTIME = Path(__file__).with_name("torch_runtime.py")

_ACTIVATION_MODULES = {
    "linear": "nn.Identity()", "relu": "nn.ReLU()", "relu6": "nn.ReLU6()",
    "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "softmax": "nn.Softmax(dim=1)",
    "elu": "nn.ELU()", "gelu": "nn.GELU()", "silu": "nn.SiLU()", "swish": "nn.SiLU()",
    "softplus": "nn.Softplus()",
}
# Inline ``activation:`` of a Conv/Dense, applied to a fresh tensor (so in place is safe).
_ACTIVATION_CALLS = {
    "relu": "F.relu({}, inplace=True)", "relu6": "F.relu6({}, inplace=True)",
    "sigmoid": "torch.sigmoid({})", "tanh": "torch.tanh({})", "softmax": "F.softmax({}, dim=1)",
    "elu": "F.elu({})", "gelu": "F.gelu({})", "silu": "F.silu({})", "swish": "F.silu({})",
    "softplus": "F.softplus({})",
}


@dataclass
class Emitted:
    module: str                       # constructor expression
    call: str = "{m}({x})"            # forward expression; {m} the submodule, {x} its input(s)
    helpers: tuple[str, ...] = ()
    input_order: Optional[tuple[int, ...]] = None  # when the call needs its inputs reordered
    weights: list[tuple[str, str, int, int]] = field(default_factory=list)  # attr, init, fans
    regularized: list[tuple[str, float, float]] = field(default_factory=list)
    constrained: list[tuple[str, float, tuple[int, ...], Optional[tuple[int, ...]]]] = \
        field(default_factory=list)


class Context(LayerContext):
    def may_overwrite_input(self, index: int = 0) -> bool:
        # The producer's op class declares whether its backward needs its own output.
        producer = self.facts.node(self.node.inputs[index])
        return (not producer.is_input and producer.layer.overwritable_output
                and producer.layer.fused_activation() in (None, "linear")
                and self.facts.sole_consumer(producer.name))


EMITTERS, emits = emitter_registry("torch")


# --- convolutions ------------------------------------------------------------------------------

def _split_padding(pads) -> tuple[tuple[int, ...], Optional[tuple[int, ...]]]:
    """Per-side pads → (symmetric part for the layer, F.pad amounts for the rest or None)."""
    symmetric = tuple(min(b, a) for b, a in pads)
    extra = [(b - s, a - s) for (b, a), s in zip(pads, symmetric)]
    if not any(b or a for b, a in extra):
        return symmetric, None
    return symmetric, tuple(v for pair in reversed(extra) for v in pair)


def _conv_kwargs(layer, padding: tuple[int, ...]) -> dict:
    kwargs = {}
    if set(layer.strides) != {1}:
        kwargs["stride"] = short(layer.strides)
    if any(padding):
        kwargs["padding"] = short(padding)
    if set(layer.dilation_rate) != {1}:
        kwargs["dilation"] = short(layer.dilation_rate)
    return kwargs


def _padded_call(extra) -> str:
    return "{m}({x})" if extra is None else "{m}(F.pad({x}, " + literal(extra) + "))"


def _with_activation(emitted: Emitted, activation: Optional[str]) -> Emitted:
    if activation not in (None, "linear"):
        emitted.call = _ACTIVATION_CALLS[activation].format(emitted.call)
    return emitted


def _regularize(emitted: Emitted, attr: str, regularizer, constraint, kernel_rank: int,
                grouped: Optional[tuple[int, ...]] = None) -> None:
    if regularizer is not None and (regularizer.l1 or regularizer.l2):
        emitted.regularized.append((attr, regularizer.l1, regularizer.l2))
    if constraint is not None:
        axes = constraint.axis if isinstance(constraint.axis, tuple) else (constraint.axis,)
        emitted.constrained.append((attr, constraint.max_norm,
                                    tuple(sorted(_torch_kernel_dim(a % (kernel_rank + 2),
                                                                   kernel_rank, grouped)
                                                 for a in axes)), grouped))


def _torch_kernel_dim(axis: int, spatial: int, grouped) -> int:
    """Keras kernel axis (k..., in, out) → torch weight dim (out, in, k...). A depthwise kernel
    (k..., in, multiplier) is viewed in torch as (in, multiplier, k...)."""
    if axis < spatial:
        return axis + 2
    if grouped:
        return axis - spatial
    return 1 if axis == spatial else 0


@emits("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D")
def _conv(ctx: Context) -> Emitted:
    """A convolution; a depthwise one is the grouped case with one group per input channel
    (its Keras fans and max-norm axes differ, so those follow the spec's layer type)."""
    layer, rank = ctx.layer, ctx.layer.rank
    padding, extra = _split_padding(ctx.resolved["pads"])
    cin, taps = ctx.resolved["in_channels"], product(layer.kernel_size)
    depthwise = ctx.node.type.startswith("Depthwise")
    if depthwise:
        mult = layer.depth_multiplier
        cout, groups = cin * mult, cin
        init, fans = layer.depthwise_initializer, (taps * cin, taps * mult)
        regularizer, constraint = layer.depthwise_regularizer, layer.depthwise_constraint
    else:
        cout, groups = layer.filters, layer.groups
        init, fans = layer.kernel_initializer, (taps * cin // groups, taps * cout)
        regularizer, constraint = layer.kernel_regularizer, layer.kernel_constraint
    kwargs = _conv_kwargs(layer, padding)
    if groups > 1:
        kwargs["groups"] = groups
    if not layer.use_bias:
        kwargs["bias"] = False
    out = Emitted(call(f"nn.Conv{rank}d", cin, cout, short(layer.kernel_size), **kwargs),
                  _padded_call(extra))
    out.weights.append(("weight", init, *fans))
    if layer.use_bias:
        out.weights.append(("bias", layer.bias_initializer, cout, cout))
    _regularize(out, "weight", regularizer, constraint, rank,
                grouped=(cin, mult) + tuple(layer.kernel_size) if depthwise else None)
    return _with_activation(out, layer.activation)


@emits("SeparableConv1D", "SeparableConv2D")
def _separable(ctx: Context) -> Emitted:
    layer, rank = ctx.layer, ctx.layer.rank
    padding, extra = _split_padding(ctx.resolved["pads"])
    cin, mult = ctx.resolved["in_channels"], layer.depth_multiplier
    kwargs = _conv_kwargs(layer, padding)
    depthwise = call(f"nn.Conv{rank}d", cin, cin * mult, short(layer.kernel_size), **kwargs,
                     groups=cin, bias=False)
    pointwise = call(f"nn.Conv{rank}d", cin * mult, layer.filters, 1,
                     **({} if layer.use_bias else {"bias": False}))
    taps = product(layer.kernel_size)
    out = Emitted(call("SeparableConv", depthwise=depthwise, pointwise=pointwise),
                  _padded_call(extra),
                  helpers=("SeparableConv",))
    out.weights.append(("depthwise.weight", layer.depthwise_initializer, taps * cin, taps * mult))
    out.weights.append(("pointwise.weight", layer.pointwise_initializer, cin * mult,
                        layer.filters))
    if layer.use_bias:
        out.weights.append(("pointwise.bias", layer.bias_initializer, layer.filters,
                            layer.filters))
    return _with_activation(out, layer.activation)


@emits("Conv1DTranspose", "Conv2DTranspose")
def _transpose(ctx: Context) -> Emitted:
    layer, rank = ctx.layer, ctx.layer.rank
    padding, output_padding, trim = [], [], []
    for (before, after), s, d in zip(ctx.resolved["crops"], layer.strides, layer.dilation_rate):
        if 0 <= before - after < max(s, d):
            padding.append(before), output_padding.append(before - after), trim.append(0)
        elif after > before:
            padding.append(before), output_padding.append(0), trim.append(after - before)
        else:
            raise Unsupported(f"a crop of ({before}, {after}) cannot be expressed")
    cin = ctx.resolved["in_channels"]
    kwargs = _conv_kwargs(layer, tuple(padding))
    if any(output_padding):
        kwargs["output_padding"] = short(tuple(output_padding))
    if not layer.use_bias:
        kwargs["bias"] = False
    helpers: tuple[str, ...] = ()
    cls = f"nn.ConvTranspose{rank}d"
    if any(trim):
        cls = f"ConvTranspose{rank}dTrimmed"
        kwargs["trim"] = literal(tuple(trim))
        helpers = (cls,)
    taps = product(layer.kernel_size)
    out = Emitted(call(cls, cin, layer.filters, short(layer.kernel_size), **kwargs),
                  helpers=helpers)
    out.weights.append(("weight", layer.kernel_initializer, taps * layer.filters, taps * cin))
    if layer.use_bias:
        out.weights.append(("bias", layer.bias_initializer, layer.filters, layer.filters))
    _regularize(out, "weight", layer.kernel_regularizer, layer.kernel_constraint, rank)
    return _with_activation(out, layer.activation)


# --- pooling -----------------------------------------------------------------------------------

@emits("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
       "AveragePooling3D")
def _pool(ctx: Context) -> Emitted:
    layer, rank = ctx.layer, ctx.layer.rank
    resolved = ctx.resolved
    pool, strides, pads = resolved["pool"], resolved["strides"], resolved["pads"]
    is_max = ctx.node.type.startswith("Max")
    ceil = layer.rounding == "ceil"
    symmetric = tuple(b for b, a in pads)
    if all(b == a and 2 * b <= k for (b, a), k in zip(pads, pool)):
        kwargs = {}
        if strides != pool:
            kwargs["stride"] = short(strides)
        if any(symmetric):
            kwargs["padding"] = short(symmetric)
        if ceil:
            kwargs["ceil_mode"] = True
        if not is_max and (any(symmetric) or ceil):
            kwargs["count_include_pad"] = layer.count_include_pad
        kind = "MaxPool" if is_max else "AvgPool"
        return Emitted(call(f"nn.{kind}{rank}d", short(pool), **kwargs))
    overhang = tuple(eff - a for (_, a), (_, eff) in zip(pads, resolved["effective_pads"]))
    torch_pads = tuple(v for pair in reversed(pads) for v in pair)
    torch_overhang = tuple(v for o in reversed(overhang) for v in (0, o))
    kwargs = {} if is_max else {"count_include_pad": layer.count_include_pad}
    return Emitted(call("PaddedPool", kind=repr("max" if is_max else "avg"),
                        kernel_size=literal(pool), stride=literal(strides),
                        pads=literal(torch_pads), overhang=literal(torch_overhang), **kwargs),
                   helpers=("PaddedPool",))


@emits("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
       "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _global_pool(ctx: Context) -> Emitted:
    kind = "Max" if "Max" in ctx.node.type else "Avg"
    module = call(f"nn.Adaptive{kind}Pool{len(ctx.in_shape) - 1}d", 1)
    return Emitted(module, "{m}({x})" if ctx.layer.keepdims else "torch.flatten({m}({x}), 1)")


# --- core --------------------------------------------------------------------------------------

@emits("Dense")
def _dense(ctx: Context) -> Emitted:
    layer = ctx.layer
    features = ctx.resolved["in_features"]
    kwargs = {} if layer.use_bias else {"bias": False}
    positionwise = len(ctx.in_shape) > 1
    cls = "PositionwiseLinear" if positionwise else "nn.Linear"
    out = Emitted(call(cls, features, layer.units, **kwargs),
                  helpers=("PositionwiseLinear",) if positionwise else ())
    out.weights.append(("weight", layer.kernel_initializer, features, layer.units))
    if layer.use_bias:
        out.weights.append(("bias", layer.bias_initializer, layer.units, layer.units))
    _regularize(out, "weight", layer.kernel_regularizer, layer.kernel_constraint, 0)
    if positionwise and layer.activation == "softmax":
        out.call = "F.softmax({m}({x}), dim=1)"
        return out
    return _with_activation(out, layer.activation)


@emits("Flatten")
def _flatten(ctx: Context) -> Emitted:
    spec_order_is_native = ctx.facts.graph.channels_first
    if len(ctx.in_shape) < 2 or spec_order_is_native or ctx.facts.flatten_order_free(ctx.node):
        return Emitted("nn.Flatten()")
    return Emitted("SpecFlatten()", helpers=("SpecFlatten",))


@emits("Reshape")
def _reshape(ctx: Context) -> Emitted:
    # The helper reshapes a tensor in the spec's element order, so it takes the target in the
    # spec's layout: canonical for channels-last specs, torch's own for channels-first ones.
    channels_first = ctx.facts.graph.channels_first
    target = torch_shape(ctx.out_shape) if channels_first else tuple(ctx.out_shape)
    return Emitted(call("Reshape", target_shape=literal(target),
                        channels_last=not ctx.facts.graph.channels_first), helpers=("Reshape",))


@emits("Dropout")
def _dropout(ctx: Context) -> Emitted:
    return Emitted(call("nn.Dropout", literal(ctx.layer.rate)))


@emits("BatchNormalization")
def _batch_norm(ctx: Context) -> Emitted:
    layer = ctx.layer
    rank = len(ctx.in_shape)
    channels = ctx.in_shape[-1]
    kwargs = {}
    if layer.epsilon != 1e-5:
        kwargs["eps"] = literal(layer.epsilon)
    momentum = round(1.0 - layer.momentum, 12)  # Keras weights the old value, torch the new
    if momentum != 0.1:
        kwargs["momentum"] = literal(momentum)
    cls = f"nn.BatchNorm{max(rank - 1, 1)}d"  # torch's 1d takes (N, C) and (N, C, L)
    if layer.center and layer.scale:
        return Emitted(call(cls, channels, **kwargs))
    norm = call(cls, channels, **kwargs, affine=False)
    if not layer.center and not layer.scale:
        return Emitted(norm)
    return Emitted(call("PartialAffineBatchNorm", norm=norm, center=layer.center,
                        scale=layer.scale),
                   helpers=("PartialAffineBatchNorm",))


@emits("ZeroPadding1D", "ZeroPadding2D")
def _zero_padding(ctx: Context) -> Emitted:
    pads = tuple(v for pair in reversed(ctx.resolved["pads"]) for v in pair)
    return Emitted(call(f"nn.ZeroPad{ctx.layer.rank}d", literal(pads)))


@emits("UpSampling1D", "UpSampling2D")
def _upsampling(ctx: Context) -> Emitted:
    layer = ctx.layer
    return Emitted(call("nn.Upsample", scale_factor=literal(tuple(float(s) for s in layer.size)),
                        mode=repr("linear" if layer.interpolation == "bilinear" and layer.rank == 1
                                  else layer.interpolation)))
