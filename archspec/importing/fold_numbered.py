"""Block bodies whose layers torch numbers (Conv2dNormActivation's 0, 1, 2), written unnamed
so that the spec's names are torch's paths (``features_0_1``, not ``features_0__1``).

That is only right where every call of the block stands in a numbered container — a named
group, or an unnamed repeat inside one: there a block's unnamed layers are numbered too, as
torchvision's ``nn.Sequential`` subclasses number their modules.
"""

from __future__ import annotations

from typing import Any

from .fold_blocks import Block
from .fold_tree import Node

CallMade = tuple[str, str, Node]  # the block, the call's full name, the container


def number_bodies(document: dict, blocks: list[Block], calls: list[CallMade], flat,
                  renames: dict[str, str]) -> None:
    """Unname the numbered layers of blocks that are only called in numbered containers, and
    correct ``renames`` (model name → spec name) for their calls."""
    contexts: dict[str, set[bool]] = {}
    _contexts(document["layers"], False, contexts)
    for block in blocks:
        numbered = _numbered(block) if contexts.get(block.name) == {True} else []
        if not numbered:
            continue
        for j in numbered:
            ((kind, body),) = block.layers[j].items()
            rest = {k: v for k, v in body.items() if k != "name"}
            block.layers[j] = {kind: rest} if rest else kind
        for name, full, node in calls:
            if name != block.name:
                continue
            for j in numbered:
                original = flat.layers[node.start + j].name
                renames.pop(original, None)
                if f"{full}_{j}" != original:
                    renames[original] = f"{full}_{j}"


def _contexts(items: list, numbered: bool, out: dict[str, set[bool]]) -> None:
    for item in items:
        if not isinstance(item, dict):
            continue
        ((key, body),) = item.items()
        if key == "group":
            _contexts(body["layers"], True, out)
        elif key == "repeat":
            _contexts(body["layers"], numbered and "name" not in body, out)
        elif isinstance(body, dict) and not key[:1].isupper():
            out.setdefault(key, set()).add(numbered)


def _numbered(block: Block) -> list[int]:
    """Positions whose layer is named ``_<its position>``, if no layer names one as input and
    every instance has every layer (no flag)."""
    if any(node.end - node.start != len(block.layers) for node in block.instances):
        return []
    names = [_name(item) for item in block.layers]
    found = [j for j, name in enumerate(names) if name == f"_{j}"]
    referenced = {n for item in block.layers for n in _inputs(item)}
    return [] if referenced & {f"_{j}" for j in found} else found


def _name(item: Any) -> str:
    ((_, body),) = item.items()
    return body.get("name", "")


def _inputs(item: Any) -> list[str]:
    ((_, body),) = item.items()
    inputs = body.get("inputs", [])
    return [inputs] if isinstance(inputs, str) else list(inputs)
