"""The transformer and sequence layers against oracles written here in numpy (Keras' formulas):
attention with the projections, heads and scaling Keras uses, layer normalization over any
axes in either layout, class token, position embedding, taking a position, embedding lookup.
Each runs in both backends with the same weights, moved through archspec's exchange; then a
small ViT from specs/vit.yaml and a channels-first transformer verify layer by layer."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from keras_helpers import to_numpy  # noqa: E402
from spec_helpers import one_layer_spec  # noqa: E402

import archspec  # noqa: E402
from archspec.verification import ATOL, RTOL, verify  # noqa: E402
from archspec.weights import keras_weights, set_weights  # noqa: E402

TINY_VIT = {"image": 32, "patch": 8, "hidden": 16, "depth": 2, "heads": 2, "mlp": 32,
            "classes": 5}


def random_weights(graph, model, seed=0):
    """Distinct random values in every weight of a compiled Keras model (exchange dict)."""
    rng = np.random.default_rng(seed)
    weights = keras_weights(model, graph)
    for arrays in weights.values():
        for key, array in arrays.items():
            arrays[key] = rng.uniform(-0.5, 0.5, array.shape).astype(np.float32)
    return weights


def both(spec, seed=0):
    """The spec's Keras and torch models, given the same random weights."""
    graph = archspec.analyze(spec)
    keras_model, torch_model = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    weights = random_weights(graph, keras_model, seed)
    set_weights(keras_model, graph, weights)
    set_weights(torch_model, graph, weights)
    return graph, keras_model, torch_model.eval(), weights


def torch_run(model, x: np.ndarray) -> np.ndarray:
    """Channels-last numpy in and out, whatever torch's layout in between."""
    t = torch.from_numpy(x)
    t = t.movedim(-1, 1) if t.dim() > 2 else t
    with torch.no_grad():
        out = model(t)
    return (out.movedim(1, -1) if out.dim() > 2 else out).numpy()


def assert_both(keras_model, torch_model, x, expected, atol=1e-5):
    np.testing.assert_allclose(to_numpy(keras_model(x, training=False)), expected, atol=atol)
    np.testing.assert_allclose(torch_run(torch_model, x), expected, atol=atol)


# --- attention -------------------------------------------------------------------------------

def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(query, value, key, w, key_dim, bias=True):
    """Keras' MultiHeadAttention: per-head projections (in, heads, size), scores scaled by
    1/sqrt(key_dim), softmax over the keys, the heads' values projected back."""
    def project(x, name):
        out = np.einsum("nld,dhk->nlhk", x, w[f"{name}/kernel"])
        return out + w[f"{name}/bias"] if bias else out
    q, k, v = project(query, "query"), project(key, "key"), project(value, "value")
    scores = softmax(np.einsum("nqhk,nvhk->nhqv", q, k) / np.sqrt(key_dim))
    heads = np.einsum("nhqv,nvhd->nqhd", scores, v)
    out = np.einsum("nqhd,hdo->nqo", heads, w["attention_output/kernel"])
    return out + w["attention_output/bias"] if bias else out


def test_self_attention_is_torchs_own_layer_and_keras_formula():
    spec = one_layer_spec({"MultiHeadAttention": {"num_heads": 2, "key_dim": 4,
                                                  "name": "att"}}, [5, 8])
    graph, keras_model, torch_model, weights = both(spec)
    assert type(torch_model.att).__mro__[1] is torch.nn.MultiheadAttention
    assert {k for k, _ in torch_model.att.named_parameters()} == {
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}
    w = weights["att"]
    # packing: torch's in_proj_weight rows are query, key, value, each (heads x key_dim, d)
    packed = torch_model.att.in_proj_weight.detach().numpy()
    np.testing.assert_array_equal(packed[8:16], w["key/kernel"].reshape(8, 8).T)
    x = np.random.default_rng(1).standard_normal((3, 5, 8)).astype(np.float32)
    assert_both(keras_model, torch_model, x, attention(x, x, x, w, 4))


