"""Convolutions: standard, depthwise, separable and transposed, for 1-D and 2-D inputs (and
3-D for the standard one).

One base class per family; the classes of one family differ only in ``rank`` and their tag.
Parameters and MACs follow Keras/PyTorch exactly (MACs: one multiply-add per kernel tap per
output element; bias additions are not counted — the fvcore convention).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional

from pydantic import Field, field_validator, model_validator

from .. import shapes
from ..errors import ShapeError
from .base import (
    ActivationName,
    Inferred,
    InitializerName,
    Layer,
    MaxNorm,
    PaddingArg,
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


class _Windowed(Layer):
    """Shared by every sliding-window layer: kernel, strides, padding, dilation."""

    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "conv"
    overwritable_output: ClassVar[bool] = True
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...] = 1  # type: ignore[assignment]
    padding: PaddingArg = "valid"
    dilation_rate: tuple[int, ...] = 1  # type: ignore[assignment]
    use_bias: bool = True
    activation: Optional[ActivationName] = None

    _tuples = tuple_validator("kernel_size", "strides", "dilation_rate")

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        return normalize_padding(value, cls.rank)

    @model_validator(mode="after")
    def _stride_or_dilation(self):
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("strides > 1 and dilation_rate > 1 cannot be combined "
                             "(Keras rejects it)")
        return self

    def _output_spatial(self, shape: Shape) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        require_rank(shape, self.rank, self.type_name)
        spatial = shape[:-1]
        strides, dilation = self.strides, self.dilation_rate
        if self.padding == "same":
            pads = tuple(shapes.same_padding(n, k, s, d) for n, k, s, d
                         in zip(spatial, self.kernel_size, strides, dilation))
        else:
            pads = self.padding
        out = tuple(shapes.conv_output_length(n, k, s, p, d) for n, k, s, p, d
                    in zip(spatial, self.kernel_size, strides, pads, dilation))
        return out, pads

    def fused_activation(self) -> Optional[str]:
        return self.activation

    def _window(self) -> Window:
        return Window(tuple(shapes.effective_kernel(k, d) for k, d
                            in zip(self.kernel_size, self.dilation_rate)), self.strides)


class _Conv(_Windowed):
    """Convolution (Keras ``Conv1D``/``2D``/``3D``, torch ``nn.Conv1d``/``2d``/``3d``):
    ``filters`` kernels slide over the input. Beyond Keras, ``padding`` also takes torch-style
    integers and [before, after] pairs; ``same`` pads as TensorFlow does (an odd pixel goes
    after), which the torch model reproduces exactly."""
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size", "strides", "padding")
    filters: int = Field(ge=1)
    groups: int = Field(1, ge=1)
    kernel_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"
    kernel_regularizer: Optional[Regularizer] = None
    kernel_constraint: Optional[MaxNorm] = None
    slots: ClassVar[tuple[WeightSlot, ...]] = (WeightSlot("kernel", "weight", "conv"),
                                               bias_slot())

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"kernel": self.kernel_size + (inputs[0][-1] // self.groups, self.filters),
                "bias": (self.filters,)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        out, pads = self._output_spatial(shape)
        cin = shape[-1]
        if cin % self.groups or self.filters % self.groups:
            raise ShapeError(f"groups={self.groups} must divide both the input channels ({cin}) "
                             f"and filters ({self.filters})", field="groups")
        taps = product(self.kernel_size) * (cin // self.groups)
        weights = taps * self.filters
        return Inferred(out + (self.filters,), trainable=weights + self.filters * self.use_bias,
                        macs=product(out) * self.filters * taps, window=self._window(),
                        resolved={"pads": pads, "in_channels": cin})


class Conv1D(_Conv):
    rank: ClassVar[int] = 1
    type: Literal["Conv1D"] = "Conv1D"


class Conv2D(_Conv):
    type: Literal["Conv2D"] = "Conv2D"


class Conv3D(_Conv):
    rank: ClassVar[int] = 3
    type: Literal["Conv3D"] = "Conv3D"


class _Depthwise(_Windowed):
    """Depthwise convolution (Keras ``DepthwiseConv2D``, torch ``nn.Conv2d`` with ``groups``
    = input channels): each input channel gets its own ``depth_multiplier`` kernels, so the
    output has input channels x depth_multiplier channels. Padding as for ``Conv2D``."""
    positional: ClassVar[tuple[str, ...]] = ("kernel_size", "strides", "padding",
                                             "depth_multiplier")
    depth_multiplier: int = Field(1, ge=1)
    depthwise_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"
    depthwise_regularizer: Optional[Regularizer] = None
    depthwise_constraint: Optional[MaxNorm] = None
    # Keras 3 names a depthwise kernel "kernel" too; torch holds it as a grouped convolution's.
    slots: ClassVar[tuple[WeightSlot, ...]] = (WeightSlot("kernel", "weight", "depthwise"),
                                               bias_slot())

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        cin = inputs[0][-1]
        return {"kernel": self.kernel_size + (cin, self.depth_multiplier),
                "bias": (cin * self.depth_multiplier,)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        out, pads = self._output_spatial(shape)
        channels = shape[-1] * self.depth_multiplier
        taps = product(self.kernel_size)
        return Inferred(out + (channels,), trainable=taps * channels + channels * self.use_bias,
                        macs=product(out) * channels * taps, window=self._window(),
                        resolved={"pads": pads, "in_channels": shape[-1]})


class DepthwiseConv1D(_Depthwise):
    rank: ClassVar[int] = 1
    type: Literal["DepthwiseConv1D"] = "DepthwiseConv1D"


class DepthwiseConv2D(_Depthwise):
    type: Literal["DepthwiseConv2D"] = "DepthwiseConv2D"


class _Separable(_Windowed):
    """Separable convolution (Keras ``SeparableConv2D``; torch: a depthwise ``nn.Conv2d``
    without bias, then a 1x1 ``nn.Conv2d`` with bias): cheaper than a full convolution with
    the same ``filters`` and ``kernel_size``. Padding as for ``Conv2D``."""
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size", "strides", "padding")
    filters: int = Field(ge=1)
    depth_multiplier: int = Field(1, ge=1)
    depthwise_initializer: InitializerName = "glorot_uniform"
    pointwise_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"
    # torch: the SeparableConv helper's two convolutions; the bias is the pointwise one's.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("depthwise_kernel", "depthwise.weight", "depthwise"),
        WeightSlot("pointwise_kernel", "pointwise.weight", "conv"), bias_slot("pointwise.bias"))

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        cin = inputs[0][-1]
        return {"depthwise_kernel": self.kernel_size + (cin, self.depth_multiplier),
                "pointwise_kernel": (1,) * self.rank + (cin * self.depth_multiplier,
                                                        self.filters),
                "bias": (self.filters,)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        out, pads = self._output_spatial(shape)
        mid = shape[-1] * self.depth_multiplier
        taps = product(self.kernel_size)
        params = taps * mid + mid * self.filters + self.filters * self.use_bias
        macs = product(out) * (mid * taps + mid * self.filters)
        return Inferred(out + (self.filters,), trainable=params, macs=macs,
                        window=self._window(), resolved={"pads": pads, "in_channels": shape[-1]})


class SeparableConv1D(_Separable):
    rank: ClassVar[int] = 1
    type: Literal["SeparableConv1D"] = "SeparableConv1D"


class SeparableConv2D(_Separable):
    type: Literal["SeparableConv2D"] = "SeparableConv2D"


class _Transpose(_Windowed):
    """Transposed convolution (Keras ``Conv2DTranspose``, torch ``nn.ConvTranspose2d``): the
    gradient of a convolution, upsampling by ``strides``. ``padding`` is ``valid`` or ``same``
    with Keras' output sizes, which the torch model reproduces."""
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size", "strides", "padding",
                                             "output_padding")
    filters: int = Field(ge=1)
    padding: Literal["valid", "same"] = "valid"  # type: ignore[assignment]
    output_padding: Optional[tuple[int, ...]] = None
    # Left out of in-place overwrites, as the torch backend always has (its trimmed form
    # returns a narrowed view of a larger output).
    overwritable_output: ClassVar[bool] = False
    # Keras' kernel is (*k, out, in), torch's (in, out, *k): the convolution's permutation.
    slots: ClassVar[tuple[WeightSlot, ...]] = (WeightSlot("kernel", "weight", "conv"),
                                               bias_slot())
    kernel_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"
    kernel_regularizer: Optional[Regularizer] = None
    kernel_constraint: Optional[MaxNorm] = None

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        if value not in ("valid", "same"):
            raise ValueError("transposed convolutions take padding 'valid' or 'same'")
        return value

    @field_validator("output_padding", mode="before")
    @classmethod
    def _output_padding(cls, value: Any) -> Any:
        if value is None:
            return None
        values = (value,) * cls.rank if isinstance(value, int) else value
        if not isinstance(values, (list, tuple)) or len(values) != cls.rank or any(
                not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
            raise ValueError(f"output_padding must be a non-negative integer or {cls.rank} of them")
        return tuple(values)

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"kernel": self.kernel_size + (self.filters, inputs[0][-1]),
                "bias": (self.filters,)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        require_rank(shape, self.rank, self.type_name)
        spatial, strides, dilation = shape[:-1], self.strides, self.dilation_rate
        extra = self.output_padding or (None,) * self.rank
        for op, s, d in zip(extra, strides, dilation):
            if op is not None and op >= max(s, d):
                raise ShapeError(f"output_padding {op} must be smaller than the stride "
                                 f"or dilation ({max(s, d)})", field="output_padding")
        out = tuple(shapes.transposed_output_length(n, k, s, self.padding, op, d)
                    for n, k, s, op, d in zip(spatial, self.kernel_size, strides, extra, dilation))
        crops = tuple(shapes.transposed_crop(n, k, s, self.padding, o, d)
                      for n, k, s, o, d in zip(spatial, self.kernel_size, strides, out, dilation))
        cin = shape[-1]
        taps = product(self.kernel_size) * cin
        window = Window(self._window().kernel, strides, upsample=True)
        return Inferred(out + (self.filters,),
                        trainable=taps * self.filters + self.filters * self.use_bias,
                        macs=product(spatial) * taps * self.filters, window=window,
                        resolved={"crops": crops, "in_channels": cin})


class Conv1DTranspose(_Transpose):
    rank: ClassVar[int] = 1
    type: Literal["Conv1DTranspose"] = "Conv1DTranspose"


class Conv2DTranspose(_Transpose):
    type: Literal["Conv2DTranspose"] = "Conv2DTranspose"
