"""``archspec diff``: pairing by name and by structure, per-layer and total deltas against
values computed by hand, the ResNet family's depths, the zoo against itself, and the JSON,
table and Markdown outputs."""

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_helpers import markdown_tables
from markdown_it import MarkdownIt

import archspec
from archspec.cli import main
from archspec.diff import diff_graphs

SPECS = Path(__file__).resolve().parent.parent / "specs"
ZOO = sorted(SPECS.glob("*.yaml"))


def spec(layers: list) -> dict:
    return {"name": "small", "input": {"shape": [28, 28, 1]}, "layers": layers}


def conv(filters: int, kernel: int, name: str | None = None) -> dict:
    body = {"filters": filters, "kernel_size": kernel}
    return {"Conv2D": {**body, "name": name} if name else body}


def named(with_names: bool, name: str) -> str | None:
    return name if with_names else None


def before(names: bool) -> dict:
    return spec([conv(8, 3, named(names, "c1")),
                 {"MaxPooling2D": {"pool_size": 2, **({"name": "p1"} if names else {})}},
                 conv(16, 3, named(names, "c2")),
                 {"Flatten": {"name": "f"}} if names else "Flatten",
                 {"Dense": {"units": 10, **({"name": "d"} if names else {})}}])


def after(names: bool) -> dict:
    """``before`` with p1 removed, c2's filters 16 → 12, and a 1x1 conv of 4 filters added."""
    return spec([conv(8, 3, named(names, "c1")),
                 conv(12, 3, named(names, "c2")),
                 conv(4, 1, named(names, "x")),
                 {"Flatten": {"name": "f"}} if names else "Flatten",
                 {"Dense": {"units": 10, **({"name": "d"} if names else {})}}])


def diff(a, b, **params):
    return diff_graphs(archspec.analyze(a), archspec.analyze(b, params or None))


@pytest.mark.parametrize("names", [True, False], ids=["named", "automatic-names"])
def test_added_removed_changed_with_deltas_by_hand(names):
    result = diff(before(names), after(names))
    kinds = [(c.change, c.a.name if c.a else None, c.b.name if c.b else None)
             for c in result.changes]
    c2, x = ("c2", "x") if names else ("conv2d_2", "conv2d_3")
    assert kinds == [("removed", "p1" if names else "max_pooling2d_1", None),
                     ("changed", c2, c2), ("added", None, x),
                     ("changed", "f" if names else "flatten_1", "f" if names else "flatten_1"),
                     ("changed", "d" if names else "dense_1", "d" if names else "dense_1")]
    removed, changed, added, flatten, dense = result.changes
    # c2: 3x3x8 kernels; before 16 filters on 13x13x8 (→ 11x11), after 12 on 26x26x8 (→ 24x24)
    assert changed.arguments == {"filters": (16, 12)}
    assert (changed.a.output_shape, changed.b.output_shape) == ([11, 11, 16], [24, 24, 12])
    assert changed.delta("total_params") == (72 * 12 + 12) - (72 * 16 + 16)  # -292
    assert changed.delta("macs") == 24 * 24 * 12 * 72 - 11 * 11 * 16 * 72  # +358,272
    assert (added.delta("total_params"), added.delta("macs")) == (12 * 4 + 4, 24 * 24 * 4 * 12)
    assert added.written == {"filters": 4, "kernel_size": [1, 1]}
    assert (removed.delta("total_params"), removed.delta("macs")) == (0, 0)
    assert flatten.arguments == {} and flatten.b.output_shape == [24 * 24 * 4]
    assert dense.arguments == {}  # only its input grew: 1936 → 2304 features
    assert dense.delta("trainable_params") == (2304 - 1936) * 10
    assert result.unchanged == 1  # c1
    params = (80 + 876 + 52 + 23050) - (80 + 1168 + 19370)
    macs = (48672 + 497664 + 27648 + 23040) - (48672 + 139392 + 19360)
    assert result.totals["total_params"] == (20618, 20618 + params) and params == 3440
    assert result.totals["macs"][1] - result.totals["macs"][0] == macs == 389_600
    assert sum(c.delta("total_params") for c in result.changes) == params
    assert sum(c.delta("macs") for c in result.changes) == macs


def residual(skip_from: str, add_name: str = "sum") -> dict:
    same = {"kernel_size": 3, "padding": "same"}
    return spec([{"Conv2D": {"filters": 8, **same, "name": n}} for n in ("a", "b", "c")]
                + [{"Add": {"inputs": [skip_from, "c"], "name": add_name}}])


def test_a_rewired_skip_and_a_renamed_layer_are_changes():
    (change,) = diff(residual("a"), residual("b")).changes
    assert (change.change, change.name) == ("changed", "sum")
    assert change.inputs_changed and change.arguments == {}
    assert (change.a.inputs, change.b.inputs) == (["a", "c"], ["b", "c"])
    (change,) = diff(residual("a"), residual("a", "total")).changes
    assert (change.change, change.a.name, change.b.name) == ("changed", "sum", "total")
    assert not change.inputs_changed


