"""The structure a flat model's names and scopes reveal: a tree of containers over runs of
consecutive layers, and which of them could be block calls.

A container is a run of consecutive layers that share a name prefix — Keras' naming
(``conv2_block1_1_conv``: ``conv2`` > ``conv2_block1``) or, for models traced with a module
hierarchy, a module (``layer1`` > ``layer1_0``), whose names start with its path. A container
can be a block call when it is single-entry single-exit: its layers read one value from
outside it, and only its last layer is read outside it. Its *signature* — each layer's local
name, type and wiring, and the module class — says which containers are instances of one block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from ..ir.naming import snake
from ..ops.base import layer_types
from .flat import FlatLayer, FlatModel

INPUT = "input"


@dataclass(eq=False)
class Node:
    prefix: str  # the names of its layers start with prefix + "_"
    start: int  # its layers are flat.layers[start:end]
    end: int
    cls: Optional[str] = None  # the module class, for a model with scopes
    parent: Optional["Node"] = None
    children: list[Union["Node", int]] = field(default_factory=list)  # in order; int: a layer
    signature: Optional[tuple] = None  # None: not single-entry single-exit
    # Its layers' names inside it: the rest of their names after the prefix; or, for a run
    # that no name marks (``named`` false), Keras-style names by type (conv2d, conv2d_1).
    locals: list[str] = field(default_factory=list)
    named: bool = True

    def local(self) -> str:
        """Its name inside its parent container."""
        outer = self.parent.prefix if self.parent is not None else ""
        return self.prefix[len(outer) + 1:] if outer else self.prefix

    def subnodes(self) -> list["Node"]:
        return [c for c in self.children if isinstance(c, Node)]


def build_tree(flat: FlatModel) -> Node:
    """The root (prefix "", every layer) with its containers nested below it."""
    layers = flat.layers
    scoped = any(layer.scope for layer in layers)
    candidates = _scope_candidates(layers) if scoped else _prefix_candidates(layers)
    candidates += _unnamed_units(flat, candidates)
    root = Node("", 0, len(layers))
    # Containers nest (a prefix's run holds its extensions' runs); outermost first. Of two
    # with the same layers, a module keeps its class (an InvertedResidual that is only its
    # conv Sequential is still an InvertedResidual); a Keras prefix, its longest name.
    ordered = sorted(candidates, key=lambda c: (c.start, -c.end,
                                                len(c.prefix) if scoped else -len(c.prefix)))
    stack = [root]
    for node in ordered:
        while not (stack[-1].start <= node.start and node.end <= stack[-1].end):
            stack.pop()
        if (stack[-1].start, stack[-1].end) == (node.start, node.end) and stack[-1] is not root:
            continue
        node.parent = stack[-1]
        stack[-1].children.append(node)
        stack.append(node)
    _fill(root)
    _sign(root, flat)
    return root


def _fill(node: Node) -> None:
    """Insert each node's own layers between its sub-containers, in order."""
    out: list[Union[Node, int]] = []
    at = node.start
    for child in node.subnodes():
        out.extend(range(at, child.start))
        out.append(child)
        _fill(child)
        at = child.end
    out.extend(range(at, node.end))
    node.children = out


def _runs(groups: dict[str, list[int]], layers: list[FlatLayer]) -> list[tuple[str, int, int]]:
    """(prefix, start, end) of each prefix whose layers are consecutive, at least two, and
    all named below it (none named the prefix itself)."""
    names = {layer.name for layer in layers}
    out = []
    for prefix, indices in groups.items():
        if len(indices) < 2 or prefix in names:
            continue
        if indices[-1] - indices[0] + 1 == len(indices):
            out.append((prefix, indices[0], indices[-1] + 1))
    return out


def _prefix_candidates(layers: list[FlatLayer]) -> list[Node]:
    groups: dict[str, list[int]] = {}
    for i, layer in enumerate(layers):
        parts = layer.name.split("_")
        for k in range(1, len(parts)):
            prefix = "_".join(parts[:k])
            if prefix:
                groups.setdefault(prefix, []).append(i)
    return [Node(prefix, a, b) for prefix, a, b in _runs(groups, layers)]


