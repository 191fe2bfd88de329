"""Reading spec text (YAML or JSON) into plain Python data plus a map from every spec path to
its file, line and column.

Only PyYAML's safe composer is used, and only the core tags (str, int, float, bool, null, map,
seq) are accepted: ``!!python/...`` and other tags are errors, never constructed. Aliases are
expanded with a node budget, so a "billion laughs" document fails fast instead of eating
memory; recursive aliases fail on depth.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Diagnostic, Location, SpecError

try:  # the C composer is ~10x faster; marks are the same
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 floats: PyYAML (YAML 1.1) reads ``1e-5`` — and JSON's
    ``1e-05`` — as a string because the mantissa has no dot."""


_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 5_000_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null")}
_constructor = yaml.constructor.SafeConstructor()

PathKey = tuple  # ("layers", 3, "Conv2D", "filters")


class SourceMap:
    """Spec path → Location. Paths are tuples of keys and list indices."""

    def __init__(self, file: str = "<spec>"):
        self.file = file
        self.marks: dict[PathKey, Location] = {}

    def locate(self, path: PathKey) -> Location:
        path = tuple(path)
        while path:
            found = self.marks.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.marks.get((), Location(self.file))


def read_text(source: str | Path) -> tuple[str, str]:
    """(text, display name) from a path, '-' (stdin) or literal spec text."""
    import sys

    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                     and not source.lstrip().startswith("{")):
        if str(source) == "-":
            return sys.stdin.read(), "<stdin>"
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise SpecError([Diagnostic(f"cannot read spec file: {exc.strerror}",
                                        location=Location(str(source)))]) from None
        if size > MAX_BYTES:
            raise SpecError([Diagnostic(f"spec file is {size} bytes; the limit is {MAX_BYTES}",
                                        location=Location(str(source)))])
        try:
            return path.read_text(encoding="utf-8"), str(source)
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError([Diagnostic(f"cannot read spec file: {exc}",
                                        location=Location(str(source)))]) from None
    return str(source), "<string>"


def parse(text: str, file: str = "<spec>") -> tuple[Any, SourceMap]:
    """Parse YAML (JSON is accepted as YAML) into data and a SourceMap."""
    if len(text) > MAX_BYTES:
        raise SpecError([Diagnostic(f"spec text is {len(text)} characters; the limit is "
                                    f"{MAX_BYTES}", location=Location(file))])
    source = SourceMap(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        if file.endswith(".json"):
            return _parse_json(text, file)
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or exc.context or "malformed YAML"
        raise SpecError([Diagnostic(f"malformed YAML: {problem}", location=loc,
                                    hint="check indentation and that every ':' is followed by "
                                         "a space")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"malformed YAML: {exc}", location=Location(file))]) from None
    if node is None:
        raise SpecError([Diagnostic("the spec is empty", location=Location(file, 1, 1),
                                    hint="start with 'name:', 'input:' and 'layers:'")])
    builder = _Builder(source)
    data = builder.convert(node, (), 0)
    return data, source


def _parse_json(text: str, file: str) -> tuple[Any, SourceMap]:
    import json  # YAML specs, the common case, do not need it

    try:
        return json.loads(text), SourceMap(file)
    except json.JSONDecodeError as exc:
        raise SpecError([Diagnostic(f"malformed JSON: {exc.msg}",
                                    location=Location(file, exc.lineno, exc.colno))]) from None


class _Builder:
    def __init__(self, source: SourceMap):
        self.source = source
        self.count = 0

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.source.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def _fail(self, node: yaml.Node, message: str, path: PathKey, hint: str | None = None):
        from .paths import format_path
        raise SpecError([Diagnostic(message, path=format_path(path), location=self._loc(node),
                                    hint=hint)])

    def convert(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            self._fail(node, f"the spec expands to more than {MAX_NODES} YAML nodes", path,
                       "this usually means nested aliases (&anchor / *alias) that multiply; "
                       "use blocks and repeat instead")
        if depth > MAX_DEPTH:
            self._fail(node, f"the spec nests deeper than {MAX_DEPTH} levels", path,
                       "a recursive alias (an anchor that refers to itself) causes this")
        self.source.marks.setdefault(path, self._loc(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self._fail(node, f"YAML tag '{node.tag}' is not allowed", path,
                           "specs hold plain strings, numbers, booleans, lists and mappings; "
                           "remove the tag")
            return _constructor.construct_object(node)
        if node.tag not in (_CORE + "seq", _CORE + "map"):
            self._fail(node, f"YAML tag '{node.tag}' is not allowed", path,
                       "remove the tag; specs use plain lists and mappings")
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                self._fail(key_node, "YAML merge keys ('<<') are not supported", path,
                           "use 'defaults' or a block to share arguments")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self._fail(key_node, "mapping keys must be plain strings", path)
            key = key_node.value
            if key in result:
                self._fail(key_node, f"duplicate key '{key}'", path + (key,),
                           "YAML keeps only the last value silently; remove one of them")
            self.source.marks[path + (key,)] = self._loc(key_node)
            result[key] = self.convert(value_node, path + (key,), depth + 1)
        return result
