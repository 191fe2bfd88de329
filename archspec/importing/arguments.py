"""Layer arguments as a person writes them: what a reader found, less what equals archspec's
defaults, each value in its shortest form that means the same. Shared by the readers; judged by
archspec's own validation, so a spelling is kept only if it gives the same layer."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..ops.base import layer_types


class Unsupported(Exception):
    """The layer has no archspec form; the message says why."""


def validated(type_name: str, args: dict) -> Any:
    """The archspec layer object; Unsupported with archspec's own message if it refuses."""
    cls = layer_types()[type_name]
    try:
        return cls.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Unsupported(f"archspec's {type_name} refuses {where or 'it'}: {first['msg']}"
                          ) from None


def essential(type_name: str, args: dict) -> dict:
    """``args`` without the arguments at archspec's defaults, each value in its shortest form
    that means the same (``kernel_size: 3`` for (3, 3), ``max_value: 6`` for 6.0): what a
    person would write."""
    layer = validated(type_name, args)
    out: dict[str, Any] = {}
    for key, value in args.items():
        rest = {k: v for k, v in args.items() if k != key}
        if _same(type_name, rest, layer):
            continue
        out[key] = next((c for c in _shorter(value)
                         if _same(type_name, {**args, key: c}, layer)), value)
    return out if _same(type_name, out, layer) else args


def _same(type_name: str, args: dict, layer: Any) -> bool:
    try:
        return validated(type_name, args) == layer
    except Unsupported:
        return False


def _shorter(value: Any) -> list[Any]:
    """Candidate spellings of ``value``, shortest first."""
    if isinstance(value, float) and value.is_integer():
        return [int(value)]
    if not isinstance(value, (list, tuple)):
        return []
    flat = _leaves(value)
    out: list[Any] = []
    if flat and all(v == flat[0] for v in flat):
        out.append(flat[0])
    if all(isinstance(v, (list, tuple)) and len(v) == 2 and v[0] == v[1] for v in value):
        out.append([v[0] for v in value])  # symmetric [before, after] pairs
    out.append(_lists(value))
    return out


def _leaves(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _leaves(v)]
    return [value]


def _lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value
