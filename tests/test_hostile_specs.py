"""Hostile specs: expansion, expressions, validation and code generation (issue 10, part B).

Every case is a reproducer from a mutation campaign over the zoo. Each must end in archspec's
own located error (exit 1), never a traceback, in bounded time and memory: the CLI cases run
in a fresh interpreter under a timeout and a peak-memory budget; the API cases must raise
``SpecError``. Where a case is legitimate (a meaningful infinity, a layer named ``eval``) the
model must compile and run.
"""

import json
import math

import pytest

import archspec
from budget_helpers import run_measured
from archspec.backends.common import literal
from archspec.errors import SpecError
from archspec.expr import ExprError, evaluate
from archspec.limits import EXPANSION_STEPS_PER_LAYER, MAX_ERRORS, MAX_LAYERS
from archspec.ops.base import layer_types

HEAD = "name: t\ninput: {shape: [8]}\n"
PEAK_RSS_MIB = 200  # the whole process, interpreter and imports included
TIMEOUT_S = 30  # a hang guard: cases take well under 2 s on an idle 2-core machine


@pytest.fixture
def run(tmp_path):
    """``archspec check`` (or ``args``) on a spec text in a fresh interpreter, which reports
    its own peak memory; fails the test on a traceback, a hang or memory past the budget."""
    def go(text: str, *args: str) -> tuple[int, str, str]:
        path = tmp_path / "f.yaml"
        path.write_text(text)
        command = list(args) or ["check"]
        code, stdout, err, peak = run_measured([*command, str(path)], timeout=TIMEOUT_S)
        assert peak < PEAK_RSS_MIB * 1024, f"peak memory {peak // 1024} MiB"
        assert "Traceback" not in err and "internal error" not in err, err
        return code, stdout.decode("utf-8", "replace"), err
    return go


def refused(text: str, **kwargs) -> SpecError:
    """The API's answer to ``text``: a SpecError, located in the text."""
    with pytest.raises(SpecError) as info:
        archspec.check(archspec.loads(text), **kwargs)
    return info.value


def messages(exc: SpecError) -> str:
    return "\n".join(d.format() for d in exc.diagnostics)


# --- 1. an unknown input followed by items of any shape ----------------------------------------

@pytest.mark.parametrize("after", ["- Flatten", "- [1, 2]", "- 5", "- {ReLU: {}, Flatten: {}}",
                                   "- {Dense: 2}", "- {ReLU: {name: 7}}"])
def test_unknown_input_before_items_of_any_shape(run, after):
    text = f"{HEAD}layers:\n  - Dense: {{units: 2, inputs: nope}}\n  {after}\n"
    code, _, err = run(text)
    assert code == 1 and "f.yaml:4:" in err and "unknown layer 'nope'" in err
    assert "unknown layer 'nope'" in messages(refused(text))


def test_a_reference_to_a_later_layer_is_still_explained():
    text = f"{HEAD}layers:\n  - Dense: {{units: 2, inputs: later}}\n  - Flatten\n" \
           f"  - ReLU: {{name: later}}\n"
    assert "'later' is defined later" in messages(refused(text))


# --- 3, 4. arguments of the wrong shape, and one named `self` ----------------------------------

@pytest.mark.parametrize("layer", [
    "ZeroPadding2D: {padding: [null, null]}", "Conv2D: {filters: 2, kernel_size: 1, padding: [1.5, 1]}",
    "ZeroPadding2D: {padding: [[1, 2, 3], [1, 1]]}", "MaxPooling2D: {padding: [{a: 1}, 1]}",
    "Conv2DTranspose: {filters: 2, kernel_size: 2, output_padding: 1.5}",
    "ZeroPadding2D: {padding: [10000000000000, 1]}", "Conv2D: {filters: 2, kernel_size: 10000000000000}",
    "Dense: {units: 2, self: 3}", "Conv2D: [2, 3, {self: 1}]",
])
def test_malformed_arguments_are_located(run, layer):
    text = f"name: t\ninput: {{shape: [8, 8, 3]}}\nlayers:\n  - {layer}\n"
    code, _, err = run(text)
    assert code == 1 and "f.yaml:4:" in err, err
    refused(text)


