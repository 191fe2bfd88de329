"""Helpers that generated PyTorch models need where torch has no exact equivalent of a spec's
meaning. This file is never imported by archspec itself: the code generator copies the
definitions a model uses into the generated source (which must run without archspec), and the
tests import it to check each helper on its own.

Every definition here is self-contained: it uses only ``math``, ``torch``, ``nn`` and ``F``.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

# Keras draws "*_normal" initializers from a normal truncated at two standard deviations and
# rescales so the truncated distribution keeps the intended variance.
_TRUNCATED_STD = 0.87962566103423978


def keras_init_(tensor, scheme, fan_in, fan_out):
    """Fill ``tensor`` in place as the Keras initializer ``scheme`` would, with Keras' fans
    (they differ from torch's for depthwise kernels, so they are passed in)."""
    with torch.no_grad():
        if scheme == "zeros":
            return tensor.zero_()
        if scheme == "ones":
            return tensor.fill_(1.0)
        if scheme == "uniform":  # Keras' RandomUniform at its defaults (Embedding's)
            return tensor.uniform_(-0.05, 0.05)
        family, distribution = scheme.rsplit("_", 1)
        fan = {"glorot": (fan_in + fan_out) / 2, "he": fan_in / 2, "lecun": fan_in}[family]
        if distribution == "uniform":
            limit = math.sqrt(3.0 / fan)
            return tensor.uniform_(-limit, limit)
        std = math.sqrt(1.0 / fan) / _TRUNCATED_STD
        return nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std)


def init_like_keras_(module, kernel="glorot_uniform", bias="zeros"):
    """Initialize a convolution or linear layer as Keras would: fans from the weight's shape
    as torch computes them, except a depthwise convolution (one group per input channel),
    whose Keras fans are (taps * channels, taps * multiplier)."""
    weight = module.weight
    taps = math.prod(weight.shape[2:])
    fan_in, fan_out = weight.shape[1] * taps, weight.shape[0] * taps
    groups = getattr(module, "groups", 1)
    if groups > 1 and groups == getattr(module, "in_channels", 0) and weight.shape[1] == 1:
        fan_in, fan_out = taps * groups, taps * weight.shape[0] // groups
    keras_init_(weight, kernel, fan_in, fan_out)
    if module.bias is not None:
        keras_init_(module.bias, bias, module.bias.numel(), module.bias.numel())


def max_norm_(weight, max_value, dims, grouped=None):
    """Keras' ``max_norm`` constraint: rescale ``weight`` so its norm over ``dims`` is at most
    ``max_value``. ``grouped`` views a depthwise kernel (C*M, 1, kh, kw) as (C, M, kh, kw)."""
    with torch.no_grad():
        view = weight.view(grouped) if grouped else weight
        norms = view.square().sum(dim=dims, keepdim=True).sqrt()
        view.mul_(norms.clamp(0, max_value) / (norms + 1e-7))


def trim_end(y, amounts):
    """Drop ``amounts[i]`` cells from the end of spatial dim i (N, C, *spatial)."""
    for dim, amount in enumerate(amounts, start=2):
        if amount:
            y = y.narrow(dim, 0, y.shape[dim] - amount)
    return y


class ConvTranspose1dTrimmed(nn.ConvTranspose1d):
    """A transposed convolution whose output is cropped more after than before (Keras' "same"
    with an odd total crop), which torch's symmetric ``padding`` cannot express."""

    def __init__(self, *args, trim=(0,), **kwargs):
        super().__init__(*args, **kwargs)
        self.trim = tuple(trim)

    def forward(self, x):
        return trim_end(super().forward(x), self.trim)


class ConvTranspose2dTrimmed(nn.ConvTranspose2d):
    """A transposed convolution whose output is cropped more after than before (Keras' "same"
    with an odd total crop), which torch's symmetric ``padding`` cannot express."""

    def __init__(self, *args, trim=(0, 0), **kwargs):
        super().__init__(*args, **kwargs)
        self.trim = tuple(trim)

    def forward(self, x):
        return trim_end(super().forward(x), self.trim)