def test_cross_attention_with_its_own_sizes_and_no_bias():
    """query, value and key of different features (Keras' order: [query, value, key]),
    value_dim and output_shape of their own: not nn.MultiheadAttention's shape."""
    spec = archspec.loads("""
name: cross
input: {shape: [6, 4]}
layers:
  - Dense: {units: 8, name: q}
  - Dense: {units: 9, name: v, inputs: input}
  - Dense: {units: 10, name: k, inputs: input}
  - MultiHeadAttention: {num_heads: 3, key_dim: 2, value_dim: 5, output_shape: 7,
                         use_bias: false, name: att, inputs: [q, v, k]}
""")
    graph, keras_model, torch_model, weights = both(spec, seed=2)
    assert graph["att"].meta["trainable"] == (8 + 10) * 3 * 2 + 9 * 3 * 5 + 3 * 5 * 7
    assert type(torch_model.att).__name__ == "KerasAttention"
    x = np.random.default_rng(3).standard_normal((2, 6, 4)).astype(np.float32)
    w = weights

    def dense(name):
        return x @ w[name]["kernel"] + w[name]["bias"]
    expected = attention(dense("q"), dense("v"), dense("k"), w["att"], 2, bias=False)
    assert expected.shape == (2, 6, 7)
    assert_both(keras_model, torch_model, x, expected)


# --- layer normalization ---------------------------------------------------------------------

def layer_norm(x, axes, gamma, beta, epsilon):
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


# (spec layout, the spec's axis, the axes normalized in the Keras model (channels-last, the
# batch is 0), the torch module)
LAYER_NORMS = [
    ("channels_last", -1, (3,), "AxisLayerNorm"),  # a map's channels: ConvNeXt's LayerNorm2d
    ("channels_first", 1, (3,), "AxisLayerNorm"),  # the same channels, counted first
    ("channels_first", -1, (2,), "LayerNorm"),  # -1 is the spec's last axis: the width
    ("channels_last", [1, 2], (1, 2), "LayerNorm"),  # height and width: torch's trailing dims
]


@pytest.mark.parametrize("layout, axis, axes, module", LAYER_NORMS)
def test_layer_normalization_normalizes_the_axes_of_the_specs_layout(layout, axis, axes,
                                                                      module):
    shape = (4, 5, 6)  # canonical
    spec_shape = shape if layout == "channels_last" else (6, 4, 5)
    spec = one_layer_spec({"LayerNormalization": {"axis": axis, "name": "ln"}}, spec_shape,
                          layout)
    graph, keras_model, torch_model, weights = both(spec)
    assert type(torch_model.ln).__name__ == module
    gamma, beta = weights["ln"]["gamma"], weights["ln"]["beta"]
    assert gamma.shape == tuple(shape[a - 1] for a in axes)
    broadcast = tuple(shape[i - 1] if i in axes else 1 for i in range(1, 4))
    x = np.random.default_rng(4).standard_normal((2,) + shape).astype(np.float32)
    expected = layer_norm(x, axes, gamma.reshape(broadcast), beta.reshape(broadcast), 1e-3)
    assert_both(keras_model, torch_model, x, expected)


def test_layer_normalization_without_scale_or_shift():
    for args, names in (({"center": False}, {"weight"}), ({"scale": False}, {"bias"})):
        spec = one_layer_spec({"LayerNormalization": dict(args, name="ln")}, [7, 6])
        graph, keras_model, torch_model, weights = both(spec)
        assert {k for k, _ in torch_model.ln.named_parameters()} == names
        w = weights["ln"]
        x = np.random.default_rng(5).standard_normal((2, 7, 6)).astype(np.float32)
        expected = layer_norm(x, -1, w.get("gamma", 1.0), w.get("beta", 0.0), 1e-3)
        assert_both(keras_model, torch_model, x, expected)


# --- sequences -------------------------------------------------------------------------------

def test_class_token_position_embedding_and_take():
    spec = archspec.loads("""
name: tokens
input: {shape: [4, 3]}
layers:
  - ClassToken: {name: cls}
  - PositionEmbedding: {name: pos}
  - Take: {index: 0, name: first}
""")
    graph, keras_model, torch_model, weights = both(spec)
    assert {k for k, _ in torch_model.named_parameters()} == {"cls", "pos"}  # bare, as ViT's
    assert tuple(torch_model.cls.shape) == (1, 1, 3) and tuple(torch_model.pos.shape) == (1, 5, 3)
    token, table = weights["cls"]["token"], weights["pos"]["embeddings"]
    x = np.random.default_rng(6).standard_normal((2, 4, 3)).astype(np.float32)
    sequence = np.concatenate([np.broadcast_to(token, (2, 1, 3)), x], axis=1) + table
    assert_both(keras_model, torch_model, x, sequence[:, 0])
    report = verify(graph)
    assert report.passed, [(c.name, c.problems) for c in report.layers]


