"""A tiny, safe expression language for spec parameters: ``${filters * 2}``.

Python's parser builds the syntax tree (so precedence and literals are familiar), but only a
whitelist of node types is interpreted here: arithmetic, comparisons, ``and``/``or``/``not``,
``a if c else b``, list/tuple/dict literals, indexing, and a few pure functions. Names resolve
only to spec parameters. Nothing is ever passed to ``eval``; attribute access, lambdas,
comprehensions and calls of anything else are rejected before evaluation. Sizes are bounded so
that ``9 ** 9 ** 9`` cannot hang the checker.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from typing import Any, Mapping

MAX_LENGTH = 500
MAX_INT_BITS = 128

EXPR_RE = re.compile(r"^\$\{(.*)\}$", re.DOTALL)


class ExprError(ValueError):
    pass


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10%
    (the rule MobileNet uses for width multipliers)."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


FUNCTIONS = {
    "min": min, "max": max, "abs": abs, "int": int, "float": float, "round": round,
    "ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "len": len, "sum": sum,
    "range": lambda *a: list(range(*a)),
    "make_divisible": make_divisible,
}

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


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate the inside of ``${...}``.

    >>> evaluate("2 * f + 1", {"f": 3})
    7
    >>> evaluate("[2, 2, 2, 2] if depth < 34 else [3, 4, 6, 3]", {"depth": 18})
    [2, 2, 2, 2]
    >>> evaluate("__import__('os')", {})
    Traceback (most recent call last):
    ...
    archspec.expr.ExprError: unknown function '__import__'; available: abs, ceil, float, floor, int, len, make_divisible, max, min, range, round, sqrt, sum
    """
    function = compiled(text)
    try:
        return function(names)
    except ExprError:
        raise
    except RecursionError:
        raise ExprError("expression is too deeply nested") from None
    except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError, OverflowError) as exc:
        raise ExprError(f"{type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def compiled(text: str):
    """The expression as a Python closure over the parameters. Parsing and checking happen
    once per text (sweeps re-evaluate the same texts thousands of times); every node type is
    checked against the whitelist here, before anything is evaluated."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression syntax: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression is too deeply nested") from None
    try:
        return _compile(tree.body)
    except RecursionError:
        raise ExprError("expression is too deeply nested") from None


def substitute(value: Any, names: Mapping[str, Any]) -> Any:
    """Replace every ``${...}`` string inside a parsed YAML value by its value."""
    if isinstance(value, str):
        match = EXPR_RE.match(value)
        return evaluate(match.group(1), names) if match else value
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
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
    return lambda names: value


def _name(node: ast.Name):
    if node.id in _CONSTANTS:
        value = _CONSTANTS[node.id]
        return lambda names: value
    key = node.id

    def lookup(names):
        try:
            return names[key]
        except KeyError:
            known = ", ".join(sorted(names)) or "none"
            raise ExprError(f"unknown parameter '{key}' (known: {known})") from None
    return lookup


def _checked(op, left, right):
    if op is operator.pow and isinstance(right, int) and isinstance(left, int):
        if abs(right) > 64 or abs(left).bit_length() * abs(right) > MAX_INT_BITS:
            raise ExprError("power too large")
    if op is operator.mul and (isinstance(left, (list, str)) or isinstance(right, (list, str))):
        count = right if isinstance(left, (list, str)) else left
        if isinstance(count, int) and count > 100_000:
            raise ExprError("repetition too large")
    result = op(left, right)
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise ExprError("integer result too large")
    return result


def _binop(node: ast.BinOp):
    op = BINARY.get(type(node.op))
    if op is None:
        raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
    left, right = _compile(node.left), _compile(node.right)
    return lambda names: _checked(op, left(names), right(names))


def _unaryop(node: ast.UnaryOp):
    op = UNARY.get(type(node.op))
    if op is None:
        raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
    operand = _compile(node.operand)
    return lambda names: op(operand(names))


def _boolop(node: ast.BoolOp):
    values = [_compile(v) for v in node.values]
    is_and = isinstance(node.op, ast.And)

    def run(names):
        result = is_and
        for value in values:
            result = value(names)
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

    def run(names):
        left = first(names)
        for op, comparator in zip(ops, rest):
            right = comparator(names)
            if not op(left, right):
                return False
            left = right
        return True
    return run


def _ifexp(node: ast.IfExp):
    test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
    return lambda names: body(names) if test(names) else orelse(names)


def _list(node):
    items = [_compile(e) for e in node.elts]
    return lambda names: [item(names) for item in items]


def _dict(node: ast.Dict):
    if any(k is None for k in node.keys):
        raise ExprError("'**' is not allowed in expressions")
    pairs = [(_compile(k), _compile(v)) for k, v in zip(node.keys, node.values)]
    return lambda names: {k(names): v(names) for k, v in pairs}


def _subscript(node: ast.Subscript):
    if isinstance(node.slice, ast.Slice):
        raise ExprError("slices are not allowed in expressions")
    container, index = _compile(node.value), _compile(node.slice)

    def run(names):
        value = container(names)
        if not isinstance(value, (list, dict, str)):
            raise ExprError(f"cannot index a {type(value).__name__}")
        return value[index(names)]
    return run


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
    is_range = node.func.id == "range"

    def run(names):
        values = [a(names) for a in args]
        if is_range and values and max(abs(v) for v in values if isinstance(v, int)) > 100_000:
            raise ExprError("range too large")
        return func(*values)
    return run


_BUILDERS = {ast.Constant: _constant, ast.Name: _name, ast.BinOp: _binop,
             ast.UnaryOp: _unaryop, ast.BoolOp: _boolop, ast.Compare: _compare,
             ast.IfExp: _ifexp, ast.List: _list, ast.Tuple: _list, ast.Dict: _dict,
             ast.Subscript: _subscript, ast.Call: _call}
