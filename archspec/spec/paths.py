"""Spec paths as people read them: ``layers[7].kernel_size``."""

from __future__ import annotations

from typing import Iterable


def format_path(path: Iterable, hidden: frozenset[str] = frozenset()) -> str:
    """Join keys with dots and indices with brackets; keys in ``hidden`` (the layer-type key of
    a ``- Conv2D: {...}`` item) are left out because readers think of them as the item itself.

    >>> format_path(("layers", 7, "Conv2D", "kernel_size"), frozenset({"Conv2D"}))
    'layers[7].kernel_size'
    """
    out = ""
    previous_was_index = False
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            previous_was_index = True
            continue
        if previous_was_index and part in hidden:
            previous_was_index = False
            continue
        out += f".{part}" if out else str(part)
        previous_was_index = False
    return out
