"""torch.nn modules with weights (or module-only arguments) as archspec layers, and the
tables that route every fx node — module, function or tensor method — to its handler."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from . import fx_ops
from .fx_ops import SIMPLE, Call, Mapped, Unsupported, compact, spatial_rank

# --- modules with weights ------------------------------------------------------------------------

def _conv(call: Call) -> Mapped:
    m = call.module
    rank = len(m.kernel_size)
    if m.padding_mode != "zeros":
        raise Unsupported(f"padding_mode={m.padding_mode!r}: archspec pads with zeros")
    args: dict[str, Any] = {"kernel_size": compact(tuple(m.kernel_size))}
    if any(s != 1 for s in m.stride):
        args["strides"] = compact(tuple(m.stride))
    if m.padding == "same":
        args["padding"] = "same"  # stride 1 only, where torch's split equals TensorFlow's
    elif m.padding != "valid" and any(m.padding):
        args["padding"] = compact(tuple(m.padding))
    if any(d != 1 for d in m.dilation):
        args["dilation_rate"] = compact(tuple(m.dilation))
    if m.bias is None:
        args["use_bias"] = False
    if m.groups > 1 and m.groups == m.in_channels and rank < 3:
        multiplier = m.out_channels // m.in_channels
        if multiplier != 1:
            args["depth_multiplier"] = multiplier
        return Mapped(f"DepthwiseConv{rank}D", args, [call.tensor()])
    args = {"filters": m.out_channels, **args}
    if m.groups != 1:
        args["groups"] = m.groups
    return Mapped(f"Conv{rank}D", args, [call.tensor()])


def _linear(call: Call) -> Mapped:
    shape = call.in_shape()
    if len(shape) != 2:
        raise Unsupported(f"nn.Linear on a {list(shape)} tensor acts on its last axis; "
                          f"archspec's Dense on a feature map acts on the channels",
                          hint="flatten or pool to (N, features) before the Linear")
    args: dict[str, Any] = {"units": call.module.out_features}
    if call.module.bias is None:
        args["use_bias"] = False
    return Mapped("Dense", args, [call.tensor()])


def _batch_norm(call: Call) -> Mapped:
    m = call.module
    if not m.track_running_stats:
        raise Unsupported("track_running_stats=False normalizes with the batch's statistics "
                          "at inference too; archspec's BatchNormalization uses moving ones")
    if m.momentum is None:
        raise Unsupported("momentum=None (a cumulative average of the statistics) has no "
                          "Keras counterpart")
    args: dict[str, Any] = {}
    if round(1 - m.momentum, 12) != 0.99:  # torch weights the new value, Keras the old one
        args["momentum"] = round(1 - m.momentum, 12)
    if m.eps != 1e-3:
        args["epsilon"] = float(m.eps)
    if not m.affine:
        args.update(center=False, scale=False)
    return Mapped("BatchNormalization", args, [call.tensor()])


def _layer_norm(call: Call) -> Mapped:
    m, shape = call.module, call.in_shape()
    count, rank = len(m.normalized_shape), len(shape)
    if count > 1 and rank - count < 2:
        # gamma's axes would be in channels-last order in the spec, torch's in its own
        raise Unsupported(f"LayerNorm over the channels and other axes of a {list(shape)} "
                          f"tensor together")
    args: dict[str, Any] = {} if count == 1 else {"axis": list(range(rank - count, rank))}
    if m.eps != 1e-3:
        args["epsilon"] = float(m.eps)
    if not m.elementwise_affine:
        args.update(center=False, scale=False)
    elif m.bias is None:
        args["center"] = False
    return Mapped("LayerNormalization", args, [call.tensor()])


def _zero_pad(call: Call) -> Mapped:
    pads = tuple(call.module.padding)  # torch: (left, right, top, bottom), last axis first
    pairs = [list(pads[i:i + 2]) for i in range(0, len(pads), 2)][::-1]
    flat = {p for pair in pairs for p in pair}
    rank = len(pairs)
    return Mapped(f"ZeroPadding{rank}D", {"padding": flat.pop()} if len(flat) == 1
                  else {"padding": pairs}, [call.tensor()])


def _upsample(call: Call) -> Mapped:
    m, before, after = call.module, call.in_shape(), call.out_shape
    rank = spatial_rank(before, "upsampling")
    size = tuple(a // b for a, b in zip(after[2:], before[2:]))
    if any(a % b for a, b in zip(after[2:], before[2:])) or rank > 2:
        raise Unsupported(f"upsampling {list(before)} to {list(after)}: archspec's "
                          f"UpSampling1D/2D enlarge by integer factors")
    args: dict[str, Any] = {} if size == (2,) * rank else {"size": compact(size)}
    if m.mode == "bilinear" and rank == 2 and not m.align_corners:
        args["interpolation"] = "bilinear"
    elif m.mode != "nearest":
        raise Unsupported(f"upsampling mode {m.mode!r} (align_corners={m.align_corners}): "
                          f"archspec has nearest, and bilinear without align_corners")
    return Mapped(f"UpSampling{rank}D", args, [call.tensor()])


HANDLERS: dict[str, Callable[[Call], Mapped]] = {
    **fx_ops.HANDLERS, "conv": _conv, "linear": _linear, "batch_norm": _batch_norm,
    "layer_norm": _layer_norm, "zero_pad": _zero_pad, "upsample": _upsample,
}


_ACT = ("input", "inplace")
_POOL = ("input", "kernel_size", "stride", "padding")
# Torch's argument names in torch's order (for functions and, after ``self``, methods), and
# their defaults.
SIGNATURES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    **{key: (_ACT, {}) for key in (*SIMPLE, "relu6", "identity", "reshape")},
    "hardtanh": (("input", "min_val", "max_val"), {"min_val": -1.0, "max_val": 1.0}),
    "gelu": (("input",), {"approximate": "none"}),
    "leaky_relu": (("input", "negative_slope"), {"negative_slope": 0.01}),
    "elu": (("input", "alpha"), {"alpha": 1.0}),
    "softmax": (("input", "dim"), {"dim": None}),
    **{key: (("input", "other", "alpha"), {"alpha": 1}) for key in ("add", "sub", "mul", "div")},
    "cat": (("tensors", "dim"), {"dim": 0}),
    "mean": (("input", "dim", "keepdim"), {"dim": None, "keepdim": False}),
    "dropout": (("input", "p", "training", "inplace"), {"p": 0.5}),
    "stochastic_depth": (("input", "p", "mode", "training"), {}),
    "max_pool": (_POOL + ("dilation", "ceil_mode", "return_indices"),
                 {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False}),
    "avg_pool": (_POOL + ("ceil_mode", "count_include_pad", "divisor_override"),
                 {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}),
    "adaptive_avg_pool": (("input", "output_size"), {}),
    "adaptive_max_pool": (("input", "output_size", "return_indices"), {}),
}


def bind(key: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    """A call's arguments by torch's names; extra positionals (a view's sizes) are ignored."""
    names, defaults = SIGNATURES.get(key, (("input",), {}))
    values = dict(defaults)
    values.update(zip(names, args))
    values.update(kwargs)
    return values


def function_keys() -> dict[Any, str]:
    """torch and operator functions → handler keys."""
    import torch
    import torch.nn.functional as F
    keys: dict[Any, str] = {
        operator.add: "add", operator.iadd: "add", torch.add: "add",
        operator.sub: "sub", operator.isub: "sub", torch.sub: "sub",
        operator.mul: "mul", operator.imul: "mul", torch.mul: "mul",
        operator.truediv: "div", operator.itruediv: "div", torch.div: "div",
        torch.cat: "cat", torch.concat: "cat", torch.flatten: "reshape",
        torch.reshape: "reshape", torch.mean: "mean", torch.relu: "relu", torch.relu_: "relu",
        torch.sigmoid: "sigmoid", torch.tanh: "tanh", torch.softmax: "softmax",
        F.dropout: "dropout",
    }
    for key in ("relu", "relu6", "hardtanh", "gelu", "silu", "hardswish", "hardsigmoid",
                "sigmoid", "tanh", "leaky_relu", "elu", "softmax"):
        keys[getattr(F, key)] = key
    for rank in (1, 2, 3):
        for key in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool"):
            keys[getattr(F, f"{key}{rank}d")] = key
    return keys


# Functions of other libraries, by qualified name (importing the library to look them up
# would cost its import; fx wraps these as leaves).
NAMED_FUNCTIONS = {"torchvision.ops.stochastic_depth.stochastic_depth": "stochastic_depth"}

METHODS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "add": "add", "sub": "sub",
           "mul": "mul", "div": "div", "flatten": "reshape", "view": "reshape",
           "reshape": "reshape", "mean": "mean", "softmax": "softmax",
           "contiguous": "identity", "clone": "identity"}


