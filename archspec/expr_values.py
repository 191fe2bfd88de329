"""The values of the expression language (archspec.expr): its error, the work ``Meter``, and
the whitelisted functions — each result bounded before it is built (archspec/limits.py)."""

from __future__ import annotations

import itertools
import math
from typing import Any

from .limits import MAX_EXPR_INT_BITS, MAX_EXPR_ITEMS, MAX_EXPR_WORK

MAX_INT_BITS = MAX_EXPR_INT_BITS
MAX_ROUND_DIGITS = 64  # round(5, -10**30) would compute 10**(10**30)


class ExprError(ValueError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint  # how to fix it, when more specific than the expression syntax


class UnknownValue(ExprError):
    """An expression read a parameter whose own value failed. That failure was reported
    where it happened; each expression that depends on it would only echo it ("cannot index
    a NoneType" eight times after one bad --set), so this one is not reported again."""


class _Unknown:
    """The value of a parameter whose expression failed (see ``UnknownValue``)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class Meter:
    """The work budget of every expression of one spec together (a repeat re-evaluates its
    body's expressions once per iteration)."""

    __slots__ = ("left", "limit")

    def __init__(self, steps: int = MAX_EXPR_WORK):
        self.left = self.limit = steps

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise ExprError(f"the spec's expressions take more than {self.limit:,} steps in "
                            f"total (large lists, strings or repeats of them)")


class _Unmetered(Meter):
    """For a lone evaluation (the API's ``evaluate``): each value is still bounded, and one
    expression's operations are few, so only a spec's many evaluations need a shared count."""

    def spend(self, steps: int) -> None:
        pass


_UNMETERED = _Unmetered()


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10%
    (the rule MobileNet uses for width multipliers)."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def size(value: Any, limit: int = MAX_EXPR_ITEMS) -> int:
    """A value's size: 1 for a number, its characters for a string, and for a list or dict 1
    plus its length plus what its strings and nested containers add. Stops counting past
    ``limit`` (the caller refuses the value then). Iterative: parameters can nest values
    deeper than Python's recursion limit."""
    if isinstance(value, str):
        return max(1, len(value))
    if not isinstance(value, _NESTED):
        return 1
    total, stack = 0, [value]
    while stack and total <= limit:
        current = stack.pop()
        total += 1 + len(current)
        if isinstance(current, dict):
            total += sum(len(k) for k in current if isinstance(k, str))
            current = current.values()
        for item in current:
            if isinstance(item, str):
                total += len(item)
            elif isinstance(item, _NESTED):
                stack.append(item)
    return total


_NESTED = (list, tuple, dict)


def _bounded(predicted: int, meter: Meter) -> None:
    if predicted > MAX_EXPR_ITEMS:
        raise ExprError(f"value too large: {predicted:,} elements or characters (the limit "
                        f"is {MAX_EXPR_ITEMS:,})")
    meter.spend(predicted)


def _checked_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExprError(f"integer result too large (more than {MAX_INT_BITS} bits)")
    if isinstance(value, complex):
        raise ExprError("the result is a complex number (a fractional power of a negative "
                        "number?)")
    return value


# --- functions ---------------------------------------------------------------------------------

def _range(*args):
    if any(not isinstance(a, int) or isinstance(a, bool) for a in args):
        raise ExprError("range takes integers")
    span = range(*args)
    if len(span) >= MAX_EXPR_ITEMS:  # its size counts the list itself too
        raise ExprError(f"range too large ({len(span):,} elements; the limit is "
                        f"{MAX_EXPR_ITEMS:,})")
    return list(span)


def _sum(values, start=0):
    """Numbers, or lists joined into one (linear, unlike Python's repeated concatenation)."""
    if not isinstance(values, (list, tuple)):
        raise ExprError("sum takes a list")
    if isinstance(start, (list, tuple)):
        if not all(isinstance(v, (list, tuple)) for v in values):
            raise ExprError("sum of lists: every element must be a list")
        return list(itertools.chain(start, *values))
    if isinstance(start, str) or any(isinstance(v, (str, list, tuple, dict)) for v in values):
        raise ExprError("sum adds numbers, or lists with a list as start: sum(lists, [])")
    return sum(values, start)


def _round(value, ndigits=None):
    if ndigits is None:
        return round(value)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ExprError(f"round's digits must be an integer from -{MAX_ROUND_DIGITS} to "
                        f"{MAX_ROUND_DIGITS}")
    return round(value, ndigits)


FUNCTIONS = {
    "min": min, "max": max, "abs": abs, "int": int, "float": float, "round": _round,
    "ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "len": len, "sum": _sum,
    "range": _range, "make_divisible": make_divisible,
}
# Functions whose work grows with their arguments' size (the others take numbers or O(1)).
