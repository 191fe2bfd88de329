"""``--set KEY=VALUE``: a parameter override read as a small YAML value, within its own budget
(length, values, nesting), so an override cannot cost more than the spec it changes."""

from __future__ import annotations

from typing import Any, Mapping

import yaml

from ..errors import SpecError
from ..limits import MAX_SET_CHARS, MAX_SET_DEPTH, MAX_SET_NODES
from .marks import Budget, SourceMap
from .reading import check_characters
from .source import _Builder, compose, from_mapping


def parse_override(text: str) -> tuple[str, Any]:
    """``depth=50`` → ("depth", 50); values are YAML scalars, lists or mappings. A value that
    is not valid YAML is taken as the string it is. Raises ValueError saying what is wrong."""
    if len(text) > MAX_SET_CHARS:
        raise ValueError(f"{len(text):,} characters; the limit is {MAX_SET_CHARS:,}")
    if "=" not in text:
        raise ValueError(f"expected key=value, got {text[:60]!r}")
    key, _, raw = text.partition("=")
    key = key.strip()
    file = f"--set {key[:40]}"
    try:
        check_characters(raw, file)
        if not raw.strip():
            return key, ""
        try:
            node = compose(raw, file, _budget())
        except yaml.YAMLError:
            return key, raw
        if node is None:
            return key, raw
        return key, _Builder(SourceMap(file), _budget()).convert(node, (), 0)
    except SpecError as exc:
        first = exc.diagnostics[0]
        raise ValueError(f"{key}: {first.message}") from None


def checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters given in Python, under the same budget per value as ``--set``."""
    if not isinstance(params, Mapping):
        from ..errors import Diagnostic, Location
        raise SpecError([Diagnostic(f"params must be a mapping, not {type(params).__name__}",
                                    location=Location("<params>"))])
    return {key: from_mapping({key: value}, "<params>", _budget(extra=1))[0][key]
            for key, value in params.items()}


def _budget(extra: int = 0) -> Budget:
    return Budget(MAX_SET_NODES + extra, MAX_SET_DEPTH + extra, "the value")
