"""What the YAML reader (``source``) and the JSON reader (``jsonsource``) share: the map from
spec paths to file positions, the budget on a document's size and nesting, and the checks on
its scalars."""

from __future__ import annotations

from typing import Any

from ..errors import Diagnostic, Location, SpecError
from ..limits import MAX_INT_DIGITS, MAX_INT_LITERAL_CHARS, MAX_NESTING_DEPTH, MAX_YAML_NODES
from .paths import format_path
from .reading import BAD_CHARACTER, describe_character

_INT_BOUND = 10 ** MAX_INT_DIGITS

PathKey = tuple  # ("layers", 3, "Conv2D", "filters")


class SourceMap:
    """Spec path → Location. Paths are tuples of keys and list indices. Marks may be stored as
    (file, line, column) tuples, which cost a tenth of a Location to make; ``locate`` turns
    them into Locations."""

    def __init__(self, file: str = "<spec>"):
        self.file = file
        self.marks: dict[PathKey, Location | tuple] = {}

    def locate(self, path: PathKey) -> Location:
        path = tuple(path)
        while path:
            found = self.marks.get(path)
            if found is not None:
                return Location(*found) if isinstance(found, tuple) else found
            path = path[:-1]
        found = self.marks.get((), Location(self.file))
        return Location(*found) if isinstance(found, tuple) else found


class Budget:
    """Counts values and checks nesting and scalars while a document is built."""

    def __init__(self, max_nodes: int = MAX_YAML_NODES, max_depth: int = MAX_NESTING_DEPTH,
                 what: str = "the spec"):
        self.max_nodes, self.max_depth, self.count = max_nodes, max_depth, 0
        self.what = what

    def enter(self, location: Location, path: PathKey, depth: int) -> None:
        self.count += 1
        if self.count > self.max_nodes or depth > self.max_depth:
            self.refuse(location, path, depth)

    def refuse(self, location: Location, path: PathKey, depth: int) -> None:
        if self.count > self.max_nodes:
            fail(location, f"{self.what} expands to more than {self.max_nodes} YAML nodes", path,
                 "nested aliases (&anchor / *alias) that multiply usually cause this; use "
                 "blocks and repeat instead")
        if depth > self.max_depth:
            fail(location, f"{self.what} nests deeper than {self.max_depth} levels", path,
                 "flatten it; in YAML a recursive alias (an anchor that refers to itself) "
                 "also causes this")


def fail(location: Location, message: str, path: PathKey = (), hint: str | None = None):
    raise SpecError([Diagnostic(message, path=format_path(path), location=location, hint=hint)])


def int_text_problem(text: str) -> str | None:
    """Bound a number's text before converting it (Python refuses >4,300 digits, late)."""
    if len(text) > MAX_INT_LITERAL_CHARS:
        return (f"a number written with {len(text):,} characters (integers may have at most "
                f"{MAX_INT_DIGITS} digits)")
    return None


def value_problem(value: Any) -> str | None:
    """What is wrong with a scalar, if anything: an integer too large, a forbidden character."""
    if isinstance(value, int) and not -_INT_BOUND < value < _INT_BOUND:
        return f"an integer of more than {MAX_INT_DIGITS} digits"
    if isinstance(value, str):
        found = BAD_CHARACTER.search(value)
        if found:
            return f"a string with {describe_character(found.group())}"
    return None
