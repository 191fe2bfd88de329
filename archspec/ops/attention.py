"""Transformer layers: ``LayerNormalization`` and ``MultiHeadAttention``. Attention reads
sequences, (length, features) in the canonical layout. Its MACs include the products of the
queries with the keys and of the attention weights with the values, besides the projections:
counters that count only convolutions and linear layers leave those two out."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional, Union

from pydantic import Field, field_validator

from ..errors import ShapeError
from .activation import canonical_axis
from .base import GLOBAL, Inferred, Layer, Shape, WeightSlot, product


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` to mean 0 and variance 1, then scales by ``gamma``
    and shifts by ``beta`` (Keras ``LayerNormalization``, torch ``nn.LayerNorm``). Keras'
    conventions: ``epsilon`` defaults to 1e-3 (torch's to 1e-5: ViT and ConvNeXt use 1e-6,
    so their specs say so), and ``axis`` counts in the spec's layout — in a channels_first
    spec the channels are axis 1, and -1 is the last spatial axis. Over the channels of a
    feature map the torch model moves them last and back, as torchvision's LayerNorm2d does."""
    positional: ClassVar[tuple[str, ...]] = ("axis", "epsilon", "center", "scale")
    argument_docs: ClassVar[dict[str, str]] = {
        "axis": "the axis, or list of axes, normalized over (gamma and beta have their "
                "sizes), in Keras' counting (the batch is 0; -1 is the last), in the spec's "
                "layout",
        "epsilon": "added to the variance before the square root (Keras' default; torch's "
                   "nn.LayerNorm defaults to 1e-5)"}
    kind: ClassVar[str] = "norm"
    # Fresh gamma and beta are ones and zeros, which would hide a mix-up of their entries.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("gamma", "weight", "vector", when="scale", verify_range=(0.5, 1.5)),
        WeightSlot("beta", "bias", "vector", when="center", verify_range=(-0.5, 0.5)))
    type: Literal["LayerNormalization"] = "LayerNormalization"
    axis: Union[int, tuple[int, ...]] = -1
    epsilon: float = Field(1e-3, gt=0)
    center: bool = True
    scale: bool = True

    @field_validator("axis")
    @classmethod
    def _axes(cls, value: Any) -> Any:
        if isinstance(value, tuple) and not value:
            raise ValueError("axis needs at least one axis")
        return value

    def axes(self, shape: Shape, channels_first: bool = False) -> tuple[int, ...]:
        """The canonical indices normalized over, in order (Keras sorts them too, and
        gamma's axes follow that order)."""
        given = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        axes = sorted({canonical_axis(a, len(shape), channels_first) for a in given})
        if len(axes) != len(given):
            raise ShapeError(f"axis {list(given)} names one axis twice", field="axis")
        return tuple(axes)

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        shape = inputs[0]
        sizes = tuple(shape[a] for a in self.axes(shape, channels_first))
        return {"gamma": sizes, "beta": sizes}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        axes = self.axes(shape, channels_first)
        size = product(shape[a] for a in axes)
        # Over the channels alone each position stays on its own; over a spatial axis every
        # output reads the whole axis.
        window = None if axes == (len(shape) - 1,) else GLOBAL
        return Inferred(shape, trainable=size * (self.center + self.scale), window=window,
                        resolved={"axes": axes})


