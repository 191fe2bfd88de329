"""The Python API speaks archspec's language: constructors raise ``ArgumentError`` with the
message and hint the same mistake gets in YAML (never pydantic's wording or URLs), at the
caller's line; ``help()`` is short and useful; positional arguments follow Keras' order."""

import inspect
import pydoc
import textwrap

import pytest

import archspec
from archspec import ArgumentError, SpecError
from archspec.ops.base import layer_types

HEADER = "name: t\ninput: {shape: [28, 28, 1]}\nlayers:\n"


def api_error(make):
    with pytest.raises(ArgumentError) as info:
        make()
    return info.value


def yaml_errors(tmp_path, item: str):
    path = tmp_path / "spec.yaml"
    path.write_text(HEADER + textwrap.indent(item, "  ") + "\n")
    with pytest.raises(SpecError) as info:
        archspec.check(path)
    return info.value.errors


# (constructor call, the same mistake as a YAML item, a word of the API hint, of the YAML hint)
SAME_MISTAKES = [
    (lambda: archspec.Conv2D(filter=8, kernel_size=3), "- Conv2D: {filter: 8, kernel_size: 3}",
     "did you mean 'filters'?", "did you mean 'filters'?"),
    (lambda: archspec.Conv2D(8, 3, kernel_regularizer=0.001),
     "- Conv2D: {filters: 8, kernel_size: 3, kernel_regularizer: 0.001}",
     "kernel_regularizer={'l2': 0.001}", "kernel_regularizer: {l2: 0.001}"),
    (lambda: archspec.LeakyReLU(), "- LeakyReLU", "PyTorch to 0.01", "PyTorch to 0.01"),
    (lambda: archspec.Dense("ten"), "- Dense: {units: ten}", "units=10", "units: 10"),
    (lambda: archspec.Conv2D(8, 3, input_shape=(28, 28, 1)),
     "- Conv2D: {filters: 8, kernel_size: 3, input_shape: [28, 28, 1]}",
     "input=[28, 28, 1]", "input: {shape: [28, 28, 1]}"),
    (lambda: archspec.Conv2D(8, 3, activation="rleu"),
     "- Conv2D: {filters: 8, kernel_size: 3, activation: rleu}",
     "did you mean 'relu'?", "did you mean 'relu'?"),
    (lambda: archspec.Conv2D(8, 3, kernel_constraint=3),
     "- Conv2D: {filters: 8, kernel_size: 3, kernel_constraint: 3}",
     "kernel_constraint={'max_norm': 3}", "kernel_constraint: {max_norm: 3}"),
]


@pytest.mark.parametrize("make, item, api_hint, yaml_hint", SAME_MISTAKES,
                         ids=[m[1] for m in SAME_MISTAKES])
def test_api_and_yaml_say_the_same(tmp_path, make, item, api_hint, yaml_hint):
    error = api_error(make)
    (api,) = error.diagnostics  # one mistake, one message: no "missing filters" beside it
    (from_yaml,) = yaml_errors(tmp_path, item)
    assert api.message == from_yaml.message
    assert api.allowed == from_yaml.allowed
    assert api_hint in api.hint and yaml_hint in from_yaml.hint
    assert api.path.split(".", 1)[1] == from_yaml.path.split(".", 1)[1]  # Conv2D.x / layers[0].x


def test_argument_error_is_every_kind_callers_catch():
    line = inspect.currentframe().f_lineno + 1
    error = api_error(lambda: archspec.Conv2D(filter=8, kernel_size=3))
    assert isinstance(error, SpecError) and isinstance(error, ValueError)
    assert isinstance(error, TypeError)
    # located at the caller's line, as a traceback would be
    assert error.diagnostics[0].location.file == __file__
    assert str(error).startswith(f"{__file__}:{line}: error: Conv2D.filter: unknown field "
                                 f"'filter' for Conv2D")


BAD_CALLS = [
    lambda: archspec.Conv2D(filter=8, kernel_size=3),
    lambda: archspec.Conv2D(8, 3, 1, "same", 7),
    lambda: archspec.Conv2D(8, 3, filters=4),
    lambda: archspec.Conv2D(8, 3, strides=2, dilation_rate=2),
    lambda: archspec.Conv2D(-1, 3),
    lambda: archspec.MaxPooling2D(padding="sme"),
    lambda: archspec.Reshape(5),
    lambda: archspec.Dropout(1.5),
    lambda: archspec.Spec(name="x", input_shape=[28, 28, 1], layers=["Flatten"]),
    lambda: archspec.Spec(name="x", input=28, layers=["Flatten"]),
    lambda: archspec.Spec(name="bad name!", input=[4], layers="Flatten"),
    lambda: archspec.InputSpec(shape=[0]),
    lambda: archspec.BlockDef(layers=[], params=3),
    lambda: archspec.repeat(-1, [archspec.Flatten()]),
    lambda: archspec.repeat(2, [3]),
    lambda: archspec.repeat(2, ["Flatten"], index="not an identifier"),
    lambda: archspec.call(3),
]


