"""Keras layers that generated models need where keras.layers has no exact equivalent of a
spec's meaning. Like torch_runtime.py, never imported by archspec itself: the generator copies
the definitions a model uses into the generated file. They use only ``keras`` and
``keras.ops``, so generated models run on any Keras 3 backend, and they are registered for
``.keras`` saving.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="archspec")
class PaddedPooling(keras.layers.Layer):
    """Max or average pooling over explicitly padded input (asymmetric or explicit padding,
    ceil rounding), as PyTorch defines them. ``pads``: (before, after) per spatial dim;
    ``overhang``: cells past the padding that ceil rounding reaches, which never count.

    Max: padded cells are -inf, so they never win. Average: the window sum divided by the cells
    that count — the input only, or the input and the padding (``count_include_pad``)."""

    def __init__(self, kind, pool_size, strides, pads, overhang, count_include_pad=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.kind, self.pool_size, self.strides = kind, tuple(pool_size), tuple(strides)
        self.pads = tuple(tuple(p) for p in pads)
        self.overhang = tuple(overhang)
        self.count_include_pad = count_include_pad

    def call(self, x):
        total = [(b, a + o) for (b, a), o in zip(self.pads, self.overhang)]
        if self.kind == "max":
            padded = ops.pad(x, [(0, 0)] + total + [(0, 0)], constant_values=float("-inf"))
            return ops.max_pool(padded, self.pool_size, self.strides, padding="valid")
        summed = ops.average_pool(ops.pad(x, [(0, 0)] + total + [(0, 0)]), self.pool_size,
                                  self.strides, padding="valid")
        mask = ops.ones((1,) + tuple(x.shape[1:-1]) + (1,), dtype=x.dtype)
        fill = 1.0 if self.count_include_pad else 0.0
        mask = ops.pad(mask, [(0, 0)] + list(self.pads) + [(0, 0)], constant_values=fill)
        mask = ops.pad(mask, [(0, 0)] + [(0, o) for o in self.overhang] + [(0, 0)])
        counted = ops.average_pool(mask, self.pool_size, self.strides, padding="valid")
        return summed / counted

    def compute_output_shape(self, input_shape):
        spatial = [None if n is None else (n + b + a + o - k) // s + 1
                   for n, (b, a), o, k, s in zip(input_shape[1:-1], self.pads, self.overhang,
                                                 self.pool_size, self.strides)]
        return (input_shape[0],) + tuple(spatial) + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "pool_size": self.pool_size,
                "strides": self.strides, "pads": self.pads, "overhang": self.overhang,
                "count_include_pad": self.count_include_pad}


@keras.saving.register_keras_serializable(package="archspec")
class GELU(keras.layers.Layer):
    """GELU with the form the spec names: exact (erf) unless ``approximate`` (tanh)."""

    def __init__(self, approximate=False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = approximate

    def call(self, x):
        return ops.gelu(x, approximate=self.approximate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}


def _dilate(kernel, axis, rate):
    """Spell a kernel's dilation out along ``axis``: ``rate - 1`` zeros between its taps."""
    size = kernel.shape[axis]
    if rate == 1 or size == 1:
        return kernel
    shape = list(kernel.shape)
    gaps = ops.zeros(shape[:axis + 1] + [rate - 1] + shape[axis + 1:], dtype=kernel.dtype)
    taps = ops.concatenate([ops.expand_dims(kernel, axis + 1), gaps], axis=axis + 1)
    spread = ops.reshape(taps, shape[:axis] + [size * rate] + shape[axis + 1:])
    start = [0] * len(shape)
    return ops.slice(spread, start, shape[:axis] + [(size - 1) * rate + 1] + shape[axis + 1:])


class _CroppedTranspose:
    """A transposed convolution as the spec defines it: the full result ((L-1)*S + K_eff
    cells per spatial dim) cropped by ``crops``, (before, after) per spatial dim, where a
    negative "after" appends zeros. Used where Keras' own layer cannot express it: dilation
    (TensorFlow's CPU kernels refuse it) or an output_padding of the stride or more. The
    kernel and bias are the native layer's, so weights and their names are unchanged."""

    def __init__(self, *args, crops, **kwargs):
        kwargs["output_padding"] = None
        super().__init__(*args, **kwargs)
        self.crops = tuple(tuple(c) for c in crops)

    def call(self, inputs):
        kernel = self.kernel
        for axis, rate in enumerate(self.dilation_rate):
            kernel = _dilate(kernel, axis, rate)
        full = ops.conv_transpose(inputs, kernel, strides=list(self.strides), padding="valid")
        wanted = self.compute_output_shape(inputs.shape)[1:-1]
        kept = [slice(None)]
        for (before, _), length in zip(self.crops, wanted):
            kept.append(slice(before, before + length))
        outputs = full[tuple(kept) + (slice(None),)]
        short = [length - n for length, n in zip(wanted, outputs.shape[1:-1])]
        if any(short):  # Keras' "valid" result can end before the cells a crop appends
            outputs = ops.pad(outputs, [(0, 0)] + [(0, s) for s in short] + [(0, 0)])
        if self.use_bias:
            outputs = outputs + ops.reshape(self.bias, (1,) * (self.rank + 1) + (self.filters,))
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        spatial = [None if n is None else (n - 1) * s + (k - 1) * d + 1 - b - a
                   for n, k, s, d, (b, a) in zip(input_shape[1:-1], self.kernel_size,
                                                  self.strides, self.dilation_rate, self.crops)]
        return (input_shape[0],) + tuple(spatial) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "crops": self.crops}


@keras.saving.register_keras_serializable(package="archspec")
class CroppedConv1DTranspose(_CroppedTranspose, keras.layers.Conv1DTranspose):
    pass


@keras.saving.register_keras_serializable(package="archspec")
class CroppedConv2DTranspose(_CroppedTranspose, keras.layers.Conv2DTranspose):
    pass


@keras.saving.register_keras_serializable(package="archspec")
class Normalization(keras.layers.Layer):
    """keras.layers.Normalization with given statistics: (x - mean) / max(sqrt(variance),
    1e-7) along ``axis``. Keras' own layer keeps given statistics as constants; here they are
    the non-trainable weights it has after adapt() (mean, variance and the unused count), so
    weight files and exchange carry them, and they are read on every call."""

    def __init__(self, axis, mean, variance, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.given_mean, self.given_variance = axis, mean, variance

    def build(self, input_shape):
        size = input_shape[self.axis]
        for name, value in (("mean", self.given_mean), ("variance", self.given_variance)):
            weight = self.add_weight(name=name, shape=(size,), initializer="zeros",
                                     trainable=False)
            weight.assign(ops.broadcast_to(ops.convert_to_tensor(value, "float32"), (size,)))
            setattr(self, name, weight)
        self.count = self.add_weight(name="count", shape=(), dtype="int", initializer="zeros",
                                     trainable=False)

    def call(self, x):
        shape = [1] * len(x.shape)
        shape[self.axis] = -1
        mean = ops.reshape(ops.cast(self.mean, x.dtype), shape)
        scale = ops.maximum(ops.sqrt(ops.cast(self.variance, x.dtype)), 1e-7)
        return (x - mean) / ops.reshape(scale, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "mean": self.given_mean,
                "variance": self.given_variance}


@keras.saving.register_keras_serializable(package="archspec")
class LayerScale(keras.layers.Layer):
    """keras.applications ConvNeXt's LayerScale: x * gamma, a learned scale per channel (the
    last axis) that starts at ``init_values``."""

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values, self.projection_dim = init_values, projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(self.projection_dim,),
            initializer=keras.initializers.Constant(self.init_values), trainable=True)

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}
