"""What an ONNX emitter sees of one layer, and the activations several emitters apply."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..backends.common import LayerContext
from ..ir.graph import Graph
from .graph import FIRST, LAST, OnnxGraph, onnx_axis


@dataclass
class OnnxContext(LayerContext):
    """The backends' emitter context, plus the graph being written and this layer's weights
    (in Keras' layout)."""
    g: OnnxGraph = None  # type: ignore[assignment] - always given; fields after defaults
    weights: dict[str, np.ndarray] = None  # type: ignore[assignment]

    @property
    def graph(self) -> Graph:
        return self.facts.graph

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def spec_layout(self) -> str:
        """The element order Flatten, Reshape and Permute mean: the spec's own."""
        return FIRST if self.graph.channels_first else LAST

    def x(self, wanted: str, index: int = 0) -> str:
        return self.g.held(self.node.inputs[index], wanted)

    def layout_of(self, index: int = 0) -> str:
        return self.g.values[self.node.inputs[index]].layout

    def weight(self, name: str) -> np.ndarray | None:
        return self.weights.get(name)

    def const(self, suffix: str, array, dtype=np.float32) -> str:
        return self.g.const(f"{self.name}.{suffix}", array, dtype)

    def op(self, op_type: str, inputs: list[str], step: str = "", **attrs) -> str:
        return self.g.op(op_type, inputs, f"{self.name}/{step or op_type}", **attrs)


def _gelu(ctx: OnnxContext, x: str, approximate: bool) -> str:
    half = ctx.const("half", 0.5)
    if approximate:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = ctx.op("Mul", [ctx.op("Mul", [x, x]), x], "cube")
        inner = ctx.op("Add", [x, ctx.op("Mul", [cube, ctx.const("c", 0.044715)])])
        scaled = ctx.op("Mul", [inner, ctx.const("k", math.sqrt(2 / math.pi))])
        bump = ctx.op("Tanh", [scaled])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        bump = ctx.op("Erf", [ctx.op("Mul", [x, ctx.const("k", 1 / math.sqrt(2))])])
    one_plus = ctx.op("Add", [bump, ctx.const("one", 1.0)])
    return ctx.op("Mul", [ctx.op("Mul", [x, half]), one_plus], "gelu")


def activate(ctx: OnnxContext, x: str, name: str | None, layout: str,
             shape: tuple[int, ...] | None = None, axis: int | None = None,
             approximate: bool = False) -> str:
    """Keras' activation ``name`` applied to ``x``; softmax over the canonical ``axis``
    (default: the channels) of a value of ``shape`` held in ``layout``."""
    if name in (None, "linear"):
        return x
    if name in ("relu", "sigmoid", "tanh", "softplus", "elu"):
        return ctx.op({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
                       "softplus": "Softplus", "elu": "Elu"}[name], [x])
    if name == "relu6":
        return ctx.op("Clip", [x, ctx.const("min", 0.0), ctx.const("max", 6.0)], "relu6")
    if name in ("silu", "swish"):
        return ctx.op("Mul", [x, ctx.op("Sigmoid", [x])], "silu")
    if name == "gelu":
        return _gelu(ctx, x, approximate)
    if name == "softmax":
        shape = shape if shape is not None else ctx.out_shape
        axis = len(shape) - 1 if axis is None else axis
        return ctx.op("Softmax", [x], axis=onnx_axis(axis, shape, layout))
    raise ValueError(f"activation {name!r} has no ONNX form")  # the schema forbids others
