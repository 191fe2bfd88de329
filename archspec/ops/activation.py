"""Activation layers. Slopes and axes are always explicit in the IR: LeakyReLU has no default
slope, because Keras (0.3) and PyTorch (0.01) disagree and the course uses 0.01."""

from __future__ import annotations

import math
from typing import ClassVar, Literal, Optional

from pydantic import Field, field_validator

from ..errors import ShapeError
from .base import ActivationName, Inferred, Layer, Shape


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
    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        return Inferred(inputs[0])


class ReLU(_Elementwise):
    """max(x, 0), optionally capped at ``max_value`` (6 gives ReLU6) and leaky below
    ``threshold``, as in keras.layers.ReLU (torch ``nn.ReLU``, ``nn.ReLU6``)."""
    positional: ClassVar[tuple[str, ...]] = ("max_value", "negative_slope", "threshold")
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
    type: Literal["Softmax"] = "Softmax"
    axis: int = -1

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        axis = canonical_axis(self.axis, len(shape), channels_first)
        return Inferred(shape, resolved={"axis": axis})
