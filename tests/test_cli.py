"""The command line: exit codes, JSON output, stdin, parameters, schema; and that `check`
never imports a deep-learning framework."""

import json
import os
import subprocess
import sys

import pytest

ARCHSPEC = [sys.executable, "-m", "archspec.cli"]


def run(*args, stdin=None):
    return subprocess.run([*ARCHSPEC, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def test_check_table(spec_dir):
    result = run("check", str(spec_dir / "vgg16.yaml"))
    assert result.returncode == 0, result.stderr
    assert "138,357,544" in result.stdout and "15,470,264,320" in result.stdout
    assert "features_28" in result.stdout  # torchvision's numbering (features.28)


def test_check_json_is_the_api_dict(spec_dir):
    import archspec
    result = run("check", "--json", str(spec_dir / "resnet_course.yaml"))
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data == archspec.check(spec_dir / "resnet_course.yaml").to_dict()
    assert set(data) >= {"name", "input_shape", "output_shape", "layers", "totals"}
    assert set(data["layers"][0]) >= {"name", "type", "output_shape", "trainable_params",
                                      "non_trainable_params", "macs", "receptive_field"}
    assert data["totals"]["non_trainable_params"] == 1536
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]


def test_check_stdin_and_set(spec_dir):
    text = (spec_dir / "resnet.yaml").read_text()
    result = run("check", "-", "--json", "--set", "depth=18", stdin=text)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["trainable_params"] == 11_689_512


def test_several_specs_json_list(spec_dir):
    result = run("check", "--json", str(spec_dir / "lenet5.yaml"), str(spec_dir / "mnist_ann.yaml"))
    assert [d["name"] for d in json.loads(result.stdout)] == ["lenet5", "mnist_ann"]


def test_invalid_spec_exit_1_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: {shape: [8]}\nlayers:\n  - Dens: {units: 3}\n")
    result = run("check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4:5: error: layers[0].Dens: unknown layer type 'Dens'" in result.stderr
    assert "did you mean 'Dense'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    as_json = json.loads(run("check", "--json", str(bad)).stdout)
    assert as_json["valid"] is False and as_json["diagnostics"][0]["line"] == 4


def test_missing_file_and_usage_errors(tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1 and "cannot read spec file" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("check").returncode == 2
    assert run("check", "--set", "novalue", "x.yaml").returncode == 2
    assert run("frobnicate").returncode == 2


def test_strict_turns_warnings_into_errors(tmp_path):
    spec = tmp_path / "w.yaml"
    spec.write_text("name: w\ninput: {shape: [8, 8, 3]}\nlayers:\n  - Dense: {units: 4}\n")
    assert run("check", str(spec)).returncode == 0
    result = run("check", "--strict", str(spec))
    assert result.returncode == 1 and "add Flatten" in result.stderr


def test_schema_lists_every_layer():
    from archspec.ops.base import layer_types
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    for name in layer_types():
        assert f"layer_{name}" in schema["$defs"]
    conv = schema["$defs"]["layer_Conv2D"]["properties"]
    assert "kernel_size" in conv and "name" in conv


@pytest.mark.parametrize("argv", [
    ["check", "resnet50.yaml"],
    ["compile", "resnet50.yaml", "--backend", "torch"],
    ["compile", "googlenet.yaml", "--backend", "keras"],
])
def test_check_and_codegen_never_import_a_framework(spec_dir, argv):
    argv = [str(spec_dir / a) if a.endswith(".yaml") else a for a in argv]
    code = (
        "import sys, runpy, io, contextlib; sys.argv = ['archspec'] + %r\n"
        "out = io.StringIO()\n"
        "try:\n    with contextlib.redirect_stdout(out):\n"
        "        runpy.run_module('archspec.cli', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert out.getvalue(), 'no output'\n"
        "bad = [m for m in ('torch', 'tensorflow', 'keras', 'jax', 'numpy') if m in sys.modules]\n"
        "assert not bad, bad\n" % argv)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_example_sweep_runs():
    from pathlib import Path
    example = Path(__file__).resolve().parent.parent / "examples" / "sweep_budgets.py"
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "60,192,808" in result.stdout  # resnet152
    assert "3,504,872" in result.stdout   # mobilenet_v2 at width 1.0


def test_compile_writes_source_or_prints_it(spec_dir, tmp_path):
    out = tmp_path / "lenet.py"
    result = run("compile", str(spec_dir / "lenet5.yaml"), "--backend", "torch", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "class Lenet5(nn.Module):" in out.read_text()
    printed = run("compile", str(spec_dir / "lenet5.yaml"), "-b", "torch")
    assert printed.stdout == out.read_text()
    with_set = run("compile", str(spec_dir / "resnet.yaml"), "-b", "keras", "--set", "depth=18")
    assert with_set.returncode == 0 and "resnet18" not in with_set.stdout
    assert "11,689,512 trainable" in with_set.stdout


def test_compile_errors_and_usage(spec_dir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("archspec: 1\nname: bad\ninput: {shape: [4]}\nlayers:\n  - Dense: {units: 0}\n")
    result = run("compile", str(bad), "--backend", "torch")
    assert result.returncode == 1 and "bad.yaml:5" in result.stderr and not result.stdout
    assert run("compile", str(spec_dir / "lenet5.yaml"), "--backend", "jax").returncode == 2
    assert run("compile", str(spec_dir / "lenet5.yaml")).returncode == 2
    saved = run("compile", str(spec_dir / "lenet5.yaml"), "-b", "torch", "--save", "x.keras")
    assert saved.returncode == 2 and "--save is for the keras backend" in saved.stderr


def test_plain_output_into_pipes_has_no_markup(spec_dir):
    result = run("check", str(spec_dir / "lenet5.yaml"))
    assert "[bold]" not in result.stdout and "[/" not in result.stdout
    assert "(input [32, 32, 1], channels_last)" in result.stdout  # brackets of data stay
    import io

    from archspec.render import PlainConsole
    buffer = io.StringIO()
    PlainConsole(buffer).print("[red]error[/red] at [3, 3]")
    assert buffer.getvalue() == "error at [3, 3]\n"


def test_console_script_entry_disables_gc_only_for_itself(spec_dir):
    code = ("import gc, sys; import archspec.cli; assert gc.isenabled(); "
            "sys.argv = ['archspec', 'check', %r]; import archspec._entry as e\n"
            "try:\n    e.main()\nexcept SystemExit as exit:\n    assert exit.code == 0\n"
            "assert not gc.isenabled()" % str(spec_dir / "lenet5.yaml"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_table_shows_inputs_where_the_wiring_is_not_the_row_above(spec_dir):
    lines = run("check", "--all", str(spec_dir / "resnet_course.yaml")).stdout.splitlines()
    header = next(line for line in lines if line.startswith("Layer"))
    column = header.index("Inputs")
    add = next(i for i, line in enumerate(lines) if line.startswith("residual_block1_add_1"))
    # one input per line: the block input (the skip), then the main branch
    assert lines[add][column:].strip() == "max_pooling2d_1"
    assert lines[add + 1].strip() == "residual_block1_main"
    assert lines[add + 1].index("residual_block1_main") == column
    plain = next(line for line in lines if line.startswith("residual_block1_re_lu_2"))
    assert len(plain.rstrip()) < column  # reads the row above: no inputs cell
    shortcut = next(line for line in lines if line.startswith("residual_block3_shortcut"))
    assert shortcut[column:].strip() == "residual_block2_re_lu_2"


@pytest.mark.parametrize("as_json", [[], ["--json"]])
def test_closed_pipe_ends_quietly(spec_dir, as_json):
    """`archspec check big.yaml | head`: a pipe whose reader is gone (closed here before the
    run, so that every write fails whatever the pipe's buffer size) ends like cat does."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([*ARCHSPEC, "check", *as_json, str(spec_dir / "lenet5.yaml")],
                                stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert result.stderr == "" and result.returncode == 141


def test_strict_summary_agrees_with_the_warning_lines(tmp_path):
    spec = tmp_path / "w.yaml"
    spec.write_text("name: w\ninput: {shape: [8, 8, 3]}\nlayers:\n  - Dense: {units: 4}\n"
                    "  - Dense: {units: 2}\n")
    result = run("check", "--strict", str(spec))
    assert result.returncode == 1
    assert result.stderr.count(": warning:") == 2 and ": error:" not in result.stderr
    assert result.stderr.rstrip().endswith("2 warnings (errors under --strict)")
    assert "2 errors" not in result.stderr


@pytest.mark.slow
def test_exit_codes_are_consistent(spec_dir, tmp_path):
    """0 ok; 1 invalid input (spec, unreadable or unwritable file); 2 usage."""
    lenet = str(spec_dir / "lenet5.yaml")
    assert run("check", lenet).returncode == 0
    for args in (["check", str(tmp_path / "missing.yaml")],
                 ["compile", str(tmp_path / "missing.yaml"), "-b", "torch"],
                 ["compile", lenet, "-b", "torch", "-o", str(tmp_path / "no" / "dir.py")]):
        result = run(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    unwritable = run("compile", lenet, "-b", "torch", "-o", str(tmp_path / "no" / "dir.py"))
    assert f"cannot write {tmp_path / 'no' / 'dir.py'}" in unwritable.stderr
    for args in (["check"], ["compile", lenet], ["compile", lenet, "-b", "jax"],
                 ["check", "--no-such-option", lenet], ["frobnicate"]):
        assert run(*args).returncode == 2, args


def test_archspec_verify_stays_the_function_once_its_module_is_loaded():
    import archspec
    import archspec.verification  # what the CLI's verify command imports
    assert callable(archspec.verify) and archspec.verify.__module__ == "archspec.verification"