class SeparableConv(nn.Module):
    """Depthwise then pointwise convolution, as keras.layers.SeparableConv2D."""

    def __init__(self, depthwise, pointwise):
        super().__init__()
        self.depthwise = depthwise
        self.pointwise = pointwise

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class PaddedPool(nn.Module):
    """Max or average pooling with padding torch's pooling layers cannot take (asymmetric, or
    wider than half the window). ``pads`` are F.pad amounts, last dim first; ``overhang`` the
    cells past the padding that ceil rounding reaches, which never count.

    Max: padded cells are -inf, so they never win. Average: the sum over the window divided by
    the cells that count — the input only, or the input and the padding."""

    def __init__(self, kind, kernel_size, stride, pads, overhang, count_include_pad=False):
        super().__init__()
        self.kind, self.kernel_size, self.stride = kind, tuple(kernel_size), tuple(stride)
        self.pads, self.overhang = tuple(pads), tuple(overhang)
        self.count_include_pad = count_include_pad

    def forward(self, x):
        rank = x.dim() - 2
        total = tuple(p + o for p, o in zip(self.pads, self.overhang))
        if self.kind == "max":
            pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1]
            return pool(F.pad(x, total, value=-math.inf), self.kernel_size, self.stride)
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
        mask = x.new_ones((1, 1) + tuple(x.shape[2:]))
        mask = F.pad(mask, self.pads, value=1.0 if self.count_include_pad else 0.0)
        mask = F.pad(mask, self.overhang, value=0.0)
        return (pool(F.pad(x, total), self.kernel_size, self.stride)
                / pool(mask, self.kernel_size, self.stride))

    def extra_repr(self):
        return (f"{self.kind}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"pads={self.pads}, overhang={self.overhang}")


class PositionwiseLinear(nn.Linear):
    """A Dense layer on a feature map acts on the channel axis at every position (Keras'
    meaning); torch's channels sit at dim 1, so move them last and back."""

    def forward(self, x):
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class SpecFlatten(nn.Module):
    """Flatten in the spec's element order (channels last) where the order matters: when the
    result feeds something other than Dense layers, whose weights absorb torch's native order."""

    def forward(self, x):
        return torch.flatten(x.movedim(1, -1), 1)


class Reshape(nn.Module):
    """keras.layers.Reshape: ``target_shape`` (no batch) in the spec's layout; with a
    channels-last spec, elements are taken in channels-last order and the result is returned
    channels-first."""

    def __init__(self, target_shape, channels_last):
        super().__init__()
        self.target_shape, self.channels_last = tuple(target_shape), channels_last

    def forward(self, x):
        if self.channels_last and x.dim() > 2:
            x = x.movedim(1, -1)
        x = x.reshape((x.shape[0],) + self.target_shape)
        if self.channels_last and x.dim() > 2:
            x = x.movedim(-1, 1)
        return x

    def extra_repr(self):
        return f"target_shape={self.target_shape}, channels_last={self.channels_last}"


class KerasReLU(nn.Module):
    """keras.layers.ReLU in full: max_value, negative_slope below threshold."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0):
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x):
        y = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        if self.max_value is not None:
            y = y.clamp(max=self.max_value)
        return y


class KerasPReLU(nn.Module):
    """keras.layers.PReLU with a slope per position: ``weight`` has the input's shape without
    the batch, (C, *spatial), with 1 on shared axes (torch's nn.PReLU has one per channel)."""

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return torch.where(x >= 0, x, self.weight * x)


class PartialAffineBatchNorm(nn.Module):
    """BatchNormalization with only one of center (beta) and scale (gamma), which torch's
    ``affine`` flag cannot separate."""

    def __init__(self, norm, center, scale):
        super().__init__()
        self.norm = norm
        channels = norm.num_features
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        y = self.norm(x)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.weight is not None:
            y = y * self.weight.view(shape)
        if self.bias is not None:
            y = y + self.bias.view(shape)
        return y


class Add(nn.Module):
    """Element-wise sum. ``inplace`` adds into the first input, which the generator allows only
    when nothing else reads it (as torchvision's ResNet does)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, first, *rest):
        out = first
        for i, other in enumerate(rest):
            # A sum so far that broadcasts (a size-1 axis) cannot hold the next one.
            fits = out.shape == torch.broadcast_shapes(out.shape, other.shape)
            out = out.add_(other) if (self.inplace or i) and fits else out + other
        return out


class Multiply(nn.Module):
    """Element-wise product."""

    def forward(self, first, *rest):
        out = first
        for other in rest:
            out = out * other
        return out


class Rescaling(nn.Module):
    """keras.layers.Rescaling: x * scale + offset; a tuple gives one value per channel."""

    def __init__(self, scale, offset=0.0):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x * per_channel(self.scale, x) + per_channel(self.offset, x)


def per_channel(value, x):
    """A number, or a tuple of one per channel shaped to broadcast over (N, C, *spatial)."""
    if not isinstance(value, tuple):
        return value
    values = torch.tensor(value, dtype=x.dtype, device=x.device)
    return values.view((-1,) + (1,) * (x.dim() - 2))


class Normalization(nn.Module):
    """keras.layers.Normalization with given statistics along ``dim``: (x - mean) /
    max(sqrt(variance), 1e-7). The statistics are buffers, with Keras' names; ``count``
    (unused) is the one Keras keeps after adapt(), so weights move between the two."""

    def __init__(self, mean, variance, size, dim):
        super().__init__()
        self.dim = dim
        self.register_buffer("mean", torch.zeros(size).add_(torch.tensor(mean)))
        self.register_buffer("variance", torch.zeros(size).add_(torch.tensor(variance)))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        shape = [1] * x.dim()
        shape[self.dim] = -1
        return (x - self.mean.view(shape)) / self.variance.sqrt().clamp(min=1e-7).view(shape)


class Permute(nn.Module):
    """keras.layers.Permute in torch's layout: ``dims`` includes the batch (0, first)."""

    def __init__(self, dims):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.permute(self.dims)

    def extra_repr(self):
        return f"dims={self.dims}"


class StochasticDepth(nn.Module):
    """Drop path as torchvision's StochasticDepth(p, "row"): while training, each sample is
    zeroed with probability ``p`` and the others are scaled by 1 / (1 - p)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        noise = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1.0 - self.p)
        return x * noise.div_(1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class Concatenate(nn.Module):
    """Concatenation along ``dim`` (torch's layout)."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs):
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