@pytest.mark.parametrize("index, axis, expected", [
    (-1, 2, lambda x: x[:, :, -1]), (1, 3, lambda x: x[..., 1]), (2, 1, lambda x: x[:, 2])])
def test_take_along_any_axis(index, axis, expected):
    spec = one_layer_spec({"Take": {"index": index, "axis": axis}}, [4, 5, 3])
    keras_model, torch_model = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    x = np.random.default_rng(7).standard_normal((2, 4, 5, 3)).astype(np.float32)
    assert_both(keras_model, torch_model, x, expected(x), atol=0)


def test_embedding_looks_up_its_rows():
    spec = one_layer_spec({"Embedding": {"input_dim": 6, "output_dim": 3, "name": "emb"}}, [5])
    graph, keras_model, torch_model, weights = both(spec)
    indices = np.array([[0, 5, 2, 2, 1], [3, 4, 0, 1, 5]], dtype=np.float32)
    assert_both(keras_model, torch_model, indices,
                weights["emb"]["embeddings"][indices.astype(int)], atol=0)
    report = verify(graph)  # draws indices below input_dim, not floats
    assert report.passed, [(c.name, c.problems) for c in report.layers]


# --- whole networks --------------------------------------------------------------------------

def assert_verified(graph):
    report = verify(graph)
    failed = [(c.name, c.type, c.problems) for c in report.layers if not c.passed]
    assert not failed, failed
    for check in report.layers:
        assert check.max_diff <= ATOL + RTOL * max(1.0, check.scale)
    return report


def test_a_small_vit_moves_from_keras_to_torch_with_the_same_outputs(spec_dir):
    spec = spec_dir / "vit.yaml"
    graph = archspec.analyze(spec, TINY_VIT)
    assert len([n for n in graph.live() if n.type == "MultiHeadAttention"]) == 2
    assert_verified(graph)  # every layer, after Keras' random weights move into torch
    keras_model = archspec.compile(spec, backend="keras", params=TINY_VIT)
    torch_model = archspec.compile(spec, params=TINY_VIT).eval()
    weights = random_weights(graph, keras_model, seed=8)
    set_weights(keras_model, graph, weights)
    archspec.transfer_weights(keras_model, torch_model, graph)
    assert set(torch_model.state_dict()) >= {
        "class_token", "encoder.pos_embedding", "heads.head.weight",
        "encoder.layers.encoder_layer_1.self_attention.in_proj_weight",
        "encoder.layers.encoder_layer_1.mlp.3.bias", "encoder.ln.weight"}
    x = np.random.default_rng(9).standard_normal((2, 32, 32, 3)).astype(np.float32)
    expected = to_numpy(keras_model(x, training=False))
    np.testing.assert_allclose(torch_run(torch_model, x), expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())
    back = archspec.get_weights(torch_model, graph)  # torch → exchange: bit for bit
    for name, arrays in weights.items():
        for key, array in arrays.items():
            assert np.array_equal(back[name][key], array), (name, key)


def test_a_channels_first_transformer_verifies():
    """Sequences written (features, length): the channels are axis 1, so LayerNormalization
    and Take name their axes so; axis -1 would normalize over the positions."""
    spec = archspec.loads("""
name: cf_transformer
input: {shape: [3, 12, 12], layout: channels_first}
layers:
  - Conv2D: {filters: 8, kernel_size: 4, strides: 4}
  - Reshape: [8, 9]
  - ClassToken
  - PositionEmbedding
  - LayerNormalization: {axis: 1, name: over_features}
  - MultiHeadAttention: {num_heads: 2, key_dim: 4}
  - LayerNormalization: {name: over_positions}
  - MultiHeadAttention: {num_heads: 2, key_dim: 3, value_dim: 2}
  - Take: {index: 0, axis: 2}
  - Dense: 4
""")
    graph = archspec.analyze(spec)
    assert graph["over_features"].meta["trainable"] == 2 * 8
    assert graph["over_positions"].meta["trainable"] == 2 * 10
    assert_verified(graph)
