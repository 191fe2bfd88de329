"""Hostile input at the boundary: every bad file, stdin stream, ``extends``, ``--set`` value or
Python argument gives archspec's own located error (exit 1, or 2 for usage) in bounded time and
memory; nothing in a spec executes, and nothing is read that is not a regular file.

CLI cases run in a subprocess with a timeout (a hang fails the test) that reports its own peak
memory, so "bounded" is checked, not assumed."""

import json
import os

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from budget_helpers import run_measured
from archspec.errors import SpecError
from archspec.limits import MAX_INT_DIGITS, MAX_NESTING_DEPTH, MAX_SPEC_BYTES
from archspec.spec.paths import format_path

HEADER = "name: t\ninput: {shape: [8]}\n"
LAYERS = "layers: [{Dense: {units: 4}}]\n"
DOC = {"name": "t", "input": {"shape": [8]}, "layers": [{"Dense": {"units": 4}}]}
# A fresh interpreter importing archspec and pydantic peaks near 60 MiB; the budget per case is
# 200 MiB on top of that.
PEAK_RSS_KB = (60 + 200) * 1024
def cli(*args, stdin=None, cwd=None):
    """Run the CLI; a hang past the timeout fails the test, as does memory past the budget.
    ``stdin`` is bytes, or an open file."""
    kwargs = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    code, stdout, stderr, peak = run_measured(args, timeout=60, cwd=cwd, **kwargs)
    assert peak < PEAK_RSS_KB, f"peak memory {peak} KB"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return code, stdout.decode("utf-8", "replace"), stderr


def error_of(call, *args, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        call(*args, **kwargs)
    return info.value


def where(exc: SpecError) -> tuple:
    first = exc.diagnostics[0]
    return first.location.file, first.location.line, first.location.column


# --- (5) integers ---------------------------------------------------------------------------

@pytest.mark.parametrize("literal", ["9" * 5000, "0x" + "f" * 5000, ":".join(["59"] * 2000),
                                     "1_" * 2000 + "1", "9" * (MAX_INT_DIGITS + 1)])
def test_huge_integers_are_refused_when_read(literal):
    text = HEADER + f"layers:\n  - Dense: {{units: {literal}}}\n"
    exc = error_of(archspec.loads, text)
    assert where(exc) == ("<string>", 4, 20)
    assert "digits" in exc.diagnostics[0].message
    assert exc.diagnostics[0].path == "layers[0].Dense.units"


def test_an_integer_at_the_limit_is_still_a_number():
    text = HEADER + f"params: {{big: {'9' * MAX_INT_DIGITS}}}\n" + LAYERS
    assert archspec.loads(text).params["big"] == 10 ** MAX_INT_DIGITS - 1


def test_huge_integer_json_output_is_valid(tmp_path):
    (tmp_path / "big.yaml").write_text(HEADER + f"layers:\n  - Dense: {{units: {'9' * 5000}}}\n")
    code, out, _ = cli("check", "--json", str(tmp_path / "big.yaml"))
    assert code == 1
    (diagnostic,) = json.loads(out)["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"]) == (4, 20)


def test_huge_integers_from_python_are_refused():
    exc = error_of(archspec.check, {**DOC, "params": {"n": 10 ** 5000}})
    assert exc.diagnostics[0].path == "params.n" and "digits" in str(exc)
    exc = error_of(archspec.check, DOC, params={"n": 10 ** 5000})
    assert "digits" in str(exc)


# --- (8) JSON -------------------------------------------------------------------------------

JSON_HEAD = '{"name": "t", "input": {"shape": [8]}, '


