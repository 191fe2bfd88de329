"""``logits=True`` / ``--logits``: the final softmax (or sigmoid) is left out, in both backends,
and the generated docstrings say what the output is and which loss goes with it."""

import subprocess
import sys

import pytest

import archspec
from archspec import SpecError

SOFTMAX_LAYER = {"name": "with_softmax_layer", "input": {"shape": [6, 6, 2]},
                 "layers": ["Flatten", {"Dense": {"units": 5, "name": "scores"}},
                            {"Softmax": {"name": "probabilities"}}]}
SIGMOID = {"name": "binary", "input": {"shape": [6]},
           "layers": [{"Dense": {"units": 4, "activation": "relu"}},
                      {"Dense": {"units": 1, "activation": "sigmoid"}}]}
CASES = ["mnist_cnn.yaml", SOFTMAX_LAYER, SIGMOID]
IDS = ["dense-activation-softmax", "softmax-layer", "sigmoid"]


def spec_of(case, spec_dir):
    return spec_dir / case if isinstance(case, str) else case


def squash(case):
    return "sigmoid" if case is SIGMOID else "softmax"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_logits_are_the_scores_before_the_softmax(spec_dir, case):
    torch = pytest.importorskip("torch")
    spec = spec_of(case, spec_dir)
    probabilities = archspec.compile(spec, backend="torch").eval()
    logits = archspec.compile(spec, backend="torch", logits=True).eval()
    logits.load_state_dict(probabilities.state_dict())  # same layers, same weight names
    x = torch.randn(3, *probabilities.input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, scores = probabilities(x), logits(x)
    assert not torch.allclose(scores, expected, atol=1e-3)  # it did change something
    if squash(case) == "softmax":
        assert torch.allclose(torch.softmax(scores, dim=1), expected, atol=1e-6)
        loss = torch.nn.CrossEntropyLoss()(scores, torch.tensor([0, 1, 2]))
    else:
        assert torch.allclose(torch.sigmoid(scores), expected, atol=1e-6)
        loss = torch.nn.BCEWithLogitsLoss()(scores, torch.ones_like(scores))
    assert torch.isfinite(loss)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_keras_logits_are_the_scores_before_the_softmax(spec_dir, case):
    keras = pytest.importorskip("keras")
    import numpy as np
    spec = spec_of(case, spec_dir)
    probabilities = archspec.compile(spec, backend="keras")
    logits = archspec.compile(spec, backend="keras", logits=True)
    logits.set_weights(probabilities.get_weights())
    x = np.random.default_rng(0).standard_normal((3, *probabilities.input_shape[1:]))
    expected = np.asarray(probabilities(x.astype("float32")))
    scores = np.asarray(logits(x.astype("float32")))
    assert not np.allclose(scores, expected, atol=1e-3)
    squashed = keras.ops.softmax(scores) if squash(case) == "softmax" else keras.ops.sigmoid(scores)
    np.testing.assert_allclose(np.asarray(squashed), expected, atol=1e-6)


def docstrings(source: str) -> str:
    """The file's and the model class' docstrings (the header is written once, across both)."""
    return "\n".join(source.split('"""')[1::2][:1] + [
        part for part in source.split('"""')[1::2] if "Input: (N," in part])


def test_the_generated_docstrings_say_which_loss(spec_dir):
    spec = spec_dir / "mnist_cnn.yaml"
    torch_doc = docstrings(archspec.generate(spec, backend="torch"))
    assert "it is probabilities, not logits" in torch_doc
    assert "nn.NLLLoss()" in torch_doc
    assert "nn.CrossEntropyLoss()" in torch_doc and "--logits" in torch_doc
    torch_logits = archspec.generate(spec, backend="torch", logits=True)
    assert "Returns logits" in torch_logits and "nn.CrossEntropyLoss()" in torch_logits
    assert "F.softmax" not in torch_logits and "softmax(" not in torch_logits.split('"""', 2)[2]
    keras_logits = archspec.generate(spec, backend="keras", logits=True)
    assert "SparseCategoricalCrossentropy(from_logits=True)" in keras_logits
    assert "activation='softmax'" not in keras_logits
    plain = archspec.generate(spec_dir / "resnet18.yaml", backend="torch")
    assert "logits" not in docstrings(plain)  # ends in a bare Dense: nothing to say


def test_logits_of_a_model_without_a_final_softmax_is_an_error(spec_dir):
    with pytest.raises(SpecError) as info:
        archspec.generate(spec_dir / "resnet18.yaml", backend="torch", logits=True)
    (d,) = info.value.diagnostics
    assert "cannot return logits" in d.message and "fc (Dense)" in d.message
    assert d.location.line is not None and "compile without --logits" in d.hint


def test_compile_logits_on_the_command_line(spec_dir):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "archspec.cli", "compile", *args],
                              capture_output=True, text=True, timeout=60)
    ok = run(str(spec_dir / "mnist_cnn.yaml"), "-b", "torch", "--logits")
    assert ok.returncode == 0 and "Returns logits" in ok.stdout
    bad = run(str(spec_dir / "resnet18.yaml"), "-b", "keras", "--logits")
    assert bad.returncode == 1 and "cannot return logits" in bad.stderr and not bad.stdout
