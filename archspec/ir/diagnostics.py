"""What expanding a spec reports, and what it may cost: located diagnostics (each mistake once,
however many calls repeat it; past MAX_ERRORS only counted), the expansion-step budget that
refuses a spec too large to check, and the evaluation of ``${...}`` expressions."""

from __future__ import annotations

import itertools
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, Location, SpecError, omitted, suggestion
from ..expr import ExprError, Meter, substitute
from ..expr_values import UnknownValue
from ..expr import evaluate as evaluate_expression
from ..limits import EXPANSION_STEPS_PER_LAYER, MAX_ERRORS, MAX_SUGGESTION_NAMES
from ..spec.diagnose import from_validation_error
from ..spec.paths import format_path
from ..spec.source import SourceMap
from .bounds import CallChain


def unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A mistake inside a block is reported once, not once per call: keep the first of each
    (message, place) pair."""
    seen, result = set(), []
    for d in diagnostics:
        key = (d.message, d.path, d.location)
        if key not in seen:
            seen.add(key)
            result.append(d)
    return result


class Reporter:
    def __init__(self, source: SourceMap, hidden: frozenset, max_layers: int):
        self.source, self.hidden, self.max_layers = source, hidden, max_layers
        # Expansion work is counted, not only the layers it makes: a repeat of empty repeats
        # makes none, yet would loop forever.
        self.steps_left = EXPANSION_STEPS_PER_LAYER * max_layers
        self.meter = Meter()  # every expression of the spec shares one work budget
        self.error_count = self.omitted = 0
        self.first_omitted: Optional[Location] = None
        self._reported: set[tuple] = set()
        self.diagnostics: list[Diagnostic] = []

    def error(self, message: str, path: tuple, hint: str | None = None, received: Any = None,
              allowed: str | None = None, via: CallChain | None = None, severity: str = "error",
              data_path: tuple | None = None) -> None:
        where = path if data_path is None else data_path
        if (message, where) in self._reported:
            return  # the same mistake again, from another call of its block or repeat
        self._reported.add((message, where))
        if not self.room_for(severity):
            self.omit(where)
            return
        self.diagnostics.append(Diagnostic(
            message, path=format_path(path, self.hidden), location=self.source.locate(where),
            hint=hint, received=received, allowed=allowed, via=via, severity=severity))

    def invalid(self, exc: ValidationError, model: type[BaseModel], path: tuple,
                via: Optional[CallChain], data_path: Optional[tuple] = None,
                count: Optional[int] = None, once: bool = False) -> None:
        """Report what pydantic found in an item; ``count``: how many errors that adds (all,
        by default). With ``once``, the same mistakes at the same place (another iteration or
        call expanding the item again) are not counted again, as ``error`` does."""
        where = path if data_path is None else data_path
        if once:
            key = (where, tuple((e["type"], e["loc"], e["msg"])
                                for e in exc.errors(include_url=False)))
            if key in self._reported:
                return
            self._reported.add(key)
        if not self.room_for("error", exc.error_count() if count is None else count):
            self.omit(where)
            return
        for d in from_validation_error(exc, path, self.source, model, self.hidden, via,
                                       data_path=data_path):
            if (d.message, d.path, d.location) not in self._reported:
                self._reported.add((d.message, d.path, d.location))
                self.diagnostics.append(d)

    def omit(self, where: tuple) -> None:
        if self.first_omitted is None:
            self.first_omitted = self.source.locate(where)

    def room_for(self, severity: str = "error", count: int = 1) -> bool:
        """Past MAX_ERRORS errors, further ones are only counted: describing each costs a
        location and often a did-you-mean search."""
        if severity != "error":
            return True
        self.error_count += count
        if self.error_count > MAX_ERRORS:
            self.omitted += count
            return False
        return True

    def hint(self, word: str, choices) -> Optional[str]:
        """A did-you-mean among at most MAX_SUGGESTION_NAMES names, and none once errors are
        only being counted."""
        if self.error_count >= MAX_ERRORS:
            return None
        return suggestion(word, list(itertools.islice(choices, MAX_SUGGESTION_NAMES)))

    def spend(self, steps: int, path: tuple, via: Optional[CallChain], what: str) -> None:
        """Charge expansion work; past the budget the spec is refused at the item that
        crossed it (nothing after it could be checked in bounded time anyway)."""
        self.steps_left -= steps
        if self.steps_left < 0:
            self.refuse(f"{what}: expanding the spec takes more than "
                        f"{EXPANSION_STEPS_PER_LAYER * self.max_layers:,} steps (items, repeat "
                        f"iterations and block calls), the limit for {self.max_layers:,} "
                        f"layers", path, via)

    def refuse(self, message: str, path: tuple, via: Optional[CallChain]) -> None:
        """Stop expanding. This error comes first, whatever was found before it: it is why
        the rest of the spec went unchecked."""
        earlier = self.finished()
        self.diagnostics, self.error_count, self.omitted = [], 0, 0
        self.error(message, path, via=via,
                   hint=f"check repeat counts and parameters; a spec this large on purpose "
                        f"needs --max-layers N (Python: max_layers=N), e.g. "
                        f"{2 * self.max_layers:,}")
        raise SpecError(self.diagnostics + earlier)

    def finished(self) -> list[Diagnostic]:
        diagnostics = unique(self.diagnostics)
        if self.omitted:
            diagnostics.append(omitted(self.omitted, self.first_omitted or Location()))
        return diagnostics

    def evaluate(self, value: Any, env: dict, path: tuple, via: CallChain | None) -> Any:
        if type(value) is dict:  # per key, so an error points at its own field
            result = dict(value)
            for k, v in value.items():
                kind = type(v)
                if (kind is str and v.startswith("${")) or kind is list or kind is dict:
                    result[k] = self.evaluate(v, env, path + (k,), via)
            return result
        if isinstance(value, str) and not value.startswith("${"):
            return value
        try:
            if isinstance(value, str) and value.endswith("}"):
                return evaluate_expression(value[2:-1], env, self.meter)
            return substitute(value, env, self.meter)
        except UnknownValue:
            raise  # the failure it depends on is reported where it happened
        except ExprError as exc:
            # The expression itself is shown: with --set, the user may never have read it.
            self.error(f"in expression: {exc}", path, via=via,
                       received=value if isinstance(value, str) else None,
                       hint=getattr(exc, "hint", None) or
                       "expressions are ${...} with parameters, numbers, + - * / // % **, "
                       "comparisons, 'a if c else b', lists and min/max/ceil/floor/...")
            raise
