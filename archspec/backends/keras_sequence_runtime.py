"""Keras layers that generated models need for the sequence layers keras.layers lacks (a ViT's
class token and position embedding, and taking one position), copied into the generated file
as keras_runtime.py's are. Only ``keras`` and ``keras.ops``, so they run on every Keras
backend, and registered for ``.keras`` saving.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="archspec")
class ClassToken(keras.layers.Layer):
    """Prepends a learned token, ``token`` (1, features), to each sequence: (N, length,
    features) → (N, length + 1, features)."""

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = initializer

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, input_shape[-1]), initializer=self.initializer,
                                     name="token")

    def call(self, x):
        token = ops.broadcast_to(ops.cast(self.token, x.dtype)[None],
                                 (ops.shape(x)[0], 1, ops.shape(x)[-1]))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "initializer": self.initializer}


@keras.saving.register_keras_serializable(package="archspec")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position, ``embeddings`` (length, features), to each
    sequence."""

    def __init__(self, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.initializer = initializer

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=tuple(input_shape[1:]),
                                          initializer=self.initializer, name="embeddings")

    def call(self, x):
        return x + ops.cast(self.embeddings, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initializer": self.initializer}


@keras.saving.register_keras_serializable(package="archspec")
class Take(keras.layers.Layer):
    """One index along ``axis`` (the batch is 0), which is dropped: ``ops.take``."""

    def __init__(self, index, axis=1, **kwargs):
        super().__init__(**kwargs)
        self.index, self.axis = index, axis

    def call(self, x):
        return ops.take(x, self.index, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:self.axis]) + tuple(input_shape[self.axis + 1:])

    def get_config(self):
        return {**super().get_config(), "index": self.index, "axis": self.axis}


@keras.saving.register_keras_serializable(package="archspec")
class AxisLayerNormalization(keras.layers.LayerNormalization):
    """keras.layers.LayerNormalization over axes that are not the trailing ones, computed with
    those axes moved last: Keras' torch backend hands any run of adjacent axes to torch's
    layer_norm, which normalizes the trailing ones instead (an error, or silently wrong where
    the sizes agree). Weights, their names and shapes are the native layer's."""

    def call(self, inputs):
        rank = len(inputs.shape)
        axes = sorted(a % rank for a in self.axis)
        last = list(range(rank - len(axes), rank))
        moved = ops.moveaxis(inputs, axes, last)
        out = ops.layer_normalization(moved, self.gamma, self.beta, axis=last,
                                      epsilon=self.epsilon)
        return ops.moveaxis(out, last, axes)


@keras.saving.register_keras_serializable(package="archspec")
class ExplicitMultiHeadAttention(keras.layers.MultiHeadAttention):
    """keras.layers.MultiHeadAttention whose value heads differ in size from its key heads,
    computed on the explicit path (einsum, softmax, einsum) Keras takes when it returns the
    scores: Keras' JAX backend fails on the fused dot_product_attention there (Keras 3.15 shapes
    its output like the queries). Weights and their names are the native layer's."""

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, **kwargs):
        return super()._compute_attention(query, key, value, attention_mask, training, True,
                                          **kwargs)
