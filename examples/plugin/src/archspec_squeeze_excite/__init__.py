"""SqueezeExcite, one archspec layer type: squeeze-and-excitation (Hu et al., 2018) as a single
layer instead of the five it takes in built-in layers (global average pooling, Dense(C/r,
relu), Dense(C, sigmoid), a reshape and Multiply).

The package is an archspec plugin: its pyproject.toml names this module in the
``archspec.layers`` entry point group, archspec imports it the first time it needs its layer
types, and the ``register_layer`` call at the bottom gives the type its emitters and the case
rows archspec's completeness checks read. Nothing here imports a framework: the torch and Keras
code lives in the two runtime files, which the generator copies into the generated model.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from archspec.plugins import (
    GLOBAL,
    Inferred,
    Layer,
    Shape,
    ShapeError,
    WeightSlot,
    register_layer,
)

HERE = Path(__file__).parent


class SqueezeExcite(Layer):
    """Squeeze-and-excitation: each channel's mean over every position, through Dense(C /
    ratio, relu) then Dense(C, sigmoid), scales that channel of the input. On a (H, W, C)
    feature map, or (L, C) or (D, H, W, C); the output has the input's shape. Parameters
    2·C·C/ratio + C/ratio + C; MACs the two Dense layers' 2·C·C/ratio (as archspec counts an
    SE block written in built-in layers: pooling and the product count none)."""
    positional: ClassVar[tuple[str, ...]] = ("ratio",)
    argument_docs: ClassVar[dict[str, str]] = {
        "ratio": "the reduction: the bottleneck has channels / ratio units (SENet's 16); it "
                 "must divide the channels"}
    field_examples: ClassVar[dict[str, str]] = {"ratio": "16"}
    kind: ClassVar[str] = "attention"
    # Keras' names, the torch helper's attributes (torch_runtime.py), and their layouts:
    # a Dense kernel is (in, out) in Keras and nn.Linear's (out, in) in torch.
    slots: ClassVar[tuple[WeightSlot, ...]] = (
        WeightSlot("squeeze_kernel", "squeeze.weight", "dense"),
        WeightSlot("squeeze_bias", "squeeze.bias", "vector"),
        WeightSlot("excite_kernel", "excite.weight", "dense"),
        WeightSlot("excite_bias", "excite.bias", "vector"),
    )
    type: Literal["SqueezeExcite"] = "SqueezeExcite"
    ratio: int = Field(16, ge=1, le=2**20)

    def units(self, channels: int) -> int:
        return channels // self.ratio

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        (shape,) = inputs
        if len(shape) < 2:
            raise ShapeError(f"SqueezeExcite expects a feature map or a sequence (positions "
                             f"and channels), got shape {list(shape)}",
                             hint="put it after a convolution, before any Flatten")
        channels = shape[-1]
        if channels % self.ratio:
            raise ShapeError(f"SqueezeExcite's ratio {self.ratio} does not divide the input's "
                             f"{channels} channels",
                             hint=f"choose a ratio that divides {channels}")
        units = self.units(channels)
        return Inferred(shape, trainable=2 * channels * units + units + channels,
                        macs=2 * channels * units, window=GLOBAL)

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        channels = inputs[0][-1]
        units = self.units(channels)
        return {"squeeze_kernel": (channels, units), "squeeze_bias": (units,),
                "excite_kernel": (units, channels), "excite_bias": (channels,)}


def emit_torch(ctx):
    """The torch helper module, initialized as Keras initializes its Dense layers."""
    from archspec.plugins import TorchEmitted, call
    channels = ctx.in_shape[-1]
    units = ctx.layer.units(channels)
    return TorchEmitted(call("SqueezeExcite", channels, units), helpers=("SqueezeExcite",),
                        weights=[("squeeze.weight", "glorot_uniform", channels, units),
                                 ("squeeze.bias", "zeros", units, units),
                                 ("excite.weight", "glorot_uniform", units, channels),
                                 ("excite.bias", "zeros", channels, channels)])


def emit_keras(ctx):
    from archspec.plugins import KerasEmitted, call
    return KerasEmitted(call("SqueezeExcite", ctx.layer.units(ctx.in_shape[-1])),
                        helpers=("SqueezeExcite",))


CASES = [
    # C = 16, ratio 4: 2*16*4 + 4 + 16 = 148 parameters, 2*16*4 = 128 MACs
    {"layer": {"SqueezeExcite": {"ratio": 4}}, "input": [6, 5, 16], "shape": [6, 5, 16],
     "params": 148, "macs": 128},
    # SENet's stage-1 block: C = 256, ratio 16: 2*256*16 + 16 + 256 = 8,464
    {"layer": "SqueezeExcite", "input": [56, 56, 256], "shape": [56, 56, 256],
     "params": 8464, "macs": 8192},
    # a sequence, C = 6, ratio 2: 2*6*3 + 3 + 6 = 45
    {"layer": {"SqueezeExcite": {"ratio": 2}}, "input": [10, 6], "shape": [10, 6],
     "params": 45, "macs": 36},
    # a volume, C = 2, ratio 1: 2*2*2 + 2 + 2 = 12
    {"layer": {"SqueezeExcite": {"ratio": 1}}, "input": [2, 3, 4, 2], "shape": [2, 3, 4, 2],
     "params": 12, "macs": 8},
]

register_layer(SqueezeExcite, torch=emit_torch, keras=emit_keras,
               torch_runtime=HERE / "torch_runtime.py", keras_runtime=HERE / "keras_runtime.py",
               cases=CASES)