def sequence_shape(shape: Shape, what: str, layer: str) -> Shape:
    """(length, features) of a sequence, or a ShapeError naming the layer and the input."""
    if len(shape) != 2:
        raise ShapeError(f"{layer} needs sequences (length, features); its {what} has shape "
                         f"{list(shape)}",
                         hint="reshape a feature map into a sequence first: Reshape: "
                              "[positions, channels] (channels-last)")
    return shape


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Keras ``MultiHeadAttention``, torch
    ``nn.MultiheadAttention``) on sequences (length, features). One input attends to itself;
    ``inputs: [query, value]`` or ``[query, value, key]`` (Keras' order; the key defaults to
    the value) attends across. Each head projects the query and key to ``key_dim`` and the
    value to ``value_dim`` (default key_dim); ``output_shape`` is the output's features
    (default: the query's). Parameters are counted as Keras counts them; MACs include the
    projections and both attention products (queries x keys, weights x values), not the
    softmax. The torch model is ``nn.MultiheadAttention`` itself (packed ``in_proj_weight``,
    as torchvision's ViT) when key_dim x num_heads = value_dim x num_heads = the features of
    query, key, value and output; otherwise a helper with one nn.Linear per projection."""
    positional: ClassVar[tuple[str, ...]] = ("num_heads", "key_dim", "value_dim", "dropout",
                                             "use_bias", "output_shape")
    argument_docs: ClassVar[dict[str, str]] = {
        "num_heads": "number of attention heads",
        "key_dim": "size of each head's query and key",
        "value_dim": "size of each head's value (default: key_dim)",
        "dropout": "fraction of attention weights zeroed during training",
        "output_shape": "features of the output (default: the query's)"}
    kind: ClassVar[str] = "attention"
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[Optional[int]] = 3
    type: Literal["MultiHeadAttention"] = "MultiHeadAttention"
    num_heads: int = Field(ge=1)
    key_dim: int = Field(ge=1)
    value_dim: Optional[int] = Field(None, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    use_bias: bool = True
    output_shape: Optional[int] = Field(None, ge=1)

    def dims(self, inputs: list[Shape]) -> dict[str, int]:
        """Sizes of the query, value and key features and lengths, per-head sizes, output."""
        value_shape = inputs[1] if len(inputs) > 1 else inputs[0]
        key_shape = inputs[2] if len(inputs) > 2 else value_shape
        query_length, query = sequence_shape(inputs[0], "query", self.type_name)
        value_length, value = sequence_shape(value_shape, "value", self.type_name)
        key_length, key = sequence_shape(key_shape, "key", self.type_name)
        if key_length != value_length:
            raise ShapeError(f"the key and the value need one length, got {key_length} and "
                             f"{value_length}")
        return {"query": query, "value": value, "key": key, "query_length": query_length,
                "value_length": value_length, "heads": self.num_heads, "k": self.key_dim,
                "v": self.value_dim or self.key_dim, "output": self.output_shape or query}

    def fused(self, inputs: list[Shape]) -> bool:
        """Whether torch's own nn.MultiheadAttention holds this layer."""
        d = self.dims(inputs)
        size = d["query"]
        return d["heads"] * d["k"] == d["heads"] * d["v"] == size == d["key"] == d["value"] \
            == d["output"]

    def weight_slots(self, inputs: Optional[list[Shape]] = None) -> tuple[WeightSlot, ...]:
        packed = inputs is None or self.fused(inputs)
        slots = []
        for index, name in enumerate(("query", "key", "value")):
            kernel = ("in_proj_weight", (index, 3)) if packed else (f"{name}.weight", None)
            bias = ("in_proj_bias", (index, 3)) if packed else (f"{name}.bias", None)
            slots += [WeightSlot(f"{name}/kernel", kernel[0], "heads_in", part=kernel[1]),
                      WeightSlot(f"{name}/bias", bias[0], "heads_bias", when="use_bias",
                                 part=bias[1], verify_range=(-0.5, 0.5))]
        out = "out_proj" if packed else "attention_output"
        slots += [WeightSlot("attention_output/kernel", f"{out}.weight", "heads_out"),
                  WeightSlot("attention_output/bias", f"{out}.bias", "vector", when="use_bias",
                             verify_range=(-0.5, 0.5))]
        return tuple(s for s in slots if s.when is None or getattr(self, s.when))

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        d = self.dims(inputs)
        heads, k, v = d["heads"], d["k"], d["v"]
        return {"query/kernel": (d["query"], heads, k), "query/bias": (heads, k),
                "key/kernel": (d["key"], heads, k), "key/bias": (heads, k),
                "value/kernel": (d["value"], heads, v), "value/bias": (heads, v),
                "attention_output/kernel": (heads, v, d["output"]),
                "attention_output/bias": (d["output"],)}

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        d = self.dims(inputs)
        heads, k, v, out = d["heads"], d["k"], d["v"], d["output"]
        lq, lv = d["query_length"], d["value_length"]
        weights = (d["query"] + d["key"]) * heads * k + d["value"] * heads * v \
            + heads * v * out
        biases = (2 * heads * k + heads * v + out) * self.use_bias
        projections = lq * d["query"] * heads * k + lv * d["key"] * heads * k \
            + lv * d["value"] * heads * v + lq * heads * v * out
        products = heads * lq * lv * (k + v)  # queries x keys, then weights x values
        return Inferred((lq, out), trainable=weights + biases, macs=projections + products,
                        window=GLOBAL, resolved={"fused": self.fused(inputs), **d})
