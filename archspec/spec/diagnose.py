"""Turning pydantic's validation errors into archspec diagnostics that name the spec path,
the file position, what was received, what is allowed, and a did-you-mean hint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, suggestion
from .paths import format_path
from .source import SourceMap


def _fields(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """Field names of the (sub)model an error location points into, for suggestions."""
    current = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(current.model_fields) if current else []


def from_validation_error(exc: ValidationError, base: tuple, source: SourceMap,
                          model: type[BaseModel] | None = None,
                          hidden: frozenset[str] = frozenset(),
                          via: str | None = None,
                          data_path: tuple | None = None) -> list[Diagnostic]:
    """``base`` is the path the validated object sits at in the document; ``data_path``, when
    given, is where its keys sit in the text (a layer's arguments live under its type key)."""
    out = []
    data_path = base if data_path is None else data_path
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p and "]" in p))
        kind = err["type"]
        received = err.get("input")
        hint = allowed = None
        if kind == "extra_forbidden":
            name = loc[-1]
            choices = [f for f in _fields(model, loc[:-1]) if f not in ("type",)]
            message = f"unknown field '{name}'" + (f" for {model.__name__}" if model else "")
            hint = suggestion(str(name), choices)
            allowed = ", ".join(choices) if choices else None
            received = None
        elif kind == "missing":
            message = f"missing required field '{loc[-1]}'"
        elif kind == "literal_error":
            message = f"invalid value {received!r}"
            allowed = err.get("ctx", {}).get("expected")
            if isinstance(received, str) and allowed:
                options = [o.strip().strip("'") for o in allowed.replace(" or ", ", ").split(",")]
                hint = suggestion(received, options)
            received = None
        else:
            message = err["msg"].removeprefix("Value error, ")
        out.append(Diagnostic(message, path=format_path(base + loc, hidden),
                              location=source.locate(data_path + loc), hint=hint,
                              received=_short(received), allowed=allowed, via=via))
    return out


def _short(value: Any) -> Any:
    if isinstance(value, (dict, list)) or value is None:
        return None
    text = repr(value)
    return value if len(text) < 80 else text[:77] + "..."

