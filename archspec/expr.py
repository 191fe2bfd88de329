"""A tiny, safe expression language for spec parameters: ``${filters * 2}``.

Python's parser builds the syntax tree (so precedence and literals are familiar), but only a
whitelist of node types is interpreted here: arithmetic, comparisons, ``and``/``or``/``not``,
``a if c else b``, list/tuple/dict literals, indexing, and a few pure functions. Names resolve
only to spec parameters. Nothing is ever passed to ``eval``; attribute access, lambdas,
comprehensions, string formatting and calls of anything else are rejected before evaluation.

Every value is bounded *before* it is built (archspec/limits.py): an integer's bits
(``9 ** 9 ** 9``), a string's characters and a list's elements, nested ones included
(``[[0] * 100000] * 100000``), and the total work of all the expressions of one spec, which a
``Meter`` counts: one step per operation plus the size of every value built or scanned.
"""

from __future__ import annotations

import ast
import functools
import itertools
import operator
import re
from typing import Any, Mapping

from .expr_values import (  # ExprError, Meter and make_divisible are used through this module
    _UNMETERED,
    FUNCTIONS,
    MAX_INT_BITS,
    UNKNOWN,
    ExprError,
    Meter,
    UnknownValue,
    _bounded,
    _checked_int,
    make_divisible,
    size,
)
from .limits import MAX_EXPR_CHARS, MAX_EXPR_ITEMS

MAX_LENGTH = MAX_EXPR_CHARS
__all__ = ["EXPR_RE", "ExprError", "Meter", "compiled", "evaluate", "make_divisible", "size",
           "substitute"]

EXPR_RE = re.compile(r"\$\{(.*)\}", re.DOTALL)  # used with fullmatch: "${1}\n" is not one


_SCANNING = frozenset({"min", "max", "sum", "int", "float", "make_divisible"})

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_SEQUENCES = (str, list, tuple)
_CONTAINERS = (str, list, tuple, dict)


