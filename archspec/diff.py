"""``archspec diff``: what changed between two analysed specs — layers added, removed and
changed (arguments, wiring, output shape, parameters, MACs), and the totals.

Layers are paired by name first, then by structure. A counted name — automatic (``conv2d_3``)
or positional in a named group (torchvision's ``features_16``) — says little: inserting one
layer renumbers the later ones, so only names of their own pair by name. What is left of both
sides is aligned in order with difflib over (scope, type, arguments) signatures, the scope
being the block call, iteration or group the layer sits in; within a stretch that differs,
layers of the same type in the same scope pair in order. The result's ``to_dict`` is the
stable ``--json`` form (docs/reports.md lists its keys)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Optional

from .ir.graph import INPUT, Graph, Node
from .ir.naming import snake
from .report import LayerRow, Report

JSON_VERSION = 1
# The totals compared, in the order tables show them (keys of Report.totals).
TOTALS = ("layers", "trainable_params", "non_trainable_params", "total_params", "macs",
          "flops", "activation_bytes", "peak_activation_bytes")
_STRUCTURAL = {"type", "name", "inputs"}
# Beyond this many (A layer, B layer) combinations left after the common head and tail,
# difflib's alignment (quadratic on repetitive models: 31 s for 25,000 layers) gives way to a
# linear pairing by occurrence; 2,000 x 2,000 layers align in about 0.3 s.
ALIGN_LIMIT = 2_000 * 2_000


def _counted(node: Node) -> bool:
    """Whether the name is a number: automatic (``stage1_conv2d_3``) or a position in a named
    group (``features_16``, as nn.Sequential numbers its modules)."""
    if re.fullmatch(r".*_\d+", node.name) is None:
        return False
    local = node.local
    return local.isdigit() or re.fullmatch(rf"(?:.*_)?{re.escape(snake(node.type))}_\d+",
                                           node.name) is not None


def _arguments(node: Node, written: bool = False) -> dict[str, Any]:
    """Every argument with its default filled in, so that ``padding: valid`` written out and
    left to its default compare equal; ``written``: only what the spec wrote."""
    if node.layer is None:
        return {}
    if written:
        return node.layer.args()
    return node.layer.model_dump(mode="json", exclude=_STRUCTURAL)


def _signature(node: Node, arguments: dict[str, Any]) -> tuple[str, str, str]:
    scope = node.scope[-1].prefix if node.scope else ""
    return scope, node.type, json.dumps(arguments, sort_keys=True)


def _by_name(a: list[Node], b: list[Node]) -> dict[int, int]:
    where = {node.name: j for j, node in enumerate(b) if not _counted(node)}
    return {i: where[node.name] for i, node in enumerate(a)
            if node.name in where and not _counted(node)}


def _by_structure(rest_a: list[int], rest_b: list[int], sig_a: list, sig_b: list,
                  pairs: dict[int, int]) -> None:
    """Align the unpaired remainders in order. The common head and tail pair first: difflib
    over long runs of repeated signatures is quadratic, and most edits are local. autojunk
    off: a ResNet repeats its BatchNormalization signature far more often than difflib's 1%
    popularity cut-off."""
    head = 0
    while head < min(len(rest_a), len(rest_b)) and \
            sig_a[rest_a[head]] == sig_b[rest_b[head]]:
        head += 1
    tail = 0
    while tail < min(len(rest_a), len(rest_b)) - head and \
            sig_a[rest_a[-1 - tail]] == sig_b[rest_b[-1 - tail]]:
        tail += 1
    pairs.update(zip(rest_a[:head], rest_b[:head]))
    pairs.update(zip(rest_a[len(rest_a) - tail:], rest_b[len(rest_b) - tail:]))
    rest_a, rest_b = rest_a[head:len(rest_a) - tail], rest_b[head:len(rest_b) - tail]
    if len(rest_a) * len(rest_b) > ALIGN_LIMIT:
        _by_occurrence(rest_a, rest_b, sig_a, sig_b, pairs)
        return
    outer = SequenceMatcher(None, [sig_a[i] for i in rest_a], [sig_b[j] for j in rest_b],
                            autojunk=False)
    for tag, i1, i2, j1, j2 in outer.get_opcodes():
        if tag == "equal":
            pairs.update(zip(rest_a[i1:i2], rest_b[j1:j2]))
        elif tag == "replace":  # the same types in the same order: the same layers, changed
            inner_a, inner_b = rest_a[i1:i2], rest_b[j1:j2]
            inner = SequenceMatcher(None, [sig_a[i][:2] for i in inner_a],
                                    [sig_b[j][:2] for j in inner_b], autojunk=False)
            for block in inner.get_matching_blocks():
                pairs.update(zip(inner_a[block.a:block.a + block.size],
                                 inner_b[block.b:block.b + block.size]))


def _by_occurrence(rest_a: list[int], rest_b: list[int], sig_a: list, sig_b: list,
                   pairs: dict[int, int]) -> None:
    """Linear pairing for stretches too long to align: the k-th layer of a signature in A
    with the k-th of that signature in B, then what is left by scope and type alike."""
    for key in (lambda s: s, lambda s: s[:2]):
        waiting: dict[Any, list[int]] = {}
        for j in rest_b:
            waiting.setdefault(key(sig_b[j]), []).append(j)
        for lists in waiting.values():
            lists.reverse()
        left = []
        for i in rest_a:
            queue = waiting.get(key(sig_a[i]))
            if queue:
                pairs[i] = queue.pop()
            else:
                left.append(i)
        taken = set(pairs.values())
        rest_a, rest_b = left, [j for j in rest_b if j not in taken]


def signatures(nodes: list[Node]) -> list[tuple[str, str, str]]:
    return [_signature(n, _arguments(n)) for n in nodes]


def match(a: list[Node], b: list[Node], sig_a: Optional[list] = None,
          sig_b: Optional[list] = None) -> dict[int, int]:
    """Index in ``a`` → index in ``b`` of the layers that are the same layer."""
    sig_a = signatures(a) if sig_a is None else sig_a
    sig_b = signatures(b) if sig_b is None else sig_b
    pairs = _by_name(a, b)
    taken = set(pairs.values())
    rest_a = [i for i in range(len(a)) if i not in pairs]
    rest_b = [j for j in range(len(b)) if j not in taken]
    if rest_a and rest_b:
        _by_structure(rest_a, rest_b, sig_a, sig_b, pairs)
    return pairs


def _wiring(nodes: list[Node], kept: set[str]) -> dict[str, list[str]]:
    """Each layer's inputs, looking through layers the other side lacks (an inserted layer
    rewires the next one; that is the insertion, not a second change)."""
    # One pass in topological order (a layer's first input is resolved before it): walking
    # back from every input instead was quadratic on long runs of unpaired layers.
    target = {INPUT: INPUT}
    for node in nodes:
        if node.name in kept:
            target[node.name] = node.name
        else:
            target[node.name] = target.get(node.inputs[0], INPUT) if node.inputs else INPUT
    return {n.name: [target.get(i, INPUT) for i in n.inputs]
            for n in nodes}


@dataclass
class LayerChange:
    """One layer added (``a`` is None), removed (``b`` is None) or changed."""
    change: str  # "added" | "removed" | "changed"
    a: Optional[LayerRow]
    b: Optional[LayerRow]
    arguments: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key: (old, new)
    written: dict[str, Any] = field(default_factory=dict)  # an added/removed layer's arguments
    inputs_changed: bool = False

    @property
    def name(self) -> str:
        return (self.b or self.a).name

    @property
    def type(self) -> str:
        return (self.b or self.a).type

    def delta(self, key: str) -> int:
        """B's value minus A's of trainable_params, non_trainable_params, total_params, macs."""
        def value(row: Optional[LayerRow]) -> int:
            if row is None:
                return 0
            if key == "total_params":
                return row.trainable_params + row.non_trainable_params
            return getattr(row, key)
        return value(self.b) - value(self.a)

    def to_dict(self) -> dict:
        return {
            "change": self.change,
            "name": self.name,
            "a": self.a.to_dict() if self.a else None,
            "b": self.b.to_dict() if self.b else None,
            "arguments": {k: {"a": old, "b": new} for k, (old, new) in self.arguments.items()},
            "written": dict(self.written),
            "inputs_changed": self.inputs_changed,
            "delta": {k: self.delta(k) for k in ("trainable_params", "non_trainable_params",
                                                  "total_params", "macs")},
        }


@dataclass
class Side:
    """One of the two models compared."""
    name: str
    source: str  # where it came from, e.g. "specs/resnet.yaml --set depth=50"
    input_shape: list[int]  # in the spec's layout, as ``check`` reports them
    output_shape: list[int]
    layout: str

    @classmethod
    def of(cls, report: Report, source: str) -> "Side":
        return cls(report.name, source, report.input_shape, report.output_shape, report.layout)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class SpecDiff:
    a: Side
    b: Side
    changes: list[LayerChange]
    unchanged: int
    totals: dict[str, tuple[int, int]]  # key of TOTALS: (a, b)

    @property
    def identical(self) -> bool:
        return (not self.changes and all(a == b for a, b in self.totals.values())
                and (self.a.input_shape, self.a.layout) == (self.b.input_shape, self.b.layout))

    def count(self, change: str) -> int:
        return sum(c.change == change for c in self.changes)

    def to_dict(self) -> dict:
        return {
            "format": JSON_VERSION,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "identical": self.identical,
            "counts": {"added": self.count("added"), "removed": self.count("removed"),
                       "changed": self.count("changed"), "unchanged": self.unchanged},
            "totals": {k: {"a": a, "b": b, "delta": b - a} for k, (a, b) in self.totals.items()},
            "changes": [c.to_dict() for c in self.changes],
        }


def _changed_arguments(x: Node, y: Node) -> dict[str, tuple[Any, Any]]:
    written = x.type != y.type  # another type: its defaults say nothing, show what was written
    old, new = _arguments(x, written), _arguments(y, written)
    return {k: (old.get(k), new.get(k)) for k in {**old, **new} if old.get(k) != new.get(k)}


def _compare(x: Node, y: Node, rx: LayerRow, ry: LayerRow, same_wiring: bool,
             same_arguments: bool) -> Optional[LayerChange]:
    arguments = {} if same_arguments else _changed_arguments(x, y)
    renamed = x.name != y.name and not (_counted(x) and _counted(y))
    differs = (arguments or not same_wiring or renamed or x.type != y.type
               or rx.output_shape != ry.output_shape or rx.macs != ry.macs
               or rx.trainable_params != ry.trainable_params
               or rx.non_trainable_params != ry.non_trainable_params)
    if not differs:
        return None
    return LayerChange("changed", rx, ry, arguments, inputs_changed=not same_wiring)


def _order(pairs: dict[int, int], a_len: int, b_len: int) -> list[tuple[Optional[int],
                                                                         Optional[int]]]:
    """Every layer of both sides once, in B's order; a removed layer just after the B layer
    that its nearest paired predecessor in A became."""
    keyed: list[tuple[tuple[float, int], Optional[int], Optional[int]]] = []
    paired_b = {j: i for i, j in pairs.items()}
    keyed.extend(((j, 0), paired_b.get(j), j) for j in range(b_len))
    anchor = -1.0
    for i in range(a_len):
        if i in pairs:
            anchor = pairs[i]
        else:
            keyed.append(((anchor + 0.5, i), i, None))
    keyed.sort(key=lambda item: item[0])
    return [(i, j) for _, i, j in keyed]


def diff_graphs(a: Graph, b: Graph, a_label: str = "a", b_label: str = "b") -> SpecDiff:
    """What changed from ``a`` to ``b`` (both analysed)."""
    report_a, report_b = Report.from_graph(a), Report.from_graph(b)
    nodes_a, nodes_b = a.layers, b.layers
    sig_a, sig_b = signatures(nodes_a), signatures(nodes_b)
    pairs = match(nodes_a, nodes_b, sig_a, sig_b)
    names_b = {nodes_a[i].name: nodes_b[j].name for i, j in pairs.items()}
    names_b[INPUT] = INPUT
    wiring_a = _wiring(nodes_a, set(names_b))
    wiring_b = _wiring(nodes_b, {nodes_b[j].name for j in pairs.values()})
    rows_a, rows_b = report_a.layers, report_b.layers
    changes, unchanged = [], 0
    for i, j in _order(pairs, len(nodes_a), len(nodes_b)):
        if j is None:
            changes.append(LayerChange("removed", rows_a[i], None,
                                       written=_arguments(nodes_a[i], written=True)))
        elif i is None:
            changes.append(LayerChange("added", None, rows_b[j],
                                       written=_arguments(nodes_b[j], written=True)))
        else:
            x, y = nodes_a[i], nodes_b[j]
            same = [names_b.get(n, n) for n in wiring_a[x.name]] == wiring_b[y.name]
            change = _compare(x, y, rows_a[i], rows_b[j], same,
                              sig_a[i][1:] == sig_b[j][1:])
            if change is None:
                unchanged += 1
            else:
                changes.append(change)
    totals = {k: (report_a.totals[k], report_b.totals[k]) for k in TOTALS}
    return SpecDiff(Side.of(report_a, a_label), Side.of(report_b, b_label), changes, unchanged,
                    totals)
