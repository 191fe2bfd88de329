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


def test_dense_in_a_channel_mlp_is_not_warned_about(tmp_path):
    """After a LayerNormalization over the channels, through Dense layers and activations, a
    Dense on a feature map is a per-position MLP (ConvNeXt's block), not a forgotten Flatten;
    the same Dense after a convolution still warns."""
    path = tmp_path / "m.yaml"
    mlp = "  - LayerNormalization\n  - Dense: {units: 8}\n  - GELU\n  - Dropout: 0.1\n" \
          "  - Dense: {units: 4}\n  - GlobalAveragePooling2D\n"
    path.write_text(HEADER + "layers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n" + mlp)
    assert archspec.check(path, strict=True).warnings == []
    path.write_text(HEADER + "layers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n"
                    + mlp.replace("  - LayerNormalization\n", ""))
    assert len(archspec.check(path).warnings) == 2


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
    assert "this repeat makes 10,000,000 x 1 layers" in str(info.value)
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


# --- messages a new user can act on (issue 9) -------------------------------------------------

@pytest.mark.parametrize("text, marker", [
    ("name: t\ninput: {shape: [4]}\nlayers:\n\t- Flatten\n", "\t"),
    ("name: t\ninput: {shape: [4]}\nlayers:\n  - Dense:\n      units: 3\n\t  use_bias: false\n", "\t"),
    ("name: t\ninput: {shape: [4]}\nlayers:\n  - Dense:\n    \tunits: 3\n", "\t"),
])
def test_tabs_are_named_at_the_tab(tmp_path, text, marker):
    d = one(errors_of(text, tmp_path=tmp_path))
    assert "tab" in d.message and "YAML forbids tabs for indentation" in d.message
    assert "spaces" in d.hint
    assert (d.location.line, d.location.column) == position(text, marker)


def test_expression_index_names_the_choices(spec_dir):
    with pytest.raises(SpecError) as info:
        archspec.check(spec_dir / "resnet.yaml", params={"depth": 100})
    (d,) = info.value.diagnostics
    assert "depth = 100 is not one of 18, 34, 50, 101, 152" in d.message
    assert "KeyError" not in d.format()
    assert d.received.startswith("${ {18: [2, 2, 2, 2]")  # the expression itself is shown
    assert "depth must be one of 18, 34, 50, 101, 152" in d.hint


@pytest.mark.parametrize("expression, words", [
    ("[1, 2][i]", "i = 5 is out of range for a list of 2 items"),
    ("[][0]", "0 is out of range: the list is empty"),
    ("[1, 2]['a']", "a list is indexed by an integer, not str"),
])
def test_expression_index_errors(expression, words):
    from archspec.expr import ExprError, evaluate
    with pytest.raises(ExprError, match=words.replace("[", r"\[")):
        evaluate(expression, {"i": 5})


def test_keras_input_shape_at_the_top_suggests_input(tmp_path):
    text = "name: t\ninput_shape: [28, 28, 1]\nlayers: [Flatten]\n"
    d = one(errors_of(text, tmp_path=tmp_path))  # not also "missing required field 'input'"
    assert d.message == "unknown field 'input_shape' for Spec"
    assert "input: {shape: [28, 28, 1]}" in d.hint and "inputs" not in d.hint


def test_keras_input_shape_on_a_layer_says_where_the_input_goes(tmp_path):
    text = HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, input_shape: [28, 28, 1]}\n"
    d = one(errors_of(text, tmp_path=tmp_path))
    assert d.path == "layers[0].input_shape"
    assert "stated once, at the top of the spec" in d.hint
    assert "input: {shape: [28, 28, 1]}" in d.hint


@pytest.mark.parametrize("item, words", [
    ("Conv2D: {filters: 8, kernel_size: 3, kernel_regularizer: 0.001}",
     "write it as kernel_regularizer: {l2: 0.001}"),
    ("Dense: {units: 3, kernel_constraint: 2}", "write it as kernel_constraint: {max_norm: 3}"),
    ("Reshape: {target_shape: 7}", "e.g. target_shape: [7, 7, 64]"),
])
def test_wrong_typed_structured_arguments_show_the_form(tmp_path, item, words):
    d = one(errors_of(HEADER + f"layers:\n  - Flatten\n  - {item}\n", tmp_path=tmp_path))
    assert words in d.hint


def test_bare_leaky_relu_says_why_the_slope_is_required(tmp_path):
    d = one(errors_of(HEADER + "layers:\n  - LeakyReLU\n", tmp_path=tmp_path))
    assert d.message == "missing required field 'negative_slope'"
    assert "Keras defaults the slope to 0.3 and PyTorch to 0.01" in d.hint


def test_keras_only_arguments_say_where_archspec_states_them(tmp_path):
    d = one(errors_of(HEADER + "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, "
                               "data_format: channels_first}\n", tmp_path=tmp_path))
    assert "layout: channels_first" in d.hint


def test_error_deep_in_nested_blocks_shows_the_chain_with_its_middle_elided(tmp_path):
    depth = 10
    blocks = "".join(f"  b{i}:\n    layers: [b{i + 1}]\n" for i in range(depth))
    text = (HEADER + "blocks:\n" + blocks
            + f"  b{depth}:\n    layers: [{{Conv2D: {{filters: 4, kernel_size: 99}}}}]\n"
            + "layers: [b0]\n")
    d = one(errors_of(text, tmp_path=tmp_path))
    links = d.via.split(" -> ")
    assert isinstance(d.via, str) and len(links) == 2 + 1 + 5
    assert links[0].startswith("layers[0] (b0 ") and links[1].startswith("blocks.b0.layers[0] (b1 ")
    assert links[2] == "..."
    assert links[-1].startswith(f"blocks.b{depth - 1}.layers[0] (b{depth} ")
    assert d.to_dict()["via"] == d.via


def test_a_failed_parameter_is_reported_once_not_by_everything_that_reads_it(tmp_path):
    text = HEADER + """params:
  depth: 100
  blocks: "${ {18: [2, 2], 34: [3, 4]}[depth] }"
  first: "${blocks[0]}"
blocks:
  unit:
    params: [n, {width: "${n * 2}"}]
    layers:
      - Conv2D: {filters: "${width}", kernel_size: 3}
layers:
  - Conv2D: {filters: "${first * 8}", kernel_size: 3}
  - repeat: {times: "${blocks[1]}", layers: [Flatten]}
  - unit: {n: "${first}"}
  - unit: {}
"""
    errors = errors_of(text, tmp_path=tmp_path)
    messages = [d.message for d in errors]
    assert len(errors) == 2, messages
    assert "100" in messages[0] and errors[0].path == "params.blocks"
    assert "block parameter 'n' of 'unit' is not set" in messages[1]
