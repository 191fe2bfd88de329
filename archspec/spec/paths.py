"""Spec paths as people read them: ``layers[7].kernel_size``."""

from __future__ import annotations

import re
from typing import Iterable

# Keys that read unambiguously after a dot; any other key is quoted in brackets, so that a key
# such as "x[0]" or "a.b" cannot pass for an index or for two keys.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-][A-Za-z0-9_$-]*")
_MAX_KEY_CHARS = 64


def format_path(path: Iterable, hidden: frozenset[str] = frozenset()) -> str:
    """Join keys with dots and indices with brackets; keys in ``hidden`` (the layer-type key of
    a ``- Conv2D: {...}`` item) are left out because readers think of them as the item itself.

    >>> format_path(("layers", 7, "Conv2D", "kernel_size"), frozenset({"Conv2D"}))
    'layers[7].kernel_size'
    >>> format_path(("layers", 0, "x[0]"))
    "layers[0]['x[0]']"
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
        out += _key(str(part), bool(out))
        previous_was_index = False
    return out


def _key(key: str, after: bool) -> str:
    if _PLAIN_KEY.fullmatch(key) and len(key) <= _MAX_KEY_CHARS:
        return f".{key}" if after else key
    shown = key if len(key) <= _MAX_KEY_CHARS else key[:_MAX_KEY_CHARS - 3] + "..."
    return f"[{shown!r}]"