@pytest.mark.parametrize("body, words, column", [
    ('"x": ' + "[" * 50000 + "]" * 50000 + "}", f"nests deeper than {MAX_NESTING_DEPTH}", 109),
    ('"layers": [{"Dense": {"units": ' + "9" * 5000 + "}}]}", "digits", 71),
    ('"name": "u", "layers": []}', "duplicate key 'name'", 40),
    ('"layers": [{"Dropout": {"rate": NaN}}]}', "NaN is not a JSON number", 72),
    ('"layers": [{"Dropout": {"rate": -Infinity}}]}', "-Infinity is not a JSON number", 72),
    ('"layers": [{"Dense": {"units": 1e999}}]}', "too large for a float", 71),
    ('"description": "\\ud800", "layers": []}', "lone surrogate U+D800", 55),
    ('"layers": [],}', "expected a string key", 53),
])
def test_json_problems_are_located(tmp_path, body, words, column):
    path = tmp_path / "bad.json"
    path.write_text(JSON_HEAD + body)
    exc = error_of(archspec.load, path)
    assert words in exc.diagnostics[0].message
    assert where(exc) == (str(path), 1, column)


def test_json_keeps_line_and_column_for_later_errors(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{\n\t"name": "t",\n\t"input": {"shape": [8]},\n'
                    '\t"layers": [{"Dense": {"units": "x"}}]\n}\n')
    exc = error_of(archspec.check, path)
    assert where(exc) == (str(path), 4, 24)  # the key "units", as in YAML


def test_json_accepts_what_yaml_would_not(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text('\ufeff{"name": "t", "description": "\\ud83d\\ude00", "input": {"shape": '
                    '[8]}, "params": {"w": 1E2}, "layers": [{"Dense": {"units": 4}}]}',
                    encoding="utf-8")
    spec = archspec.load(path)  # a surrogate pair and 1E2 are not YAML 1.1, but are JSON
    assert spec.description == "\U0001F600" and spec.params["w"] == 100.0


def test_lone_surrogate_never_reaches_generated_source(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(JSON_HEAD + '"description": "\\ud800", "layers": [{"Dense": {"units": 4}}]}')
    code, _, err = cli("compile", "-b", "torch", str(path), "-o", str(tmp_path / "m.py"))
    assert code == 1 and "lone surrogate" in err and f"{path}:1:55" in err
    assert not (tmp_path / "m.py").exists()


# --- (12) and characters: the same located error from a file and from stdin -----------------

@pytest.mark.parametrize("raw, words, position", [
    (b"name: t\xff\n", "not valid UTF-8 text: byte 0xff", ":1:8:"),
    (b"name: t\ninput: {shape: [8]}\ndescription: a\x00b\n", "U+0000 (NUL)", ":3:15:"),
    (b"name: t\n\x1b[31mred: 1\n", "control character U+001B", ":2:1:"),
    (b"name: t\ndescription: \xed\xa0\x80\n", "not valid UTF-8", ":2:14:"),
])
def test_bad_bytes_are_located_alike_from_file_and_stdin(tmp_path, raw, words, position):
    path = tmp_path / "bad.yaml"
    path.write_bytes(raw)
    from_file = cli("check", str(path))
    from_stdin = cli("check", "-", stdin=raw)
    for (code, _, err), name in ((from_file, str(path)), (from_stdin, "<stdin>")):
        assert code == 1 and words in err and name + position in err, err


def test_escaped_control_characters_are_refused_in_strings():
    exc = error_of(archspec.loads, HEADER + 'description: "bell \\a"\n' + LAYERS)
    assert "U+0007" in str(exc) and where(exc) == ("<string>", 3, 14)


# --- (17) bounded reads; only regular files ----------------------------------------------------

@pytest.mark.parametrize("target, words", [("/dev/zero", "a character device"),
                                           ("/dev/urandom", "a character device"),
                                           ("/", "a directory")])
def test_special_files_are_refused_without_reading(target, words):
    code, _, err = cli("check", target)
    assert code == 1 and words in err and "not a regular file" in err
    assert words in str(error_of(archspec.load, target))


def test_a_fifo_without_a_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    code, _, err = cli("check", str(fifo))
    assert code == 1 and "a FIFO (named pipe)" in err


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_stdin_stops_at_the_limit(device):
    with open(device, "rb") as stream:
        code, _, err = cli("check", "-", stdin=stream)
    assert code == 1 and f"larger than the limit of {MAX_SPEC_BYTES:,} bytes" in err


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.truncate(200_000_000)  # sparse: 200 MB that cost nothing to make
    code, _, err = cli("check", str(path))
    assert code == 1 and "larger than the limit" in err


# --- CLI arguments and API sources ------------------------------------------------------------

@pytest.mark.parametrize("argument", ["{weird}.yaml", HEADER + LAYERS])
def test_an_argument_is_always_a_path(tmp_path, argument):
    code, out, err = cli("check", argument, cwd=tmp_path)
    assert code == 1 and "cannot read spec file" in err and "Layer" not in out
    exc = error_of(archspec.check, argument)
    assert "archspec.loads" in exc.diagnostics[0].hint


def test_a_file_named_like_a_mapping_is_read(tmp_path):
    (tmp_path / "{weird}.yaml").write_text(HEADER + LAYERS)
    code, out, _ = cli("check", "{weird}.yaml", cwd=tmp_path)
    assert code == 0 and "dense_1" in out


def test_text_goes_through_loads():
    assert archspec.loads(HEADER + LAYERS).name == "t"
    assert archspec.loads((HEADER + LAYERS).encode()).name == "t"
    assert archspec.loads(json.dumps(DOC), file="x.json").name == "t"
    assert "archspec.loads" in error_of(archspec.check, b"name: t").diagnostics[0].hint


def test_mappings_are_documents_not_repr_text():
    assert archspec.check(DOC).totals["trainable_params"] == 36
    exc = error_of(archspec.check, {**DOC, "description": None})
    assert where(exc) == ("<dict>", None, None) and exc.diagnostics[0].path == "description"
    doc = {**DOC, "input": {"shape": (8,)}}
    archspec.check(doc)
    assert doc["input"]["shape"] == (8,)  # the caller's mapping is not changed


@pytest.mark.parametrize("doc, words", [
    ({**DOC, 1: "x"}, "keys must be strings"),
    ({**DOC, "params": {"f": object()}}, "plain values, not object"),
    ({**DOC, "description": "\ud800"}, "lone surrogate"),
])
def test_bad_mappings_are_spec_errors(doc, words):
    assert words in str(error_of(archspec.check, doc))


def test_self_referencing_mapping_is_bounded():
    loop: dict = {}
    loop["x"] = loop
    assert "nests deeper" in str(error_of(archspec.check, {**DOC, "params": loop}))


# --- (2) keys with brackets -------------------------------------------------------------------

@pytest.mark.parametrize("text, path, line", [
    (HEADER + 'layers:\n  - Dense: {units: 4, "x[0]": 1}\n', "layers[0]['x[0]']", 4),
    (HEADER + '"x[0]": 1\n' + LAYERS, "['x[0]']", 3),
    (HEADER + '"a.b": 1\n' + LAYERS, "['a.b']", 3),
])
def test_bracketed_keys_are_reported_not_crashed_on(text, path, line):
    exc = error_of(lambda: archspec.check(archspec.loads(text)))
    (diagnostic,) = exc.diagnostics
    assert diagnostic.path == path and diagnostic.location.line == line
    assert "unknown field" in diagnostic.message


def test_paths_quote_keys_that_would_read_as_structure():
    assert format_path(("layers", 7, "Conv2D", "kernel_size"), frozenset({"Conv2D"})) == \
        "layers[7].kernel_size"
    assert format_path(("params", "a.b", 0)) == "params['a.b'][0]"
    assert format_path(("params", "stage-1")) == "params.stage-1"
    assert len(format_path(("params", "k" * 5000))) < 80


# --- (7) extends ------------------------------------------------------------------------------

def extending(tmp_path, target: str, name: str = "child.yaml"):
    path = tmp_path / name
    path.write_text(f"extends: {json.dumps(target)}\n" + HEADER + LAYERS)
    return path


@pytest.mark.parametrize("target, words", [
    ("a\x00b.yaml", "U+0000 (NUL)"),
    ("n" * 5000 + ".yaml", "5,005 characters long; the limit is 1,024"),
    ("n" * 1000 + ".yaml", "cannot be followed: File name too long"),
    ("loop1", "cannot be followed: a symlink loop"),
    ("/proc/self/status", "leaves the directory"),
    ("../outside.yaml", "leaves the directory"),
    ("up.yaml", "leaves the directory"),  # a symlink out of the tree
    ("missing.yaml", "does not exist"),
    ("sub", "not a regular file"),
    ("pipe.yaml", "not a regular file"),
    ("", "must be a file path"),
])
def test_bad_extends_are_located_errors(tmp_path, target, words):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text(HEADER + LAYERS)
    os.symlink(root / "loop2", root / "loop1")
    os.symlink(root / "loop1", root / "loop2")
    os.symlink(tmp_path / "outside.yaml", root / "up.yaml")
    os.mkfifo(root / "pipe.yaml")
    path = extending(root, target)
    exc = error_of(archspec.load, path)
    assert words in exc.diagnostics[0].message, exc
    assert where(exc)[:2] == (str(path), 1)
    code, _, err = cli("check", str(path))
    assert code == 1 and words in err


def test_extends_root_widens_the_tree(tmp_path):
    (tmp_path / "base.yaml").write_text(HEADER + LAYERS)
    (tmp_path / "sub").mkdir()
    child = extending(tmp_path / "sub", "../base.yaml")
    assert "leaves the directory" in str(error_of(archspec.load, child))
    assert archspec.load(child, extends_root=tmp_path).name == "t"
    code, out, _ = cli("check", "--extends-root", str(tmp_path), str(child))
    assert code == 0 and "dense_1" in out
    code, _, err = cli("check", "--extends-root", str(tmp_path / "nope"), str(child))
    assert code == 2 and "does not exist" in err


def test_extends_inside_the_tree_still_works(tmp_path):
    (tmp_path / "family").mkdir()
    (tmp_path / "family" / "base.yaml").write_text(HEADER + "params: {w: 4}\n" + LAYERS)
    child = tmp_path / "v.yaml"
    child.write_text("extends: family/base.yaml\nname: v\nparams: {extra: 1}\n")
    spec = archspec.load(child)
    assert spec.name == "v" and spec.params == {"w": 4, "extra": 1}


def test_extends_chains_are_bounded(tmp_path):
    for i in range(12):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\nname: t\n")
    (tmp_path / "c12.yaml").write_text(HEADER + LAYERS)
    exc = error_of(archspec.load, tmp_path / "c0.yaml")
    assert "more than 8 levels of 'extends'" in str(exc)
    assert archspec.load(tmp_path / "c5.yaml").name == "t"


def test_extends_from_a_mapping_and_from_text_stays_in_the_working_directory(tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(HEADER + LAYERS)
    assert archspec.load({"extends": "base.yaml", "name": "m"}).name == "m"
    exc = error_of(archspec.loads, "extends: /etc/hostname\nname: m\n")
    assert "leaves the directory" in str(exc)


# --- (18) --set budgets ------------------------------------------------------------------------

BOMB = "".join(f"{a}: &{a} [" + ", ".join([f"*{b}"] * 10) + "]\n"
               for b, a in zip("abcdef", "bcdefg"))


@pytest.mark.parametrize("value, words", [
    ("[" * 50000 + "]" * 50000, "characters; the limit is 10,000"),
    ("[" * 4000 + "]" * 4000, "nests deeper than 16 levels"),
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + BOMB, "more than 1000 YAML nodes"),
    ("9" * 5000, "digits"),
    ("0x" + "f" * 5000, "digits"),
    ("x\x1b", "U+001B"),
])
def test_set_values_have_a_budget(tmp_path, value, words):
    path = tmp_path / "ok.yaml"
    path.write_text(HEADER + LAYERS)
    code, _, err = cli("check", str(path), "--set", f"unused={value}")
    assert code == 2 and words in " ".join(err.split()), err


def test_set_values_keep_their_meaning():
    from archspec.spec.overrides import parse_override
    assert parse_override("depth=50") == ("depth", 50)
    assert parse_override("eps=1e-5") == ("eps", 1e-5)
    assert parse_override("k=[3, 3]") == ("k", [3, 3])
    assert parse_override("s=[1, 2") == ("s", "[1, 2")  # not YAML: kept as the string
    assert parse_override("e=") == ("e", "")
    with pytest.raises(ValueError, match="expected key=value"):
        parse_override("depth")


def test_limits_module_stands_alone():
    import ast
    import archspec.limits as limits
    tree = ast.parse(open(limits.__file__).read())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(name in limits.__doc__ for name in dir(limits) if name.startswith("MAX_"))


# --- the readers agree with the reference parsers, and never fail in any other way -------------

_KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn")), max_size=8)
_SCALARS = (st.none() | st.booleans() | st.integers(-10 ** 30, 10 ** 30)
            | st.floats(allow_nan=False, allow_infinity=False) | _KEYS)
_DOCS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(_DOCS, st.sampled_from([None, 1]))
def test_json_reader_agrees_with_the_json_module(value, indent):
    from archspec.spec.source import parse
    text = json.dumps(value, indent=indent, ensure_ascii=indent is None)
    assert parse(text, "x.json")[0] == json.loads(text)


# Keys starting with a letter no YAML resolver claims: archspec keeps every key as the string
# written, where PyYAML would make '0E0' a float.
_YAML_KEYS = _KEYS.map(lambda key: "k" + key)
_YAML_DOCS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(_YAML_KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_YAML_KEYS, _YAML_DOCS, min_size=1, max_size=4))
def test_yaml_composer_agrees_with_pyyaml(value):
    from archspec.spec.source import _Loader, parse
    text = yaml.safe_dump(value, allow_unicode=True)
    assert parse(text, "x.yaml")[0] == yaml.load(text, Loader=_Loader)  # the C composer


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["x.yaml", "x.json"]))
def test_arbitrary_bytes_give_spec_errors_or_specs(data, file):
    try:
        archspec.loads(HEADER.encode() + data if file == "x.yaml" else data, file=file)
    except SpecError as exc:
        assert exc.diagnostics and all(d.location.file == file for d in exc.diagnostics)


