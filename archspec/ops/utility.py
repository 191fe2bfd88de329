"""Utility layers of modern CNNs: value scaling with fixed numbers (``Rescaling``,
``Normalization`` with given statistics) or learned ones (ConvNeXt's ``LayerScale``), axis
reordering (``Permute``) and drop path (``StochasticDepth``). Each acts on the spec's channel
axis or axes as the spec's layout counts them; shapes here are canonical (channels last)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Union

from pydantic import Field, field_validator, model_validator

from ..errors import ShapeError
from .activation import canonical_axis
from .base import GLOBAL, Inferred, Layer, Shape, WeightSlot, Window

Values = Union[float, tuple[float, ...]]  # one number for every channel, or one per channel


def _per_channel(values: Values, size: int, what: str, where: str = "") -> None:
    if isinstance(values, tuple) and len(values) != size:
        where = where or f"the input has {size} channels"
        raise ShapeError(f"{what} has {len(values)} values; {where}", field=what,
                         hint=f"give one number for all, or {size} numbers")


def _non_empty(cls, value: Any) -> Any:
    if isinstance(value, (list, tuple)) and not value:
        raise ValueError("give a number or a non-empty list of numbers")
    return value


class Rescaling(Layer):
    """``x * scale + offset`` (Keras ``Rescaling``), e.g. ``scale: 0.00392156862745098``
    (1/255) for images; a list gives one value per channel. No weights: the numbers are part
    of the spec."""
    positional: ClassVar[tuple[str, ...]] = ("scale", "offset")
    argument_docs: ClassVar[dict[str, str]] = {
        "scale": "multiplies the input: a number, or one per channel",
        "offset": "added after scaling: a number, or one per channel"}
    kind: ClassVar[str] = "norm"
    type: Literal["Rescaling"] = "Rescaling"
    scale: Values
    offset: Values = 0.0

    _lists = field_validator("scale", "offset", mode="before")(_non_empty)

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        _per_channel(self.scale, shape[-1], "scale")
        _per_channel(self.offset, shape[-1], "offset")
        return Inferred(shape)


# Keras divides by max(sqrt(variance), keras.config.epsilon()), whose default is 1e-7; archspec
# fixes that default so a changed global setting cannot change a compiled model's meaning.
NORMALIZATION_EPSILON = 1e-7


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` with given statistics along ``axis`` (Keras
    ``Normalization(axis, mean, variance)``; 1e-7 is Keras' epsilon). The statistics are
    non-trainable weights, as Keras keeps them after ``adapt()``: ``mean`` and ``variance``
    (one per entry of the axis) and Keras' unused ``count``, so the layer has 2n + 1
    non-trainable parameters, as keras.applications' EfficientNet input has (7 for RGB), and
    weight files and exchange carry them."""
    positional: ClassVar[tuple[str, ...]] = ("axis",)  # mean, variance: by name (required)
    argument_docs: ClassVar[dict[str, str]] = {
        "axis": "the axis that has its own statistics, in Keras' counting (the batch is 0; "
                "-1 is the last), in the spec's layout",
        "mean": "subtracted: a number, or one per entry of the axis",
        "variance": "its square root divides: a number, or one per entry of the axis"}
    why_required: ClassVar[dict[str, str]] = {
        "mean": "archspec has no adapt(): give the statistics, e.g. ImageNet's mean: "
                "[0.485, 0.456, 0.406]",
        "variance": "archspec has no adapt(): give the statistics, e.g. ImageNet's variance: "
                    "[0.052441, 0.050176, 0.050625]"}
    kind: ClassVar[str] = "norm"
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("mean", "mean", "vector", trainable=False, verify_range=(-0.5, 0.5)),
        WeightSlot("variance", "variance", "vector", trainable=False,
                   verify_range=(0.5, 1.5)),
        WeightSlot("count", "count", "vector", trainable=False))
    type: Literal["Normalization"] = "Normalization"
    axis: int = -1
    mean: Values
    variance: Values

    _lists = field_validator("mean", "variance", mode="before")(_non_empty)

    @field_validator("variance")
    @classmethod
    def _non_negative(cls, value: Values) -> Values:
        if any(v < 0 for v in (value if isinstance(value, tuple) else (value,))):
            raise ValueError("a variance cannot be negative")
        return value

    @model_validator(mode="after")
    def _same_form(self) -> "Normalization":
        if isinstance(self.mean, tuple) != isinstance(self.variance, tuple) or (
                isinstance(self.mean, tuple) and len(self.mean) != len(self.variance)):
            raise ValueError("mean and variance must have the same form (Keras requires it): "
                             "two numbers, or two lists of one length")
        return self

    def _size(self, shape: Shape, channels_first: bool) -> tuple[int, int]:
        axis = canonical_axis(self.axis, len(shape), channels_first)
        return axis, shape[axis]

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        _, size = self._size(inputs[0], channels_first)
        return {"mean": (size,), "variance": (size,), "count": ()}

    def initial_weights(self) -> dict[str, Any]:
        return {"mean": self.mean, "variance": self.variance, "count": 0}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        axis, size = self._size(shape, channels_first)
        for what in ("mean", "variance"):
            _per_channel(getattr(self, what), size, what,
                         f"axis {self.axis} of the input has {size} entries")
        return Inferred(shape, non_trainable=2 * size + 1, resolved={"axis": axis})


