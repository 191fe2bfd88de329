"""`archspec import` of Keras models, against the models themselves: keras.applications'
networks and saved .keras files become specs whose counts are the model's and whose compiled
models, given the imported weights, compute the model's outputs in Keras and in torch; what
archspec cannot express is one error listing it; compiled zoo specs import back to the same
analysis."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from keras import layers  # noqa: E402

import archspec  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from archspec.importing.flat import UnsupportedModel  # noqa: E402
from archspec.importing.pipeline import import_model  # noqa: E402
from archspec.reference import randomize_statistics  # noqa: E402
from archspec.weights import keras_to_numpy, set_weights  # noqa: E402

ROOT = Path(__file__).parent.parent
RELATIVE = 1e-5


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def keras_counts(model) -> tuple[int, int]:
    def size(weights):
        return sum(int(np.prod(w.shape)) for w in weights)
    return size(model.trainable_weights), size(model.non_trainable_weights)


def spec_counts(document) -> tuple[int, int]:
    totals = archspec.check(document).totals
    return totals["trainable_params"], totals["non_trainable_params"]


def outputs(document, graph, exchange, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The spec's Keras and torch models, given the imported weights, on ``x`` (NHWC)."""
    model = archspec.compile(document, backend="keras")
    set_weights(model, graph, exchange)
    in_keras = keras_to_numpy(model(x))
    del model
    module = archspec.compile(document, backend="torch").eval()
    set_weights(module, graph, exchange)
    with torch.no_grad():
        in_torch = module(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    return in_keras, in_torch


@pytest.fixture
def released():
    yield
    keras.backend.clear_session()
    gc.collect()


# The four the issue names, at small inputs (their structure does not depend on the size),
# built untrained with logits out; BatchNorm statistics and biases random.
APPLICATIONS = [("VGG16", 32), ("ResNet50", 64), ("MobileNetV2", 64), ("DenseNet121", 64)]


@pytest.mark.parametrize("name, size", APPLICATIONS, ids=[a for a, _ in APPLICATIONS])
def test_keras_applications_import_with_their_counts_and_outputs(name, size, released):
    original = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3),
                                                 classifier_activation=None)
    randomize_statistics(original, np.random.default_rng(0))
    imported = import_model(original, weights=True)
    assert imported.folded.folded, imported.notes
    assert spec_counts(imported.document) == keras_counts(original)
    assert sum(spec_counts(imported.document)) == original.count_params()
    x = np.random.default_rng(1).standard_normal((2, size, size, 3)).astype(np.float32)
    expected = keras_to_numpy(original(x))
    graph = imported.graph()
    in_keras, in_torch = outputs(imported.document, graph, imported.exchange(graph), x)
    assert relative_error(in_keras, expected) <= RELATIVE
    assert relative_error(in_torch, expected) <= RELATIVE
    # every layer of the model is a layer of the spec, under its own name or the one the
    # spec writes it as ("_" before a local name that starts with a digit)
    names = {layer.name for layer in original.layers[1:]}
    spec_names = {imported.folded.renames.get(n, n) for n in names}
    assert spec_names == {n.name for n in graph.live()}
    assert all(new.replace("__", "_") == old for old, new in imported.folded.renames.items())


def test_resnet50_imports_as_a_block_and_four_stages(released):
    original = keras.applications.ResNet50(weights=None)
    imported = import_model(original)
    text, document = imported.text, imported.document
    assert len(text.splitlines()) < 60, text
    assert len(document["blocks"]) == 1
    stages = [item["repeat"] for item in document["layers"] if "repeat" in item]
    assert [(s["name"], s["times"]) for s in stages] == \
        [("conv2_block", 3), ("conv3_block", 4), ("conv4_block", 6), ("conv5_block", 3)]
    assert spec_counts(document) == keras_counts(original)
    assert text.startswith("# Imported by `archspec import` from Keras model 'resnet50'.")


