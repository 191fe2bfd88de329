"""The graph IR: a flat, topologically ordered list of nodes. Blocks, repeats, defaults and
expressions are gone by now; every node holds a validated layer and the names of its inputs.
Passes (``archspec.inference``) annotate ``node.meta`` and never rebuild the graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Optional

from ..errors import Location
from ..ops.base import Layer, Shape

if TYPE_CHECKING:
    from .bounds import CallChain

INPUT = "input"


class Frame(NamedTuple):  # a tuple: made once per block call, cheaply
    """One level of the spec's structure that a node was expanded in, outermost first in
    ``Node.scope``: a block call, an iteration of a named repeat, or a named group. Backends
    turn frames into modules and functions; reports use them to summarise."""
    kind: str  # "call" | "iteration" | "group"
    name: str  # its name inside the enclosing frame; "" for a call merged into its iteration
    prefix: str  # the qualified prefix of the names inside it, e.g. "layer1_0"
    block: Optional[str] = None  # for a call: the block it expands
    params: tuple = ()  # for a call: ((parameter, value), ...) in the block's declared order
    index: Optional[int] = None  # for an iteration: the repeat index


@dataclass(eq=False)
class Node:
    name: str
    layer: Optional[Layer]  # None for the input node and for items that failed validation
    inputs: list[str]
    path_key: tuple = ()  # where in the spec document; formatted only when a message needs it
    location: Location = field(default_factory=Location)
    via: Optional[CallChain] = None  # the block calls that produced it, for messages
    scope: tuple = ()  # the Frames it was expanded in, outermost first
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The spec path, e.g. ``layers[3].repeat.layers[0]``."""
        from ..spec.paths import format_path
        return format_path(self.path_key)

    @property
    def local(self) -> str:
        """Its name inside its innermost frame: ``conv1`` for ``layer1_0_conv1``."""
        if not self.scope or not self.scope[-1].prefix:
            return self.name
        return self.name[len(self.scope[-1].prefix) + 1:]

    @property
    def type(self) -> str:
        return self.layer.type_name if self.layer is not None else ("Input" if not self.inputs else "?")

    @property
    def is_input(self) -> bool:
        return self.layer is None and not self.inputs


@dataclass
class Graph:
    name: str
    input_shape: Shape  # canonical (channels-last), no batch dimension
    channels_first: bool
    nodes: list[Node]  # the input node first, then layers in topological order
    output: str
    description: str = ""
    reference: Optional[str] = None
    diagnostics: list = field(default_factory=list)  # warnings found so far, by every pass
    peak_activation_bytes: int = 0  # set by the inference pass
    source: str = "<spec>"  # the file the spec was read from, for generated docstrings

    def __post_init__(self) -> None:
        self._by_name = {n.name: n for n in self.nodes}

    def __getitem__(self, name: str) -> Node:
        return self._by_name[name]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def layers(self) -> list[Node]:
        return [n for n in self.nodes if not n.is_input]

    def live(self) -> list[Node]:
        """The layers the output depends on, in order: what a backend compiles (as a Keras
        functional model would, layers whose output is never used are left out)."""
        needed = {self.output}
        for node in reversed(self.nodes):
            if node.name in needed:
                needed.update(node.inputs)
        return [n for n in self.nodes if n.name in needed and not n.is_input]

    def consumers(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                result[i].append(n.name)
        return result

    def to_spec_layout(self, shape: Shape) -> Shape:
        """Canonical → the spec's layout, for reporting."""
        if self.channels_first and len(shape) > 1:
            return (shape[-1],) + tuple(shape[:-1])
        return tuple(shape)
