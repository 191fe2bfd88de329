"""Layers that join branches: residual ``Add``, gating ``Multiply``, Inception's
``Concatenate``."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..errors import ShapeError
from .activation import canonical_axis
from .base import Inferred, Layer, Shape


def _listed(inputs: list[Shape], channels_first: bool) -> str:
    """The input shapes as the spec writes them (its own layout), for messages."""
    def spec(shape: Shape) -> list[int]:
        return [shape[-1], *shape[:-1]] if channels_first and len(shape) > 1 else list(shape)
    return ", ".join(str(spec(s)) for s in inputs)


class _Elementwise(Layer):
    """Inputs of one rank whose sizes agree or are 1 on each axis broadcast, as numpy, Keras
    and torch all compute them: (1, 1, C) against (H, W, C) is squeeze-excitation's gate.
    Inputs of different ranks are refused: Keras aligns a shorter shape with the channels-last
    model's trailing axes, numpy with the spec's, and in a channels-first spec those differ.
    Element-wise, so 0 MACs, as for every element-wise layer."""
    kind: ClassVar[str] = "merge"
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[Optional[int]] = None

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        ranks = {len(s) for s in inputs}
        if len(ranks) > 1:
            raise ShapeError(
                f"{self.type_name} needs inputs of one rank, got "
                f"{_listed(inputs, channels_first)}",
                hint="keep the size-1 axes of the smaller input (GlobalAveragePooling2D with "
                     "keepdims: true gives (1, 1, C)), or Reshape it to the same rank")
        out = tuple(max(sizes) for sizes in zip(*inputs))
        if any(n not in (1, size) for s in inputs for n, size in zip(s, out)):
            raise ShapeError(
                f"{self.type_name} needs inputs of one shape, got "
                f"{_listed(inputs, channels_first)}; only sizes of 1 may differ (they "
                f"broadcast)",
                hint="give the shortcut branch a 1x1 Conv2D with the same filters and "
                     "strides as the main branch, or fix the spatial size")
        return Inferred(out)


class Add(_Elementwise):
    """The element-wise sum of two or more inputs of one shape (Keras ``Add``; torch
    ``a + b``): a residual connection, ``Add: {inputs: [shortcut, main]}``. Sizes of 1
    broadcast, as in numpy (same rank only)."""
    overwritable_output: ClassVar[bool] = True
    runs_in_place: ClassVar[bool] = True  # into an operand nothing else reads
    type: Literal["Add"] = "Add"


class Multiply(_Elementwise):
    """The element-wise product of two or more inputs of one shape (Keras ``Multiply``;
    torch ``a * b``), e.g. a gate; sizes of 1 broadcast, as in numpy (same rank only), so a
    squeeze-excitation gate of shape (1, 1, C) scales an (H, W, C) map."""
    type: Literal["Multiply"] = "Multiply"


class Concatenate(Layer):
    """Joins two or more inputs along ``axis`` (Keras ``Concatenate``, torch ``torch.cat``);
    ``axis`` counts the batch as 0, in the spec's layout (-1: channels of a channels-last
    spec), as Keras does. The other dimensions must agree."""
    positional: ClassVar[tuple[str, ...]] = ("axis",)
    kind: ClassVar[str] = "merge"
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[Optional[int]] = None
    type: Literal["Concatenate"] = "Concatenate"
    axis: int = -1

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        ranks = {len(s) for s in inputs}
        if len(ranks) > 1:
            raise ShapeError("Concatenate needs inputs of one rank, got "
                             + _listed(inputs, channels_first))
        rank = ranks.pop()
        axis = canonical_axis(self.axis, rank, channels_first)
        rest = {s[:axis] + s[axis + 1:] for s in inputs}
        if len(rest) > 1:
            raise ShapeError(
                f"Concatenate along axis {self.axis} needs equal sizes on every other axis, "
                f"got {_listed(inputs, channels_first)}",
                hint="give every branch the same strides and padding: same, so the spatial "
                     "sizes agree")
        total = sum(s[axis] for s in inputs)
        shape = inputs[0][:axis] + (total,) + inputs[0][axis + 1:]
        return Inferred(shape, resolved={"axis": axis})
