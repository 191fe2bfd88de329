"""Runs of identical block calls as ``repeat`` items, and groups of one item as that item.

A run is calls of one block, named ``stem<k>``, ``stem<k+1>``... (or numbered by the group they
are in), with the same arguments; the first may differ in numbers and flags, as a ResNet
stage's first block does (``strides: "${2 if i == 1 else 1}"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from .fold_blocks import identifier


def collapsed(name: str, layers: list) -> Optional[dict]:
    """A group of one named call or repeat is that item, named with the group's name in
    front (``conv2`` holding ``repeat: {name: block}`` is ``repeat: {name: conv2_block}``); a
    group of one numbered repeat is a repeat named ``<group>_``."""
    if len(layers) != 1 or not isinstance(layers[0], dict):
        return None
    ((key, body),) = layers[0].items()
    if key == "group" or not isinstance(body, dict):
        return None
    if key == "repeat":
        inner = body["layers"]
        if "name" in body:
            return {"repeat": {**body, "name": f"{name}_{body['name']}"}}
        if len(inner) == 1 and isinstance(inner[0], dict) and body.get("start", 0) == 0:
            ((block, call),) = inner[0].items()
            if "name" not in call and block != "group":
                return {"repeat": {**body, "name": f"{name}_",
                                   "layers": [{block: {"name": "", **call}}]}}
        return None
    if "name" in body and "inputs" not in body:
        return {key: {**body, "name": f"{name}_{body['name']}"}}
    return None


@dataclass
class Call:
    block: str
    name: Optional[str]
    arguments: dict
    inputs: Any

    def item(self) -> dict:
        body: dict[str, Any] = {}
        if self.name is not None:
            body["name"] = self.name
        body.update(self.arguments)
        if self.inputs is not None:
            body["inputs"] = self.inputs
        return {self.block: body}


_NUMBERED = re.compile(r"\A(.*?)(\d+)\Z")


def repeats(items: list) -> list:
    """Runs of calls of one block named ``stem<k>``, ``stem<k+1>``... (or numbered by their
    group) with the same arguments — the first may differ in numbers and flags, as a stage's
    first block does — → one ``repeat`` each."""
    out: list = []
    i = 0
    while i < len(items):
        run = _run(items, i)
        if len(run) >= 2:
            out.append(_repeat(run))
            i += len(run)
        else:
            item = items[i]
            out.append(item.item() if isinstance(item, Call) else item)
            i += 1
    return out


def _run(items: list, i: int) -> list:
    first = items[i]
    if not isinstance(first, Call) or first.inputs is not None:
        return [first]
    stem, start = _stem(first.name)
    run = [first]
    for other in items[i + 1:]:
        if not isinstance(other, Call) or other.block != first.block or \
                other.inputs is not None or (other.name is None) != (first.name is None):
            break
        if first.name is not None and other.name != f"{stem}{start + len(run)}":
            break
        if len(run) > 1 and other.arguments != run[1].arguments:
            break
        if len(run) == 1 and _first_differs(first.arguments, other.arguments) is None:
            break
        run.append(other)
    if len(run) == 2 and run[0].arguments != run[1].arguments:
        return run[:1]  # two calls that differ read better as two calls
    return run


def _first_differs(first: dict, rest: dict) -> Optional[dict]:
    """The arguments of a repeat whose first iteration has ``first`` and the others ``rest``:
    ``"${2 if i == 0 else 1}"`` where they differ (numbers and flags only), else None."""
    if first.keys() != rest.keys():
        return None
    out = {}
    for key, value in rest.items():
        head = first[key]
        if head == value:
            out[key] = value
        elif isinstance(head, bool) and isinstance(value, bool):
            out[key] = "${i == %START%}" if head else "${i != %START%}"
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (head, value)):
            out[key] = f"${{{head!r} if i == %START% else {value!r}}}"
        else:
            return None
    return out


def _stem(name: Optional[str]) -> tuple[str, int]:
    match = _NUMBERED.match(name or "")
    if match is None or not identifier(match.group(1)) or \
            str(int(match.group(2))) != match.group(2):
        return "\0", -1  # no run of named calls can follow
    return match.group(1), int(match.group(2))


def _repeat(run: list) -> dict:
    first = run[0]
    body: dict[str, Any] = {"times": len(run)}
    start = 0
    if first.name is not None:
        stem, start = _stem(first.name)
        body["name"] = stem
        if start:
            body["start"] = start
    call = {"name": ""} if first.name is not None else {}
    arguments = _first_differs(first.arguments, run[1].arguments) or {}
    call.update({k: v.replace("%START%", str(start)) if isinstance(v, str) else v
                 for k, v in arguments.items()})
    body["layers"] = [{first.block: call}]
    return {"repeat": body}
