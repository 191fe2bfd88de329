"""The result of ``archspec check``: per-layer rows and totals, as a stable dict (``--json``)
and as a table in the spirit of Keras' ``summary()``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from .errors import Diagnostic, capped
from .inference import BYTES_FP32
from .ir.graph import Graph
from .ops.base import product
from .render import render_report

JSON_VERSION = 1


def _number(value) -> Any:
    if isinstance(value, int):
        return value
    return int(value) if value.denominator == 1 else float(value)


@dataclass
class LayerRow:
    name: str
    type: str
    inputs: list[str]
    output_shape: list[int]
    trainable_params: int
    non_trainable_params: int
    macs: int
    activation_bytes: int
    receptive_field: Optional[list[int]]
    effective_stride: Optional[list[Any]]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _row(graph: Graph, node) -> LayerRow:
    meta = node.meta
    rf, jump = meta.get("rf"), meta.get("jump")
    return LayerRow(
        name=node.name, type=node.type, inputs=list(node.inputs),
        output_shape=list(graph.to_spec_layout(meta["shape"])),
        trainable_params=meta["trainable"], non_trainable_params=meta["non_trainable"],
        macs=meta["macs"], activation_bytes=product(meta["shape"]) * BYTES_FP32,
        receptive_field=[r if isinstance(r, int) else math.ceil(r) for r in rf]
        if rf is not None else None,
        effective_stride=[_number(j) for j in jump] if jump is not None else None)


def _warnings(graph: Graph) -> list[Diagnostic]:
    """The first MAX_ERRORS warnings and a count of the rest: a generated spec can warn once
    per layer, tens of thousands of times."""
    return capped(d for d in graph.diagnostics if d.severity == "warning")[0]


@dataclass
class Report:
    name: str
    input_shape: list[int]
    output_shape: list[int]
    layout: str
    totals: dict[str, int]
    warnings: list[Diagnostic] = field(default_factory=list)
    graph: Optional[Graph] = field(default=None, repr=False)
    _rows: Optional[list[LayerRow]] = field(default=None, repr=False)

    @classmethod
    def from_graph(cls, graph: Graph) -> "Report":
        layers = graph.layers
        trainable = sum(n.meta["trainable"] for n in layers)
        non_trainable = sum(n.meta["non_trainable"] for n in layers)
        macs = sum(n.meta["macs"] for n in layers)
        activations = sum(product(n.meta["shape"]) for n in layers) * BYTES_FP32
        total = trainable + non_trainable
        totals = {
            "layers": len(layers),
            "trainable_params": trainable,
            "non_trainable_params": non_trainable,
            "total_params": total,
            "param_bytes_fp32": total * 4,
            "param_bytes_fp16": total * 2,
            "macs": macs,
            "flops": 2 * macs,
            "activation_bytes": activations,
            "peak_activation_bytes": graph.peak_activation_bytes,
        }
        return cls(graph.name, list(graph.to_spec_layout(graph.input_shape)),
                   list(graph.to_spec_layout(graph[graph.output].meta["shape"])),
                   "channels_first" if graph.channels_first else "channels_last",
                   totals, _warnings(graph), graph)

    @property
    def layers(self) -> list[LayerRow]:
        """Per-layer rows, built on first use (a sweep often needs only the totals)."""
        if self._rows is None:
            self._rows = [_row(self.graph, node) for node in self.graph.layers]
        return self._rows

    def to_dict(self) -> dict:
        return {
            "format": JSON_VERSION,
            "name": self.name,
            "layout": self.layout,
            "input_shape": self.input_shape,
            "output_shape": self.output_shape,
            "layers": [r.to_dict() for r in self.layers],
            "totals": dict(self.totals),
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def render(self, console=None, max_rows: int | None = None) -> None:
        render_report(self, console, max_rows)