HOSTILE_VALUES = [None, True, -1, 0, 1.5, "x", "", {}, {"a": 1}, [], [None, None], [1.5, 1],
                  [[1, 2, 3]], [[None]], [[1, 2], [3]], [{"a": 1}], math.inf, -math.inf,
                  math.nan, 10**70, [10**70, 1], [[1, 1], [1, 10**70]]]


@pytest.mark.parametrize("type_name", sorted(layer_types()))
def test_every_argument_of_every_layer_fails_only_as_validation(type_name):
    """The class behind items 3 and 4: a validator that lets a TypeError out crashes the
    checker. Any value for any argument must validate or raise pydantic's error."""
    from pydantic import ValidationError
    cls = layer_types()[type_name]
    for field in [f for f in cls.model_fields if f != "type"] + ["self"]:
        for value in HOSTILE_VALUES:
            try:
                cls.model_validate({field: value})
            except ValidationError:
                pass


def test_self_is_refused_from_python_too():
    from archspec.ops.core import Dense
    with pytest.raises(SpecError, match="unknown field 'self'"):
        Dense(units=2, self=3)
    with pytest.raises(SpecError, match="unknown field 'self'"):
        archspec.Spec(name="t", input=[8], layers=[Dense(2)], self=1)
    with pytest.raises(SpecError, match="unknown parameter 'self'"):
        archspec.loads(HEAD + "layers: [ReLU]\n").with_params(self=1)


def test_a_block_parameter_may_be_called_self():
    text = f"{HEAD}blocks:\n  b:\n    params: {{self: 2}}\n    layers: [{{Dense: '${{self}}'}}]\n" \
           f"layers: [{{b: {{self: 3}}}}]\n"
    assert archspec.check(archspec.loads(text)).output_shape == [3]


# --- 6. absurd sizes ----------------------------------------------------------------------------

@pytest.mark.parametrize("layers, words", [
    ('[{Dense: {units: "${int(1e308)}"}}]', "integer result too large"),
    ("[{Dense: {units: 1000000000000000000000000}}]", "larger than 2,147,483,647"),
    ("[{Dense: {units: 1e308}}]", "units"),
    ("[{Reshape: [2, 4]}, " + ", ".join(["{UpSampling1D: 1000000}"] * 6) + "]",
     "larger than 2,147,483,647"),
])
def test_absurd_sizes_are_errors_not_overflows(run, layers, words):
    text = f"{HEAD}layers: {layers}\n"
    code, _, err = run(text)
    assert code == 1 and words in err, err
    assert words in messages(refused(text))


# --- 9. non-finite floats -----------------------------------------------------------------------

@pytest.mark.parametrize("layer", [
    "BatchNormalization: {epsilon: .inf}", "BatchNormalization: {momentum: .nan}",
    "ReLU: {threshold: .nan}", "ReLU: {threshold: -.inf}", "ReLU: {max_value: .nan}",
    "ReLU: {negative_slope: .inf}", "LeakyReLU: {negative_slope: .nan}", "ELU: {alpha: .inf}",
    "Dropout: {rate: .nan}", "Dense: {units: 2, kernel_regularizer: {l2: .inf}}",
    "Dense: {units: 2, kernel_regularizer: {l1: .nan}}",
    "Dense: {units: 2, kernel_constraint: {max_norm: .inf}}",
    'ELU: {alpha: "${1e308 * 10}"}',
])
def test_non_finite_floats_are_refused_where_meaningless(run, layer):
    text = f"{HEAD}layers:\n  - {layer}\n"
    code, _, err = run(text)
    assert code == 1 and "f.yaml:4:" in err and "finite" in err or "greater than" in err, err
    refused(text)


def test_an_infinite_relu_cap_means_no_cap():
    torch = pytest.importorskip("torch")
    text = f"{HEAD}layers:\n  - Dense: 4\n  - ReLU: {{max_value: .inf}}\n"
    spec = archspec.loads(text)
    source = archspec.generate(spec, "torch")
    assert "inf" not in source.replace("Infinity", "")
    assert "nn.ReLU(" in source
    model = archspec.compile(spec)
    out = model(torch.full((1, 8), 1e30))
    assert torch.isfinite(out).all() and out.max() > 1e20


def test_literals_spell_infinity_as_code_and_refuse_nan():
    assert eval(literal(math.inf)) == math.inf and eval(literal(-math.inf)) == -math.inf
    assert eval(literal((1.5, math.inf))) == (1.5, math.inf)
    with pytest.raises(ValueError):
        literal(math.nan)


