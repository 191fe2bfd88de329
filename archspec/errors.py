"""Diagnostics: every problem archspec reports is one of these.

A diagnostic carries where (file, line, column, spec path), what (message, received, allowed)
and how to fix it (hint). Nothing here knows about layers or backends, so every other module
may import it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from .limits import MAX_ERRORS


@dataclass(frozen=True)
class Location:
    file: str = "<spec>"
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:  # a line of Python code calling the API
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    message: str
    path: str = ""  # spec path such as "layers[7].kernel_size"
    location: Location = field(default_factory=Location)
    severity: str = "error"  # "error" | "warning"
    hint: str | None = None
    received: object = None
    allowed: str | None = None
    via: str | None = None  # the block call chain that produced the failing layer

    def __post_init__(self) -> None:
        if self.via is not None and not isinstance(self.via, str):
            # the builder's call chains are formatted here, when a problem is reported
            object.__setattr__(self, "via", str(self.via))

    def format(self) -> str:
        head = f"{self.location}: {self.severity}"
        where = f" {self.path}:" if self.path else ""
        lines = [f"{head}:{where} {self.message}"]
        if self.via:
            lines.append(f"  in: {self.via}")
        if self.received is not None:
            lines.append(f"  received: {self.received!r}")
        if self.allowed:
            lines.append(f"  allowed: {self.allowed}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "hint": self.hint,
            "allowed": self.allowed,
            "via": self.via,
        }


@dataclass(frozen=True)
class Omitted(Diagnostic):
    """Stands for ``count`` diagnostics past the cap, which were counted but never built:
    describing each (locating it, searching for a did-you-mean) would cost time, and a wall
    of text helps nobody."""
    count: int = 0


def omitted(count: int, first: Location) -> Omitted:
    """The note for ``count`` problems past the cap, placed where the first of them is."""
    return Omitted(f"{count:,} more problem{'s' if count != 1 else ''} not shown, the first "
                   f"here (archspec reports the first {MAX_ERRORS} errors and {MAX_ERRORS} "
                   f"warnings)", location=first, count=count,
                   hint="fix the ones shown and check again")


def capped(diagnostics: Iterable[Diagnostic]) -> tuple[list[Diagnostic], dict[str, int]]:
    """The first MAX_ERRORS errors and MAX_ERRORS warnings in order, then one ``Omitted`` for
    everything else (earlier ``Omitted`` counts included); and how many of each severity there
    were in all."""
    kept: list[Diagnostic] = []
    seen: dict[str, int] = {"error": 0, "warning": 0}
    dropped: dict[str, int] = {"error": 0, "warning": 0}
    first: Location | None = None
    for d in diagnostics:
        if isinstance(d, Omitted):
            dropped[d.severity] = dropped.get(d.severity, 0) + d.count
        else:
            count = seen[d.severity] = seen.get(d.severity, 0) + 1
            if count <= MAX_ERRORS:
                kept.append(d)
                continue
            dropped[d.severity] = dropped.get(d.severity, 0) + 1
        first = first or d.location
    if first is not None:
        summary = omitted(sum(dropped.values()), first)
        kept.append(summary if dropped["error"] else replace(summary, severity="warning"))
    totals = {k: min(seen.get(k, 0), MAX_ERRORS) + dropped.get(k, 0) for k in seen | dropped}
    return kept, totals


class SpecError(Exception):
    """A spec is invalid. Carries every independent diagnostic found, not just the first (up
    to ``MAX_ERRORS`` of each severity; ``error_count`` and ``warning_count`` count all)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics, totals = capped(diagnostics)
        self.error_count, self.warning_count = totals["error"], totals["warning"]
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class ArgumentError(SpecError, ValueError, TypeError):
    """Python code built a layer or spec object with arguments archspec rejects:
    ``Conv2D(filter=8, kernel_size=3)``. Same messages and hints as the same mistake in YAML.

    A ``SpecError`` like every other spec problem. Also a ``ValueError``, as pydantic's
    ValidationError (what these constructors raised before) is, and a ``TypeError``, as Python
    raises for an unknown keyword or too many positional arguments: ``except ValueError`` and
    ``except TypeError`` written around layer construction keep working."""


class UnsupportedError(SpecError):
    """A valid spec uses something a backend cannot express (one diagnostic per layer)."""


class ShapeError(ValueError):
    """Raised by shape rules; the inference pass attaches the layer and its location."""

    def __init__(self, message: str, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.hint = hint
        self.field = field


def caller_location() -> Location:
    """The line of user code that called into archspec: the innermost frame outside archspec
    and pydantic, for errors raised by Python constructors."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module.partition(".")[0] not in ("archspec", "pydantic", "pydantic_core"):
            return Location(frame.f_code.co_filename, frame.f_lineno)
        frame = frame.f_back
    return Location("<python>")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib  # only a misspelling needs it

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return close[0] if close else None


def suggestion(word: str, choices: Iterable[str]) -> str | None:
    match = did_you_mean(word, choices)
    return f"did you mean '{match}'?" if match else None
