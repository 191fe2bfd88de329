"""repeat, group and block-call items are validated by their models (archspec/spec/items.py):
their mistakes are located diagnostics with the builder's wording, counted once however many
times the item is expanded, and an unknown field is reported without dropping the item."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.ir.builder import build_graph

HEAD = "name: t\ninput: {shape: [8]}\n"


def refused(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.check(archspec.loads(text))
    return info.value


def only(exc: SpecError):
    assert len(exc.diagnostics) == 1, [d.message for d in exc.diagnostics]
    return exc.diagnostics[0]


def column(line: str, key: str) -> int:
    return line.index(key) + 1


@pytest.mark.parametrize("defaults, message, key", [
    ("[1]", "defaults must be a mapping", "defaults"),
    ("{Dense: 3}", "Dense must be a mapping", "Dense"),
    ("{Nope: {}}", "defaults name an unknown layer type 'Nope'", "Nope"),
])
def test_group_defaults_of_the_wrong_shape_are_located_errors(defaults, message, key):
    item = f"  - group: {{layers: [ReLU], defaults: {defaults}}}"
    d = only(refused(HEAD + f"layers:\n{item}\n"))
    assert d.message == message
    assert (d.location.line, d.location.column) == (4, column(item, key))


def test_repeat_times_is_checked_after_evaluation():
    item = "  - repeat: {times: '${1 - n}', layers: [ReLU]}"
    d = only(refused(HEAD + f"params: {{n: 3}}\nlayers:\n{item}\n"))
    assert d.message == "repeat times must be an integer from 0 to 2,147,483,647"
    assert d.path == "layers[0].repeat.times" and d.received == -2
    assert (d.location.line, d.location.column) == (5, column(item, "times"))


def test_an_expression_error_in_times_is_reported_once():
    exc = refused(HEAD + "layers:\n  - repeat: {times: '${nope}', layers: [ReLU]}\n")
    assert only(exc).message.startswith("in expression: unknown parameter 'nope'")
    assert exc.error_count == 1


def test_every_bad_field_of_a_repeat_is_reported():
    exc = refused(HEAD + "layers:\n  - repeat: {times: 2, index: 3, name: 'a b', start: x, "
                         "layers: [ReLU]}\n")
    assert {d.path: d.message for d in exc.diagnostics} == {
        "layers[0].repeat.index": "repeat index must be an identifier",
        "layers[0].repeat.name": "repeat name must be an identifier or ''",
        "layers[0].repeat.start": "repeat start must be an integer from 0 to 2,147,483,647"}


def test_an_unknown_field_is_reported_and_the_repeat_still_expands():
    spec = archspec.loads(HEAD + "layers:\n  - repeat: {times: 3, tims: 2, layers: [ReLU]}\n")
    graph = build_graph(spec)
    (d,) = graph.diagnostics
    assert d.message == "unknown field 'tims' in repeat" and d.hint == "did you mean 'times'?"
    assert [n.name for n in graph.layers] == ["re_lu_1", "re_lu_2", "re_lu_3"]


def test_a_mistake_in_a_repeated_item_is_counted_once():
    exc = refused(HEAD + "layers:\n  - repeat: {times: 40, layers: [{repeat: {times: 1, "
                         "index: 3, layers: [ReLU]}}]}\n")
    assert only(exc).message == "repeat index must be an identifier"
    assert exc.error_count == 1


@pytest.mark.parametrize("body, message", [
    ("'x'", "'group' needs 'layers' (and usually 'defaults')"),
    ("{layers: [ReLU], name: 5}", "layer name 5 must be a Python-style identifier"),
])
def test_group_body_and_name(body, message):
    d = only(refused(HEAD + f"layers:\n  - group: {body}\n"))
    assert d.message.startswith(message) and d.path.startswith("layers[0].group")


def test_a_call_needs_a_mapping_and_a_good_name():
    blocks = "blocks:\n  b:\n    params: [k]\n    layers: [{Dense: {units: '${k}'}}]\n"
    d = only(refused(HEAD + blocks + "layers:\n  - b: [1]\n"))
    assert d.message == "a call of block 'b' takes a mapping of its parameters"
    assert (d.path, d.location.line) == ("layers[0]", 8)
    d = only(refused(HEAD + blocks + "layers:\n  - b: {k: 2, name: 'no good'}\n"))
    assert d.message.startswith("layer name 'no good' must be") and d.path == "layers[0].name"
