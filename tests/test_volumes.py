"""3-D layers (Conv3D, 3-D pooling) in a small network: torch and Keras compute what the spec
means, written out here with torch.nn.functional from the same Keras-layout weights, and
weights move between the two."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from keras_helpers import to_numpy  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import archspec  # noqa: E402
from archspec.weights import keras_weights, set_keras_weights  # noqa: E402

SHAPE = (6, 9, 8, 2)  # canonical (depth, height, width, channels)


def _spec(layout: str, head: str) -> dict:
    shape = list(SHAPE) if layout == "channels_last" else [SHAPE[-1], *SHAPE[:-1]]
    return {"archspec": 1, "name": "tiny3d", "input": {"shape": shape, "layout": layout},
            "layers": [
                {"Conv3D": {"name": "c1", "filters": 4, "kernel_size": 3, "strides": 2,
                            "padding": "same", "activation": "relu"}},
                {"AveragePooling3D": {"name": "p1", "pool_size": [1, 2, 2], "padding": "same"}},
                {"Conv3D": {"name": "c2", "filters": 6, "kernel_size": 2, "groups": 2,
                            "padding": 1}},
                {"MaxPooling3D": {"name": "p2", "pool_size": 3, "strides": 2,
                                  "rounding": "ceil"}},
                {"BatchNormalization": {"name": "bn"}},
                head,
                {"Dense": {"name": "d", "units": 3}}]}


def _kernel(k: np.ndarray) -> torch.Tensor:
    """Keras (kd, kh, kw, in, out) → torch (out, in, kd, kh, kw)."""
    return torch.from_numpy(k.transpose(4, 3, 0, 1, 2))


def _reference(x: np.ndarray, w: dict, head: str) -> np.ndarray:
    """The spec's meaning, step by step, on a channels-last batch ``x``."""
    t = lambda a: torch.from_numpy(a)  # noqa: E731
    y = torch.from_numpy(x).permute(0, 4, 1, 2, 3)
    # "same" with stride 2 pads as TensorFlow: total max((ceil(n/2) - 1) * 2 + 3 - n, 0) per
    # dim, the odd cell after: D 6 -> (0, 1), H 9 -> (1, 1), W 8 -> (0, 1).
    y = F.conv3d(F.pad(y, (0, 1, 1, 1, 0, 1)), _kernel(w["c1"]["kernel"]), t(w["c1"]["bias"]),
                 stride=2).relu()
    # Keras' "same" average: H 5 -> 3 windows, the last over one real row and one padded
    # one, which does not count; torch's ceil_mode without padding averages the same cells.
    y = F.avg_pool3d(y, (1, 2, 2), ceil_mode=True)
    y = F.conv3d(y, _kernel(w["c2"]["kernel"]), t(w["c2"]["bias"]), padding=1, groups=2)
    y = F.max_pool3d(y, 3, stride=2, ceil_mode=True)
    bn = {k: t(v).view(1, -1, 1, 1, 1) for k, v in w["bn"].items()}
    y = (y - bn["moving_mean"]) / torch.sqrt(bn["moving_variance"] + 1e-3) * bn["gamma"] \
        + bn["beta"]
    if head == "GlobalAveragePooling3D":
        y = y.mean((2, 3, 4))
    else:  # exchanged Dense rows follow Keras' flatten order, D, H, W, C, in either layout
        y = y.permute(0, 2, 3, 4, 1).reshape(len(x), -1)
    return (y @ t(w["d"]["kernel"]) + t(w["d"]["bias"])).numpy()


def _random_weights(model, graph) -> dict:
    rng = np.random.default_rng(11)
    weights = keras_weights(model, graph)
    for arrays in weights.values():
        for key, array in arrays.items():
            low = 0.5 if key in ("gamma", "moving_variance") else -1.0
            arrays[key] = rng.uniform(low, 1.5, array.shape).astype(np.float32)
    return weights


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("head", ["GlobalAveragePooling3D", "Flatten"])
def test_small_3d_network_means_the_spec_in_both_frameworks(layout, head):
    graph = archspec.analyze(_spec(layout, head))
    assert graph["p2"].meta["shape"] == (2, 2, 1, 6)
    source = archspec.compile(_spec(layout, head), backend="keras")
    target = archspec.compile(_spec(layout, head), backend="torch")
    weights = _random_weights(source, graph)
    set_keras_weights(source, graph, weights)
    archspec.transfer_weights(source, target, graph)
    x = np.random.default_rng(2).standard_normal((3,) + SHAPE).astype(np.float32)
    expected = _reference(x, weights, head)
    with torch.no_grad():
        ours = target.eval()(torch.from_numpy(x).permute(0, 4, 1, 2, 3)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(source(x)), expected, rtol=1e-5, atol=1e-5)
    back = archspec.get_weights(target, graph)
    assert all(np.array_equal(back[n][k], weights[n][k]) for n in weights for k in weights[n])


def test_3d_network_verifies_layer_by_layer():
    from archspec.verification import verify
    report = verify(archspec.analyze(_spec("channels_first", {"GlobalMaxPooling3D": {
        "name": "g", "keepdims": True}}) | {"name": "tiny3d_max"}))
    failed = [(c.name, c.problems) for c in report.layers if not c.passed]
    assert not failed and report.backends == ["torch", "keras"]


def test_conv3d_torch_init_uses_keras_fans():
    spec = {"archspec": 1, "name": "init3d", "input": {"shape": [4, 4, 4, 8]},
            "layers": [{"Conv3D": {"name": "c", "filters": 16, "kernel_size": 3}}]}
    conv = archspec.compile(spec, backend="torch").c
    limit = (6 / (27 * 8 + 27 * 16)) ** 0.5  # glorot_uniform: fans taps * in, taps * out
    assert conv.weight.abs().max() <= limit
    assert conv.weight.abs().max() > 0.95 * limit
    assert not conv.bias.any()