def test_an_inserted_layer_does_not_rewire_the_next():
    a = spec([conv(8, 3), {"MaxPooling2D": {"pool_size": 2}}, "Flatten"])
    b = spec([conv(8, 3), {"Dropout": {"rate": 0.5}}, {"MaxPooling2D": {"pool_size": 2}},
              "Flatten"])
    result = diff(a, b)
    assert [(c.change, c.name) for c in result.changes] == [("added", "dropout_1")]
    assert result.unchanged == 3


def test_resnet_50_to_101_adds_17_blocks_to_stage_3():
    result = diff(SPECS / "resnet.yaml", SPECS / "resnet.yaml", depth=101)
    a, b = archspec.check(SPECS / "resnet50.yaml"), archspec.check(SPECS / "resnet101.yaml")
    assert result.count("removed") == result.count("changed") == 0
    assert result.count("added") == 17 * 10  # 3 convs, 3 norms, 2 ReLUs, the Add, "out"
    assert {c.name.split("_")[0] for c in result.changes} == {"layer3"}
    assert {int(c.name.split("_")[1]) for c in result.changes} == set(range(6, 23))
    assert result.unchanged == a.totals["layers"]
    for key, (old, new) in result.totals.items():
        assert (old, new) == (a.totals[key], b.totals[key])
    # Independently: a stage-3 bottleneck (width 256, 1024 out) at 14x14, 17 times.
    weights = 1024 * 256 + 9 * 256 * 256 + 256 * 1024
    assert result.totals["trainable_params"][1] - result.totals["trainable_params"][0] == \
        17 * (weights + 2 * (256 + 256 + 1024))
    assert result.totals["non_trainable_params"][1] - result.totals["non_trainable_params"][0] \
        == 17 * 2 * (256 + 256 + 1024)
    assert result.totals["macs"][1] - result.totals["macs"][0] == 17 * 14 * 14 * weights
    assert b.totals["trainable_params"] - a.totals["trainable_params"] == \
        44_549_160 - 25_557_032  # torchvision's counts, as the spec file states them


def test_vgg16_to_vgg19_adds_a_convolution_to_stages_3_4_and_5():
    """torchvision numbers VGG's layers by position (features_16), so every later name moves:
    the pairing goes by structure, and finds the three inserted conv + ReLU pairs."""
    result = diff(SPECS / "vgg16.yaml", SPECS / "vgg19.yaml")
    added = [(c.name, c.type, c.b.output_shape) for c in result.changes if c.change == "added"]
    assert added == [(f"features_{n}", kind, shape)
                     for n, shape in ((16, [56, 56, 256]), (25, [28, 28, 512]),
                                      (28, [14, 14, 512]))
                     for n, kind in ((n, "Conv2D"), (n + 1, "ReLU"))]
    assert result.count("removed") == 0
    conv = [c for c in result.changes if c.change == "added" and c.type == "Conv2D"]
    assert [c.delta("total_params") for c in conv] == [9 * 256 * 256 + 256] + \
        [9 * 512 * 512 + 512] * 2
    assert [c.delta("macs") for c in conv] == [56 * 56 * 256 * 9 * 256, 28 * 28 * 512 * 9 * 512,
                                               14 * 14 * 512 * 9 * 512]
    trainable = result.totals["trainable_params"]
    assert trainable == (138_357_544, 143_667_240)  # torchvision's vgg16 and vgg19


@pytest.mark.parametrize("names", [True, False], ids=["named", "automatic-names"])
def test_the_linear_pairing_for_long_stretches_agrees_on_small_edits(monkeypatch, names):
    aligned = diff(before(names), after(names)).to_dict()
    monkeypatch.setattr("archspec.diff.ALIGN_LIMIT", 0)
    assert diff(before(names), after(names)).to_dict() == aligned


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_every_zoo_spec_against_itself_has_no_changes(path):
    result = diff_graphs(archspec.analyze(path), archspec.analyze(path))
    assert result.identical and result.changes == []
    assert result.unchanged == len(archspec.analyze(path).layers)