def evaluate(text: str, names: Mapping[str, Any], meter: Meter | None = None) -> Any:
    """Evaluate the inside of ``${...}``; ``meter`` is the spec's shared work budget (a fresh
    one when not given).

    >>> evaluate("2 * f + 1", {"f": 3})
    7
    >>> evaluate("[2, 2, 2, 2] if depth < 34 else [3, 4, 6, 3]", {"depth": 18})
    [2, 2, 2, 2]
    >>> evaluate("__import__('os')", {})
    Traceback (most recent call last):
    ...
    archspec.expr_values.ExprError: unknown function '__import__'; available: abs, ceil, float, floor, int, len, make_divisible, max, min, range, round, sqrt, sum
    """
    function, cost = compiled(text)
    meter = _UNMETERED if meter is None else meter
    meter.spend(cost)
    try:
        return function(names, meter)
    except ExprError:
        raise
    except RecursionError:
        raise ExprError("expression is too deeply nested") from None
    except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError, OverflowError) as exc:
        raise ExprError(f"{type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def compiled(text: str):
    """The expression as a Python closure over the parameters and the meter, and its number
    of operations. Parsing and checking happen once per text (sweeps re-evaluate the same
    texts thousands of times); every node type is checked against the whitelist here, before
    anything is evaluated."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression syntax: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression is too deeply nested") from None
    try:
        return _compile(tree.body), sum(1 for _ in ast.walk(tree))
    except RecursionError:
        raise ExprError("expression is too deeply nested") from None


def substitute(value: Any, names: Mapping[str, Any], meter: Meter | None = None) -> Any:
    """Replace every ``${...}`` string inside a parsed YAML value by its value."""
    meter = _UNMETERED if meter is None else meter
    if isinstance(value, str):
        match = EXPR_RE.fullmatch(value)
        return evaluate(match.group(1), names, meter) if match else value
    if isinstance(value, list):
        return [substitute(v, names, meter) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names, meter) for k, v in value.items()}
    return value


_CONSTANTS = {"True": True, "False": False, "None": None}


def _compile(node: ast.AST):
    builder = _BUILDERS.get(type(node))
    if builder is None:
        raise ExprError(f"'{type(node).__name__}' is not allowed in expressions")
    return builder(node)


def _constant(node: ast.Constant):
    value = node.value
    if not (isinstance(value, (int, float, str, bool)) or value is None):
        raise ExprError(f"literal {value!r} is not allowed")
    _checked_int(value)
    return lambda names, meter: value


def _name(node: ast.Name):
    if node.id in _CONSTANTS:
        value = _CONSTANTS[node.id]
        return lambda names, meter: value
    key = node.id

    def lookup(names, meter):
        try:
            value = names[key]
        except KeyError:
            known = sorted(names)
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            raise ExprError(f"unknown parameter '{key}' (known: {shown or 'none'})") from None
        if value is UNKNOWN:
            raise UnknownValue(f"parameter '{key}' has no value: its own expression failed")
        return value
    return lookup


def _head(sequence) -> int:
    """What ``size`` counts for the list itself (a string has no such overhead)."""
    return 0 if isinstance(sequence, str) else 1


def _body(sequence) -> int:
    return size(sequence) - _head(sequence)


def _checked(op, left, right, meter: Meter):
    """``left op right``, refused before it is computed when its result would be too big."""
    if op is operator.pow and isinstance(right, int) and isinstance(left, int):
        if abs(right) > 64 or abs(left).bit_length() * abs(right) > MAX_INT_BITS:
            raise ExprError("power too large")
    elif op is operator.mod and isinstance(left, str):
        raise ExprError("'%' formatting of strings is not allowed in expressions")
    elif op is operator.mul and (isinstance(left, _SEQUENCES) or isinstance(right, _SEQUENCES)):
        sequence, count = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
        if isinstance(count, int) and count > 0:
            _bounded(_body(sequence) * count + _head(sequence), meter)
    elif op is operator.add and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _bounded(_body(left) + _body(right) + _head(left), meter)
    return _checked_int(op(left, right))


def _binop(node: ast.BinOp):
    op = BINARY.get(type(node.op))
    if op is None:
        raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
    left, right = _compile(node.left), _compile(node.right)
    return lambda names, meter: _checked(op, left(names, meter), right(names, meter), meter)


def _unaryop(node: ast.UnaryOp):
    op = UNARY.get(type(node.op))
    if op is None:
        raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
    operand = _compile(node.operand)
    return lambda names, meter: op(operand(names, meter))


def _boolop(node: ast.BoolOp):
    values = [_compile(v) for v in node.values]
    is_and = isinstance(node.op, ast.And)

    def run(names, meter):
        result = is_and
        for value in values:
            result = value(names, meter)
            if bool(result) != is_and:
                return result
        return result
    return run


def _compare(node: ast.Compare):
    ops = [COMPARE.get(type(o)) for o in node.ops]
    if None in ops:
        raise ExprError("only ==, !=, <, <=, >, >=, in and not in compare in expressions")
    first = _compile(node.left)
    rest = [_compile(c) for c in node.comparators]

    def run(names, meter):
        left = first(names, meter)
        for op, comparator in zip(ops, rest):
            right = comparator(names, meter)
            if isinstance(left, _CONTAINERS) or isinstance(right, _CONTAINERS):
                meter.spend(size(left) + size(right))  # comparing scans them
            if not op(left, right):
                return False
            left = right
        return True
    return run


def _ifexp(node: ast.IfExp):
    test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
    return lambda names, meter: body(names, meter) if test(names, meter) \
        else orelse(names, meter)


def _static(node: ast.AST) -> bool:
    """A literal of literals: its size is bounded by the expression's length, so building it
    needs no check (``{18: [2, 2, 2, 2], 50: [3, 4, 6, 3]}``, the common case)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_static(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _static(k) and _static(v)
                   for k, v in zip(node.keys, node.values))
    return False


def _list(node):
    items = [_compile(e) for e in node.elts]
    if _static(node):
        return lambda names, meter: [item(names, meter) for item in items]

    def run(names, meter):
        values = [item(names, meter) for item in items]
        if any(isinstance(v, _CONTAINERS) for v in values):
            _bounded(size(values, MAX_EXPR_ITEMS), meter)
        return values
    return run


def _dict(node: ast.Dict):
    if any(k is None for k in node.keys):
        raise ExprError("'**' is not allowed in expressions")
    pairs = [(_compile(k), _compile(v)) for k, v in zip(node.keys, node.values)]
    if _static(node):
        return lambda names, meter: {k(names, meter): v(names, meter) for k, v in pairs}

    def run(names, meter):
        result = {k(names, meter): v(names, meter) for k, v in pairs}
        _bounded(size(result, MAX_EXPR_ITEMS), meter)
        return result
    return run


def _subscript(node: ast.Subscript):
    if isinstance(node.slice, ast.Slice):
        raise ExprError("slices are not allowed in expressions")
    container, index = _compile(node.value), _compile(node.slice)
    index_text = ast.unparse(node.slice)
    parameter = node.slice.id if isinstance(node.slice, ast.Name) else None

    def run(names, meter):
        value = container(names, meter)
        if not isinstance(value, (list, dict, str)):
            raise ExprError(f"cannot index a {type(value).__name__}")
        key = index(names, meter)
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            raise _missing(value, key, index_text, parameter) from None
    return run


def _brief(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _missing(value: Any, key: Any, index_text: str, parameter: str | None) -> ExprError:
    """``{18: ..., 34: ...}[depth]`` with depth = 100: say which values would do."""
    key_text = _brief(repr(key))
    shown = key_text if index_text == repr(key) else f"{_brief(index_text, 60)} = {key_text}"
    if isinstance(value, dict):
        keys = [_brief(repr(k)) for k in itertools.islice(value, 21)]
        listed = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        hint = f"{parameter} must be one of {listed} here" if parameter else None
        return ExprError(f"{shown} is not one of {listed}", hint)
    if not isinstance(key, int) or isinstance(key, bool):
        return ExprError(f"{shown}: a {type(value).__name__} is indexed by an integer, not "
                         f"{type(key).__name__}")
    if not value:
        return ExprError(f"{shown} is out of range: the {type(value).__name__} is empty")
    return ExprError(f"{shown} is out of range for a {type(value).__name__} of {len(value)} "
                     f"items (indices 0 to {len(value) - 1}, or -1 to -{len(value)} from the end)")


def _call(node: ast.Call):
    if not isinstance(node.func, ast.Name):
        raise ExprError("only calls of built-in functions are allowed")
    func = FUNCTIONS.get(node.func.id)
    if func is None:
        raise ExprError(
            f"unknown function '{node.func.id}'; available: {', '.join(sorted(FUNCTIONS))}")
    if node.keywords:
        raise ExprError("keyword arguments are not allowed in expressions")
    args = [_compile(a) for a in node.args]
    scanning = node.func.id in _SCANNING

    def run(names, meter):
        values = [a(names, meter) for a in args]
        if scanning:  # the arguments were bounded when built; scanning them is work
            meter.spend(sum(size(v) for v in values))
        result = func(*values)
        if isinstance(result, _CONTAINERS):
            _bounded(size(result), meter)
        return _checked_int(result)
    return run


_BUILDERS = {ast.Constant: _constant, ast.Name: _name, ast.BinOp: _binop,
             ast.UnaryOp: _unaryop, ast.BoolOp: _boolop, ast.Compare: _compare,
             ast.IfExp: _ifexp, ast.List: _list, ast.Tuple: _list, ast.Dict: _dict,
             ast.Subscript: _subscript, ast.Call: _call}
