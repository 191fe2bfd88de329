"""Shared by the Keras tests: compile a spec and compare the model with the analysis."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archspec  # noqa: E402


def compiled(spec):
    graph = archspec.analyze(spec)
    return graph, archspec.compile(spec, backend="keras")


def to_numpy(value):
    """A Keras output or variable as numpy on any Keras backend (``np.asarray`` fails on the
    torch backend's tensors that require grad)."""
    from archspec.weights import keras_to_numpy
    return keras_to_numpy(value)


def examples(default: int) -> int:
    """Hypothesis examples for a test: ``default``, or fewer where ARCHSPEC_KERAS_EXAMPLES says
    so (.ci/keras_backends.sh runs the extra Keras backends on a smaller sample)."""
    return min(default, int(os.environ.get("ARCHSPEC_KERAS_EXAMPLES", default)))


def weight_count(weights) -> int:
    total = 0
    for w in weights:
        size = 1
        for n in w.shape:
            size *= int(n)
        total += size
    return total


def assert_matches_analysis(graph, model) -> None:
    """Per-layer output shapes (the Keras layer of the spec's name), trainable and
    non-trainable weight counts equal the analysis."""
    wrong = []
    for node in graph.live():
        shape = tuple(model.get_layer(node.name).output.shape[1:])
        if shape != tuple(node.meta["shape"]):
            wrong.append((node.name, node.type, shape, node.meta["shape"]))
    assert not wrong, f"shapes differ (name, type, keras, analysis): {wrong}"
    live = graph.live()
    assert weight_count(model.trainable_weights) == sum(n.meta["trainable"] for n in live)
    assert weight_count(model.non_trainable_weights) == sum(n.meta["non_trainable"] for n in live)
