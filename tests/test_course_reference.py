"""An independent oracle for the course models in the zoo. Analysis, torch model and Keras model
all come from one IR, so they agree with each other even when the IR is wired wrong; here each
zoo spec is compared with the course's own Keras code (tests/course_models.py), which owes
archspec nothing. Every weight is random (BatchNorm statistics included), the transcription's
weights are moved into both compiled models, and the logits must agree: compared before the
final softmax, since a saturated softmax can make a wrong model's output look right.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from course_models import COURSE_MODELS  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.torch_backend import attribute_names  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTOL = 1e-5

# The 224x224 VGG-16 (138M parameters) and the 227x227 AlexNet (62M) take ~10-40 s each.
HEAVY = {"alexnet", "vgg16"}
NAMES = [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in COURSE_MODELS]


def _glorot_to_he(shape) -> float:
    """The factor that turns a glorot-initialized kernel (Keras' default for Conv2D and Dense)
    into a He-scaled one. He keeps activations of order one through 16 ReLU layers; with glorot
    the signal fades and the biases dominate: two inputs moved VGG-16's logits by 0.002 at
    most (1.2 with He), too little for a wiring bug to stand out."""
    receptive = int(np.prod(shape[:-2]))
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    return float(np.sqrt((fan_in + fan_out) / fan_in))


def _random_value(name: str, shape, rng) -> np.ndarray:
    """Non-zero biases and BatchNorm parameters far from the identity, so that a swapped or
    dropped one changes the output (fresh models have zero biases and unit BatchNorm)."""
    if name in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if name in ("bias", "beta", "moving_mean"):
        return (0.2 * rng.standard_normal(shape)).astype(np.float32)
    raise AssertionError(f"unexpected weight '{name}' in the course's models")


def randomize(model, seed: int) -> None:
    """Kernels keep their random initial values, rescaled where they lie (a fresh draw of
    VGG-16's 138M weights in numpy takes several times longer); the rest is drawn anew."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for variable in layer.weights:
            shape = tuple(variable.shape)
            if variable.name == "kernel":
                variable.assign(variable * _glorot_to_he(shape))
            else:
                variable.assign(_random_value(variable.name, shape, rng))


def _signature(layer) -> tuple:
    return type(layer).__name__, [(w.name, tuple(w.shape)) for w in layer.weights]


def exchange_from(reference, ours) -> dict:
    """The reference's weights as archspec's exchange dict (spec layer name → Keras-named
    arrays). Layers with weights are paired in order — reference.py's name matching would pair
    Keras' automatic names (conv2d, conv2d_1, ...) off by one with the spec's (conv2d_1, ...) —
    and each pair must agree in kind and weight shapes."""
    theirs = [layer for layer in reference.layers if layer.weights]
    mine = [layer for layer in ours.layers if layer.weights]
    assert [_signature(t) for t in theirs] == [_signature(m) for m in mine], \
        "the course's layers with weights and the spec's differ in kind, order or shape"
    return {m.name: {w.name: np.asarray(w.numpy()) for w in t.weights}
            for t, m in zip(theirs, mine)}


@contextmanager
def linear_head(model):
    """The Keras model with its final Dense's softmax switched off: ``model(x)`` gives logits.
    Dense reads its activation at call time, so an eager call sees the switch."""
    last = model.layers[-1]
    assert isinstance(last, keras.layers.Dense), type(last).__name__
    assert last.activation is keras.activations.softmax, last.activation
    last.activation = keras.activations.linear
    try:
        yield model
    finally:
        last.activation = keras.activations.softmax


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_logits(model, x: np.ndarray) -> np.ndarray:
    with linear_head(model):
        return np.asarray(model(x, training=False))


def torch_logits(model, graph, x: np.ndarray) -> np.ndarray:
    """The output layer's submodule output (a forward hook), checked to be what the model's
    final softmax turns into its output."""
    captured = []
    last = model.get_submodule(attribute_names(graph)[graph.output])
    handle = last.register_forward_hook(lambda _m, _i, out: captured.append(out.detach().clone()))
    channels_first = np.moveaxis(x, -1, 1) if x.ndim > 2 else x
    model.eval()
    try:
        with torch.no_grad():
            probabilities = model(torch.from_numpy(np.ascontiguousarray(channels_first)))
    finally:
        handle.remove()
    assert len(captured) == 1, f"{graph.output} ran {len(captured)} times"
    logits = captured[0].numpy()
    np.testing.assert_allclose(_softmax(logits), probabilities.numpy(), rtol=1e-4, atol=1e-7)
    return logits


def _count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def assert_torch_size(torch_model, trainable: int, statistics: int) -> None:
    """The reference's trainable and non-trainable counts, as torch parameters and buffers."""
    assert sum(p.numel() for p in torch_model.parameters() if p.requires_grad) == trainable
    assert sum(b.numel() for b in torch_model.buffers() if b.is_floating_point()) == statistics


def _bound(want: np.ndarray) -> float:
    return RTOL * max(1.0, float(np.max(np.abs(want))))


def assert_input_matters(want: np.ndarray) -> None:
    """Logits that hardly depend on the input would let a miswired model pass: the two
    samples' logits must differ by far more than the tolerance."""
    spread = float(np.max(np.abs(want[0] - want[1])))
    assert spread > 100 * _bound(want), f"the input moves the logits by only {spread:.3g}"


def mismatches(want: np.ndarray, **got: np.ndarray) -> list[str]:
    """What differs from the reference logits beyond the relative tolerance, one line each."""
    scale, bound = float(np.max(np.abs(want))), _bound(want)
    wrong = []
    for what, logits in got.items():
        if logits.shape != want.shape:
            wrong.append(f"{what}: shape {logits.shape}, the course's {want.shape}")
            continue
        diff = float(np.max(np.abs(logits - want)))
        if not diff <= bound:
            wrong.append(f"{what}: max|diff| {diff:.3g} > {bound:.3g} (max|ref| {scale:.3g})")
    return wrong


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    # VGG-16 and AlexNet hold ~0.5 GB each per model; let them go before the next model.
    yield
    keras.backend.clear_session()


@pytest.mark.parametrize("name", NAMES)
def test_spec_computes_the_course_model(name, released):
    spec = os.path.join(ROOT, "specs", f"{name}.yaml")
    graph = archspec.analyze(spec)
    keras.utils.set_random_seed(0)  # the reference's initial kernels: the same every run
    reference = COURSE_MODELS[name]()
    randomize(reference, seed=0)
    ours_keras = archspec.compile(spec, backend="keras")
    assert ours_keras.count_params() == reference.count_params()
    counts = _count(reference.trainable_weights), _count(reference.non_trainable_weights)
    exchange = exchange_from(reference, ours_keras)
    shape = (2,) + tuple(reference.input_shape[1:])
    x = np.random.default_rng(7).standard_normal(shape, dtype=np.float32)
    want = keras_logits(reference, x)
    assert_input_matters(want)
    # One model at a time besides the weights (VGG-16's are 550 MB a copy).
    del reference
    gc.collect()  # a Keras model is a cycle of references: del alone frees nothing
    archspec.set_weights(ours_keras, graph, exchange)
    got_keras = keras_logits(ours_keras, x)
    del ours_keras
    gc.collect()
    ours_torch = archspec.compile(spec, backend="torch")
    assert_torch_size(ours_torch, *counts)
    archspec.set_weights(ours_torch, graph, exchange)
    wrong = mismatches(want, keras=got_keras, torch=torch_logits(ours_torch, graph, x))
    assert not wrong, f"{name} computes something else than the course's model: {wrong}"
