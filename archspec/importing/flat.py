"""The common form every reader produces: layers in archspec's vocabulary, in topological
order, with the model's own names, before any structure is recovered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import Diagnostic, Location, SpecError


@dataclass
class FlatLayer:
    name: str  # the model's own name for it (a valid spec name: [A-Za-z_][A-Za-z0-9_]*)
    type: str  # an archspec layer type, e.g. "Conv2D"
    args: dict[str, Any]  # its spec arguments, defaults left out
    inputs: list[str]  # names of earlier layers, or "input"
    # Where the source model nests it, outermost first: (name, class) per level, e.g.
    # (("layer1", "Sequential"), ("0", "Bottleneck")) for torchvision's layer1.0.conv1. Empty
    # when the source has no hierarchy (Keras functional models); ``fold`` then looks for
    # repetition in the flat sequence itself.
    scope: tuple[tuple[str, str], ...] = ()
    # Its weights as numpy arrays, by archspec's (Keras') weight name (kernel, bias, gamma...),
    # in the source framework's layout (``FlatModel.framework``); None when not asked for.
    weights: Optional[dict[str, Any]] = None


@dataclass
class FlatModel:
    name: str
    input_shape: tuple[int, ...]  # without the batch dimension, in the spec's layout
    channels_first: bool
    layers: list[FlatLayer] = field(default_factory=list)
    output: Optional[str] = None  # the last layer when None
    description: str = ""
    framework: str = "keras"  # "keras" | "torch": the layout of the layers' weights
    # What the reader could not carry over exactly but that does not change what the model
    # computes (an initializer archspec has no name for), "layer: what"; the spec's header
    # comment lists them.
    notes: list[str] = field(default_factory=list)


class UnsupportedModel(SpecError):
    """A model holds layers or operations archspec cannot express: one diagnostic for each,
    naming it, its class and why, so that one run lists everything to fix."""


def unsupported(problems: list[tuple[str, str, str]], source: str,
                hint: Optional[str] = None) -> UnsupportedModel:
    """``problems``: (layer or node name, its class or op, why) for each; ``source``: the file
    or name the model came from, where the diagnostics point."""
    last = len(problems) - 1
    return UnsupportedModel([
        Diagnostic(f"{kind}: {why}", path=name, location=Location(source),
                   hint=hint if i == last else None)
        for i, (name, kind, why) in enumerate(problems)])
