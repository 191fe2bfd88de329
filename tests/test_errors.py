"""Bad specs: each error names file:line:column, the spec path, and says how to fix it; all
independent errors come at once."""

import textwrap

import pytest

import archspec
from archspec import SpecError

HEADER = "name: bad\ninput: {shape: [28, 28, 1]}\n"


def errors_of(text, file="spec.yaml", tmp_path=None, **params):
    path = tmp_path / file
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SpecError) as info:
        archspec.check(path, params=params or None)
    return info.value.diagnostics


def one(diagnostics, severity="error"):
    found = [d for d in diagnostics if d.severity == severity]
    assert len(found) == 1, [d.format() for d in found]
    return found[0]


# (id, spec text, expected path, marker, words in message, words in hint). The error must
# point at the marker: its first occurrence in the text, or its n-th with "token@n".


def position(text, marker):
    token, _, nth = marker.partition("@")
    index = -1
    for _ in range(int(nth or 0) + 1):
        index = text.index(token, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
CASES = [
    ("unknown-field", HEADER + "layers:\n  - Conv2D: {filters: 32, kernel_size: 3, strdes: 2}\n",
     "layers[0].strdes", "strdes", "unknown field 'strdes'", "did you mean 'strides'?"),
    ("unknown-layer", HEADER + "layers:\n  - Flatten\n  - MaxPool2D: {pool_size: 2}\n",
     "layers[1].MaxPool2D", "MaxPool2D", "unknown layer type 'MaxPool2D'", "did you mean 'MaxPooling2D'?"),
    ("missing-field", HEADER + "layers:\n  - Dense: {activation: relu}\n",
     "layers[0].units", "Dense", "missing required field 'units'", None),
    ("bad-literal", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, activation: rleu}\n",
     "layers[0].activation", "activation", "invalid value 'rleu'", "did you mean 'relu'?"),
    ("negative-filters", HEADER + "layers:\n  - Conv2D: {filters: -3, kernel_size: 3}\n",
     "layers[0].filters", "filters", "greater than or equal to 1", None),
    ("bad-padding", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, padding: sme}\n",
     "layers[0].padding", "padding", "padding must be 'valid', 'same'", None),
    ("kernel-too-large", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 29}\n",
     "layers[0]", "Conv2D", "kernel extent 29 is larger than the padded input length 28", "smaller kernel_size"),
    ("output-size-zero", HEADER + "layers:\n  - MaxPooling2D: {pool_size: 2}\n  - MaxPooling2D: {pool_size: 2}\n"
     "  - MaxPooling2D: {pool_size: 2}\n  - MaxPooling2D: {pool_size: 2}\n  - MaxPooling2D: {pool_size: 2}\n",
     "layers[4]", "MaxPooling2D@4", "pool_size 2 is larger than the padded input length 1", None),
    ("add-shapes", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, name: a}\n"
     "  - Conv2D: {filters: 4, kernel_size: 3, inputs: input, name: b}\n  - Add: {inputs: [a, b]}\n",
     "layers[2]", "Add", "Add needs inputs of one shape, got [26, 26, 8], [26, 26, 4]", "1x1 Conv2D"),
    ("concat-spatial", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, name: a}\n"
     "  - Conv2D: {filters: 8, kernel_size: 3, strides: 2, inputs: input, name: b}\n"
     "  - Concatenate: {inputs: [a, b]}\n",
     "layers[2]", "Concatenate", "needs equal sizes on every other axis", "padding: same"),
    ("unknown-input", HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, name: conv}\n"
     "  - Dense: {units: 4, inputs: [cnv]}\n",
     "layers[1].inputs", "inputs", "unknown layer 'cnv' in inputs", "did you mean 'conv'?"),
    ("later-input", HEADER + "layers:\n  - Dense: {units: 4, inputs: [head]}\n  - Dense: {units: 2, name: head}\n",
     "layers[0].inputs", "inputs", "'head' is defined later", None),
    ("self-cycle", HEADER + "layers:\n  - Dense: {units: 4, name: loop, inputs: [loop]}\n",
     "layers[0].inputs", "inputs", "takes its own output as input: a cycle", None),
    ("duplicate-name", HEADER + "layers:\n  - Flatten: {name: f}\n  - Dense: {units: 2, name: f}\n",
     "layers[1].name", "name@2", "duplicate layer name 'f'", "first used at layers[0]"),
    ("block-param-unset", HEADER + "blocks:\n  b:\n    params: [filters]\n    layers: [Conv2D: {filters: '${filters}', kernel_size: 1}]\n"
     "layers:\n  - b: {}\n",
     "layers[0]", "b: {}", "block parameter 'filters' of 'b' is not set", "add filters: <value>"),
    ("block-param-unknown", HEADER + "blocks:\n  b:\n    params: [filters]\n    layers: [Conv2D: {filters: '${filters}', kernel_size: 1}]\n"
     "layers:\n  - b: {filters: 2, filter: 3}\n",
     "layers[0].filter", "filter:", "block 'b' has no parameter 'filter'", "did you mean 'filters'?"),
    ("unknown-param-in-expression", HEADER + "params: {width: 2}\nlayers:\n  - Dense: {units: '${widht * 8}'}\n",
     "layers[0].units", "units", "unknown parameter 'widht'", None),
    ("unsafe-expression", HEADER + "layers:\n  - Dense: {units: \"${__import__('os').getpid()}\"}\n",
     "layers[0].units", "units", "only calls of built-in functions are allowed", None),
    ("conv-after-flatten", HEADER + "layers:\n  - Flatten\n  - Conv2D: {filters: 8, kernel_size: 3}\n",
     "layers[1]", "Conv2D", "expects a 3-D input (height, width, channels), got shape [784]", "Flatten or Dense before it"),
    ("item-shape", HEADER + "layers:\n  - {Dense: {units: 3}, name: x}\n",
     "layers[0]", "{Dense", "a layer item must be a layer type", "indent 'name'/'inputs' under the layer type"),
    ("groups", HEADER + "layers:\n  - Conv2D: {filters: 6, kernel_size: 3, groups: 4}\n",
     "layers[0]", "Conv2D", "groups=4 must divide both the input channels (1) and filters (6)", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_error_case(tmp_path, case):
    _id, text, path, marker, message, hint = case
    line, column = position(text, marker)
    d = one(errors_of(text, tmp_path=tmp_path))
    assert d.path == path
    assert (d.location.line, d.location.column) == (line, column), d.format()
    assert d.location.file.endswith("spec.yaml")
    assert message in d.message
    if hint:
        assert hint in (d.hint or "")
    assert f"spec.yaml:{line}:{column}: error: {path}:" in d.format()


def test_all_independent_errors_at_once(tmp_path):
    text = HEADER + """layers:
  - Conv2D: {filters: 32, kernal_size: 3}
  - MaxPool2D: {pool_size: 2}
  - Dense: {units: 10, inputs: [nope]}
  - Conv2D: {filters: 8, kernel_size: 3, name: x, inputs: input}
  - Conv2D: {filters: 8, kernel_size: 3, strides: 2, name: y, inputs: input}
  - Add: {inputs: [x, y]}
"""
    found = errors_of(text, tmp_path=tmp_path)
    paths = [d.path for d in found]
    assert "layers[0].kernal_size" in paths and "layers[1].MaxPool2D" in paths
    assert "layers[2].inputs" in paths and "layers[5]" in paths


def test_dense_on_feature_map_warns_and_strict_fails(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(HEADER + "layers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n  - Dense: {units: 10}\n")
    report = archspec.check(path)
    warning = one(report.warnings, "warning")
    assert "acts on the channel axis" in warning.message
    assert "add Flatten or GlobalAveragePooling2D" in warning.hint
    assert (warning.location.line, warning.location.column) == position(path.read_text(), "Dense")
    with pytest.raises(SpecError):
        archspec.check(path, strict=True)


def test_unused_branch_warns(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_text(HEADER + "layers:\n  - Conv2D: {filters: 4, kernel_size: 3, name: lost}\n"
                    "  - Flatten: {inputs: input}\n")
    assert "never used" in one(archspec.check(path).warnings, "warning").message


def test_error_inside_block_names_definition_and_call(tmp_path):
    text = HEADER + """blocks:
  b:
    params: [k]
    layers:
      - Conv2D: {filters: 4, kernel_size: "${k}"}
layers:
  - b: {k: 3}
  - b: {k: 99, name: big}
"""
    d = one(errors_of(text, tmp_path=tmp_path))
    assert d.path == "blocks.b.layers[0]"
    assert (d.location.line, d.location.column) == position(text, "Conv2D")
    assert "layers[1] (b 'big')" in d.via


@pytest.mark.parametrize("text,words", [
    ("name: x\ninput: {shape: [4]\nlayers: [Flatten]\n", "malformed YAML"),
    ("name: x\ninput: !!python/object/apply:os.system ['true']\nlayers: [Flatten]\n", "is not allowed"),
    ("name: x\nname: y\ninput: {shape: [4]}\nlayers: [Flatten]\n", "duplicate key 'name'"),
    ("- just\n- a list\n", "a spec must be a mapping"),
    ("", "the spec is empty"),
    ("name: x\ninput: {shape: [4]}\nlayers: [Flatten]\nextra: 1\n", "unknown field 'extra'"),
    ("name: x\ninput: {shape: [0]}\nlayers: [Flatten]\n", "input sizes must be integers"),
    ("a: &a [1, 2]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "more than 200000 YAML nodes"),
])
def test_document_errors(tmp_path, text, words):
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        archspec.load(path)
    assert any(words in d.message for d in info.value.diagnostics), info.value


def test_huge_sizes_are_bounded(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\ninput: {shape: [4]}\nlayers:\n  - repeat: {times: 10000000, layers: [Dense: 4]}\n")
    with pytest.raises(SpecError) as info:
        archspec.check(path)
    assert "repeat times must be an integer from 0 to" in str(info.value)
    path.write_text("name: pow\ninput: {shape: [4]}\nlayers:\n  - Dense: {units: '${9 ** 9 ** 9}'}\n")
    with pytest.raises(SpecError) as info:
        archspec.check(path)
    assert "power too large" in str(info.value)


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(SpecError) as info:
        archspec.load(tmp_path / "a.yaml")
    assert "forms a cycle" in str(info.value)


def test_unknown_override(spec_dir):
    with pytest.raises(SpecError) as info:
        archspec.check(spec_dir / "resnet.yaml", params={"dept": 50})
    assert "did you mean 'depth'?" in str(info.value)
