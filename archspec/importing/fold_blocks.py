"""Which containers become block calls, and each block's definition.

Containers with one signature are instances of one block when there are at least two of them;
the outermost such containers win (a stage that repeats is one call, not its blocks), and a
container whose twins all sit inside chosen ones is opened instead. A block's parameters are
the arguments that differ between its instances; an argument that is always a whole multiple
or fraction of another parameter is written as an expression of it (``${4 * filters}``).
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from ..ir.naming import snake
from ..ops.base import layer_types
from .flat import FlatModel
from .fold_params import ABSENT, Params, value_key
from .fold_tree import INPUT, Node

IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_MISSING = object()


def identifier(name: str) -> bool:
    return bool(IDENTIFIER.match(name)) and not keyword.iskeyword(name) and name != INPUT


def spec_local(local: str) -> str:
    """A local name as a spec may write it: ``1_conv`` (Keras' ResNet) is not an identifier,
    ``_1_conv`` is, and reads the same once "_" runs are taken as one (as reference weights
    pair them)."""
    return local if identifier(local) else f"_{local}"


@dataclass
class Block:
    name: str
    instances: list[Node]
    params: list[tuple[str, list]] = field(default_factory=list)  # name, value per instance
    layers: list[dict] = field(default_factory=list)  # the definition's items

    def call_arguments(self, instance: Node) -> dict[str, Any]:
        k = self.instances.index(instance)
        return {name: values[k] for name, values in self.params}


def choose_instances(root: Node, family: dict) -> set[int]:
    """ids of the containers that become block calls: at each container, calls of it or of
    what it holds, whichever writes fewer lines (a block's body counted once over its calls);
    then a call whose twins all ended up elsewhere is opened, until none is alone. ``family``:
    signature → (the signature of the block it calls, the layers it lacks)."""
    def key(node: Node):
        return family[node.signature][0]
    counts = Counter(key(n) for n in all_nodes(root) if n.signature is not None)
    while True:
        chosen: dict[int, Node] = {}
        _cost(root, counts, key, chosen)
        alone = Counter(key(n) for n in chosen.values())
        lonely = {key(n) for n in chosen.values() if alone[key(n)] < 2}
        if not lonely:
            return set(chosen)
        for signature in lonely:
            counts[signature] = 1


def _cost(node: Node, counts: Counter, key, chosen: dict[int, Node]) -> float:
    """Lines to write ``node``'s layers, choosing calls below it (recorded in ``chosen``)."""
    inner: dict[int, Node] = {}
    opened = sum(1.0 if isinstance(c, int) else _cost(c, counts, key, inner)
                 for c in node.children)
    if node.signature is not None and counts[key(node)] >= 2:
        called = 1.0 + len(key(node)[1]) / counts[key(node)]
        if called <= opened:
            chosen[id(node)] = node
            return called
    chosen.update(inner)
    return opened


def all_nodes(root: Node) -> list[Node]:
    out, stack = [], list(root.subnodes())
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.subnodes())
    return out


def make_blocks(root: Node, chosen: set[int], flat: FlatModel,
                family: dict) -> dict[int, Block]:
    """One Block per called signature — one for two signatures where one is the other less
    some layers that ``when`` can leave out (ResNet's first block of a stage has a projection
    shortcut the others lack); id(container) → its Block."""
    by_base: dict[tuple, list[Node]] = {}
    for node in _in_order(root):
        if id(node) in chosen:
            by_base.setdefault(family[node.signature][0], []).append(node)
    taken: dict[str, set[str]] = {}
    out: dict[int, Block] = {}
    for base, everyone in by_base.items():
        short = {id(n) for n in everyone if n.signature != base}
        if len(short) == len(everyone):  # none has the layers the others lack
            base, short = everyone[0].signature, set()
        skipped = next((family[n.signature][1] for n in everyone if id(n) in short),
                       frozenset())
        body = {local for local, _, _ in base[1]}
        block = Block(_block_name(everyone[0], body, taken), everyone)
        taken[block.name] = body
        _define(block, base, flat, skipped, short)
        out.update({id(node): block for node in everyone})
    return out


def _in_order(root: Node) -> list[Node]:
    out = []
    for child in root.subnodes():
        out.append(child)
        out.extend(_in_order(child))
    return out


def _block_name(node: Node, body: set[str], taken: dict[str, set[str]]) -> str:
    """snake_case of the module class, or the container's name without its numbers
    (``conv2_block1`` → ``conv_block``, ``inception3a`` → ``inception``); a second block of
    that name is told apart by a layer only it has (``block_add``) or lacks
    (``block_no_pad``)."""
    if node.cls:
        base = snake(node.cls)
    elif not node.named:
        base = "block"
    else:  # each part without its number and what follows it: inception3a → inception
        base = "_".join(re.sub(r"\d.*", "", part) for part in node.prefix.split("_"))
    base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", base)).strip("_").lower() or "block"
    if not identifier(base) or base in layer_types() or base in ("repeat", "group"):
        base = f"{base}_block"
    if base not in taken:
        return base
    other = taken[base]
    for candidate in [f"{base}_{name}" for name in sorted(body - other)] + \
            [f"{base}_no_{name}" for name in sorted(other - body)]:
        if identifier(candidate) and "__" not in candidate and candidate not in taken:
            return candidate
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _define(block: Block, signature: tuple, flat: FlatModel, skipped: frozenset[str],
            short: set[int]) -> None:
    """The block's items, with the arguments that differ between instances as parameters
    and, for instances that lack the ``skipped`` layers (ids in ``short``), a flag."""
    body = signature[1]
    # where each instance has each layer of the body: its own index, or None
    places = []
    for node in block.instances:
        index, place = node.start, []
        for local, _, _ in body:
            if id(node) in short and local in skipped:
                place.append(None)
            else:
                place.append(index)
                index += 1
        places.append(place)
    namer = Params()
    flag = None
    if skipped:
        flag = namer.flag(skipped, [id(n) not in short for n in block.instances])
    previous = INPUT
    for j, (local, type_name, inputs) in enumerate(body):
        versions = [flat.layers[p[j]].args if p[j] is not None else None for p in places]
        item = _arguments(type_name, versions, namer, local)
        item["name"] = spec_local(local)
        written = [spec_local(n) if n != INPUT else INPUT for n in inputs]
        if written != [previous]:
            item["inputs"] = written[0] if len(written) == 1 else written
        if flag is not None and local in skipped:
            item["when"] = flag
        block.layers.append({type_name: item})
        previous = item["name"]
    block.layers = namer.resolve(block.layers)
    block.params = namer.params


def _arguments(type_name: str, versions: list[Optional[dict]], namer: Params,
               local: str) -> dict:
    """One layer's arguments over the instances that have it (None: an instance without)."""
    present = [v for v in versions if v is not None]
    args: dict[str, Any] = {}
    for key in _keys(present):
        values = [v.get(key, _MISSING) if v is not None else ABSENT for v in versions]
        known = [v for v in values if v is not ABSENT]
        if all(_same(v, known[0]) for v in known):
            if known[0] is not _MISSING:
                args[key] = known[0]
        else:
            args[key] = namer.reference(key, [_default(type_name, key) if v is _MISSING
                                              else v for v in values], local)
    return args


def _keys(versions: list[dict]) -> list[str]:
    keys: list[str] = []
    for args in versions:
        keys.extend(k for k in args if k not in keys)
    return keys


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return value_key(a) == value_key(b)


def _default(type_name: str, key: str) -> Any:
    default = layer_types()[type_name].model_fields[key].default
    return list(default) if isinstance(default, tuple) else default