# --- found by benchmarks/fuzz.py ----------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [("!!float x", "float"), ("!!int '0x'", "int"),
                                         ("!!int abc", "int"), ("!!bool ''", "bool"),
                                         ("!!bool maybe", "bool")])
def test_explicit_tags_on_unreadable_text_are_located_errors(value, kind):
    exc = error_of(archspec.loads, HEADER + f"layers:\n  - Dense: {{units: {value}}}\n")
    assert where(exc) == ("<string>", 4, 20)
    assert f"is not a valid {kind}" in exc.diagnostics[0].message


def test_errors_past_the_cap_are_counted_once_and_located(tmp_path):
    echoes = HEADER + "layers: [repeat: {times: 60, layers: [Dense: {units: 4, inputs: nope}]}]\n"
    exc = error_of(lambda text: archspec.check(archspec.loads(text)), echoes)
    assert exc.error_count == 1 and len(exc.diagnostics) == 1  # one mistake, 60 calls
    many = HEADER + "layers:\n" + "".join(f"  - ReLU: {{name: r{k}, inputs: zz{k}}}\n"
                                          for k in range(120))
    exc = error_of(lambda text: archspec.check(archspec.loads(text)), many)
    *shown, note = exc.diagnostics
    assert len(shown) == 50 and exc.error_count == 120
    assert note.message.startswith("70 more problems not shown")
    assert (note.location.line, note.location.column) == (4 + 50, 23)  # item 51's inputs


def test_extending_a_file_that_is_no_mapping_is_located_at_extends(tmp_path):
    (tmp_path / "base.yaml").write_text("- a\n- b\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: t\nextends: base.yaml\n")
    exc = error_of(archspec.check, child)
    assert where(exc) == (str(child), 2, 1)
    assert "is a list, not a spec mapping" in exc.diagnostics[0].message
