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
    tree = _parse(text)
    body = tree.body
    if type(body) is ast.Name and body.id in names:  # ${filters}: most expressions are this
        return names[body.id]
    try:
        return _Evaluator(names).visit(body)
    except ExprError:
        raise
    except RecursionError:
        raise ExprError("expression is too deeply nested") from None
    except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError, OverflowError) as exc:
        raise ExprError(f"{type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.Expression:
    """Parsing dominates evaluation and sweeps re-evaluate the same texts: cache the tree
    (trees are never mutated)."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression syntax: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
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


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]):
        self.names = names

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise ExprError(f"'{type(node).__name__}' is not allowed in expressions")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, (int, float, str, bool)) or node.value is None:
            return node.value
        raise ExprError(f"literal {node.value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise ExprError(f"unknown parameter '{node.id}' (known: {known})")
        return self.names[node.id]

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = BINARY.get(type(node.op))
        if op is None:
            raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
        left, right = self.visit(node.left), self.visit(node.right)
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

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        op = UNARY.get(type(node.op))
        if op is None:
            raise ExprError(f"operator '{type(node.op).__name__}' is not allowed")
        return op(self.visit(node.operand))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        if isinstance(node.op, ast.And):
            result = True
            for v in node.values:
                result = self.visit(v)
                if not result:
                    return result
            return result
        result = False
        for v in node.values:
            result = self.visit(v)
            if result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op_node, comparator in zip(node.ops, node.comparators):
            right = self.visit(comparator)
            if not COMPARE[type(op_node)](left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List

    def visit_Dict(self, node: ast.Dict) -> Any:
        if any(k is None for k in node.keys):
            raise ExprError("'**' is not allowed in expressions")
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values)}

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        if isinstance(node.slice, ast.Slice):
            raise ExprError("slices are not allowed in expressions")
        container = self.visit(node.value)
        if not isinstance(container, (list, dict, str)):
            raise ExprError(f"cannot index a {type(container).__name__}")
        return container[self.visit(node.slice)]

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise ExprError("only calls of built-in functions are allowed")
        func = FUNCTIONS.get(node.func.id)
        if func is None:
            raise ExprError(
                f"unknown function '{node.func.id}'; available: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ExprError("keyword arguments are not allowed in expressions")
        args = [self.visit(a) for a in node.args]
        if node.func.id == "range" and args and max(abs(a) for a in args if isinstance(a, int)) > 100_000:
            raise ExprError("range too large")
        return func(*args)
