"""What a diagram shows: the live layers, grouped by the spec's structure (``Node.scope``) into
blocks and stages, each either open (a cluster around its members) or collapsed (one box with
a summary). Every output format draws this one model.

By default block calls and stages (iterations of a named repeat, groups whose members are calls
of one block) are collapsed, and so are groups of plain layers; a group that mixes layers and
blocks (``features`` in torchvision's models) stays open around its collapsed members.
Consecutive calls of one block that read each other and take the same arguments after the
first (the blocks of one MobileNetV2 stage) share one box: ``inverted_residual ×3``.
``expand`` names blocks or stages (qualified names, ``layer1``, or block names, ``bottleneck``)
to open them and everything inside; ``*`` opens everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..ir.graph import Graph, Node
from .labels import PALETTE, params_text, range_name, shape_text, type_text

ALL = frozenset({"*", "all"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
RESERVED = frozenset({"end", "graph", "subgraph", "node", "edge", "digraph", "strict"})


@dataclass(eq=False)
class Container:
    """One level of the spec's structure: a block call, a repeat iteration or a named group
    (an iteration and the call merged into it, which share a prefix, are one container)."""
    kind: str  # "root" | "call" | "iteration" | "group"
    name: str  # the qualified prefix of its members' names ("layer1_0"); "" for the root
    block: str | None = None
    params: tuple = ()
    parent: Container | None = None
    members: list[Node | Container] = field(default_factory=list)

    def nodes(self) -> Iterator[Node]:
        for member in self.members:
            if isinstance(member, Container):
                yield from member.nodes()
            else:
                yield member

    def containers(self) -> Iterator[Container]:
        for member in self.members:
            if isinstance(member, Container):
                yield member
                yield from member.containers()

    def stage_block(self) -> str | None:
        """The block every member calls, when all members are calls of one block."""
        blocks = {m.block if isinstance(m, Container) and m.kind == "call" else None
                  for m in self.members}
        return blocks.pop() if len(blocks) == 1 else None

    def opens_by_default(self) -> bool:
        """A group that mixes layers and blocks (torchvision's ``features``)."""
        return (self.kind in ("root", "group")
                and any(isinstance(m, Container) for m in self.members)
                and self.stage_block() is None)


@dataclass(eq=False)
class Item:
    """A box in the diagram (a layer, the input, a collapsed block or run of blocks) or a
    cluster (an open block: its ``children`` are items too)."""
    id: str
    kind: str  # "input" | "layer" | "box" | "cluster"
    name: str
    nodes: list[Node]
    colour: str  # a key of labels.PALETTE
    lines: tuple[str, ...] = ()  # under the name: type, shape, parameters
    children: list[Item] = field(default_factory=list)
    parent: Item | None = None
    count: int = 1  # calls in a collapsed run or stage, drawn as a stack


@dataclass
class Diagram:
    name: str
    root: Item
    items: dict[str, Item]
    edges: list[tuple[str, str]]  # between boxes (never clusters), each once, in graph order
    skips: set[tuple[str, str]]  # edges from a value read elsewhere too straight into a merge
    totals: dict[str, int]
    input_shape: str


def build_tree(live: Iterable[Node]) -> Container:
    root = Container("root", "")
    by_key: dict[tuple, Container] = {}
    for node in live:
        parent, key = root, ()
        for frame in node.scope:
            if frame.prefix and frame.prefix == parent.name and parent is not root:
                _merge(parent, frame)  # an iteration and the call inside it: one level
                continue
            key += ((frame.kind, frame.name, frame.prefix, frame.block, frame.index),)
            child = by_key.get(key)
            if child is None:
                child = by_key[key] = Container(frame.kind, frame.prefix, frame.block,
                                                frame.params, parent)
                parent.members.append(child)
            parent = child
        parent.members.append(node)
    return root


def _merge(container: Container, frame) -> None:
    if frame.kind == "call":
        container.kind, container.block, container.params = "call", frame.block, frame.params


def _opened(root: Container, expand: Iterable[str]) -> tuple[set[int], set[int]]:
    """(containers opened with everything inside, containers opened on the way to them)."""
    wanted = set(expand)
    everything = list(root.containers())
    if wanted & ALL:
        return {id(c) for c in everything}, set()
    matched = [c for c in everything if c.name in wanted or c.block in wanted]
    unknown = wanted - {c.name for c in matched} - {c.block for c in matched}
    if unknown:
        names = sorted({c.name for c in everything if c.name}
                       | {c.block for c in everything if c.block})
        shown = ", ".join(names[:40]) + (", ..." if len(names) > 40 else "")
        raise ValueError(f"no block or stage named {', '.join(sorted(unknown))}"
                         f" (there are: {shown or 'none'})")
    full, path = set(), set()
    for container in matched:
        full.add(id(container))
        full.update(id(c) for c in container.containers())
        parent = container.parent
        while parent is not None:
            path.add(id(parent))
            parent = parent.parent
    return full, path


class _Builder:
    def __init__(self, graph: Graph, full: set[int], path: set[int]) -> None:
        self.graph, self.full, self.path = graph, full, path
        self.items: dict[str, Item] = {}
        self.owner: dict[str, Item] = {}

    def is_open(self, container: Container) -> bool:
        key = id(container)
        return key in self.full or key in self.path or container.opens_by_default()

    def unique(self, name: str) -> str:
        """An identifier (for Mermaid and DOT too) no other item has."""
        base = _UNSAFE.sub("_", name).strip("_") or "block"
        candidate, n = base, 1
        while candidate in self.items or candidate in RESERVED:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def add(self, item: Item, parent: Item | None) -> Item:
        self.items[item.id] = item
        item.parent = parent
        if parent is not None:
            parent.children.append(item)
        for node in item.nodes:
            self.owner[node.name] = item
        return item

    def layer(self, node: Node, parent: Item) -> None:
        graph, meta = self.graph, node.meta
        params = meta["trainable"] + meta["non_trainable"]
        lines = (type_text(node.layer), shape_text(graph.to_spec_layout(meta["shape"])),
                 params_text(params, exact=True))
        kind = node.layer.kind if node.layer.kind in PALETTE else "other"
        self.add(Item(self.unique(node.name), "layer", node.name, [node], kind, lines), parent)

    def fill(self, container: Container, parent: Item) -> None:
        members = container.members
        i = 0
        while i < len(members):
            member = members[i]
            if isinstance(member, Node):
                self.layer(member, parent)
                i += 1
            elif _single_layer(member):  # a group around one layer: just the layer
                self.layer(next(member.nodes()), parent)
                i += 1
            elif self.is_open(member):
                cluster = self.add(Item(self.unique(member.name), "cluster",
                                        _title(member), [], "block"), parent)
                self.fill(member, cluster)
                i += 1
            else:
                run = self._run(members, i)
                self.box(run, parent)
                i += len(run)

    def _run(self, members: list, start: int) -> list[Container]:
        """The calls from ``start`` on that one repeat made in a row, reading each other, each
        after the first keeping the shape (a stage: its first block may change the shape)."""
        first = members[start]
        run = [first]
        if first.kind != "call":
            return run
        site = _call_site(first)
        for member in members[start + 1:]:
            if (not isinstance(member, Container) or member.kind != "call"
                    or member.block != first.block or self.is_open(member)
                    or _call_site(member) != site
                    or (site is None and member.params != first.params)
                    or _shape(member) != _shape(run[-1])
                    or not _reads_only(member, run[-1])):
                break
            run.append(member)
        return run

    def box(self, run: list[Container], parent: Item) -> None:
        nodes = [n for c in run for n in c.nodes()]
        first, last = run[0], run[-1]
        if len(run) > 1:
            name, count = range_name(first.name, last.name), len(run)
            summary = f"{first.block} ×{count}"
        else:
            name, (summary, count) = first.name or first.block or "group", _summary(first)
        output = _output(nodes)
        params = sum(n.meta["trainable"] + n.meta["non_trainable"] for n in nodes)
        lines = (summary, shape_text(self.graph.to_spec_layout(output.meta["shape"])),
                 params_text(params, exact=False))
        self.add(Item(self.unique(name), "box", name, nodes, "block", lines, count=count), parent)


def _single_layer(container: Container) -> bool:
    return len(container.members) == 1 and isinstance(container.members[0], Node)


def _title(container: Container) -> str:
    """A cluster's label: its name inside its parent's (``denselayer1``, not
    ``features_denseblock1_denselayer1``) unless that is a bare number, and its block."""
    name, parent = container.name, container.parent
    if parent is not None and parent.name and name.startswith(parent.name + "_"):
        local = name[len(parent.name) + 1:]
        name = name if local.isdigit() else local
    if container.block:
        return f"{name} · {container.block}" if name else container.block
    return name


def _summary(container: Container) -> tuple[str, int]:
    if container.kind == "call":
        return container.block or "block", 1
    block = container.stage_block()
    if block is not None:
        count = len(container.members)
        return (f"{block} ×{count}" if count > 1 else block), count
    nodes = list(container.nodes())
    if len(nodes) <= 2 and len(container.members) == len(nodes):
        return " → ".join(n.type for n in nodes), 1
    return f"{len(nodes)} layers", 1


def _call_site(container: Container) -> tuple | None:
    """Where in the spec the call was written: the calls of one repeat share it."""
    chain = next(container.nodes()).via
    while chain is not None:
        if chain.name == container.name:
            return chain.path
        chain = chain.caller
    return None


def _shape(container: Container) -> tuple:
    return _output(list(container.nodes())).meta["shape"]


def _reads_only(container: Container, previous: Container) -> bool:
    """Whether every value the container reads from outside comes from ``previous``."""
    inside = {n.name for n in container.nodes()}
    before = {n.name for n in previous.nodes()}
    return all(i in inside or i in before for n in container.nodes() for i in n.inputs)


def _output(nodes: list[Node]) -> Node:
    """The member read outside (the last one, when several are)."""
    inside = {n.name for n in nodes}
    read = {i for n in nodes for i in n.inputs}
    for node in reversed(nodes):
        if node.name not in read or node.name not in inside:
            return node
    return nodes[-1]


def build(graph: Graph, expand: Iterable[str] = ()) -> Diagram:
    """The diagram model of an analysed graph. Raises ValueError for an ``expand`` name that
    is no block or stage of the graph."""
    live = graph.live()
    tree = build_tree(live)
    full, path = _opened(tree, expand)
    builder = _Builder(graph, full, path)
    root = Item("", "cluster", graph.name, [], "block")
    source = graph.nodes[0]
    builder.add(Item("input", "input", "input", [source], "input",
                     ("Input", shape_text(graph.to_spec_layout(graph.input_shape)))), root)
    builder.fill(tree, root)
    edges, seen = [], set()
    for node in live:
        target = builder.owner[node.name].id
        for name in node.inputs:
            edge = (builder.owner[name].id, target)
            if edge[0] != target and edge not in seen:
                seen.add(edge)
                edges.append(edge)
    fan_out: dict[str, int] = {}
    for source, _ in edges:
        fan_out[source] = fan_out.get(source, 0) + 1
    skips = {(s, t) for s, t in edges if fan_out[s] > 1 and builder.items[t].kind == "layer"
             and builder.items[t].colour == "merge"}
    totals = {"layers": len(live),
              "params": sum(n.meta["trainable"] + n.meta["non_trainable"] for n in live),
              "macs": sum(n.meta["macs"] for n in live)}
    return Diagram(graph.name, root, builder.items, edges, skips, totals,
                   shape_text(graph.to_spec_layout(graph.input_shape)))
