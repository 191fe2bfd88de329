"""Output-size formulas, one place for each; convolution, depthwise, transposed and pooling
layers all call these. Pure integer arithmetic on one spatial dimension at a time.

The course's formula is ``O = floor((W - K + 2P) / S) + 1``; here padding may differ on each
side (Keras' "same" puts the odd pixel after), so it is written ``(W + before + after - K_eff)``.
"""

from __future__ import annotations

from .errors import ShapeError


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel.

    >>> effective_kernel(3, 2)
    5
    """
    return (kernel - 1) * dilation + 1


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras/TensorFlow "same": output = ceil(length / stride); the odd pixel goes after.

    >>> same_padding(224, 7, 2)
    (2, 3)
    >>> same_padding(112, 3, 2)
    (0, 1)
    >>> same_padding(56, 3, 1)
    (1, 1)
    """
    k = effective_kernel(kernel, dilation)
    out = -(-length // stride)
    total = max((out - 1) * stride + k - length, 0)
    return total // 2, total - total // 2


def conv_output_length(length: int, kernel: int, stride: int, pad: tuple[int, int],
                       dilation: int = 1) -> int:
    """floor((W + before + after - K_eff) / S) + 1, the course's formula with per-side padding.

    >>> conv_output_length(28, 3, 1, (0, 0))
    26
    >>> conv_output_length(227, 11, 4, (0, 0))
    55
    >>> conv_output_length(224, 7, 2, (3, 3))
    112
    """
    k = effective_kernel(kernel, dilation)
    padded = length + pad[0] + pad[1]
    if k > padded:
        raise ShapeError(
            f"kernel extent {k} is larger than the padded input length {padded}",
            hint="use a smaller kernel_size or padding: same, or remove a downsampling layer "
                 "before this one")
    return (padded - k) // stride + 1


def pool_output_length(length: int, pool: int, stride: int, pad: tuple[int, int],
                       ceil_mode: bool = False) -> int:
    """Pooling output length; with ``ceil_mode`` a last partial window is kept, as in PyTorch,
    unless it would start inside the right padding.

    >>> pool_output_length(13, 2, 2, (0, 0))
    6
    >>> pool_output_length(112, 3, 2, (0, 0), ceil_mode=True)
    56
    >>> pool_output_length(5, 2, 2, (1, 1), ceil_mode=True)  # a 4th would start in padding
    3
    """
    padded = length + pad[0] + pad[1]
    if pool > padded:
        raise ShapeError(
            f"pool_size {pool} is larger than the padded input length {padded}",
            hint="use a smaller pool_size or padding: same, or remove a downsampling layer "
                 "before this one")
    if not ceil_mode:
        return (padded - pool) // stride + 1
    out = -(-(padded - pool) // stride) + 1
    if (out - 1) * stride >= length + pad[0]:
        out -= 1
    return out


def pool_trailing_pad(length: int, pool: int, stride: int, pad: tuple[int, int],
                      out: int) -> int:
    """Cells past the input that the last window reaches (the implicit ceil-mode padding
    included); backends that cannot round up pad this much explicitly.

    >>> pool_trailing_pad(112, 3, 2, (0, 0), 56)
    1
    """
    return max((out - 1) * stride + pool - length - pad[0], 0)


def transposed_output_length(length: int, kernel: int, stride: int, padding: str,
                             output_padding: int | None = None, dilation: int = 1) -> int:
    """Keras' ``deconv_output_length``.

    >>> transposed_output_length(7, 3, 2, "same")
    14
    >>> transposed_output_length(7, 3, 2, "valid")
    15
    >>> transposed_output_length(7, 2, 2, "valid")
    14
    """
    k = effective_kernel(kernel, dilation)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(k - stride, 0)
        return length * stride
    pad = k // 2 if padding == "same" else 0
    return (length - 1) * stride + k - 2 * pad + output_padding


def transposed_crop(length: int, kernel: int, stride: int, padding: str, out: int,
                    dilation: int = 1) -> tuple[int, int]:
    """Where the ``out`` cells sit in the full transposed result of length (L-1)*S + K_eff:
    (cells cropped before, cells cropped after); a negative "after" means zeros appended.

    >>> transposed_crop(7, 3, 2, "same", 14)
    (0, 1)
    >>> transposed_crop(7, 4, 2, "same", 14)
    (1, 1)
    """
    full = (length - 1) * stride + effective_kernel(kernel, dilation)
    before = max(full - out, 0) // 2 if padding == "same" else 0
    return before, full - out - before
