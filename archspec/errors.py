"""Diagnostics: every problem archspec reports is one of these.

A diagnostic carries where (file, line, column, spec path), what (message, received, allowed)
and how to fix it (hint). Nothing here knows about layers or backends, so every other module
may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Location:
    file: str = "<spec>"
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        if self.line is None:
            return self.file
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


class SpecError(Exception):
    """A spec is invalid. Carries every independent diagnostic found, not just the first."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class UnsupportedError(SpecError):
    """A valid spec uses something a backend cannot express (one diagnostic per layer)."""


class ShapeError(ValueError):
    """Raised by shape rules; the inference pass attaches the layer and its location."""

    def __init__(self, message: str, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.hint = hint
        self.field = field


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
