"""Dense, normalization, regularization and reshaping layers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Literal, Optional

from pydantic import Field, field_validator

from ..errors import ShapeError
from .base import (
    GLOBAL,
    ActivationName,
    Inferred,
    InitializerName,
    Layer,
    MaxNorm,
    Regularizer,
    Shape,
    WeightSlot,
    Window,
    bias_slot,
    normalize_padding,
    product,
    require_rank,
    tuple_validator,
)


class Dense(Layer):
    """Fully connected layer (Keras ``Dense``, torch ``nn.Linear``): ``activation(x @ kernel +
    bias)``. On an input that still has spatial dimensions it acts on the last axis at every
    position, as Keras does; ``archspec check`` warns on a feature map (not on a sequence,
    where transformers mean it), since that is usually a forgotten ``Flatten``."""
    positional: ClassVar[tuple[str, ...]] = ("units", "activation", "use_bias",
                                             "kernel_initializer", "bias_initializer",
                                             "kernel_regularizer")
    kind: ClassVar[str] = "dense"
    overwritable_output: ClassVar[bool] = True
    slots: ClassVar[tuple[WeightSlot, ...]] = (WeightSlot("kernel", "weight", "dense"),
                                               bias_slot())
    type: Literal["Dense"] = "Dense"
    units: int = Field(ge=1)
    activation: Optional[ActivationName] = None
    use_bias: bool = True
    kernel_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"
    kernel_regularizer: Optional[Regularizer] = None
    kernel_constraint: Optional[MaxNorm] = None

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"kernel": (inputs[0][-1], self.units), "bias": (self.units,)}

    def fused_activation(self) -> Optional[str]:
        return self.activation

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        features = shape[-1]
        result = Inferred(shape[:-1] + (self.units,),
                          trainable=features * self.units + self.units * self.use_bias,
                          macs=product(shape[:-1]) * features * self.units,
                          window=GLOBAL if len(shape) == 1 else None,
                          resolved={"in_features": features})
        if len(shape) > 2:  # not on a sequence (length, features): transformers mean that
            result.warnings.append((
                f"Dense receives a {len(shape)}-D input {list(shape)} and acts on the channel "
                f"axis only, at every position",
                "add Flatten or GlobalAveragePooling2D before it, unless a per-position Dense "
                "is what you mean"))
        return result


class Flatten(Layer):
    """All but the batch dimension in one (Keras ``Flatten``, torch ``nn.Flatten``), in the
    spec's element order: the torch model of a channels-last spec reorders first, unless only
    Dense layers read the result (weight exchange then permutes their rows instead)."""
    kind: ClassVar[str] = "reshape"
    type: Literal["Flatten"] = "Flatten"

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        return Inferred((product(shape),), window=GLOBAL if len(shape) > 1 else None)


class Reshape(Layer):
    """The same values in a new shape (Keras ``Reshape``; torch ``x.reshape``).
    ``target_shape`` is written in the spec's layout, without the batch dimension; one entry
    may be -1."""
    positional: ClassVar[tuple[str, ...]] = ("target_shape",)
    kind: ClassVar[str] = "reshape"
    type: Literal["Reshape"] = "Reshape"
    target_shape: tuple[int, ...]

    @field_validator("target_shape")
    @classmethod
    def _target(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(v == 0 or v < -1 for v in value) or list(value).count(-1) > 1:
            raise ValueError("target_shape needs positive sizes and at most one -1")
        return value

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        total = product(shape)
        target = list(self.target_shape)
        known = product(v for v in target if v != -1)
        if -1 in target:
            if total % known:
                raise ShapeError(f"cannot reshape {total} values into {target}: {total} is not "
                                 f"divisible by {known}", field="target_shape")
            target[target.index(-1)] = total // known
        elif known != total:
            raise ShapeError(f"cannot reshape {list(shape)} ({total} values) into {target} "
                             f"({known} values)", field="target_shape")
        if channels_first and len(target) > 1:
            target = target[1:] + target[:1]
        return Inferred(tuple(target), window=None)


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training and scales the rest by
    1 / (1 - rate) (Keras ``Dropout``, torch ``nn.Dropout``); the identity at inference."""
    positional: ClassVar[tuple[str, ...]] = ("rate",)
    kind: ClassVar[str] = "regularization"
    type: Literal["Dropout"] = "Dropout"
    rate: float = Field(ge=0, lt=1)

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        return Inferred(inputs[0])


