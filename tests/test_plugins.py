"""The plugin machinery (archspec/ops/plugins.py, archspec/plugins.py), with fake entry points:
plugin modules written to a temporary directory, and ``importlib.metadata.entry_points``
replaced by one that names them. So it runs without any plugin installed — and, should one be
installed, leaves its registration as it found it. tests/test_completeness.py runs its checks
on the plugin types too; examples/plugin/ is a real plugin with its own tests (.ci/plugin.sh)."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import archspec
from archspec import plugins as api
from archspec.backends import keras_codegen, torch_codegen
from archspec.backends.keras_layout import RESERVED
from archspec.backends.torch_names import HELPERS
from archspec.cli import main
from archspec.errors import SpecError
from archspec.ops import base
from archspec.ops import plugins as state

# A learned scale per channel; the runtime files hold the helpers the generated code copies.
SCALE = '''
from typing import ClassVar, Literal
from archspec.plugins import Inferred, Layer, WeightSlot, register_layer

class {name}(Layer):
    """A learned scale per channel."""
    kind: ClassVar[str] = "norm"
    slots: ClassVar[tuple] = (WeightSlot("gamma", "gamma", "vector"),)
    type: Literal["{name}"] = "{name}"

    def infer(self, inputs, channels_first=False):
        return Inferred(inputs[0], trainable=inputs[0][-1])

    def weight_shapes(self, inputs, channels_first=False):
        return {{"gamma": (inputs[0][-1],)}}

def emit_torch(ctx):
    from archspec.plugins import TorchEmitted, call
    return TorchEmitted(call("{helper}", ctx.in_shape[-1]), helpers=("{helper}",))

def emit_keras(ctx):
    from archspec.plugins import KerasEmitted, call
    return KerasEmitted(call("K{helper}"), helpers=("K{helper}",))

register_layer({name}, torch=emit_torch, keras=emit_keras,
               torch_runtime=__file__.replace(".py", "_torch.py"),
               keras_runtime=__file__.replace(".py", "_keras.py"),
               cases=[{{"layer": "{name}", "input": [4, 4, 3], "shape": [4, 4, 3], "params": 3}}])
'''
TORCH_RUNTIME = '''
import torch
from torch import nn

class {helper}(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return x * self.gamma.reshape((-1,) + (1,) * (x.dim() - 2))
'''
KERAS_RUNTIME = '''
import keras

class K{helper}(keras.layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.gamma
'''


class FakeEntryPoint:
    """What the loader reads of an importlib.metadata.EntryPoint."""

    def __init__(self, name: str, value: str, package: str):
        self.name, self.value, self.group = name, value, state.GROUP
        self.dist = type("Dist", (), {"name": package})()

    def load(self):
        module, _, attribute = self.value.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attribute) if attribute else loaded


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """``install(module, package, source)``: a plugin module in tmp_path named by a fake entry
    point; ``load()`` then reloads the plugins as a fresh process would. Everything the loader
    touches is restored afterwards."""
    saved = (dict(base.REGISTRY), dict(state.TYPES), list(state.REFUSED), list(state.FAILED),
             list(state.LOADED), set(HELPERS), set(RESERVED), dict(torch_codegen.EMITTERS),
             dict(keras_codegen.EMITTERS))
    tables = {b: [(t, set(h)) for t, h in state._tables[b]] for b in state.BACKENDS}
    names = {b: list(state._names[b]) for b in state.BACKENDS}
    entry_points: list[FakeEntryPoint] = []
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group=None: [e for e in entry_points if e.group == group])
    monkeypatch.setattr(state, "_may_have_plugins", lambda: True)
    modules: list[str] = []

    class Plugins:
        def install(self, module, package, source, entry="{module}"):
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)
            entry_points.append(FakeEntryPoint(module, entry.format(module=module), package))

        def scale(self, module, package, name, helper=None):
            helper = helper or f"{name}Helper"
            (tmp_path / f"{module}_torch.py").write_text(TORCH_RUNTIME.format(helper=helper))
            (tmp_path / f"{module}_keras.py").write_text(KERAS_RUNTIME.format(helper=helper))
            self.install(module, package, SCALE.format(name=name, helper=helper))

        def load(self):
            monkeypatch.setattr(base, "_first_use", [])
            for name in list(state.TYPES):
                state.drop(name)
            for records in (state.REFUSED, state.FAILED, state.LOADED):
                records.clear()
            state.load()

    yield Plugins()
    for module in modules:
        sys.modules.pop(module, None)
    for target, value in zip((base.REGISTRY, state.TYPES), saved[:2]):
        target.clear()
        target.update(value)
    for target, value in zip((state.REFUSED, state.FAILED, state.LOADED), saved[2:5]):
        target[:] = value
    for backend in state.BACKENDS:
        state._tables[backend][:] = tables[backend]
        state._names[backend][:] = names[backend]
    for target, value in zip((HELPERS, RESERVED, torch_codegen.EMITTERS,
                              keras_codegen.EMITTERS), saved[5:]):
        target.clear()
        target.update(value)


def _spec(*layers, **extra):
    return {"name": "p", "input": [4, 4, 3], "layers": list(layers), **extra}


def test_a_plugin_type_is_registered_with_its_emitters(fake_plugins):
    fake_plugins.scale("fake_scale", "archspec-fake-scale", "ChannelScale")
    fake_plugins.load()
    cls = archspec.ops.base.layer_types()["ChannelScale"]
    assert cls.__module__ == "fake_scale"
    assert "ChannelScale" in torch_codegen.EMITTERS and "ChannelScale" in keras_codegen.EMITTERS
    assert {"ChannelScaleHelper"} <= HELPERS and {"KChannelScaleHelper"} <= RESERVED
    graph = archspec.analyze(_spec({"ChannelScale": {"name": "s"}}))
    assert graph["s"].meta["trainable"] == 3
    torch_source = archspec.generate(_spec("ChannelScale"), "torch")
    assert "class ChannelScaleHelper(nn.Module):" in torch_source
    assert "self.channel_scale_1 = ChannelScaleHelper(3)" in torch_source
    assert "class KChannelScaleHelper(keras.layers.Layer):" in \
        archspec.generate(_spec("ChannelScale"), "keras")
    assert api.problems("ChannelScale") == []
    (plugin,) = api.installed()["plugins"]
    assert plugin == {"package": "archspec-fake-scale", "entry_point": "fake_scale = fake_scale",
                      "types": {"ChannelScale": {"backends": ["keras", "torch"], "problems": [],
                                                 "module": "fake_scale"}}}


def test_plugins_load_once_and_only_when_the_vocabulary_is_needed(fake_plugins, monkeypatch):
    calls = []
    monkeypatch.setattr(state, "_entry_points", lambda: calls.append(1) or [])
    monkeypatch.setattr(base, "_first_use", [state.load])
    archspec.Dense(4)  # building a layer object needs no vocabulary
    assert calls == []
    base.layer_types()
    base.layer_types()
    archspec.check(_spec("Flatten"))
    assert calls == [1]


def test_a_block_class_never_shadows_a_plugin_helper(fake_plugins):
    fake_plugins.scale("fake_gate", "archspec-fake-gate", "Gate", helper="GateBlock")
    fake_plugins.load()
    spec = _spec({"gate_block": None}, {"gate_block": None},
                 blocks={"gate_block": {"layers": ["Gate", {"Conv2D": [3, 1]}]}})
    source = archspec.generate(spec, "torch")
    assert source.count("class GateBlock(") == 1 and "class GateBlock_(nn.Module)" in source


def test_a_built_in_name_is_refused_and_the_rest_loads(fake_plugins):
    fake_plugins.install("fake_dense", "archspec-fake-dense", '''
        from typing import Literal
        from archspec.plugins import Inferred, Layer

        class Dense(Layer):
            type: Literal["Dense"] = "Dense"

        class Halve(Layer):
            type: Literal["Halve"] = "Halve"
            kind = "activation"

            def infer(self, inputs, channels_first=False):
                return Inferred(inputs[0])
        ''')
    fake_plugins.load()
    (refusal,) = state.REFUSED
    assert refusal.message == ("layer type 'Dense' of plugin package 'archspec-fake-dense' "
                               "(entry point 'fake_dense = fake_dense') was refused: the name "
                               "is taken by archspec's built-in Dense (archspec.ops.core)")
    types = base.layer_types()
    assert types["Dense"].__module__ == "archspec.ops.core" and "Halve" in types
    report = archspec.check(_spec("Flatten", {"Dense": 2}, "Halve"))
    (warning,) = report.warnings
    assert warning.message == "layer type 'Dense' is claimed by more than one source"
    assert "here is archspec's built-in Dense" in warning.hint
    assert "archspec-fake-dense" in warning.hint
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1 and "was refused" in result.output


@pytest.mark.parametrize("order", [1, -1])
def test_a_name_two_plugins_claim_goes_to_the_first_package(fake_plugins, order):
    installs = [("fake_b_gate", "archspec-b"), ("fake_a_gate", "archspec-a")][::order]
    for module, package in installs:
        fake_plugins.scale(module, package, "Gate")
    fake_plugins.load()
    assert base.layer_types()["Gate"].__module__ == "fake_a_gate"  # whatever the scan order
    (refusal,) = state.REFUSED
    assert refusal.message == (
        "layer type 'Gate' of plugin package 'archspec-b' (entry point 'fake_b_gate = "
        "fake_b_gate') was refused: the name is taken by plugin package 'archspec-a' (entry "
        "point 'fake_a_gate = fake_a_gate')")
    loaded = {p["package"]: p["types"] for p in api.installed()["plugins"]}
    assert loaded == {"archspec-a": {"Gate": {"backends": ["keras", "torch"], "problems": [],
                                              "module": "fake_a_gate"}},
                      "archspec-b": {}}


def test_a_plugin_that_fails_to_load_breaks_nothing(fake_plugins):
    fake_plugins.install("fake_broken", "archspec-broken", '''
        from typing import Literal
        from archspec.plugins import Layer, register_layer

        class Broken(Layer):
            type: Literal["Broken"] = "Broken"

        import a_module_that_is_not_there
        ''')
    fake_plugins.load()
    assert "Broken" not in base.layer_types()
    (failure,) = state.FAILED
    assert failure.message == ("plugin package 'archspec-broken' (entry point 'fake_broken = "
                               "fake_broken') failed to load: ModuleNotFoundError: No module "
                               "named 'a_module_that_is_not_there'")
    assert archspec.check(_spec("Flatten")).totals
    with pytest.raises(SpecError) as error:
        archspec.check(_spec("Broken"))
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.hint == failure.message + " (its types are missing)"


def test_a_missing_plugin_is_named_where_the_spec_lists_it(fake_plugins):
    fake_plugins.load()
    with pytest.raises(SpecError) as error:
        archspec.check(_spec("SqueezeExcite", plugins=["archspec-not-installed"]))
    missing, unknown = error.value.diagnostics
    assert (missing.path, missing.message, missing.hint) == (
        "plugins[0]", "this spec needs the plugin package 'archspec-not-installed', which is "
        "not installed", "pip install archspec-not-installed")
    assert unknown.message == "unknown layer type 'SqueezeExcite'"
    assert unknown.hint == ("it may come from the plugin package 'archspec-not-installed', "
                            "which this spec lists under `plugins:` and which is not loaded "
                            "(pip install archspec-not-installed)")


def test_an_unknown_type_says_it_may_come_from_a_plugin(fake_plugins):
    fake_plugins.load()
    with pytest.raises(SpecError) as error:
        archspec.check(_spec("SqueezeExcite"))
    (unknown,) = error.value.diagnostics
    assert unknown.hint.startswith("no built-in type has this name and no installed plugin "
                                   "provides it; if 'SqueezeExcite' comes from a plugin package")
    with pytest.raises(SpecError, match="did you mean 'Dense'"):
        archspec.check(_spec("Flatten", "Dens"))


def test_a_listed_package_without_the_entry_point_is_told_apart(fake_plugins):
    fake_plugins.load()
    with pytest.raises(SpecError) as error:
        archspec.check(_spec("Flatten", plugins=["pydantic"]))
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.message == ("this spec needs the plugin package 'pydantic'; it is "
                                  "installed but has no 'archspec.layers' entry point")
    with pytest.raises(SpecError, match="is not a package name"):
        archspec.check(_spec("Flatten", plugins=["not a name"]))


def test_a_helper_that_would_redefine_a_generated_name_costs_that_backend(fake_plugins):
    fake_plugins.scale("fake_add", "archspec-fake-add", "Scaled", helper="Add")
    fake_plugins.load()
    assert "Scaled" not in torch_codegen.EMITTERS  # the built-in "Add" helper would be replaced
    assert "Scaled" in keras_codegen.EMITTERS  # its Keras helper is "KAdd": no clash
    assert api.problems("Scaled") == [
        "Scaled: its torch helpers in fake_add_torch.py define Add, names archspec's generated "
        "code already uses: rename them"]


def test_register_layer_refuses_bad_arguments(fake_plugins, tmp_path):
    fake_plugins.load()
    from typing import Literal

    class Shift(api.Layer):
        type: Literal["Shift"] = "Shift"

    try:
        with pytest.raises(ValueError, match="an emitter for torch or keras"):
            api.register_layer(Shift)
        with pytest.raises(ValueError, match="case row of another type"):
            api.register_layer(Shift, torch=print, cases=[{"layer": "Dense", "input": [2],
                                                           "shape": [2]}])
        with pytest.raises(TypeError, match="not a layer type"):
            api.register_layer(int, torch=print)
        # a helper file that does not parse fails the plugin's load, whichever backend (or
        # none) is imported yet: archspec check and archspec plugins must agree
        broken = tmp_path / "broken_runtime.py"
        broken.write_text("def helper(:\n")
        with pytest.raises(ValueError, match="does not parse"):
            api.register_layer(Shift, torch=print, torch_runtime=broken)
        assert api.problems("Shift")[0].startswith("Shift: no plugin provides")
    finally:
        base.REGISTRY.pop("Shift", None)


def test_a_real_install_is_found_by_check_without_a_framework(tmp_path):
    """The whole path, as pip leaves it: a dist-info with entry_points.txt on sys.path, found
    by the quick scan, loaded by `archspec check`, which imports no framework."""
    site = tmp_path / "site"
    info = site / "archspec_fake_real-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: archspec-fake-real\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[archspec.layers]\nreal = fake_real\n")
    (site / "fake_real.py").write_text(SCALE.format(name="RealScale", helper="RealHelper"))
    (site / "fake_real_torch.py").write_text(TORCH_RUNTIME.format(helper="RealHelper"))
    (site / "fake_real_keras.py").write_text(KERAS_RUNTIME.format(helper="RealHelper"))
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: real\nplugins: [archspec-fake-real]\ninput: [4, 4, 3]\n"
                    "layers: [RealScale]\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[1:]; "
            "sys.argv[0] = 'archspec'\n"
            "from archspec.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, sorted({'torch', 'keras', 'tensorflow', 'jax'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code, str(site), "check", str(spec)],
                            capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr
    assert "RealScale" in result.stdout


def test_the_quick_scan_sees_a_declared_group(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    info = tmp_path / "other-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[console_scripts]\nother = other:main\n")
    assert not state._may_have_plugins()
    (info / "entry_points.txt").write_text("[archspec.layers]\nother = other\n")
    assert state._may_have_plugins()


def test_the_completeness_test_checks_plugin_types(fake_plugins):
    from test_completeness import completeness_problems
    fake_plugins.scale("fake_done", "archspec-fake-done", "Done")
    fake_plugins.install("fake_bare", "archspec-fake-bare", '''
        from typing import ClassVar, Literal
        from archspec.plugins import Inferred, Layer, register_layer

        class Bare(Layer):
            """Counts 4 parameters it declares no slots for; its case row says 5."""
            kind: ClassVar[str] = "gate"
            type: Literal["Bare"] = "Bare"

            def infer(self, inputs, channels_first=False):
                return Inferred(inputs[0], trainable=4)

        def emit(ctx):
            from archspec.plugins import KerasEmitted
            return KerasEmitted("layers.Identity()")

        register_layer(Bare, keras=emit,
                       cases=[{"layer": "Bare", "input": [3], "shape": [3], "params": 5}])
        ''')
    fake_plugins.load()
    types = base.layer_types()
    assert completeness_problems("Done", types["Done"]) == []
    assert completeness_problems("Bare", types["Bare"]) == [
        f"Bare: kind 'gate' is not one of {sorted(api.KINDS)}: set `kind` on its class in "
        f"fake_bare.py",
        "Bare: case {'layer': 'Bare', 'input': [3], 'shape': [3], 'params': 5}: infer gives "
        "params 4, the row says 5"]
    state.TYPES["Bare"].cases[0]["params"] = 4  # the row right, the missing slots show
    assert completeness_problems("Bare", types["Bare"])[1:] == [
        "Bare: has parameters (args {}) but declares no weight slots: set `slots` on its class "
        "in fake_bare.py"]


def test_archspec_plugins_lists_what_loaded(fake_plugins, monkeypatch):
    fake_plugins.scale("fake_listed", "archspec-listed", "Listed")
    fake_plugins.load()
    result = CliRunner().invoke(main, ["plugins"])
    assert (result.exit_code, result.output) == (0, "archspec-listed (entry point 'fake_listed "
                                                    "= fake_listed')\n  Listed: keras, torch\n")
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert json.loads(result.output)["plugins"][0]["types"]["Listed"]["backends"] == \
        ["keras", "torch"]
    monkeypatch.setenv(state.DISABLE, "1")
    fake_plugins.load()
    assert "Listed" not in base.layer_types()
    assert CliRunner().invoke(main, ["plugins"]).output.startswith("plugins are disabled")


def test_an_onnx_emitter_joins_the_onnx_table_once_attached(fake_plugins):
    # archspec.onnx_export attaches its table as the code generators do theirs.
    table = {"Dense": print}
    state.attach_table("onnx", table)
    fake_plugins.install("fake_onnx", "archspec-fake-onnx", '''
        from typing import Literal
        from archspec.plugins import Inferred, Layer, register_layer

        class Same(Layer):
            type: Literal["Same"] = "Same"
            kind = "activation"

            def infer(self, inputs, channels_first=False):
                return Inferred(inputs[0])

        def emit_keras(ctx):
            from archspec.plugins import KerasEmitted
            return KerasEmitted("layers.Identity()")

        def emit_onnx(ctx):
            return ctx.x(), "same"

        register_layer(Same, keras=emit_keras, onnx=emit_onnx)
        ''')
    fake_plugins.load()
    assert sorted(table) == ["Dense", "Same"] and table["Same"].__name__ == "emit_onnx"
    state.drop("Same")
    assert sorted(table) == ["Dense"]
