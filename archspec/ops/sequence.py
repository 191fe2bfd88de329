"""Layers that make and read sequences: ``Embedding`` (a vector per integer index), and what
a Vision Transformer adds around its encoder — a learned ``ClassToken`` prepended, a learned
``PositionEmbedding`` added, and ``Take``, which picks one position out again. Sequences are
(length, features) in the canonical layout."""

from __future__ import annotations

from typing import ClassVar, Literal, Union

from pydantic import Field

from ..errors import ShapeError
from .activation import canonical_axis
from .attention import sequence_shape
from .base import Inferred, InitializerName, Layer, Shape, WeightSlot


class Embedding(Layer):
    """A learned vector per index (Keras ``Embedding``, torch ``nn.Embedding``): a sequence of
    indices (length,) becomes (length, output_dim). Indices run from 0 to input_dim - 1; a
    float input is cast to integers (truncated), as Keras does. The model's input then holds
    indices: ``verify`` draws them from that range."""
    positional: ClassVar[tuple[str, ...]] = ("input_dim", "output_dim", "embeddings_initializer")
    argument_docs: ClassVar[dict[str, str]] = {
        "input_dim": "number of indices (the vocabulary size)",
        "output_dim": "size of each vector",
        "embeddings_initializer": "Keras initializer name of the table (Keras' default: "
                                  "uniform, from -0.05 to 0.05)"}
    kind: ClassVar[str] = "embedding"
    slots: ClassVar[tuple[WeightSlot, ...]] = (WeightSlot("embeddings", "weight", "vector"),)
    type: Literal["Embedding"] = "Embedding"
    input_dim: int = Field(ge=1)
    output_dim: int = Field(ge=1)
    embeddings_initializer: Union[InitializerName, Literal["uniform"]] = "uniform"

    def index_bound(self) -> int:
        return self.input_dim

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"embeddings": (self.input_dim, self.output_dim)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        if len(shape) != 1:
            raise ShapeError(f"Embedding reads a sequence of indices (length,), got shape "
                             f"{list(shape)}", hint="give the model input: {shape: [length]}")
        return Inferred(shape + (self.output_dim,), trainable=self.input_dim * self.output_dim)


class ClassToken(Layer):
    """Prepends a learned token to a sequence, (length, d) → (length + 1, d): ViT's class
    token. The torch model holds it as a parameter named after the layer, shaped (1, 1, d) as
    torchvision's ``class_token``; Keras' weight ``token`` is (1, d). ``Take: {index: 0}``
    reads its position after the encoder."""
    positional: ClassVar[tuple[str, ...]] = ("initializer",)
    argument_docs: ClassVar[dict[str, str]] = {
        "initializer": "Keras initializer name of the token (torchvision's: zeros)"}
    kind: ClassVar[str] = "embedding"
    # A fresh token is zeros, which would hide a mix-up of its entries in ``verify``.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("token", "", "batched", verify_range=(-0.5, 0.5)),)
    type: Literal["ClassToken"] = "ClassToken"
    initializer: InitializerName = "zeros"

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"token": (1, inputs[0][-1])}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        length, features = sequence_shape(inputs[0], "input", self.type_name)
        return Inferred((length + 1, features), trainable=features)


class PositionEmbedding(Layer):
    """Adds a learned vector per position, a (length, d) table: ViT's position embedding.
    The torch model holds the table as a parameter named after the layer, shaped (1, length,
    d) as torchvision's ``encoder.pos_embedding``; Keras' weight ``embeddings`` is (length, d),
    as keras_hub's PositionEmbedding."""
    positional: ClassVar[tuple[str, ...]] = ("initializer",)
    argument_docs: ClassVar[dict[str, str]] = {
        "initializer": "Keras initializer name of the table (keras_hub's: glorot_uniform)"}
    kind: ClassVar[str] = "embedding"
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("embeddings", "", "batched", verify_range=(-0.5, 0.5)),)
    type: Literal["PositionEmbedding"] = "PositionEmbedding"
    initializer: InitializerName = "glorot_uniform"

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        return {"embeddings": tuple(inputs[0])}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        length, features = sequence_shape(inputs[0], "input", self.type_name)
        return Inferred((length, features), trainable=length * features)


class Take(Layer):
    """One position along ``axis``, which is dropped: ``Take: {index: 0}`` on (length, d)
    gives the (d,) vector at position 0 — ViT's class token after the encoder (torchvision's
    ``x[:, 0]``; Keras ``ops.take``). ``index`` may count from the end (-1 is the last);
    ``axis`` counts the batch as 0, in the spec's layout (1: the sequence axis of a
    channels-last spec, 2 of a channels-first one)."""
    positional: ClassVar[tuple[str, ...]] = ("index", "axis")
    argument_docs: ClassVar[dict[str, str]] = {
        "index": "the position taken; negative counts from the end",
        "axis": "the axis it is taken along, in Keras' counting (the batch is 0), in the "
                "spec's layout"}
    kind: ClassVar[str] = "reshape"
    type: Literal["Take"] = "Take"
    index: int
    axis: int = 1

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"Take needs an input of two axes or more, got shape "
                             f"{list(shape)}", hint="a vector has no position to take: "
                                                    "take before the Flatten or Dense")
        axis = canonical_axis(self.axis, len(shape), channels_first)
        size = shape[axis]
        if not -size <= self.index < size:
            raise ShapeError(f"index {self.index} is out of range for an axis of {size}",
                             field="index")
        out = shape[:axis] + shape[axis + 1:]
        return Inferred(out, resolved={"axis": axis, "index": self.index % size})
