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
