"""The Keras layer a generated model uses for SqueezeExcite. archspec never imports this file:
the generator copies the class into the generated source, which then needs only Keras (any of
its backends: only keras.ops is used)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="archspec_squeeze_excite")
class SqueezeExcite(keras.layers.Layer):
    """Squeeze-and-excitation on (N, *spatial, C), channels last; its weights have the names
    archspec's weight exchange uses (squeeze_kernel (C, units), ...)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        channels = input_shape[-1]
        self.squeeze_kernel = self.add_weight(name="squeeze_kernel",
                                              shape=(channels, self.units),
                                              initializer="glorot_uniform")
        self.squeeze_bias = self.add_weight(name="squeeze_bias", shape=(self.units,),
                                            initializer="zeros")
        self.excite_kernel = self.add_weight(name="excite_kernel",
                                             shape=(self.units, channels),
                                             initializer="glorot_uniform")
        self.excite_bias = self.add_weight(name="excite_bias", shape=(channels,),
                                           initializer="zeros")

    def call(self, x):
        means = ops.mean(x, axis=tuple(range(1, len(x.shape) - 1)), keepdims=True)
        hidden = ops.relu(ops.matmul(means, self.squeeze_kernel) + self.squeeze_bias)
        return x * ops.sigmoid(ops.matmul(hidden, self.excite_kernel) + self.excite_bias)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "units": self.units}
