"""Helpers that keep expanding a spec bounded in time and memory, whatever the spec: indexes
built once instead of searched per error, and call chains that stop growing with depth."""

from __future__ import annotations

from typing import Any


class LaterNames:
    """Names of the items after this one, computed only when a reference fails (so that the
    error can say "defined later" rather than "unknown"). The names of a list are indexed
    once, on its first failed reference: a list of 10,000 bad references stays linear."""

    _last: dict[int, tuple[list, dict[str, int]]] = {}

    def __init__(self, items: list, index: int):
        self.items, self.index = items, index

    def __contains__(self, name: str) -> bool:
        return last_positions(self.items).get(name, -1) > self.index


def last_positions(items: list) -> dict[str, int]:
    """Layer name → the last index of ``items`` naming it (items of any shape: bare strings,
    mappings of several keys, non-mappings)."""
    cache = LaterNames._last
    hit = cache.get(id(items))
    if hit is not None and hit[0] is items:
        return hit[1]
    positions: dict[str, int] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            for body in item.values():
                if isinstance(body, dict) and isinstance(body.get("name"), str):
                    positions[body["name"]] = index
    if len(cache) > 64:
        cache.clear()
    cache[id(items)] = (items, positions)  # the list is kept, so its id is not reused
    return positions


def item_key(item: Any) -> Any:
    """The type or keyword an item names (None for a malformed one)."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and len(item) == 1:
        return next(iter(item))
    return None


def shortened(via: str, head: int = 2, tail: int = 5) -> str:
    """A call chain with its middle elided once it is long: every layer of a deep block keeps
    its own chain, so a full one would cost memory quadratic in the depth."""
    parts = via.split(" -> ")
    if len(parts) <= head + tail + 1:
        return via
    return " -> ".join(parts[:head] + ["..."] + parts[-tail:])