# --- 10. layer names that collide with what generated code uses ---------------------------------

def _collision_names() -> list[str]:
    torch = pytest.importorskip("torch")
    from archspec.backends.torch_codegen import HELPERS
    from archspec.spec.model import IDENTIFIER
    names = {n for n in dir(torch.nn.Module) if IDENTIFIER.match(n)}
    names |= {"x", "inputs", "torch", "nn", "F", "math", "self", "super", "float", "keras",
              "layers", "ops", "model", "build_model", "match", "case", "type", "_"} | HELPERS
    names |= {"eval_", "forward_", "m_modules", "x_", "training_"}  # what renaming produces
    return sorted(n for n in names if n != "input")


def _collision_spec() -> tuple[list[str], dict]:
    """A Dense layer named after each colliding name; every one also feeds the final Add, so
    each is a local variable of forward as well as an attribute."""
    names = _collision_names()
    layers = [{"Dense": {"units": 4, "name": n}} for n in names]
    layers.append({"Add": {"inputs": names, "name": "total"}})
    return names, {"name": "t", "input": {"shape": [4]}, "layers": layers}


def test_layers_named_after_module_internals_build_and_run():
    torch = pytest.importorskip("torch")
    from archspec.backends.torch_backend import attribute_names
    names, doc = _collision_spec()
    graph = archspec.analyze(doc)
    attrs = attribute_names(graph)
    assert len(set(attrs.values())) == len(attrs)  # collision-free
    assert attrs["eval_"] == "eval_" and attrs["eval"] != "eval_"  # safe names keep theirs
    model = archspec.compile(doc)
    state = model.state_dict()
    assert all(f"{attrs[n]}.weight" in state for n in names)
    out = model(torch.ones(2, 4))
    assert out.shape == (2, 4) and torch.isfinite(out).all()
    model.eval()
    model.train()
    model.to(torch.float64)
    assert model(torch.ones(1, 4, dtype=torch.float64)).dtype == torch.float64


def test_keras_takes_the_same_names():
    pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    import numpy as np

    from archspec.weights import transfer_weights
    names, doc = _collision_spec()
    graph = archspec.analyze(doc)
    keras_model = archspec.compile(doc, "keras")
    assert {layer.name for layer in keras_model.layers} >= set(names)
    torch_model = archspec.compile(doc, "torch")
    transfer_weights(keras_model, torch_model, graph)
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    expected = np.asarray(keras_model(x))
    got = torch_model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


# --- 11. names ending in a newline ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    HEAD + 'layers:\n  - Dense: {units: 2, name: "fc\\n"}\n',
    'name: "t\\n"\ninput: {shape: [8]}\nlayers: [ReLU]\n',
    HEAD + 'layers:\n  - repeat: {times: 2, index: "i\\n", layers: [ReLU]}\n',
    HEAD + 'layers:\n  - repeat: {times: 2, name: "r\\n", layers: [ReLU]}\n',
    HEAD + 'blocks:\n  "b\\n":\n    layers: [ReLU]\nlayers: [ReLU]\n',
])
def test_names_ending_in_a_newline_are_refused(run, text):
    code, _, err = run(text)
    assert code == 1, err
    refused(text)


def test_an_expression_followed_by_a_newline_is_not_an_expression():
    text = HEAD + 'layers:\n  - Dense: {units: "${2}\\n"}\n'
    assert "units" in messages(refused(text))


# --- 13. expressions whose results would be huge --------------------------------------------------

@pytest.mark.parametrize("expression, words", [
    ("'%999999999d' % 1", "formatting"), ("'%s' % 'a'", "formatting"),
    ("'a' * 100000 * 100000", "too large"), ("[[0] * 100000] * 100000", "too large"),
    ("sum([[0] * 100000] * 100000, [])", "too large"), ("[0] * 60000 + [0] * 60000", "too large"),
    ("range(10**9)", "range too large"), ("int(1e308)", "integer result too large"),
    ("ceil(1e300)", "integer result too large"), ("round(5, -10**30)", "round"),
    ("(-8) ** 0.5", "complex"), ("int('9' * 5000)", "ValueError"), ("2 ** 200", "too large"),
    ("1" + "0" * 60, "integer result too large"),
    ("{1: [0] * 99990, 2: [0] * 99990}", "too large"),
])
def test_expression_results_are_bounded_before_they_are_built(run, expression, words):
    with pytest.raises(ExprError, match=words):
        evaluate(expression, {})
    text = f'{HEAD}params: {{a: "${{{expression}}}"}}\nlayers: [ReLU]\n'
    code, _, err = run(text)
    assert code == 1 and "f.yaml:3:" in err and words in err, err