class BatchNormalization(Layer):
    """Normalizes each channel with batch statistics while training and moving averages at
    inference (Keras ``BatchNormalization``, torch ``nn.BatchNorm2d``), on the channel axis.
    Keras' conventions: ``momentum`` weights the old moving average (torch's momentum is
    1 - this) and ``epsilon`` defaults to 1e-3 (torch: 1e-5); gamma/beta are trainable, the
    moving mean and variance are not."""
    kind: ClassVar[str] = "norm"
    overwritable_output: ClassVar[bool] = True
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("gamma", "weight", "vector", when="scale", verify_range=(0.5, 1.5)),
        WeightSlot("beta", "bias", "vector", when="center", verify_range=(-0.5, 0.5)),
        WeightSlot("moving_mean", "running_mean", "vector", trainable=False,
                   verify_range=(-0.5, 0.5)),
        WeightSlot("moving_variance", "running_var", "vector", trainable=False,
                   verify_range=(0.5, 1.5)))
    type: Literal["BatchNormalization"] = "BatchNormalization"
    momentum: float = Field(0.99, ge=0, le=1)
    epsilon: float = Field(1e-3, gt=0)
    center: bool = True
    scale: bool = True

    def weight_slots(self, inputs: Optional[list[Shape]] = None) -> tuple[WeightSlot, ...]:
        slots = super().weight_slots()
        if self.center == self.scale:
            return slots
        # With only one of gamma/beta the torch backend wraps an affine-free BatchNorm (the
        # PartialAffineBatchNorm helper, as ``norm``): the statistics live there.
        return tuple(s if s.trainable else replace(s, torch="norm." + s.torch) for s in slots)

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {slot.keras: (inputs[0][-1],) for slot in self.slots}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        channels = shape[-1]
        return Inferred(shape, trainable=channels * (self.center + self.scale),
                        non_trainable=2 * channels)


class _ZeroPadding(Layer):
    """Pads the spatial dimensions with zeros (Keras ``ZeroPadding2D``, torch
    ``nn.ZeroPad2d``)."""
    argument_docs: ClassVar[dict[str, str]] = {
        "padding": "an int (every side), one int per dimension, or [before, after] pairs"}
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "padding"
    positional: ClassVar[tuple[str, ...]] = ("padding",)
    padding: Any = 1

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("padding must be an integer, a list of integers, or "
                             "[before, after] pairs")
        return normalize_padding(value, cls.rank)

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        require_rank(shape, self.rank, self.type_name)
        out = tuple(n + b + a for n, (b, a) in zip(shape[:-1], self.padding))
        return Inferred(out + (shape[-1],), resolved={"pads": self.padding})


class ZeroPadding1D(_ZeroPadding):
    rank: ClassVar[int] = 1
    type: Literal["ZeroPadding1D"] = "ZeroPadding1D"


class ZeroPadding2D(_ZeroPadding):
    type: Literal["ZeroPadding2D"] = "ZeroPadding2D"


class _UpSampling(Layer):
    """Enlarges the spatial dimensions ``size`` times, repeating values (``nearest``) or
    interpolating (``bilinear``) (Keras ``UpSampling2D``, torch ``nn.Upsample``)."""
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "resample"
    positional: ClassVar[tuple[str, ...]] = ("size",)
    size: tuple[int, ...] = 2  # type: ignore[assignment]
    interpolation: Literal["nearest", "bilinear"] = "nearest"

    _tuples = tuple_validator("size")

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        require_rank(shape, self.rank, self.type_name)
        size = self.size
        if self.interpolation == "bilinear" and self.rank != 2:
            raise ShapeError("bilinear interpolation needs a 2-D input", field="interpolation")
        out = tuple(n * s for n, s in zip(shape[:-1], size))
        return Inferred(out + (shape[-1],), window=Window((1,) * self.rank, size, upsample=True),
                        resolved={"size": size})


class UpSampling1D(_UpSampling):
    rank: ClassVar[int] = 1
    type: Literal["UpSampling1D"] = "UpSampling1D"


class UpSampling2D(_UpSampling):
    type: Literal["UpSampling2D"] = "UpSampling2D"
