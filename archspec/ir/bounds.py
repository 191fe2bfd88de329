"""Helpers that keep expanding a spec bounded in time and memory, whatever the spec: indexes
built once instead of searched per error, and call chains that stop growing with depth."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

T = TypeVar("T")


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


class CallChain:
    """The block calls that produced an item ("layers[0] (b0 'x') -> ..."), kept as links to
    the caller's chain and formatted only when a message needs it: every call of a deep
    fan-out would otherwise build and shorten its chain's text, tens of thousands of times
    for specs that report nothing. Its text keeps the first two and the last five calls, so
    a deep chain costs no memory per layer beyond one link."""

    __slots__ = ("caller", "path", "block", "name")
    HEAD, TAIL = 2, 5

    def __init__(self, caller: "CallChain | None", path: tuple, block: str, name: str):
        self.caller, self.path, self.block, self.name = caller, path, block, name

    def links(self) -> list[str]:
        from ..spec.paths import format_path
        chain, links = self, []
        while chain is not None:
            links.append(f"{format_path(chain.path)} ({chain.block} '{chain.name}')")
            chain = chain.caller
        return links[::-1]

    def __str__(self) -> str:
        links = self.links()
        if len(links) > self.HEAD + self.TAIL + 1:
            links = links[:self.HEAD] + ["..."] + links[-self.TAIL:]
        return " -> ".join(links)


def _run(function: Callable[[], T]) -> T:
    return function()


# CPython 3.11 and 3.12 keep frames in 16 KiB chunks and unmap a chunk as soon as the frame at
# its base returns (fixed in 3.13.x and 3.14: python/cpython#142183). Expanding a fan-out of
# block calls goes down and up the same few levels tens of thousands of times, and when a
# chunk boundary falls there, each step maps and unmaps a chunk: 145,000 mmap/munmap pairs
# made `archspec check` of one spec at the limits spend 1.3 s in the kernel, or not, depending
# on how deep the caller's stack happened to be; any loop over the layers that calls down a
# few frames (inference, the report) can hit a boundary the same way, at a smaller cost. A frame that reserves 256 KiB of evaluation
# stack gets a 512 KiB chunk of its own, and the expansion runs in the other half of it.
if sys.implementation.name == "cpython" and sys.version_info < (3, 13):
    _run.__code__ = _run.__code__.replace(co_stacksize=32_768)


def with_room_to_recurse(function: Callable[..., T]) -> Callable[..., T]:
    """``function``, called from a frame whose stack chunk leaves what runs under it room for
    about a thousand frames before it must map another (a decorator for entry points: each
    call costs one mapping)."""
    @functools.wraps(function)
    def roomy(*args: Any, **kwargs: Any) -> T:
        return _run(lambda: function(*args, **kwargs))
    return roomy
