"""Activation layers. Slopes and axes are always explicit in the IR: LeakyReLU has no default
slope, because Keras (0.3) and PyTorch (0.01) disagree and the course uses 0.01."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from pydantic import Field

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
    ``threshold``, as in keras.layers.ReLU."""
    type: Literal["ReLU"] = "ReLU"
    max_value: Optional[float] = Field(None, gt=0)
    negative_slope: float = Field(0.0, ge=0)
    threshold: float = 0.0


class LeakyReLU(_Elementwise):
    positional: ClassVar[tuple[str, ...]] = ("negative_slope",)
    type: Literal["LeakyReLU"] = "LeakyReLU"
    negative_slope: float = Field(ge=0)


class ELU(_Elementwise):
    type: Literal["ELU"] = "ELU"
    alpha: float = 1.0


class Sigmoid(_Elementwise):
    type: Literal["Sigmoid"] = "Sigmoid"


class Tanh(_Elementwise):
    type: Literal["Tanh"] = "Tanh"


class GELU(_Elementwise):
    """Exact (erf) GELU unless ``approximate`` (tanh form); PyTorch defaults to exact, Keras'
    layer-free ``ops.gelu`` to approximate, so the spec states it."""
    type: Literal["GELU"] = "GELU"
    approximate: bool = False


class SiLU(_Elementwise):
    type: Literal["SiLU"] = "SiLU"


class Activation(_Elementwise):
    positional: ClassVar[tuple[str, ...]] = ("activation",)
    type: Literal["Activation"] = "Activation"
    activation: ActivationName


class Softmax(Layer):
    type: Literal["Softmax"] = "Softmax"
    axis: int = -1

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        axis = canonical_axis(self.axis, len(shape), channels_first)
        return Inferred(shape, resolved={"axis": axis})
