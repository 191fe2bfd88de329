"""Pooling: max and average over windows, and global pooling.

Rounding (``floor`` or ``ceil``) and whether padded cells count in an average are fields, not
backend accidents: torchvision's GoogLeNet needs ``ceil``; Keras' "same" average excludes the
padding. Each backend reproduces the meaning resolved here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional

from pydantic import field_validator

from .. import shapes
from ..errors import ShapeError
from .base import (
    GLOBAL,
    Inferred,
    Layer,
    PaddingArg,
    Shape,
    Window,
    normalize_padding,
    require_rank,
    tuple_validator,
)


class _Pool(Layer):
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "pool"
    positional: ClassVar[tuple[str, ...]] = ("pool_size", "strides", "padding")
    pool_size: tuple[int, ...] = 2  # type: ignore[assignment]
    strides: Optional[tuple[int, ...]] = None  # default: pool_size, as in Keras
    padding: PaddingArg = "valid"
    rounding: Literal["floor", "ceil"] = "floor"

    _tuples = tuple_validator("pool_size", "strides")

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        return normalize_padding(value, cls.rank)

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        require_rank(shape, self.rank, self.type_name)
        pool = self.pool_size
        strides = self.strides or pool
        spatial = shape[:-1]
        if self.padding == "same":
            pads = tuple(shapes.same_padding(n, k, s) for n, k, s in zip(spatial, pool, strides))
        else:
            pads = self.padding
        ceil = self.rounding == "ceil"
        out = tuple(shapes.pool_output_length(n, k, s, p, ceil)
                    for n, k, s, p in zip(spatial, pool, strides, pads))
        for n, k, s, (before, _), o in zip(spatial, pool, strides, pads, out):
            if before >= k or (o - 1) * s >= n + before:
                raise ShapeError(
                    f"with padding {list(pads)} some pooling windows would cover only padding "
                    f"(pool_size {list(pool)}, input {list(spatial)})",
                    hint="use padding of at most half the pool_size on each side, or "
                         "padding: same", field="padding")
        # The padding every window actually reaches, ceil-mode overhang included.
        effective = tuple((p[0], shapes.pool_trailing_pad(n, k, s, p, o))
                          for n, k, s, p, o in zip(spatial, pool, strides, pads, out))
        return Inferred(out + (shape[-1],), window=Window(pool, strides),
                        resolved={"pads": pads, "effective_pads": effective, "pool": pool,
                                  "strides": strides})


class _MaxPool(_Pool):
    """The largest value in each window (Keras ``MaxPooling1D``/``2D``/``3D``, torch
    ``nn.MaxPool1d``/``2d``/``3d``). ``strides`` default to ``pool_size``, as in Keras;
    ``rounding: ceil`` is torch's ``ceil_mode``, reproduced in Keras too."""


class _AvgPool(_Pool):
    """The mean of each window (Keras ``AveragePooling1D``/``2D``/``3D``, torch
    ``nn.AvgPool1d``/``2d``/``3d``). ``strides`` default to ``pool_size``. Padded cells do
    not count in the mean unless ``count_include_pad`` (Keras' meaning; torch's default
    counts them)."""
    count_include_pad: bool = False  # Keras' meaning: padded cells do not dilute the mean


class MaxPooling1D(_MaxPool):
    rank: ClassVar[int] = 1
    type: Literal["MaxPooling1D"] = "MaxPooling1D"


class MaxPooling2D(_MaxPool):
    type: Literal["MaxPooling2D"] = "MaxPooling2D"


class MaxPooling3D(_MaxPool):
    rank: ClassVar[int] = 3
    type: Literal["MaxPooling3D"] = "MaxPooling3D"


class AveragePooling1D(_AvgPool):
    rank: ClassVar[int] = 1
    type: Literal["AveragePooling1D"] = "AveragePooling1D"


class AveragePooling2D(_AvgPool):
    type: Literal["AveragePooling2D"] = "AveragePooling2D"


class AveragePooling3D(_AvgPool):
    rank: ClassVar[int] = 3
    type: Literal["AveragePooling3D"] = "AveragePooling3D"


class _GlobalPool(Layer):
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "pool"
    keepdims: bool = False

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        require_rank(shape, self.rank, self.type_name)
        out = (1,) * self.rank + (shape[-1],) if self.keepdims else (shape[-1],)
        return Inferred(out, window=GLOBAL)


class GlobalAveragePooling1D(_GlobalPool):
    """The mean over the length, per channel (Keras ``GlobalAveragePooling1D``; torch
    ``x.mean``)."""
    rank: ClassVar[int] = 1
    type: Literal["GlobalAveragePooling1D"] = "GlobalAveragePooling1D"


class GlobalAveragePooling2D(_GlobalPool):
    """The mean over height and width, per channel (Keras ``GlobalAveragePooling2D``; torch
    ``nn.AdaptiveAvgPool2d(1)`` then flatten)."""
    type: Literal["GlobalAveragePooling2D"] = "GlobalAveragePooling2D"


class GlobalAveragePooling3D(_GlobalPool):
    """The mean over depth, height and width, per channel (Keras ``GlobalAveragePooling3D``;
    torch ``nn.AdaptiveAvgPool3d(1)`` then flatten)."""
    rank: ClassVar[int] = 3
    type: Literal["GlobalAveragePooling3D"] = "GlobalAveragePooling3D"


class GlobalMaxPooling1D(_GlobalPool):
    """The maximum over the length, per channel (Keras ``GlobalMaxPooling1D``; torch
    ``x.amax``)."""
    rank: ClassVar[int] = 1
    type: Literal["GlobalMaxPooling1D"] = "GlobalMaxPooling1D"


class GlobalMaxPooling2D(_GlobalPool):
    """The maximum over height and width, per channel (Keras ``GlobalMaxPooling2D``; torch
    ``nn.AdaptiveMaxPool2d(1)`` then flatten)."""
    type: Literal["GlobalMaxPooling2D"] = "GlobalMaxPooling2D"


class GlobalMaxPooling3D(_GlobalPool):
    """The maximum over depth, height and width, per channel (Keras ``GlobalMaxPooling3D``;
    torch ``nn.AdaptiveMaxPool3d(1)`` then flatten)."""
    rank: ClassVar[int] = 3
    type: Literal["GlobalMaxPooling3D"] = "GlobalMaxPooling3D"
