"""Activation layers. Slopes and axes are always explicit in the IR: LeakyReLU has no default
slope, because Keras (0.3) and PyTorch (0.01) disagree and the course uses 0.01."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal, Optional

from pydantic import Field, field_validator

from ..errors import ShapeError
from .base import (
    ActivationName,
    Inferred,
    InitializerName,
    Layer,
    Shape,
    WeightSlot,
    product,
)


def canonical_axis(axis: int, rank: int, channels_first: bool) -> int:
    """Map a Keras-style axis (counting the batch as axis 0; negatives from the end) of a
    tensor in the spec's layout to an index into the canonical channels-last shape."""
    index = axis - 1 if axis > 0 else rank + axis
    if axis == 0 or not 0 <= index < rank:
        raise ShapeError(f"axis {axis} is out of range for a {rank}-D input (the batch is "
                         f"axis 0 and cannot be chosen)", field="axis")
    if channels_first and rank > 1:
        return rank - 1 if index == 0 else index - 1
    return index


class _Elementwise(Layer):
    kind: ClassVar[str] = "activation"

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        return Inferred(inputs[0])


class ReLU(_Elementwise):
    """max(x, 0), optionally capped at ``max_value`` (6 gives ReLU6) and leaky below
    ``threshold``, as in keras.layers.ReLU (torch ``nn.ReLU``, ``nn.ReLU6``)."""
    positional: ClassVar[tuple[str, ...]] = ("max_value", "negative_slope", "threshold")
    runs_in_place: ClassVar[bool] = True
    type: Literal["ReLU"] = "ReLU"
    # .inf is allowed and means no cap, as leaving it out does (NaN is refused: gt=0).
    max_value: Optional[float] = Field(None, gt=0, allow_inf_nan=True)
    negative_slope: float = Field(0.0, ge=0)
    threshold: float = 0.0

    @field_validator("max_value")
    @classmethod
    def _no_cap(cls, value: Optional[float]) -> Optional[float]:
        return None if value == math.inf else value


class LeakyReLU(_Elementwise):
    """x for x >= 0, negative_slope * x below (Keras ``LeakyReLU``, torch ``nn.LeakyReLU``).
    ``negative_slope`` has no default here: Keras defaults to 0.3 and PyTorch to 0.01, so a
    spec must say which it means (the course uses 0.01)."""
    positional: ClassVar[tuple[str, ...]] = ("negative_slope",)
    why_required: ClassVar[dict[str, str]] = {
        "negative_slope": "Keras defaults the slope to 0.3 and PyTorch to 0.01, so archspec "
                          "has none and the spec must say which it means: negative_slope: "
                          "0.01 (PyTorch's, the course's) or 0.3 (Keras')"}
    runs_in_place: ClassVar[bool] = True
    type: Literal["LeakyReLU"] = "LeakyReLU"
    negative_slope: float = Field(ge=0)