@pytest.mark.parametrize("make", BAD_CALLS)
def test_no_public_constructor_leaks_pydantic(make):
    error = api_error(make)
    text = str(error)
    assert "pydantic" not in text.lower() and "http" not in text and "Input should" not in text
    assert error.diagnostics and all(d.message for d in error.diagnostics)


def test_spec_input_shape_suggests_input_and_nothing_else():
    error = api_error(lambda: archspec.Spec(name="x", input_shape=[28, 28, 1], layers=["Flatten"]))
    (d,) = error.diagnostics  # not also "missing required field 'input'"
    assert "Spec(..., input=[28, 28, 1])" in d.hint


def test_valid_construction_is_unchanged():
    assert archspec.Conv2D(32, 3, 2, "same") == archspec.Conv2D(
        filters=32, kernel_size=3, strides=2, padding="same")
    assert archspec.MaxPooling2D(3, 2, "same").padding == "same"
    assert archspec.Dense(10, "softmax").activation == "softmax"
    assert archspec.repeat(2, [archspec.Flatten()], index="k")["repeat"]["index"] == "k"


# --- help() ----------------------------------------------------------------------------------

def lines(thing) -> int:
    return len(pydoc.render_doc(thing, renderer=pydoc.plaintext).splitlines())


def test_help_of_a_layer_is_short_and_about_the_layer():
    text = pydoc.render_doc(archspec.Conv2D, renderer=pydoc.plaintext)
    assert lines(archspec.Conv2D) < 80  # was 532: pydantic's BaseModel methods
    assert "model_dump" not in text and "model_validate" not in text
    assert "Conv2D(filters, kernel_size, strides=1, padding='valid', *," in text
    assert "filters: number of output channels (required)" in text
    assert "torch" in text  # where it sits in PyTorch, and how archspec differs
    leaky = pydoc.render_doc(archspec.LeakyReLU, renderer=pydoc.plaintext)
    assert "PyTorch to 0.01" in leaky or "PyTorch (0.01)" in leaky


def test_help_of_the_package_is_bounded():
    # was 21,304 for 37 types: about 60 lines a layer type (its arguments), plus the API
    assert lines(archspec) < 65 * len(layer_types()) + 300
    assert lines(archspec.Spec) < 60


@pytest.mark.parametrize("name", sorted(layer_types()))
def test_every_layer_documents_every_argument(name):
    cls = layer_types()[name]
    doc = cls.__doc__
    signature = inspect.signature(cls)  # a valid Signature: defaults never precede required
    for field in cls.model_fields:
        if field != "type":
            assert field in signature.parameters
            assert f"{field}:" in doc or field in ("name", "inputs"), (name, field)
    assert ": (" not in doc, f"{name}: an argument without a meaning"
    assert "Keras" in doc


# --- positional order ------------------------------------------------------------------------

MAIN_LAYERS = ["Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
               "Dense", "Dropout", "Reshape", "MaxPooling2D", "AveragePooling2D", "MaxPooling1D",
               "ZeroPadding2D", "UpSampling2D", "ReLU", "LeakyReLU", "ELU", "Softmax",
               "Activation", "Concatenate", "BatchNormalization", "Flatten",
               "GlobalAveragePooling2D"]


@pytest.mark.parametrize("name", MAIN_LAYERS)
def test_positional_order_is_keras(name):
    keras = pytest.importorskip("keras")
    ours = layer_types()[name]
    theirs = [p.name for p in inspect.signature(getattr(keras.layers, name).__init__)
              .parameters.values()][1:]
    # Keras' leading arguments, up to the first one archspec does not take: a positional call
    # means the same in both, and stops where it no longer could.
    expected = []
    for parameter in theirs:
        if parameter not in ours.model_fields or parameter in ("name", "kwargs"):
            break
        expected.append(parameter)
    assert list(ours.positional) == expected
    positional = [p.name for p in inspect.signature(ours).parameters.values()
                  if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional == expected


def test_yaml_lists_follow_the_same_order(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(HEADER + "  - Conv2D: [8, 3, 2, same]\n  - MaxPooling2D: [3, 2, same]\n")
    report = archspec.check(path)
    assert [row["output_shape"] for row in report.to_dict()["layers"]] == [[14, 14, 8],
                                                                         [7, 7, 8]]