def test_a_keras_file_round_trips_through_the_command(tmp_path, released):
    """A small functional model with a nested Sequential, saved as .keras: the command writes a
    spec and weights; the spec's model with those weights is the saved model."""
    stem = keras.Sequential([layers.Conv2D(8, 3, padding="same", name="stem_conv"),
                             layers.BatchNormalization(name="stem_bn")], name="stem")
    inputs = keras.Input((16, 16, 3))
    x = stem(layers.Rescaling(1 / 255, name="scale")(inputs))
    a = layers.ReLU(6.0, name="relu6")(x)
    b = layers.Activation("hard_silu", name="hswish")(
        layers.DepthwiseConv2D(3, padding="same", name="dw")(a))
    x = layers.Add(name="add")([a, b])
    c = layers.Conv2D(4, 1, name="c1")(x)
    d = layers.Conv2D(4, 3, name="c3")(layers.ZeroPadding2D(1, name="zp")(x))
    x = layers.Concatenate(name="cat")([c, d])
    x = layers.GlobalAveragePooling2D(name="gap")(layers.MaxPooling2D(name="pool")(x))
    outputs_ = layers.Dense(5, name="head")(layers.Dropout(0.2, name="drop")(x))
    original = keras.Model(inputs, outputs_, name="small")
    randomize_statistics(original, np.random.default_rng(2))
    saved, spec, weights = (tmp_path / n for n in ("small.keras", "small.yaml",
                                                   "small.weights.h5"))
    original.save(saved)
    result = CliRunner().invoke(main, ["import", str(saved), "-o", str(spec),
                                       "--weights", str(weights)])
    assert result.exit_code == 0, result.output
    graph = archspec.analyze(spec)
    assert {n.name: n.type for n in graph.live()} == {
        "scale": "Rescaling", "stem_conv": "Conv2D", "stem_bn": "BatchNormalization",
        "relu6": "ReLU", "dw": "DepthwiseConv2D", "hswish": "HardSwish", "add": "Add",
        "zp": "ZeroPadding2D", "c1": "Conv2D", "c3": "Conv2D", "cat": "Concatenate",
        "pool": "MaxPooling2D", "gap": "GlobalAveragePooling2D", "drop": "Dropout",
        "head": "Dense"}
    assert graph["relu6"].layer.max_value == 6
    model = archspec.compile(spec, backend="keras")
    model.load_weights(weights)
    x = np.random.default_rng(3).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    assert relative_error(keras_to_numpy(model(x)), keras_to_numpy(original(x))) <= RELATIVE


def test_unsupported_layers_are_listed_together():
    class Twice(layers.Layer):
        def call(self, x):
            return 2 * x
    inputs = keras.Input((10, 3))
    x = layers.Conv1D(4, 3, padding="causal", name="causal")(inputs)
    x = layers.Lambda(lambda t: t + 1, name="plus_one")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(Twice(name="twice")(x))
    with pytest.raises(UnsupportedModel) as caught:
        import_model(keras.Model(inputs, x))
    assert isinstance(caught.value, SpecError) and caught.value.error_count == 3
    found = {d.path: d.message for d in caught.value.diagnostics}
    assert set(found) == {"causal", "plus_one", "twice"}
    assert found["plus_one"].startswith("Lambda:")
    assert "custom layer class" in found["twice"] and "'causal'" in found["causal"]


def test_the_command_reports_what_it_cannot_import(tmp_path, released):
    inputs = keras.Input((4,))
    x = layers.Lambda(lambda t: t * 3, name="times_three")(layers.Dense(2, name="d")(inputs))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, x).save(path)
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(path)])
    assert result.exit_code == 1
    assert "times_three: Lambda: a Lambda runs arbitrary Python code" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["import", "keras.applications.resnet50"])
    assert result.exit_code == 1 and "did you mean keras.applications.ResNet50" in result.output
    result = runner.invoke(main, ["import", "model.h5"])
    assert result.exit_code == 1 and "not a .keras file" in result.output
    result = runner.invoke(main, ["import", str(path), "--weights", "w.npz"])
    assert result.exit_code == 2 and "(.weights.h5)" in result.output


def test_the_command_imports_a_torch_callable_with_its_weights(tmp_path, monkeypatch):
    """module:callable goes to the torch.fx reader; the weights file it writes loads into the
    spec's torch model, which then computes what the module does."""
    (tmp_path / "tiny_net.py").write_text(
        "import torch.nn as nn\n"
        "def build():\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),\n"
        "                         nn.Flatten(), nn.Linear(4 * 6 * 6, 5))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec, weights = tmp_path / "tiny.yaml", tmp_path / "tiny.pt"
    torch.manual_seed(0)  # the module the command builds: the same one as below
    result = CliRunner().invoke(main, ["import", "tiny_net:build", "--input", "3,6,6",
                                       "-o", str(spec), "--weights", str(weights)])
    assert result.exit_code == 0, result.output
    import tiny_net
    torch.manual_seed(0)
    original = tiny_net.build().eval()
    module = archspec.compile(spec).eval()
    module.load_state_dict(torch.load(weights, weights_only=True))
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        assert relative_error(module(x).numpy(), original(x).numpy()) <= RELATIVE
    result = CliRunner().invoke(main, ["import", "tiny_net:build", "--weights",
                                       str(tmp_path / "other.pt")])
    assert result.exit_code == 1 and "--input" in result.output


def test_open_input_sizes_need_the_input_option(released):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3)(inputs)))
    with pytest.raises(ValueError, match="--input"):
        import_model(model)
    assert import_model(model, (20, 20, 3)).document["input"] == {"shape": [20, 20, 3]}