class LayerScale(Layer):
    """``x * gamma``, a learned scale per channel that starts at ``init_values``: ConvNeXt's
    layer scale (keras.applications' ``LayerScale``; torchvision's ``CNBlock.layer_scale``).
    The torch model holds it as torchvision does, a bare parameter of its container shaped
    (C, 1, 1), named after the layer."""
    positional: ClassVar[tuple[str, ...]] = ("init_values",)
    argument_docs: ClassVar[dict[str, str]] = {
        "init_values": "the initial scale of every channel (ConvNeXt's: 1e-6)"}
    kind: ClassVar[str] = "norm"
    # Every entry starts equal, which would hide a mix-up of them in ``verify``.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("gamma", "", "per_channel", verify_range=(0.5, 1.5)),)
    type: Literal["LayerScale"] = "LayerScale"
    init_values: float = 1e-6

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"gamma": (inputs[0][-1],)}

    def initial_weights(self) -> dict[str, Any]:
        return {"gamma": self.init_values}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        return Inferred(shape, trainable=shape[-1])


def _spec_axes(rank: int, channels_first: bool) -> list[int]:
    """For each axis of a spec-layout shape, its index in the canonical shape."""
    if not channels_first or rank < 2:
        return list(range(rank))
    return [rank - 1] + list(range(rank - 1))


class Permute(Layer):
    """Reorders the axes (Keras ``Permute``): ``dims`` gives, for each output axis, the input
    axis it takes, counting from 1 after the batch, in the spec's layout — ``[2, 1]`` swaps the
    two axes of a 2-D input. Later layers read the result in the spec's layout too: their
    channel axis is whichever axis lands there."""
    positional: ClassVar[tuple[str, ...]] = ("dims",)
    argument_docs: ClassVar[dict[str, str]] = {
        "dims": "the input axis of each output axis, from 1 (the batch is 0 and stays), in "
                "the spec's layout"}
    kind: ClassVar[str] = "reshape"
    type: Literal["Permute"] = "Permute"
    dims: tuple[int, ...]

    @field_validator("dims")
    @classmethod
    def _permutation(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if sorted(value) != list(range(1, len(value) + 1)):
            raise ValueError(f"dims must list each of the axes 1 to {len(value)} once "
                             f"(Keras counts the batch as 0, and it cannot move)")
        return value

    def order(self, shape: Shape, channels_first: bool) -> tuple[int, ...]:
        """The canonical permutation: output canonical axis i is input canonical axis
        ``order[i]``."""
        if len(self.dims) != len(shape):
            raise ShapeError(f"dims {list(self.dims)} has {len(self.dims)} entries, the input "
                             f"{len(shape)} axes", field="dims")
        to_canonical = _spec_axes(len(shape), channels_first)
        to_spec = {c: s for s, c in enumerate(to_canonical)}
        return tuple(to_canonical[self.dims[to_spec[i]] - 1] for i in range(len(shape)))

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        order = self.order(shape, channels_first)
        out = tuple(shape[i] for i in order)
        return Inferred(out, window=_permuted_window(order), resolved={"order": order})


def _permuted_window(order: tuple[int, ...]) -> Window | str | None:
    """The receptive field follows spatial axes that move among themselves; once the channel
    axis moves, fields per spatial axis no longer describe the layout, and are not tracked."""
    last = len(order) - 1
    if order == tuple(range(len(order))):
        return None
    if order[last] != last:
        return GLOBAL
    return Window((1,) * last, (1,) * last, order=order[:last])


class StochasticDepth(Layer):
    """Drop path: while training, zeroes whole samples with probability ``rate`` and scales
    the others by 1 / (1 - rate) (torchvision's ``StochasticDepth(p, "row")``; Keras: a
    ``Dropout`` with one draw per sample, as keras.applications' EfficientNet writes it); the
    identity at inference. It goes on a residual branch, before the ``Add``."""
    positional: ClassVar[tuple[str, ...]] = ("rate",)
    argument_docs: ClassVar[dict[str, str]] = {
        "rate": "probability that a sample's branch is dropped while training"}
    kind: ClassVar[str] = "regularization"
    type: Literal["StochasticDepth"] = "StochasticDepth"
    rate: float = Field(ge=0, lt=1)

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        return Inferred(inputs[0])