def test_json_keys_are_the_documented_ones():
    data = diff(before(True), after(True)).to_dict()
    assert set(data) == {"format", "a", "b", "identical", "counts", "totals", "changes"}
    assert data["format"] == 1 and data["identical"] is False
    assert set(data["a"]) == set(data["b"]) == {"name", "source", "input_shape", "output_shape",
                                                "layout"}
    assert data["a"]["input_shape"] == [28, 28, 1] and data["b"]["output_shape"] == [10]
    assert data["counts"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 1}
    assert set(data["totals"]) == {"layers", "trainable_params", "non_trainable_params",
                                   "total_params", "macs", "flops", "activation_bytes",
                                   "peak_activation_bytes"}
    assert data["totals"]["total_params"] == {"a": 20618, "b": 24058, "delta": 3440}
    for change in data["changes"]:
        assert set(change) == {"change", "name", "a", "b", "arguments", "written",
                               "inputs_changed", "delta"}
        assert set(change["delta"]) == {"trainable_params", "non_trainable_params",
                                        "total_params", "macs"}
        for side in ("a", "b"):
            assert change[side] is None or set(change[side]) >= {
                "name", "type", "inputs", "output_shape", "trainable_params",
                "non_trainable_params", "macs"}
    assert data["changes"][1]["arguments"] == {"filters": {"a": 16, "b": 12}}
    json.dumps(data)


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_one_spec_two_variants_json():
    result = cli("diff", str(SPECS / "resnet.yaml"), "--set", "depth=50", "--vs", "depth=101",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["added"] == 170 and data["a"]["source"].endswith("--set depth=50")
    assert data["b"]["source"].endswith("--set depth=101")
    assert data["totals"]["trainable_params"]["delta"] == 44_549_160 - 25_557_032


def test_cli_exit_code_option_and_usage_errors():
    same = cli("diff", str(SPECS / "mnist_cnn.yaml"), str(SPECS / "mnist_cnn.yaml"),
               "--exit-code")
    assert same.exit_code == 0 and "no changes: 7 layers" in same.output
    differ = [str(SPECS / "resnet.yaml"), "--vs", "classes=10"]
    assert cli("diff", *differ).exit_code == 0
    assert cli("diff", *differ, "--exit-code").exit_code == 1
    assert cli("diff", str(SPECS / "resnet.yaml")).exit_code == 2  # one spec, no --vs
    assert cli("diff", "a.yaml", "b.yaml", "c.yaml").exit_code == 2


def test_cli_invalid_side_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: {shape: [8]}\nlayers:\n  - Dens: {units: 3}\n")
    result = cli("diff", str(SPECS / "mnist_ann.yaml"), str(bad))
    assert result.exit_code == 1 and "unknown layer type 'Dens'" in result.output
    assert cli("diff", str(SPECS / "resnet.yaml"), "--vs", "nope=1").exit_code == 1


def test_cli_table_lists_changes_and_totals():
    result = cli("diff", str(SPECS / "resnet.yaml"), "--vs", "classes=10")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "0 added, 0 removed, 1 changed, 173 unchanged (not listed)" in lines
    (row,) = [line for line in lines if line.startswith("~")]
    assert row.split()[:3] == ["~", "fc", "Dense"] and "units: 1000 -> 10" in row
    assert row.split()[-3:] == ["-2,028,510", "-2.03", "M"]  # 2048 * 990 + 990
    assert any(line.split() == ["Total", "params", "25,610,152", "23,581,642", "-2,028,510"]
               for line in lines)


def test_rich_table_escapes_brackets_in_values():
    from rich.console import Console

    from archspec.reports.diff_table import render_diff
    a = spec([{"ZeroPadding2D": {"padding": [[1, 2], [3, 4]]}}, "Flatten"])
    b = spec([{"ZeroPadding2D": {"padding": [[2, 2], [3, 4]]}}, "Flatten"])
    out = io.StringIO()
    render_diff(diff(a, b), Console(file=out, force_terminal=True, width=200))
    assert "[[1, 2], [3, 4]] -> [[2, 2], [3, 4]]" in out.getvalue()


def test_markdown_is_a_summary_a_totals_table_and_a_changes_table():
    result = cli("diff", str(SPECS / "mnist_cnn.yaml"), str(SPECS / "lenet5.yaml"),
                 "--format", "markdown")
    assert result.exit_code == 0
    data = json.loads(cli("diff", str(SPECS / "mnist_cnn.yaml"), str(SPECS / "lenet5.yaml"),
                          "--json").output)
    totals, changes = markdown_tables(result.output)
    assert totals[0] == ["", "A", "B", "Δ"] and len(totals) == 7
    assert totals[4][1:] == [f"{data['totals']['total_params'][k]:,}" for k in ("a", "b")] + \
        [f"{data['totals']['total_params']['delta']:+,}"]
    assert len(changes) == 1 + len(data["changes"])
    assert all(len(row) == 7 for row in changes)
    assert "added" in result.output.splitlines()[2]
    assert "Input (28, 28, 1) (channels_last) → (32, 32, 1) (channels_last)." in result.output


def test_markdown_escapes_pipes_and_html_in_values(tmp_path):
    a = spec([{"Dense": {"units": 4, "name": "d"}}])
    b = spec([{"Dense": {"units": 4, "name": "d",
                         "kernel_initializer": "he_normal"}}])
    from archspec.reports.markdown import diff_markdown
    result = diff(a, b)
    result.a.source = "a|<script>alert(1)</script>"
    text = diff_markdown(result)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script>" not in html and "&lt;script&gt;" in html
    (_, changes) = markdown_tables(text)
    assert len(changes) == 2 and len(changes[1]) == 7