def test_every_layer_type_reads_back_from_its_keras_form(released):
    """One case of each type in tests/layer_cases.yaml, compiled to Keras (native layers and
    archspec's helper layers: explicit padding, ceil pooling, GELU, ...), imports as a layer of
    that type — or of the type Keras' form also means: Activation("sigmoid") is Sigmoid — with
    the same shape, counts and MACs."""
    import yaml
    from spec_helpers import one_layer_spec
    cases = yaml.safe_load((ROOT / "tests" / "layer_cases.yaml").read_text())
    first: dict[str, dict] = {}
    for case in cases:
        if "inputs" not in case:
            kind = case["layer"] if isinstance(case["layer"], str) else next(iter(case["layer"]))
            first.setdefault(kind, case)
    wrong = []
    for kind, case in first.items():
        spec = one_layer_spec(case["layer"], case["input"])
        imported = import_model(archspec.compile(spec, backend="keras"))

        def rows(graph):
            return [(n.type, tuple(n.meta["shape"]), n.meta["trainable"],
                     n.meta["non_trainable"], n.meta["macs"]) for n in graph.live()]
        if rows(imported.graph()) != rows(archspec.analyze(spec)):
            wrong.append((kind, rows(imported.graph()), rows(archspec.analyze(spec))))
    assert not wrong
    from archspec.ops.base import layer_types
    merges = {"Add", "Multiply", "Concatenate"}  # the applications and the zoo have them
    assert set(first) == set(layer_types()) - merges


# densenet, vit, efficientnet and mobilenet_v3 take seconds to build in Keras each (their
# Keras models are verified by tests/test_reference.py; they import back as the others do);
# resnet.yaml is resnet50.yaml, and resnet101 and resnet152 are its blocks, more of them
ZOO = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml")
             if p.stem not in ("densenet", "vit", "efficientnet", "mobilenet_v3", "resnet",
                               "resnet101", "resnet152"))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_specs_import_back_to_the_same_analysis(spec_dir, name, released):
    spec = archspec.load(spec_dir / f"{name}.yaml")
    if name in ("vgg16", "vgg19"):  # 120 M of VGG's weights are its 224x224 classifier's
        spec = spec.model_copy(update={"input": spec.input.model_copy(
            update={"shape": [32, 32, 3]})})
    original = archspec.analyze(spec)
    imported = import_model(archspec.compile(spec, backend="keras"))
    back = {new: old for old, new in imported.folded.renames.items()}
    again = imported.graph()

    def rows(graph, names=lambda n: n):
        return {names(n.name): (tuple(n.meta["shape"]), n.meta["trainable"],
                                n.meta["non_trainable"], n.meta["macs"]) for n in graph.live()}
    assert rows(again, lambda n: back.get(n, n)) == rows(original)
    # totals too (the peak of live activations is left out: it depends on the order, which
    # is Keras' listing in the import)
    keys = ("trainable_params", "non_trainable_params", "macs", "activation_bytes")
    ours = archspec.check(imported.document).totals
    theirs = archspec.check(spec).totals
    assert {k: ours[k] for k in keys} == {k: theirs[k] for k in keys}


@pytest.mark.parametrize("content", ["not a zip file", "zip without config", "config list"])
def test_a_damaged_keras_file_is_a_clear_error(tmp_path, content):
    import zipfile

    from click.testing import CliRunner

    from archspec.cli import main
    path = tmp_path / "m.keras"
    if content == "not a zip file":
        path.write_text(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("metadata.json", "{}")
            if content == "config list":
                archive.writestr("config.json", "[1, 2]")
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "s.yaml")])
    assert result.exit_code == 1, result.output
    assert "cannot import" in result.output and "internal error" not in result.output
    assert not (tmp_path / "s.yaml").exists()
