"""Every registered layer type has every piece it needs, checked without any framework: a case
row, an emitter per backend, a kind, weight slots that add up to its parameters, a hypothesis
strategy and a public export. Adding a type and forgetting one fails here, with the file to
edit, instead of deep in a framework test (or, for weight slots, not at all)."""

import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
import yaml
from spec_strategies import STRATEGIES

import archspec
from archspec import onnx_export
from archspec.backends import keras_codegen, torch_codegen
from archspec.backends.common import emitter_registry
from archspec.ops.base import (
    KINDS,
    REGISTRY,
    Inferred,
    Layer,
    layer_types,
)
from archspec.ops.plugins import plugin_types
from archspec.plugins import problems as plugin_problems
from archspec.plugins import slot_problems

CASES_FILE = Path(__file__).parent / "layer_cases.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text())


def _type_and_args(entry):
    if isinstance(entry, str):
        return entry, {}
    (name, args), = entry.items()
    return name, args or {}


def _rows(name, cases):
    for case in cases:
        type_name, args = _type_and_args(case["layer"])
        if type_name == name:
            yield args, [tuple(s) for s in case.get("inputs", [case.get("input")])]


def _slot_problems(name, cls, cases):
    """Each case row's parameters against the slots the layer declares for those arguments
    (archspec.plugins runs the same check on a plugin's types)."""
    return slot_problems(name, cls, list(_rows(name, cases)))


def completeness_problems(name, cls, cases=CASES):
    """What ``name`` lacks, one message per missing piece, naming the file to edit. A plugin's
    type (an installed package's) is checked by archspec.plugins.problems: its case rows come
    from the plugin, ONNX is optional, and it needs no strategy or archspec export."""
    if name in plugin_types():
        return plugin_problems(name)
    source = cls.__module__.replace(".", "/") + ".py"
    problems = []
    if not any(True for _ in _rows(name, cases)):
        problems.append(f"{name}: no case row in tests/layer_cases.yaml (add "
                        f"`- {{layer: {name}, input: [...], shape: [...]}}`)")
    for module, path in ((torch_codegen, "archspec/backends/torch_codegen.py"),
                         (keras_codegen, "archspec/backends/keras_codegen.py"),
                         (onnx_export, "archspec/onnx_export/emit_*.py")):
        if name not in module.EMITTERS:
            problems.append(f"{name}: no emitter in {path} (add a function decorated "
                            f"@emits({name!r}))")
    if cls.kind not in KINDS:
        problems.append(f"{name}: kind {cls.kind!r} is not one of {sorted(KINDS)}: set `kind` "
                        f"on its class in {source}")
    problems += _slot_problems(name, cls, cases)
    if name not in STRATEGIES:
        problems.append(f"{name}: no hypothesis strategy in tests/spec_strategies.py (decorate "
                        f"the function that draws it with @draws({name!r}))")
    if getattr(archspec, name, None) is not cls:
        problems.append(f"{name}: not exported as archspec.{name} (add it to _EXPORTS in "
                        f"archspec/__init__.py)")
    return problems


@pytest.mark.parametrize("name", sorted(layer_types()))
def test_layer_type_is_complete(name):
    problems = completeness_problems(name, layer_types()[name])
    assert not problems, "\n".join(problems)


def test_checker_reports_each_missing_piece():
    class FakeScale(Layer):
        """A learned scale per channel, registered here only."""
        type: Literal["FakeScale"] = "FakeScale"

        def infer(self, inputs, channels_first=False):
            return Inferred(inputs[0], trainable=inputs[0][-1])

    try:
        assert layer_types()["FakeScale"] is FakeScale
        problems = completeness_problems("FakeScale", FakeScale)
        with_row = completeness_problems(
            "FakeScale", FakeScale, CASES + [{"layer": "FakeScale", "input": [3, 4]}])
    finally:
        REGISTRY.pop("FakeScale", None)
    report = "\n".join(problems)
    for piece in ("tests/layer_cases.yaml", "archspec/backends/torch_codegen.py",
                  "archspec/backends/keras_codegen.py", "archspec/onnx_export/emit_*.py",
                  "set `kind`",
                  "tests/spec_strategies.py", "archspec/__init__.py"):
        assert piece in report, (piece, report)
    assert all(p.startswith("FakeScale: ") for p in problems)
    assert any("declares no weight slots" in p for p in with_row), with_row
    assert "FakeScale" not in layer_types()


def test_checker_reports_slots_that_do_not_add_up(monkeypatch):
    dense = layer_types()["Dense"]
    monkeypatch.setattr(dense, "weight_shapes",
                        lambda self, inputs, channels_first=False: {"kernel": (1, 1),
                                                                    "bias": (1,)})
    problems = completeness_problems("Dense", dense)
    assert any("trainable weight slots hold" in p for p in problems), problems


def test_emitter_registries_refuse_a_type_twice():
    table, emits = emitter_registry()
    emits("Conv2D")(lambda ctx: None)
    assert list(table) == ["Conv2D"]
    with pytest.raises(ValueError, match="Conv2D"):
        emits("Dense", "Conv2D")(lambda ctx: None)


def test_the_checked_modules_import_no_framework():
    code = ("import sys; sys.path.insert(0, 'tests'); import spec_strategies, archspec; "
            "import archspec.backends.torch_codegen, archspec.backends.keras_codegen, "
            "archspec.weights, archspec.reference, archspec.verification, archspec.onnx_export; "
            "print(sorted({'torch', 'keras', 'tensorflow', 'jax', 'onnx'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