def test_twenty_doubling_parameters_stop_at_the_size_limit(run):
    params = ['p0: "${[0] * 1000}"'] + [f'p{i}: "${{p{i - 1} + p{i - 1}}}"' for i in range(1, 21)]
    text = HEAD + "params:\n" + "".join(f"  {p}\n" for p in params) + "layers: [ReLU]\n"
    code, _, err = run(text)
    assert code == 1 and "params.p7" in err and "too large" in err, err


@pytest.mark.slow
def test_expression_work_is_bounded_across_a_repeat(run):
    heavy = "len([0] * 99999) + len([0] * 99999)"
    text = f'{HEAD}layers:\n  - repeat: {{times: 20000, layers: [{{Dense: "${{{heavy}}}"}}]}}\n'
    code, _, err = run(text, "check", "--max-layers", "100000")
    assert code == 1 and "steps in total" in err, err


def test_ordinary_expressions_still_work():
    names = {"depth": 50, "widths": [64, 128]}
    assert evaluate("sum([[1, 2], [3]], [])", names) == [1, 2, 3]
    assert evaluate("sum(widths) + len(range(depth))", names) == 242
    assert evaluate("[3, 4, 6, 3] if depth == 50 else [2] * 4", names) == [3, 4, 6, 3]
    assert evaluate("round(2.567, 2) + 2 ** 10", names) == 1026.57
    assert evaluate("'conv' + 'x' * 3", names) == "convxxx"


# --- 14, 16. expansion work ------------------------------------------------------------------------

def _fan_out(depth: int, leaf: str) -> str:
    blocks = "".join(f"  b{i}:\n    layers: [{leaf if i == depth else f'b{i + 1}, b{i + 1}'}]\n"
                     for i in range(depth + 1))
    return f"{HEAD}blocks:\n{blocks}layers: [ReLU, b0]\n"


@pytest.mark.parametrize("text, words", [
    (HEAD + "layers:\n  - repeat: {times: 200000, layers: [{repeat: {times: 200000, layers: "
            "[]}}]}\n", "expansion steps"),
    (HEAD + "layers:\n  - repeat: {times: 1000, layers: [{repeat: {times: 1000, layers: "
            "[{repeat: {times: 0, layers: [ReLU]}}]}}]}\n", "expansion steps"),
    (HEAD + f"layers:\n  - repeat: {{times: {MAX_LAYERS}, layers: [ReLU]}}\n  - ReLU\n",
     f"more than {MAX_LAYERS:,} layers"),
    (HEAD + f"layers:\n  - repeat: {{times: {MAX_LAYERS + 1}, layers: [ReLU]}}\n",
     f"this repeat makes {MAX_LAYERS + 1:,} x 1 layers"),
    (_fan_out(30, "ReLU"), "more than"),
    (_fan_out(30, "{repeat: {times: 0, layers: [ReLU]}}"), "expansion"),
])
@pytest.mark.slow
def test_expansion_is_bounded_by_work_not_only_layers(run, text, words):
    code, _, err = run(text)
    assert code == 1 and words in err and "--max-layers" in err, err


@pytest.mark.slow
def test_the_layer_limit_can_be_raised(run, tmp_path):
    text = HEAD + f"layers:\n  - repeat: {{times: {MAX_LAYERS + 10}, layers: [ReLU]}}\n"
    assert "--max-layers" in messages(refused(text))
    report = archspec.check(archspec.loads(text), max_layers=MAX_LAYERS + 10)
    assert report.totals["layers"] == MAX_LAYERS + 10
    code, out, err = run(text, "check", "--json", "--max-layers", str(MAX_LAYERS + 10))
    assert code == 0 and json.loads(out)["totals"]["layers"] == MAX_LAYERS + 10, err
    assert EXPANSION_STEPS_PER_LAYER * MAX_LAYERS >= 2 * MAX_LAYERS


