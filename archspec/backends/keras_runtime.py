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