def _scope_candidates(layers: list[FlatLayer]) -> list[Node]:
    """One container per module: its path joined with "_", where its layers' names start
    with that path and sit together in the order."""
    groups: dict[str, list[int]] = {}
    classes: dict[str, str] = {}
    for i, layer in enumerate(layers):
        for depth in range(1, len(layer.scope) + 1):
            prefix = "_".join(name for name, _ in layer.scope[:depth])
            if layer.name.startswith(prefix + "_"):
                groups.setdefault(prefix, []).append(i)
                classes[prefix] = layer.scope[depth - 1][1]
    return [Node(prefix, a, b, cls=classes[prefix]) for prefix, a, b in _runs(groups, layers)]


def _unnamed_units(flat: FlatModel, named: list[Node]) -> list[Node]:
    """Runs between the points where one value alone flows on (a residual block, an
    inception module: not a chain) that no name marks, and that do not cross a named
    container: a model whose layers Keras named by type (conv2d_7) still shows its repeats."""
    layers = flat.layers
    position = {layer.name: i for i, layer in enumerate(layers)}
    last_read = list(range(len(layers)))  # the last layer reading each layer's output
    for i, layer in enumerate(layers):
        for name in layer.inputs:
            if name in position:
                last_read[position[name]] = max(last_read[position[name]], i)
    input_read = max((i for i, layer in enumerate(layers) if INPUT in layer.inputs), default=0)
    cuts, reach = [0], -1  # reach: the last reader of any layer before i - 1
    for i in range(1, len(layers)):
        if reach < i and input_read < i:
            cuts.append(i)  # nothing before layer i - 1 is read from i on
        reach = max(reach, last_read[i - 1])
    cuts.append(len(layers))
    spans = {(n.start, n.end) for n in named}
    out = []
    units = list(zip(cuts, cuts[1:]))
    for k, (a, b) in enumerate(units):
        if b - a < 2:
            continue
        # the activation (or dropout) a unit ends in belongs to it: a residual block's last
        # ReLU comes after its sum
        for c, d in units[k + 1:]:
            if d - c != 1 or _kind(layers[c].type) not in ("activation", "regularization"):
                break
            b = d
        crosses = any(s < a < e < b or a < s < b < e for s, e in spans)
        if (a, b) not in spans and not crosses:
            out.append(Node("", a, b, named=False))
    return out


def _kind(type_name: str) -> str:
    cls = layer_types().get(type_name)
    return cls.kind if cls is not None else ""


def _sign(root: Node, flat: FlatModel) -> None:
    """Give every single-entry single-exit container its signature."""
    layers = flat.layers
    readers: dict[str, set[int]] = {}
    for i, layer in enumerate(layers):
        for name in layer.inputs:
            readers.setdefault(name, set()).add(i)
    output = flat.output or (layers[-1].name if layers else INPUT)
    stack = list(root.subnodes())
    while stack:
        node = stack.pop()
        stack.extend(node.subnodes())
        node.signature = _signature(node, layers, readers, output)


def _signature(node: Node, layers: list[FlatLayer], readers: dict[str, set[int]],
               output: str) -> Optional[tuple]:
    inside = {layers[i].name: i for i in range(node.start, node.end)}
    entries = {name for i in range(node.start, node.end) for name in layers[i].inputs
               if name not in inside}
    if len(entries) != 1:
        return None
    last = layers[node.end - 1].name
    for name, i in inside.items():
        read_outside = any(not node.start <= r < node.end for r in readers.get(name, ()))
        if (read_outside or name == output) != (name == last):
            return None
    node.locals = _locals(node, layers)
    local = {layers[i].name: node.locals[i - node.start] for i in range(node.start, node.end)}
    body = tuple((local[layers[i].name], layers[i].type,
                  tuple(local.get(n, INPUT) for n in layers[i].inputs))
                 for i in range(node.start, node.end))
    return (node.cls, body)


def _locals(node: Node, layers: list[FlatLayer]) -> list[str]:
    if node.named:
        cut = len(node.prefix) + 1
        return [layers[i].name[cut:] for i in range(node.start, node.end)]
    counts: dict[str, int] = {}
    out = []
    for i in range(node.start, node.end):
        base = snake(layers[i].type)
        k = counts[base] = counts.get(base, -1) + 1
        out.append(f"{base}_{k}" if k else base)
    return out
