"""ONNX export straight from the IR, proved against code archspec did not write: the onnx
checker, ONNX's own shape inference against archspec's analysis, and onnxruntime's outputs
against the compiled torch model's with the same weights — over the zoo and random specs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from spec_strategies import specs  # noqa: E402

import archspec  # noqa: E402
from archspec.backends import build  # noqa: E402
from archspec.errors import SpecError, UnsupportedError  # noqa: E402
from archspec.onnx_export import to_onnx  # noqa: E402
from archspec.onnx_export.init import initial_weights  # noqa: E402
from archspec.onnx_export.verify import randomized_weights as random_weights  # noqa: E402
from archspec.verification import sample_input  # noqa: E402
from archspec.weights import set_weights  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# resnet.yaml at its defaults is resnet50.yaml, which is here
ZOO = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml") if p.stem != "resnet")
RTOL = 1e-5
# Every layer is still there at these sizes; only the spatial extent shrinks (ViT's position
# table fixes its input, AlexNet's and the course models' Flatten theirs).
SMALLER_INPUT = {name: [64, 64, 3] for name in (
    "convnext", "densenet", "efficientnet", "googlenet", "mobilenet_v2", "mobilenet_v3",
    "resnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152")}
SMALLER_INPUT.update({"vgg16": [32, 32, 3], "vgg19": [32, 32, 3]})
SMALLER_PARAMS = {"vit": {"image": 64, "depth": 2}}  # 16 patches, 2 encoder layers of 12: every type


def analyzed(name: str):
    """The zoo spec, returning logits where it ends in softmax (a saturated softmax would
    hide a difference)."""
    spec = archspec.load(ROOT / "specs" / f"{name}.yaml", SMALLER_PARAMS.get(name))
    if name in SMALLER_INPUT:
        spec = spec.model_copy(update={"input": spec.input.model_copy(
            update={"shape": SMALLER_INPUT[name]})})
    try:
        return archspec.analyze(spec, logits=True)
    except SpecError:
        return archspec.analyze(spec)


def inferred_shapes(model) -> dict[str, list]:
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    infos = list(inferred.graph.value_info) + list(inferred.graph.output)
    return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in infos}


def _as_held(shape: tuple, dims: list) -> bool:
    """ONNX's dims (after the batch) are the analysis' canonical shape, channels last or
    first (the exporter holds each value in the layout its consumers want)."""
    shape = list(shape)
    return dims == shape or (len(shape) > 1 and dims == [shape[-1]] + shape[:-1])


def assert_exports_faithfully(graph, weights: dict, batch: int = 2) -> None:
    model = to_onnx(graph, weights)
    onnx.checker.check_model(model, full_check=True)
    shapes = inferred_shapes(model)
    for node in graph.live():
        if node.layer is None:
            continue
        dims = shapes.get(node.name)
        # The batch stays symbolic ("N", or a fresh symbol after ops whose inference renames
        # it, such as Resize).
        assert dims is not None and isinstance(dims[0], str), (node.name, dims)
        assert _as_held(node.meta["shape"], dims[1:]), (node.name, node.meta["shape"], dims)

    x = sample_input(graph, batch, np.random.default_rng(3))  # canonical, channels last
    to_first = (lambda a: np.moveaxis(a, -1, 1) if a.ndim > 2 else a)
    spec_input = to_first(x) if graph.channels_first else x
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": spec_input})

    module = build(graph, "torch").eval()
    set_weights(module, graph, weights)
    with torch.no_grad():
        want = module(torch.from_numpy(np.ascontiguousarray(to_first(x)))).numpy()
    if not graph.channels_first and want.ndim > 2:  # torch answers channels first
        want = np.moveaxis(want, 1, -1)
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-6)
    assert float(np.abs(got - want).max()) <= RTOL * scale, (
        float(np.abs(got - want).max()), scale)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_exports_check_infer_and_run_like_torch(name, released):
    graph = analyzed(name)
    assert_exports_faithfully(graph, random_weights(graph), batch=1)


CASES = yaml.safe_load((ROOT / "tests" / "layer_cases.yaml").read_text())
SINGLE = [c for c in CASES if "inputs" not in c]  # the merges: in the random specs and the zoo


@pytest.mark.parametrize("case", SINGLE, ids=[str(c["layer"])[:70] for c in SINGLE])
def test_every_layer_case_exports_faithfully(case):
    """Every layer type alone, from the layer table (the random specs below draw some types
    rarely: 100 of them miss about a third)."""
    spec = yaml.safe_dump({"archspec": 1, "name": "case", "input": {"shape": case["input"]},
                           "layers": [case["layer"]]})
    graph = archspec.analyze(archspec.loads(spec))
    assert_exports_faithfully(graph, random_weights(graph, seed=9))


def test_the_layer_table_reaches_every_type_onnx_knows():
    from archspec.onnx_export import EMITTERS
    single = {next(iter(c["layer"])) if isinstance(c["layer"], dict) else c["layer"]
              for c in SINGLE}
    merges = {"Add", "Multiply", "Concatenate"}  # several inputs: random specs and the zoo
    assert set(EMITTERS) - merges <= single


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs())
def test_random_specs_export_faithfully(doc):
    graph = archspec.analyze(archspec.loads(yaml.safe_dump(doc)))
    assert_exports_faithfully(graph, random_weights(graph, seed=5))


def test_channels_last_spec_is_transposed_once_at_the_input():
    graph = archspec.analyze(ROOT / "specs" / "resnet18.yaml")
    model = to_onnx(graph)
    transposes = [n for n in model.graph.node if n.op_type == "Transpose"]
    assert [list(n.input) for n in transposes] == [["input"]]
    assert [d.dim_value or d.dim_param for d in
            model.graph.input[0].type.tensor_type.shape.dim] == ["N", 224, 224, 3]


@pytest.mark.parametrize("head, transposes", [
    ("GlobalAveragePooling2D", 0),
    # Keras' kernel rows (the weight exchange's order) follow channels-last Flatten
    ("Flatten", 1)])
def test_channels_first_spec_transposes_only_for_a_flatten(tmp_path, head, transposes):
    spec = tmp_path / "cf.yaml"
    spec.write_text("archspec: 1\nname: cf\ninput: {shape: [3, 12, 12], layout: channels_first}\n"
                    "layers:\n  - Conv2D: {filters: 8, kernel_size: 3, padding: same}\n"
                    f"  - BatchNormalization\n  - ReLU\n  - {head}\n  - Dense: {{units: 4}}\n")
    graph = archspec.analyze(spec)
    model = to_onnx(graph)
    assert len([n for n in model.graph.node if n.op_type == "Transpose"]) == transposes
    assert_exports_faithfully(graph, random_weights(graph))


def test_names_metadata_and_symbolic_batch():
    graph = archspec.analyze(ROOT / "specs" / "mnist_cnn.yaml")
    model = to_onnx(graph)
    produced = {o for n in model.graph.node for o in n.output}
    assert {n.name for n in graph.live() if n.layer is not None} <= produced
    props = {p.key: p.value for p in model.metadata_props}
    assert props["archspec.spec"] == "mnist_cnn"
    assert props["archspec.description"] == graph.description
    assert model.opset_import[0].version == 17
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "N"


def test_streamed_file_is_the_model_onnx_loads(tmp_path):
    """save_onnx writes protobuf's wire format itself (weights straight from numpy's memory):
    onnx.load must read back exactly the ModelProto to_onnx builds, scalars and int64
    constants included."""
    from archspec.onnx_export import save_onnx
    graph = archspec.analyze(ROOT / "specs" / "vit.yaml", {"image": 32, "patch": 16, "depth": 1,
                                                           "hidden": 64, "heads": 2, "mlp": 32})
    save_onnx(graph, str(tmp_path / "m.onnx"), seed=2)
    assert onnx.load(str(tmp_path / "m.onnx")) == to_onnx(graph, seed=2)
    assert not list(tmp_path.glob("*.partial"))


def test_past_protobufs_limit_the_weights_go_beside_the_model_again_and_again(tmp_path,
                                                                            monkeypatch):
    import archspec.onnx_export as exporter
    monkeypatch.setattr(exporter, "_INLINE_LIMIT", 0)  # what 1.8 GB of weights would do
    graph = archspec.analyze(ROOT / "specs" / "lenet5.yaml")
    path = str(tmp_path / "m.onnx")
    for seed in (1, 2):  # a second export replaces the first's weights, not appends to them
        assert exporter.save_onnx(graph, path, seed=seed) == "m.onnx.data"
    loaded = onnx.load(path)  # reads m.onnx.data
    arrays = {t.name: onnx.numpy_helper.to_array(t) for t in loaded.graph.initializer}
    expected = to_onnx(graph, seed=2).graph.initializer
    assert len(arrays) == len(expected)
    for tensor in expected:
        assert np.array_equal(arrays[tensor.name], onnx.numpy_helper.to_array(tensor))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.zeros((1,) + graph.input_shape, np.float32)})


def test_same_seed_same_weights_and_keras_fans():
    graph = archspec.analyze(ROOT / "specs" / "mnist_cnn.yaml")
    first, again = initial_weights(graph, 4), initial_weights(graph, 4)
    other = initial_weights(graph, 5)
    kernel = first["conv2d_2"]["kernel"]  # (3, 3, 32, 64), glorot_uniform
    assert np.array_equal(kernel, again["conv2d_2"]["kernel"])
    assert not np.array_equal(kernel, other["conv2d_2"]["kernel"])
    limit = np.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64))  # Keras' fans: taps x in, taps x out
    assert kernel.shape == (3, 3, 32, 64)
    assert limit * 0.95 < np.abs(kernel).max() <= limit
    assert not first["conv2d_2"]["bias"].any()


def test_a_layer_with_no_onnx_form_is_one_located_error(monkeypatch):
    from archspec import onnx_export
    monkeypatch.delitem(onnx_export.EMITTERS, "MaxPooling2D")
    graph = archspec.analyze(ROOT / "specs" / "mnist_cnn.yaml")
    with pytest.raises(UnsupportedError) as caught:
        to_onnx(graph)
    messages = [d.message for d in caught.value.diagnostics]
    assert len(messages) == 2 and all("MaxPooling2D" in m and "onnx" in m for m in messages)
    assert "max_pooling2d_1" in messages[0] and "max_pooling2d_2" in messages[1]
    # verify --onnx says so before it builds or runs anything
    result = _run_cli("verify", str(ROOT / "specs" / "mnist_cnn.yaml"), "--onnx")
    assert result.exit_code == 1 and "max_pooling2d_2" in result.output
    assert "internal error" not in result.output and "analysis vs" not in result.output
    assert all(d.location.line for d in caught.value.diagnostics)


def _run_cli(*args):
    from click.testing import CliRunner

    from archspec.cli import main
    return CliRunner().invoke(main, list(args))


def test_export_command_with_torch_weights_runs_like_the_torch_model(tmp_path):
    spec = ROOT / "specs" / "mnist_cnn.yaml"
    module = archspec.compile(spec, "torch", logits=True).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.2, 0.2)
    torch.save(module.state_dict(), tmp_path / "w.pt")
    result = _run_cli("export", str(spec), "--format", "onnx", "--logits",
                      "--weights", str(tmp_path / "w.pt"), "-o", str(tmp_path / "m.onnx"))
    assert result.exit_code == 0, result.output
    assert "opset 17" in result.output
    x = np.random.default_rng(0).standard_normal((3, 28, 28, 1)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    with torch.no_grad():
        want = module(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_convert_writes_an_onnx_model_with_the_weights(tmp_path):
    spec = ROOT / "specs" / "lenet5.yaml"
    module = archspec.compile(spec, "torch").eval()
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.3, 0.3)
    torch.save(module.state_dict(), tmp_path / "w.pt")
    result = _run_cli("convert", str(spec), "--from", "torch", str(tmp_path / "w.pt"),
                      "--to", "onnx", str(tmp_path / "m.onnx"))
    assert result.exit_code == 0, result.output
    graph = archspec.analyze(spec)
    x = np.random.default_rng(1).standard_normal((2,) + graph.input_shape).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    with torch.no_grad():
        want = module(torch.from_numpy(np.moveaxis(x, -1, 1).copy())).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    refused = _run_cli("convert", str(spec), "--from", "onnx", str(tmp_path / "m.onnx"),
                       "--to", "torch", str(tmp_path / "w2.pt"))
    assert refused.exit_code == 2 and "'onnx'" in refused.output


def test_export_imports_no_framework(tmp_path):
    code = ("import sys, archspec; from archspec.onnx_export import save_onnx; "
            f"save_onnx(archspec.analyze({str(ROOT / 'specs' / 'googlenet.yaml')!r}), "
            f"{str(tmp_path / 'g.onnx')!r}); "
            "print(sorted({'torch', 'keras', 'tensorflow', 'jax'} & set(sys.modules)))")
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    assert onnx.load(str(tmp_path / "g.onnx")).graph.name == "googlenet"


def test_export_command_errors_are_clear(tmp_path):
    spec = ROOT / "specs" / "mnist_cnn.yaml"
    wrong = _run_cli("export", str(spec), "--weights", str(tmp_path / "w.txt"),
                     "-o", str(tmp_path / "m.onnx"))
    assert wrong.exit_code == 2 and ".pt" in wrong.output
    missing = _run_cli("export", str(spec), "--weights", str(tmp_path / "none.pt"),
                       "-o", str(tmp_path / "m.onnx"))
    assert missing.exit_code == 1 and "cannot read weights" in missing.output
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("archspec: 1\nname: b\ninput: {shape: [4, 4, 1]}\n"
                        "layers:\n  - Conv2D: {filters: 2, kernel_size: 9}\n")
    invalid = _run_cli("export", str(bad_spec), "-o", str(tmp_path / "m.onnx"))
    assert invalid.exit_code == 1 and "bad.yaml:5" in invalid.output
    assert not (tmp_path / "m.onnx").exists()
    assert "Traceback" not in wrong.output + missing.output + invalid.output


def test_verify_onnx_compares_every_layer_and_names_the_first_that_parts(monkeypatch):
    result = _run_cli("verify", str(ROOT / "specs" / "lenet5.yaml"), "--onnx")
    assert result.exit_code == 0, result.output
    assert "onnx: all" in result.output and "layers agree with torch" in result.output

    from archspec.onnx_export import EMITTERS
    from archspec.onnx_export.verify import verify_onnx
    original = EMITTERS["MaxPooling2D"]

    def shifted(ctx):  # a pooling that is off by a little: every layer after it parts too
        y, layout = original(ctx)
        return ctx.op("Add", [y, ctx.const("oops", 1e-3)]), layout

    monkeypatch.setitem(EMITTERS, "MaxPooling2D", shifted)
    graph = archspec.analyze(ROOT / "specs" / "mnist_cnn.yaml")
    report = verify_onnx(graph)
    assert not report.passed and report.first_difference().name == "max_pooling2d_1"
    failed = _run_cli("verify", str(ROOT / "specs" / "mnist_cnn.yaml"), "--onnx")
    assert failed.exit_code == 1 and "parts from torch at layer 'max_pooling2d_1'" in failed.output