def module_keys() -> dict[type, tuple[str, tuple[str, ...]]]:
    """Standard torch.nn types → handler key and the attributes that are its arguments."""
    from torch import nn
    plain = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SiLU: "silu", nn.Hardswish: "hardswish",
             nn.Hardsigmoid: "hardsigmoid", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
             nn.Identity: "identity", nn.Flatten: "reshape", nn.Unflatten: "reshape",
             nn.Linear: "linear", nn.LayerNorm: "layer_norm", nn.PReLU: "prelu",
             nn.ZeroPad1d: "zero_pad", nn.ZeroPad2d: "zero_pad", nn.Upsample: "upsample"}
    keys: dict[type, tuple[str, tuple[str, ...]]] = {cls: (key, ()) for cls, key in plain.items()}
    keys.update({nn.Hardtanh: ("hardtanh", ("min_val", "max_val")),
                 nn.LeakyReLU: ("leaky_relu", ("negative_slope",)),
                 nn.ELU: ("elu", ("alpha",)), nn.GELU: ("gelu", ("approximate",)),
                 nn.Softmax: ("softmax", ("dim",)), nn.Dropout: ("dropout", ("p",))})
    pool = ("kernel_size", "stride", "padding", "ceil_mode")
    for rank in (1, 2, 3):
        keys[getattr(nn, f"Conv{rank}d")] = ("conv", ())
        keys[getattr(nn, f"BatchNorm{rank}d")] = ("batch_norm", ())
        keys[getattr(nn, f"MaxPool{rank}d")] = ("max_pool", pool + ("dilation", "return_indices"))
        keys[getattr(nn, f"AvgPool{rank}d")] = ("avg_pool", pool + (
            "count_include_pad", "divisor_override"))
        keys[getattr(nn, f"AdaptiveAvgPool{rank}d")] = ("adaptive_avg_pool", ("output_size",))
        keys[getattr(nn, f"AdaptiveMaxPool{rank}d")] = ("adaptive_max_pool",
                                                        ("output_size", "return_indices"))
    return keys
