"""What each torch.fx node becomes in archspec's vocabulary.

A module call, a function call and a tensor method that mean the same thing share one handler:
``nn.ReLU``, ``F.relu``, ``torch.relu`` and ``x.relu_()`` all arrive as the key "relu" with
their arguments by torch's names. A handler returns the layer type and its arguments with
Keras' defaults left out (``Mapped``), ``Mapped(None, ...)`` for an identity (the node is its
input), or raises ``Unsupported`` saying why archspec cannot express it.

Shapes are torch's, batch first, from shape propagation (``node.meta["tensor_meta"]``); the
spec is channels-first, so a torch dim is the spec's Keras-style axis with the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Unsupported(Exception):
    def __init__(self, reason: str, hint: str | None = None):
        super().__init__(reason)
        self.reason, self.hint = reason, hint


@dataclass
class Mapped:
    type: str | None  # None: the identity, the node is ``inputs[0]``
    args: dict[str, Any] = field(default_factory=dict)
    inputs: list[Any] = field(default_factory=list)  # fx nodes
    note: str = ""  # what the spec does not carry over exactly (``FlatModel.notes``)


def shape_of(value: Any) -> tuple[int, ...] | None:
    """A tensor node's shape (batch first), or None for anything else."""
    meta = getattr(value, "meta", {}).get("tensor_meta")
    return tuple(meta.shape) if hasattr(meta, "shape") else None


@dataclass
class Call:
    node: Any
    values: dict[str, Any]  # the call's arguments by torch's names, defaults filled in
    module: Any = None  # the nn.Module of a call_module node

    def tensor(self, name: str = "input") -> Any:
        value = self.values.get(name)
        if shape_of(value) is None:
            raise Unsupported(f"its {name} is not a tensor computed from the model's input "
                              f"({value!r})")
        return value

    def in_shape(self, name: str = "input") -> tuple[int, ...]:
        return shape_of(self.tensor(name))  # type: ignore[return-value]

    @property
    def out_shape(self) -> tuple[int, ...]:
        return shape_of(self.node)  # type: ignore[return-value]


# --- argument helpers --------------------------------------------------------------------------