class ELU(_Elementwise):
    """x for x > 0, alpha * (exp(x) - 1) below (Keras ``ELU``, torch ``nn.ELU``)."""
    positional: ClassVar[tuple[str, ...]] = ("alpha",)
    type: Literal["ELU"] = "ELU"
    alpha: float = 1.0


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)) (Keras ``Activation("sigmoid")``, torch ``nn.Sigmoid``)."""
    type: Literal["Sigmoid"] = "Sigmoid"


class Tanh(_Elementwise):
    """The hyperbolic tangent (Keras ``Activation("tanh")``, torch ``nn.Tanh``)."""
    type: Literal["Tanh"] = "Tanh"


class GELU(_Elementwise):
    """Exact (erf) GELU unless ``approximate`` (tanh form); PyTorch defaults to exact, Keras'
    layer-free ``ops.gelu`` to approximate, so the spec states it."""
    type: Literal["GELU"] = "GELU"
    approximate: bool = False


class SiLU(_Elementwise):
    """x * sigmoid(x), also called swish (Keras ``Activation("silu")``, torch ``nn.SiLU``)."""
    type: Literal["SiLU"] = "SiLU"


class HardSigmoid(_Elementwise):
    """relu6(x + 3) / 6, i.e. clip(x / 6 + 0.5, 0, 1) (Keras 3 ``Activation("hard_sigmoid")``,
    torch ``nn.Hardsigmoid``). Keras 2 used clip(0.2 * x + 0.5, 0, 1): a model trained there
    meant another function."""
    type: Literal["HardSigmoid"] = "HardSigmoid"


class HardSwish(_Elementwise):
    """x * relu6(x + 3) / 6, MobileNetV3's activation (Keras 3 ``Activation("hard_silu")``, also
    named hard_swish; torch ``nn.Hardswish``)."""
    type: Literal["HardSwish"] = "HardSwish"


class Activation(_Elementwise):
    """An activation by name (Keras ``Activation``; torch: the matching module). A final
    ``softmax`` makes the output probabilities; see ``Softmax`` for logits."""
    positional: ClassVar[tuple[str, ...]] = ("activation",)
    type: Literal["Activation"] = "Activation"
    activation: ActivationName


class Softmax(Layer):
    """exp(x) / sum(exp(x)) along ``axis`` (Keras ``Softmax``, torch ``nn.Softmax(dim)``);
    ``axis`` counts the batch as 0, in the spec's layout, as Keras does. A final softmax
    makes the model output probabilities; compile with ``logits=True`` (``--logits``) to
    drop it and train with torch's ``CrossEntropyLoss`` or Keras'
    ``SparseCategoricalCrossentropy(from_logits=True)``."""
    positional: ClassVar[tuple[str, ...]] = ("axis",)
    kind: ClassVar[str] = "activation"
    type: Literal["Softmax"] = "Softmax"
    axis: int = -1

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        axis = canonical_axis(self.axis, len(shape), channels_first)
        return Inferred(shape, resolved={"axis": axis})


class PReLU(Layer):
    """x for x >= 0, alpha * x below, with a learned slope ``alpha`` per input element (Keras
    ``PReLU``). ``shared_axes`` share one slope along those axes: on a channels-last image
    ``shared_axes: [1, 2]`` gives one slope per channel, which is torch's
    ``nn.PReLU(num_parameters=C)``; other sharings compile to torch as the ``KerasPReLU``
    helper, whose ``weight`` has one slope per position, (C, *spatial)."""
    positional: ClassVar[tuple[str, ...]] = ("alpha_initializer",)
    argument_docs: ClassVar[dict[str, str]] = {
        "alpha_initializer": "Keras initializer name of the slopes (Keras' default: zeros)",
        "shared_axes": "axes along which one slope is shared, in Keras' counting (the batch "
                       "is 0, so 1 is the first axis after it), in the spec's layout"}
    kind: ClassVar[str] = "activation"
    overwritable_output: ClassVar[bool] = True  # its backward reads the input and alpha
    # A fresh alpha is 0 (a ReLU), which would hide a mix-up of its entries in ``verify``.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("alpha", "weight", "per_position", verify_range=(-0.5, 0.5)),)
    type: Literal["PReLU"] = "PReLU"
    alpha_initializer: InitializerName = "zeros"
    shared_axes: Optional[tuple[int, ...]] = None

    @field_validator("shared_axes", mode="before")
    @classmethod
    def _axes(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)  # Keras takes one axis as a bare int too
        if isinstance(value, (list, tuple)) and any(
                not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value):
            # Keras reads a negative axis as one place off (param_shape[axis - 1]): refused.
            raise ValueError("shared_axes are axes after the batch: integers from 1")
        return value

    def alpha_shape(self, shape: Shape, channels_first: bool = False) -> Shape:
        """The canonical (channels-last) shape of alpha: the input's, 1 on shared axes."""
        alpha = list(shape)
        for axis in self.shared_axes or ():
            try:
                alpha[canonical_axis(axis, len(shape), channels_first)] = 1
            except ShapeError as exc:
                raise ShapeError(str(exc), field="shared_axes") from None
        return tuple(alpha)

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"alpha": self.alpha_shape(inputs[0], channels_first)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        alpha = self.alpha_shape(shape, channels_first)
        return Inferred(shape, trainable=product(alpha), resolved={"alpha_shape": alpha})
