"""Turning pydantic's validation errors into archspec diagnostics that name the spec path,
the file position, what was received, what is allowed, and a did-you-mean hint."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, omitted
from ..limits import MAX_ERRORS
from ..ops.explain import explain, implied, short
from .marks import SourceMap
from .paths import format_path


def _data_loc(err: dict, source: SourceMap, data_path: tuple) -> tuple:
    """The error's location as keys of the document: pydantic adds union-member tags such as
    ``function-after[...]``, but a key the user wrote (even ``"x[0]"``) stays, as does the
    field an unknown-field or missing-field error names."""
    raw, out = err["loc"], []
    for i, part in enumerate(raw):
        tag_like = isinstance(part, str) and "[" in part and "]" in part
        named = i == len(raw) - 1 and err["type"] in ("extra_forbidden", "missing")
        if not tag_like or named or data_path + tuple(out) + (part,) in source.marks:
            out.append(part)
    return tuple(out)


def from_validation_error(exc: ValidationError, base: tuple, source: SourceMap,
                          model: type[BaseModel] | None = None,
                          hidden: frozenset[str] = frozenset(),
                          via: str | None = None,
                          data_path: tuple | None = None) -> list[Diagnostic]:
    """``base`` is the path the validated object sits at in the document; ``data_path``, when
    given, is where its keys sit in the text (a layer's arguments live under its type key).
    A model may word its own errors: ``model.reword(err, problem)`` returns the problem to
    report, or None for an error already reported (spec/items.py)."""
    out = []
    data_path = base if data_path is None else data_path
    errors = exc.errors(include_url=False)
    if len(errors) > MAX_ERRORS:  # each costs a did-you-mean search: count the rest instead
        first = errors[MAX_ERRORS]
        out.append(omitted(len(errors) - MAX_ERRORS,
                           source.locate(data_path + _data_loc(first, source, data_path))))
        errors = errors[:MAX_ERRORS]
    reword = getattr(model, "reword", None)
    for err in implied(errors, model):
        loc = _data_loc(err, source, data_path)
        problem = explain(err, loc, model)
        if reword is not None and (problem := reword(err, problem)) is None:
            continue
        out.append(Diagnostic(problem.message, path=format_path(base + loc, hidden),
                              location=source.locate(data_path + loc), hint=problem.hint,
                              received=short(problem.received), allowed=problem.allowed,
                              via=via))
    return out
