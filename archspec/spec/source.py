"""Spec text (YAML or JSON) or a Python mapping → plain Python data, plus a map from every spec
path to its file, line and column.

YAML is composed from PyYAML's event stream by a loop of our own, so nesting is bounded by
``MAX_NESTING_DEPTH`` (with a located error) rather than by Python's recursion limit, and a
document stops composing at the node budget. Only the core tags (str, int, float, bool, null,
map, seq) are accepted: ``!!python/...`` and other tags are errors, never constructed. Aliases
are expanded with the same node budget, so a "billion laughs" document fails fast; recursive
aliases fail on depth. Integers are bounded by their text before they are converted. Files
named ``*.json`` go to the JSON reader (``jsonsource``), which keeps positions too; what both
readers share is in ``marks``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import yaml

from ..errors import Diagnostic, Location, SpecError
from .jsonsource import parse_json
from .marks import Budget, PathKey, SourceMap, fail, int_text_problem, value_problem
from .reading import check_characters

try:  # the C parser is ~10x faster; marks are the same
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 floats: PyYAML (YAML 1.1) reads ``1e-5`` — and JSON's
    ``1e-05`` — as a string because the mantissa has no dot."""


_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null")}
_constructor = yaml.constructor.SafeConstructor()
def parse(text: str, file: str = "<spec>", budget: Budget | None = None) -> tuple[Any, SourceMap]:
    """Parse YAML — or JSON, for ``*.json`` files — into data and a SourceMap."""
    from .reading import _check_size
    _check_size(len(text), file, "characters")
    check_characters(text, file)
    if file.lower().endswith(".json"):
        return parse_json(text, file, budget or Budget())
    source = SourceMap(file)
    try:
        node = compose(text, file, budget or Budget())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        tab = _tab_at(text, mark)
        if tab is not None:
            raise SpecError([Diagnostic(
                "malformed YAML: a tab character; YAML forbids tabs for indentation",
                location=Location(file, *tab),
                hint="indent with spaces (most editors can insert spaces for the Tab key)")]) \
                from None
        problem = exc.problem or exc.context or "malformed YAML"
        hint = ("write a character outside the BMP as \\U0001F600, not as a surrogate pair"
                if "escape" in problem else
                "check indentation and that every ':' is followed by a space")
        raise SpecError([Diagnostic(f"malformed YAML: {problem}", location=loc,
                                    hint=hint)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"malformed YAML: {exc}", location=Location(file))]) from None
    if node is None:
        raise SpecError([Diagnostic("the spec is empty", location=Location(file, 1, 1),
                                    hint="start with 'name:', 'input:' and 'layers:'")])
    return _Builder(source, budget or Budget()).convert(node, (), 0), source


def _tab_at(text: str, mark: Any) -> tuple[int, int] | None:
    """(line, column) of the tab a YAML error is about: at the error, or in its line's
    indentation. PyYAML's C parser does not always say "tab"."""
    if mark is None:
        return None
    lines = text.split("\n")
    line = lines[mark.line] if mark.line < len(lines) else ""
    if line[mark.column:mark.column + 1] == "\t":
        return mark.line + 1, mark.column + 1
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    return (mark.line + 1, indent.index("\t") + 1) if "\t" in indent else None


def compose(text: str, file: str, budget: Budget) -> yaml.Node | None:
    """The single document's node graph, or None for an empty stream. Raises yaml.YAMLError
    for malformed text and SpecError past the budget."""
    loader = _Loader(text)
    try:
        return _Composer(loader, file, budget).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is None or "nesting depth" not in str(exc.problem):
            raise
        # libyaml's own bound (1,000), met while scanning ahead of the events we consume
        fail(Location(file, mark.line + 1, mark.column + 1),
             f"{budget.what} nests deeper than {budget.max_depth} levels")
    finally:
        loader.dispose()


class _Composer:
    def __init__(self, loader: Any, file: str, budget: Budget):
        self.loader, self.file, self.budget = loader, file, budget
        self.anchors: dict[str, yaml.Node] = {}

    def _loc(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def document(self) -> yaml.Node | None:
        get = self.loader.get_event
        get()  # StreamStartEvent
        if isinstance(get(), yaml.StreamEndEvent):
            return None
        node = self._node()
        get()  # DocumentEndEvent
        extra = get()
        if not isinstance(extra, yaml.StreamEndEvent):
            fail(self._loc(extra.start_mark), "the file holds more than one YAML document",
                 hint="remove the '---' line; a spec is one document")
        return node

    def _node(self) -> yaml.Node:
        """Iterative: the stack holds open collections, each with a pending mapping key."""
        stack: list[list] = []
        get, resolve, count = self.loader.get_event, self.loader.resolve, 0
        max_nodes, max_depth = self.budget.max_nodes, self.budget.max_depth
        while True:
            event = get()
            kind = event.__class__
            if kind is yaml.ScalarEvent:
                count += 1
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, event.start_mark, None, event.style)
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                node = stack.pop()[0]
            elif kind is yaml.AliasEvent:
                node = self.anchors.get(event.anchor)
                if node is None:
                    fail(self._loc(event.start_mark), f"undefined alias '*{event.anchor}'",
                         hint="define the anchor (&name) before using it")
            else:
                count += 1
                if len(stack) > max_depth:  # this collection's depth, as the builder counts
                    fail(self._loc(event.start_mark),
                         f"{self.budget.what} nests deeper than {max_depth} levels")
                node = self._collection(event, resolve)
            if count > max_nodes:
                fail(self._loc(event.start_mark),
                     f"{self.budget.what} has more than {max_nodes} YAML nodes")
            if kind is not yaml.AliasEvent and getattr(event, "anchor", None) is not None:
                self.anchors[event.anchor] = node
            if kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                stack.append([node, None])
                continue
            if not stack:
                return node
            frame = stack[-1]
            if frame[0].__class__ is yaml.SequenceNode:
                frame[0].value.append(node)
            elif frame[1] is None:
                frame[1] = node
            else:
                frame[0].value.append((frame[1], node))
                frame[1] = None

    @staticmethod
    def _collection(event: Any, resolve: Any) -> yaml.Node:
        kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = resolve(kind, None, event.implicit)
        return kind(tag, [], event.start_mark, None, flow_style=event.flow_style)