def ints(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(int(v) for v in value)


def compact(values: tuple[int, ...]) -> Any:
    """(3, 3) → 3; (3, 1) → [3, 1]: the spec's shortest form."""
    return values[0] if len(set(values)) == 1 else list(values)


def _axis(dim: int, rank: int, what: str) -> int:
    """A torch dim of a rank-``rank`` tensor (batch included) as a Keras-style axis of the
    channels-first spec: the same number, counted from the front."""
    axis = dim + rank if dim < 0 else dim
    if not 0 < axis < rank:
        raise Unsupported(f"{what} along dim {dim} of a {rank}-D tensor: archspec layers "
                          f"never act across the batch axis")
    return axis


def spatial_rank(shape: tuple[int, ...], what: str) -> int:
    rank = len(shape) - 2
    if not 1 <= rank <= 3:
        raise Unsupported(f"{what} on a {len(shape)}-D tensor (archspec's take (N, C, L), "
                          f"(N, C, H, W) or (N, C, D, H, W))")
    return rank


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- activations ---------------------------------------------------------------------------------

SIMPLE = {"relu": "ReLU", "silu": "SiLU", "hardswish": "HardSwish",
           "hardsigmoid": "HardSigmoid", "sigmoid": "Sigmoid", "tanh": "Tanh"}


def _simple(key: str) -> Callable[[Call], Mapped]:
    return lambda call: Mapped(SIMPLE[key], {}, [call.tensor()])


def _relu6(call: Call) -> Mapped:
    return Mapped("ReLU", {"max_value": 6.0}, [call.tensor()])


def _hardtanh(call: Call) -> Mapped:
    low, high = call.values["min_val"], call.values["max_val"]
    if low != 0:
        raise Unsupported(f"hardtanh clips below at {low}: archspec's ReLU caps only above "
                          f"0 (min_val=0 is ReLU with max_value)")
    return Mapped("ReLU", {"max_value": float(high)}, [call.tensor()])


def _gelu(call: Call) -> Mapped:
    approximate = call.values["approximate"]
    return Mapped("GELU", {"approximate": True} if approximate == "tanh" else {},
                  [call.tensor()])


def _leaky_relu(call: Call) -> Mapped:
    return Mapped("LeakyReLU", {"negative_slope": float(call.values["negative_slope"])},
                  [call.tensor()])


def _elu(call: Call) -> Mapped:
    alpha = float(call.values["alpha"])
    return Mapped("ELU", {} if alpha == 1.0 else {"alpha": alpha}, [call.tensor()])


def _softmax(call: Call) -> Mapped:
    rank = len(call.in_shape())
    dim = call.values["dim"]
    if dim is None:  # torch's implicit choice, deprecated but still what runs
        dim = 0 if rank in (0, 1, 3) else 1
    axis = _axis(dim, rank, "softmax")
    return Mapped("Softmax", {} if axis == rank - 1 else {"axis": axis}, [call.tensor()])


def _prelu(call: Call) -> Mapped:
    shape, slopes = call.in_shape(), call.module.num_parameters
    rank = len(shape)
    if slopes == 1:  # one slope for everything
        shared = list(range(1, rank))
    elif rank > 1 and slopes == shape[1]:  # one per channel
        shared = list(range(2, rank))
    else:
        raise Unsupported(f"PReLU with {slopes} slopes on a {list(shape)} input")
    return Mapped("PReLU", {"shared_axes": shared} if shared else {}, [call.tensor()])


# --- arithmetic and merges -----------------------------------------------------------------------

def _rescaling(x: Any, scale: float, offset: float) -> Mapped:
    args: dict[str, Any] = {"scale": float(scale)}
    if offset:
        args["offset"] = float(offset)
    return Mapped("Rescaling", args, [x])


def _by_number(op: str, x: Any, c: float, number_first: bool) -> Mapped:
    """``x op c`` (or ``c op x``): a Rescaling, x * scale + offset."""
    if op == "add":
        return _rescaling(x, 1.0, c)
    if op == "mul":
        return _rescaling(x, c, 0.0)
    if op == "sub":
        return _rescaling(x, -1.0, c) if number_first else _rescaling(x, 1.0, -c)
    if number_first or c == 0:
        raise Unsupported("dividing by a tensor has no archspec layer")
    return _rescaling(x, 1.0 / c, 0.0)


def _arithmetic(op: str) -> Callable[[Call], Mapped]:
    def handle(call: Call) -> Mapped:
        a, b = call.values["input"], call.values["other"]
        if call.values.get("alpha", 1) != 1 or call.values.get("rounding_mode") is not None:
            raise Unsupported(f"{op} with alpha or rounding_mode has no archspec layer")
        if shape_of(a) is not None and shape_of(b) is not None:
            return _merge(op, a, b)
        if shape_of(a) is not None and _number(b):
            return _by_number(op, a, b, number_first=False)
        if shape_of(b) is not None and _number(a):
            return _by_number(op, b, a, number_first=True)
        raise Unsupported(f"{op} of {a!r} and {b!r}: only tensors and constant numbers are "
                          f"expressible (a value computed at run time is not)")
    return handle


def _merge(op: str, a: Any, b: Any) -> Mapped:
    if op not in ("add", "mul"):
        raise Unsupported(f"{'subtracting' if op == 'sub' else 'dividing'} two tensors has "
                          f"no archspec layer (Add and Multiply have)")
    if len(shape_of(a)) != len(shape_of(b)):  # type: ignore[arg-type]
        raise Unsupported(f"{op} of a {list(shape_of(a))} and a {list(shape_of(b))} tensor: "
                          f"archspec broadcasts only between tensors of one rank",
                          hint="keep the size-1 axes (keepdim=True, or view(n, c, 1, 1))")
    return Mapped("Add" if op == "add" else "Multiply", {}, [a, b])


def _cat(call: Call) -> Mapped:
    tensors = list(call.values["tensors"])
    if any(shape_of(t) is None for t in tensors):
        raise Unsupported("concatenates something that is not a tensor computed from the "
                          "model's input")
    if len(tensors) == 1:
        return Mapped(None, {}, tensors)
    rank = len(shape_of(tensors[0]))  # type: ignore[arg-type]
    axis = _axis(call.values["dim"], rank, "torch.cat")
    return Mapped("Concatenate", {} if axis == rank - 1 else {"axis": axis}, tensors)


# --- shapes --------------------------------------------------------------------------------------

def _reshape(call: Call) -> Mapped:
    """view, reshape, flatten, nn.Flatten, nn.Unflatten: read from the shapes before and after,
    so ``x.view(x.size(0), -1)`` and ``torch.flatten(x, 1)`` are one Flatten."""
    x = call.tensor()
    before, after = shape_of(x), call.out_shape
    if x.meta["tensor_meta"].dtype != call.node.meta["tensor_meta"].dtype:
        raise Unsupported("reinterprets the tensor as another dtype")
    if after == before:
        return Mapped(None, {}, [x])
    if after[0] != before[0]:
        raise Unsupported(f"reshapes across the batch axis ({list(before)} → {list(after)}; "
                          f"shapes at a batch of {before[0]})",
                          hint="keep the batch dimension: x.flatten(1), or "
                               "x.view(x.size(0), -1)")
    if len(after) == 2:
        return Mapped("Flatten", {}, [x])
    return Mapped("Reshape", {"target_shape": list(after[1:])}, [x])


def _identity(call: Call) -> Mapped:
    return Mapped(None, {}, [call.tensor()])


def _mean(call: Call) -> Mapped:
    shape, dims = call.in_shape(), call.values["dim"]
    rank = len(shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
    spatial = set(range(2, rank))
    if rank < 3 or {d + rank if d < 0 else d for d in dims} != spatial:
        raise Unsupported(f"mean over dims {list(dims)} of a {list(shape)} tensor: archspec "
                          f"averages over all spatial axes only (GlobalAveragePooling)")
    args = {"keepdims": True} if call.values["keepdim"] else {}
    return Mapped(f"GlobalAveragePooling{rank - 2}D", args, [call.tensor()])


def _dropout(call: Call) -> Mapped:
    return Mapped("Dropout", {"rate": float(call.values["p"])}, [call.tensor()])


def _stochastic_depth(call: Call) -> Mapped:
    if call.values["mode"] != "row":
        raise Unsupported(f"stochastic depth in mode {call.values['mode']!r} drops the whole "
                          f"batch at once; archspec's StochasticDepth drops samples ('row')")
    return Mapped("StochasticDepth", {"rate": float(call.values["p"])}, [call.tensor()])


# --- pooling -------------------------------------------------------------------------------------

def _pool(kind: str) -> Callable[[Call], Mapped]:
    def handle(call: Call) -> Mapped:
        v = call.values
        rank = spatial_rank(call.in_shape(), f"{kind.lower()} pooling")
        if v.get("return_indices"):
            raise Unsupported("return_indices=True: archspec's pooling returns the values only")
        if any(d != 1 for d in ints(v.get("dilation", 1), rank)):
            raise Unsupported("dilated pooling has no archspec layer")
        if v.get("divisor_override") is not None:
            raise Unsupported("divisor_override has no archspec argument")
        pool = ints(v["kernel_size"], rank)
        stride = ints(v["stride"], rank) if v["stride"] not in (None, [], ()) else pool
        pads = ints(v["padding"], rank)
        args: dict[str, Any] = {"pool_size": compact(pool)}
        if stride != pool:
            args["strides"] = compact(stride)
        if any(pads):
            args["padding"] = compact(pads)
        if v["ceil_mode"]:
            args["rounding"] = "ceil"
        if kind == "Average" and v["count_include_pad"] and any(pads):
            args["count_include_pad"] = True  # torch's default; Keras' (and archspec's) is off
        return Mapped(f"{kind}Pooling{rank}D", args, [call.tensor()])
    return handle


def _adaptive(kind: str) -> Callable[[Call], Mapped]:
    def handle(call: Call) -> Mapped:
        shape = call.in_shape()
        rank = spatial_rank(shape, f"adaptive {kind.lower()} pooling")
        if call.values.get("return_indices"):
            raise Unsupported("return_indices=True: archspec's pooling returns the values only")
        spatial, size = shape[2:], call.values["output_size"]
        wanted = (size,) * rank if isinstance(size, int) else tuple(size)
        out = tuple(n if o is None else o for n, o in zip(spatial, wanted))
        if all(o == 1 for o in out):
            return Mapped(f"Global{kind}Pooling{rank}D", {"keepdims": True}, [call.tensor()])
        note = (f"adaptive pooling to {list(out)} is a fixed pooling (here the identity) "
                f"only at this input size")
        if out == spatial:
            return Mapped(None, {}, [call.tensor()], note)
        if any(n % o for n, o in zip(spatial, out)):
            raise Unsupported(f"adaptive pooling from {list(spatial)} to {list(out)}: the "
                              f"windows differ in size, which no fixed pooling reproduces")
        return Mapped(f"{kind}Pooling{rank}D",
                      {"pool_size": compact(tuple(n // o for n, o in zip(spatial, out)))},
                      [call.tensor()], note)
    return handle


HANDLERS: dict[str, Callable[[Call], Mapped]] = {
    **{key: _simple(key) for key in SIMPLE},
    "relu6": _relu6, "hardtanh": _hardtanh, "gelu": _gelu, "leaky_relu": _leaky_relu,
    "elu": _elu, "softmax": _softmax, "prelu": _prelu,
    "add": _arithmetic("add"), "sub": _arithmetic("sub"), "mul": _arithmetic("mul"),
    "div": _arithmetic("div"), "cat": _cat, "reshape": _reshape, "identity": _identity,
    "mean": _mean, "dropout": _dropout, "stochastic_depth": _stochastic_depth,
    "max_pool": _pool("Max"), "avg_pool": _pool("Average"),
    "adaptive_avg_pool": _adaptive("Average"), "adaptive_max_pool": _adaptive("Max"),
}
