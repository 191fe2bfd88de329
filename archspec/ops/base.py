"""What every layer type shares: the pydantic base class, the registry, the result of a shape
rule, and the argument types used by several families (tuples, padding, initializers...).

Shapes here never include the batch dimension and are always channels-last ("canonical"):
(H, W, C) for 2-D layers, (L, C) for 1-D, (features,) after Flatten. The spec's own layout is
converted at the edges (loading the input shape, reporting shapes, axis arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ShapeError

Shape = tuple[int, ...]

REGISTRY: dict[str, type["Layer"]] = {}

ActivationName = Literal[
    "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "gelu", "silu", "swish",
    "softplus"]
InitializerName = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "zeros", "ones"]


class Regularizer(BaseModel):
    """Adds ``l1 * sum(|w|) + l2 * sum(w**2)`` to the training loss (Keras' meaning)."""
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    l1: float = Field(0.0, ge=0)
    l2: float = Field(0.0, ge=0)


class MaxNorm(BaseModel):
    """After each update, rescale weights whose norm along ``axis`` (in Keras' kernel layout,
    e.g. (kh, kw, in, out) for Conv2D) exceeds ``max_norm``."""
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    max_norm: float = Field(gt=0)
    axis: Union[int, tuple[int, ...]] = 0


@dataclass
class Window:
    """How a layer moves over space, for receptive-field arithmetic: an (effective) kernel
    extent and stride per spatial dim; ``upsample`` divides the stride instead."""
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    upsample: bool = False


GLOBAL = "global"  # the layer sees its whole input (Flatten, global pooling, Dense on vectors)


@dataclass
class Inferred:
    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    window: Window | str | None = None  # None: element-wise, receptive field unchanged
    resolved: dict[str, Any] = field(default_factory=dict)  # backend-facing resolved args
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (message, hint)


class Layer(BaseModel):
    """Base of every layer type. Subclasses declare ``type`` as a Literal tag, their fields
    with Keras' names and defaults, ``positional`` for ``Conv2D(32, 3)``-style shortcuts, and
    ``infer`` — the shape rule and costs."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,
                              validate_default=True)
    positional: ClassVar[tuple[str, ...]] = ()
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[Optional[int]] = 1
    structural: ClassVar[frozenset[str]] = frozenset({"name", "inputs", "when"})

    name: Optional[str] = None
    inputs: Optional[list[str]] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        tag = cls.model_fields.get("type")
        if tag is None:
            return  # an abstract family base
        (type_name,) = tag.annotation.__args__
        if type_name in REGISTRY:
            raise TypeError(f"layer type {type_name!r} registered twice")
        REGISTRY[type_name] = cls

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            if len(args) > len(self.positional):
                raise TypeError(f"{type(self).__name__} takes at most {len(self.positional)} "
                                f"positional arguments ({', '.join(self.positional)})")
            for key, value in zip(self.positional, args):
                if key in kwargs:
                    raise TypeError(f"{type(self).__name__} got '{key}' twice")
                kwargs[key] = value
        super().__init__(**kwargs)

    @property
    def type_name(self) -> str:
        return self.type  # type: ignore[attr-defined]

    def args(self) -> dict[str, Any]:
        """The arguments the spec wrote, without structural keys."""
        return self.model_dump(exclude_unset=True, exclude={"type", "name", "inputs"},
                               mode="json")

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        """The shape rule: canonical input shapes → output shape and costs. ``channels_first``
        tells layers whose arguments name axes how the spec counts them."""
        raise NotImplementedError


def layer_types() -> dict[str, type[Layer]]:
    from . import activation, conv, core, merge, pool  # noqa: F401  (registers the types)
    return REGISTRY


# --- argument helpers shared by the families -------------------------------------------------

def as_tuple(value: Any, rank: int, what: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank:
        return tuple(value)
    raise ValueError(f"{what} must be an integer or a list of {rank} integers")


def tuple_validator(*names: str):
    """A field validator that turns ``3`` into ``(3, 3)`` for the family's rank and checks
    every entry is a positive integer."""

    @field_validator(*names, mode="before")
    @classmethod
    def _check(cls, value: Any, info) -> Any:
        if value is None:
            return value
        result = as_tuple(value, cls.rank, info.field_name)
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in result):
            raise ValueError(f"{info.field_name} entries must be positive integers")
        return result

    return _check


PaddingArg = Union[Literal["valid", "same"], int, tuple[int, ...], tuple[tuple[int, int], ...]]


def normalize_padding(value: Any, rank: int) -> Union[str, tuple[tuple[int, int], ...]]:
    """'valid' | 'same' | p | [p_h, p_w] | [[top, bottom], [left, right]] →
    'same' or ((before, after), ...) per spatial dim."""
    if value == "same":
        return "same"
    if value == "valid":
        return ((0, 0),) * rank
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = ((value, value),) * rank
    elif isinstance(value, (list, tuple)) and len(value) == rank:
        pairs = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
    else:
        raise ValueError(f"padding must be 'valid', 'same', an integer, a list of {rank} "
                         f"integers, or a list of {rank} [before, after] pairs")
    for pair in pairs:
        if len(pair) != 2 or any(not isinstance(p, int) or isinstance(p, bool) or p < 0
                                 for p in pair):
            raise ValueError("padding amounts must be non-negative integers")
    return pairs


def require_rank(shape: Shape, rank: int, layer: str) -> None:
    if len(shape) != rank + 1:
        want = {1: "(length, channels)", 2: "(height, width, channels)",
                3: "(depth, height, width, channels)"}[rank]
        hint = None
        if len(shape) == 1:
            hint = f"{layer} needs a feature map; a Flatten or Dense before it removed the " \
                   f"spatial dimensions (add a Reshape, or move this layer earlier)"
        raise ShapeError(f"{layer} expects a {rank + 1}-D input {want}, got shape "
                         f"{list(shape)}", hint=hint)


def product(values) -> int:
    result = 1
    for v in values:
        result *= v
    return result