_STR, _INT, _SEQ, _MAP = (_CORE + t for t in ("str", "int", "seq", "map"))
_CONSTRUCT = {tag: _constructor.yaml_constructors[tag] for tag in _SCALAR_TAGS}


class _Builder:
    """Nodes → plain data, expanding aliases under the budget; records every path's mark."""

    def __init__(self, source: SourceMap, budget: Budget):
        self.source, self.budget, self.file = source, budget, source.file

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        budget = self.budget
        budget.count += 1
        if budget.count > budget.max_nodes or depth > budget.max_depth:
            budget.refuse(self._loc(node), path, depth)
        mark = node.start_mark
        self.source.marks.setdefault(path, (self.file, mark.line + 1, mark.column + 1))
        cls = node.__class__
        if cls is yaml.ScalarNode:
            return self._scalar(node, path)
        if node.tag != _SEQ and node.tag != _MAP:
            fail(self._loc(node), f"YAML tag '{node.tag}' is not allowed", path,
                 "remove the tag; specs use plain lists and mappings")
        if cls is yaml.SequenceNode:
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._mapping(node, path, depth)

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict:
        result: dict[str, Any] = {}
        marks = self.source.marks
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                fail(self._loc(key_node), "YAML merge keys ('<<') are not supported", path,
                     "use 'defaults' or a block to share arguments")
            if key_node.__class__ is not yaml.ScalarNode or key_node.tag not in _SCALAR_TAGS:
                fail(self._loc(key_node), "mapping keys must be plain strings", path)
            key = key_node.value
            if key in result:
                fail(self._loc(key_node), f"duplicate key '{key}'", path + (key,),
                     "YAML keeps only the last value silently; remove one of them")
            if key_node.style == '"':  # only escapes can spell what the text check refused
                self._check(value_problem(key), key_node, path)
            mark = key_node.start_mark
            marks[path + (key,)] = (self.file, mark.line + 1, mark.column + 1)
            result[key] = self.convert(value_node, path + (key,), depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        tag = node.tag
        if tag == _STR:
            if node.style == '"':
                self._check(value_problem(node.value), node, path)
            return node.value
        construct = _CONSTRUCT.get(tag)
        if construct is None:
            fail(self._loc(node), f"YAML tag '{tag}' is not allowed", path,
                 "specs hold plain strings, numbers, booleans, lists and mappings; remove the tag")
        if tag == _INT:
            self._check(int_text_problem(node.value), node, path)
        try:
            value = construct(_constructor, node)
        except (ValueError, KeyError):  # an explicit tag on text it cannot read: !!bool maybe
            text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            fail(self._loc(node), f"'{text}' is not a valid {tag.rsplit(':', 1)[-1]}",
                 path, "remove the tag and write the value plainly")
        self._check(value_problem(value), node, path)
        return value

    def _check(self, problem: str | None, node: yaml.Node, path: PathKey) -> None:
        if problem:
            fail(self._loc(node), f"{self.budget.what} holds {problem}", path, _SCALAR_HINT)


_SCALAR_HINT = "specs hold short numbers and printable text"


def from_mapping(data: Mapping, file: str = "<dict>",
                 budget: Budget | None = None) -> tuple[dict, SourceMap]:
    """A Python mapping as a spec document: a checked, plain copy (lists for tuples) under the
    same budgets as text. Positions are the mapping's name, with spec paths."""
    source = SourceMap(file)
    return _plain(data, (), 0, budget or Budget(), Location(file)), source


def _plain(value: Any, path: PathKey, depth: int, budget: Budget, where: Location) -> Any:
    budget.enter(where, path, depth)
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                fail(where, f"mapping keys must be strings, not {type(key).__name__}", path)
            result[key] = _plain(item, path + (key,), depth + 1, budget, where)
        return result
    if isinstance(value, (list, tuple)):
        return [_plain(item, path + (i,), depth + 1, budget, where) for i, item in enumerate(value)]
    if value is not None and not isinstance(value, (str, int, float, bool)):
        fail(where, f"a spec holds plain values, not {type(value).__name__}", path,
             "use strings, numbers, booleans, None, lists and dicts")
    problem = value_problem(value)
    if problem:
        fail(where, f"{budget.what} holds {problem}", path, _SCALAR_HINT)
    return value