def test_a_small_limit_applies_to_blocks_too():
    text = f"{HEAD}blocks:\n  b:\n    layers: [{{Dense: 8}}, ReLU, {{Dense: 8}}, ReLU]\n" \
           f"layers: [b, b, b, b]\n"  # 16 layers from 4 block calls
    assert archspec.check(archspec.loads(text), max_layers=16).totals["layers"] == 16
    with pytest.raises(SpecError, match="more than 10 layers"):
        archspec.check(archspec.loads(text), max_layers=10)


# --- 15. many errors --------------------------------------------------------------------------------

@pytest.mark.slow
def test_errors_are_capped_and_counted(run):
    items = "".join(f"  - ReLU: {{name: r{i}, inputs: zz{i}}}\n" for i in range(10_000))
    text = f"{HEAD}layers:\n{items}"
    code, _, err = run(text)
    assert code == 1 and err.count("unknown layer 'zz") == MAX_ERRORS
    assert "9,950 more problems not shown" in err and "10000 errors" in err
    code, out, _ = run(text, "check", "--json")
    result = json.loads(out)
    assert code == 1 and result["error_count"] == 10_000
    assert len(result["diagnostics"]) == MAX_ERRORS + 1
    exc = refused(text)
    assert exc.error_count == 10_000 and len(exc.diagnostics) == MAX_ERRORS + 1


def test_unknown_top_level_keys_are_capped(run):
    text = HEAD + "layers: [ReLU]\n" + "".join(f"k{i}: 1\n" for i in range(30_000))
    code, _, err = run(text)
    assert code == 1 and err.count("unknown field 'k") == MAX_ERRORS and "30000 errors" in err


def test_did_you_mean_survives_the_cap():
    text = f"{HEAD}layers:\n  - Dense: {{units: 2, name: fc1}}\n  - ReLU: {{inputs: fc}}\n"
    assert "did you mean 'fc1'?" in messages(refused(text))


# --- 19. models too large to build ---------------------------------------------------------------------

HUGE = "name: huge\ninput: {shape: [1048576]}\nlayers: [{Dense: {units: 1048576, name: fc}}]\n"


def test_compiling_a_huge_model_is_refused_up_front(run, tmp_path):
    spec = archspec.loads(HUGE)
    with pytest.raises(SpecError) as info:
        archspec.compile(spec)
    text = messages(info.value)
    assert "1,099,512,676,352 parameters" in text and "GiB in fp32" in text
    assert "Dense 'fc'" in text and "--max-params" in text
    assert "class Huge" in archspec.generate(spec)  # the source alone allocates nothing
    code, _, err = run(HUGE, "compile", "-b", "keras", "--save", str(tmp_path / "m.keras"))
    assert code == 1 and "parameters" in err
    code, _, err = run(HUGE, "compile", "-b", "torch", "-o", str(tmp_path / "m.py"))
    assert code == 0 and (tmp_path / "m.py").exists(), err


def test_the_parameter_limit_can_be_raised():
    pytest.importorskip("torch")
    spec = archspec.loads(HEAD + "layers: [{Dense: 4}]\n")  # 36 parameters
    with pytest.raises(SpecError, match="36 parameters"):
        archspec.compile(spec, max_params=35)
    assert sum(p.numel() for p in archspec.compile(spec, max_params=36).parameters()) == 36


def test_deep_block_fan_out_does_not_thrash_the_frame_stack_at_any_caller_depth():
    """CPython 3.11/3.12 map and unmap a 16 KiB frame chunk each time a recursion crosses a
    chunk boundary (python/cpython#142183); a fan-out of block calls crosses it at every leaf
    when the caller's stack depth is unlucky. The builder runs in a frame with room to spare,
    so no caller depth makes checking cost thousands of page faults (4,000 and more without it)."""
    import resource

    depth = 10
    blocks = "".join(f"  b{i}:\n    layers: [{'ReLU' if i == depth else f'b{i + 1}, b{i + 1}'}]\n"
                     for i in range(depth + 1))
    spec = archspec.loads(f"name: t\ninput: {{shape: [8]}}\nblocks:\n{blocks}layers: [b0]\n")

    def at_depth(frames, check):
        return check() if frames == 0 else at_depth(frames - 1, check)

    archspec.check(spec)  # the first check's allocations are not what is measured
    worst = 0
    for frames in range(0, 120, 2):  # a 16 KiB chunk holds about a hundred frames
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        at_depth(frames, lambda: archspec.check(spec))
        worst = max(worst, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    assert worst < 1_500
