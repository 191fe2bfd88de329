"""Strict JSON for ``*.json`` specs, keeping every value's line and column.

Python's ``json`` module cannot say where a value was (so later errors would lose line:col),
accepts duplicate keys and ``NaN``, and recurses without bound. This reader is recursive
descent too, but it stops at ``MAX_NESTING_DEPTH`` with a located error, counts values against
the same budget as YAML, bounds integers by their digits before converting them, and rejects
what JSON (RFC 8259) does not allow. Strings are decoded by ``json``'s own C scanner.
"""

from __future__ import annotations

import bisect
import json.decoder
import math
import re
from typing import Any

from ..errors import Location
from .marks import Budget, PathKey, SourceMap, fail, int_text_problem, value_problem

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true": True, "false": False, "null": None}


def parse_json(text: str, file: str, budget: Budget) -> tuple[Any, SourceMap]:
    reader = _Reader(text, file, budget)
    return reader.document(), reader.source


class _Reader:
    def __init__(self, text: str, file: str, budget: Budget):
        self.text, self.budget = text, budget
        self.source = SourceMap(file)
        self.pos = 1 if text.startswith("\ufeff") else 0
        self._lines: list[int] | None = None

    def mark(self, index: int) -> tuple[str, int, int]:
        if self._lines is None:
            self._lines = [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._lines, index)
        start = self._lines[line - 1] if line else 0
        return self.source.file, line + 1, index - start + 1

    def location(self, index: int) -> Location:
        return Location(*self.mark(index))

    def error(self, message: str, index: int | None = None, path: PathKey = (),
              hint: str | None = None):
        fail(self.location(self.pos if index is None else index), message, path, hint)

    def peek(self) -> str:
        self.pos = _WHITESPACE.match(self.text, self.pos).end()
        return self.text[self.pos:self.pos + 1]

    def document(self) -> Any:
        if not self.peek():
            fail(self.location(self.pos), "the spec is empty",
                 hint="start with {\"name\": ..., \"input\": ..., \"layers\": [...]}")
        value = self.value((), 0)
        if self.peek():
            self.error("malformed JSON: extra text after the document",
                       hint="a spec is one JSON object")
        return value

    def value(self, path: PathKey, depth: int) -> Any:
        char = self.peek()
        mark = self.mark(self.pos)
        budget = self.budget
        budget.count += 1
        if budget.count > budget.max_nodes or depth > budget.max_depth:
            budget.refuse(Location(*mark), path, depth)
        self.source.marks.setdefault(path, mark)
        if char == "{":
            return self.object(path, depth)
        if char == "[":
            return self.array(path, depth)
        if char == '"':
            return self.string(path)
        if char == "-" or "0" <= char <= "9":
            return self.number(path)
        word = _WORD.match(self.text, self.pos)
        if word and word.group() in _LITERALS:
            self.pos = word.end()
            return _LITERALS[word.group()]
        if word and word.group() in ("NaN", "Infinity"):
            self.error(f"malformed JSON: {word.group()} is not a JSON number", path=path,
                       hint="use a finite number")
        self.error(f"malformed JSON: expected a value, found {self.found()}", path=path)

    def found(self) -> str:
        char = self.text[self.pos:self.pos + 1]
        return repr(char) if char else "the end of the text"

    def object(self, path: PathKey, depth: int) -> dict:
        self.pos += 1
        result: dict[str, Any] = {}
        if self.peek() == "}":
            self.pos += 1
            return result
        while True:
            if self.peek() != '"':
                self.error(f"malformed JSON: expected a string key, found {self.found()}",
                           path=path, hint="JSON keys are double-quoted; no trailing commas")
            key_start = self.pos
            key = self.string(path)
            if key in result:
                self.error(f"duplicate key '{key}'", key_start, path + (key,),
                           "JSON readers disagree on which value wins; remove one of them")
            self.source.marks[path + (key,)] = self.mark(key_start)
            if self.peek() != ":":
                self.error(f"malformed JSON: expected ':' after a key, found {self.found()}")
            self.pos += 1
            result[key] = self.value(path + (key,), depth + 1)
            if not self.more("}"):
                return result

    def array(self, path: PathKey, depth: int) -> list:
        self.pos += 1
        result: list[Any] = []
        if self.peek() == "]":
            self.pos += 1
            return result
        while True:
            result.append(self.value(path + (len(result),), depth + 1))
            if not self.more("]"):
                return result

    def more(self, closing: str) -> bool:
        char = self.peek()
        self.pos += 1
        if char == ",":
            return True
        if char == closing:
            return False
        self.pos -= 1
        self.error(f"malformed JSON: expected ',' or '{closing}', found {self.found()}")

    def string(self, path: PathKey) -> str:
        start = self.pos
        try:
            value, self.pos = json.decoder.scanstring(self.text, start + 1, True)
        except json.JSONDecodeError as exc:
            self.error(f"malformed JSON: {exc.msg}", exc.pos, path)
        problem = value_problem(value)
        if problem:
            self.error(f"the spec holds {problem}", start, path,
                       "\\u escapes must spell whole characters (a surrogate pair, not half)")
        return value

    def number(self, path: PathKey) -> int | float:
        start = self.pos
        match = _NUMBER.match(self.text, start)
        if not match:
            bad = "-Infinity" if self.text.startswith("-Infinity", start) else "'-'"
            self.error(f"malformed JSON: {bad} is not a JSON number", path=path)
        literal, self.pos = match.group(), match.end()
        problem = int_text_problem(literal)
        if problem:
            self.error(f"the spec holds {problem}", start, path)
        if match.group(1) or match.group(2):
            value = float(literal)
            if not math.isfinite(value):
                self.error("the spec holds a number too large for a float", start, path)
            return value
        value = int(literal)
        problem = value_problem(value)
        if problem:
            self.error(f"the spec holds {problem}", start, path)
        return value
