"""The README's examples work as written, in order, in a fresh directory: every ``$`` command
of its console block (each later one may need the files an earlier one wrote), then its Python
block. Commands that need a framework which is not installed are skipped, not failed."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def commands() -> list[str]:
    return [line[2:] for block in blocks("console") for line in block.splitlines()
            if line.startswith("$ ")]


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def needs(command: str) -> list[str]:
    """The frameworks a command runs (code generation alone needs none)."""
    if " verify " in command or " convert " in command:
        return ["torch", "keras"]
    if " import " in command:
        return ["keras"]
    if " export " in command:
        return ["onnx", "torch"] if ".pt" in command else ["onnx"]
    if "--save" in command:
        return ["keras"]
    return []


def test_the_readme_has_the_examples_this_test_runs():
    found = commands()
    assert len(found) >= 6 and all(c.startswith("archspec ") for c in found)
    assert any(" convert " in c for c in found) and blocks("python")


@pytest.mark.slow
def test_readme_commands_run_in_order(tmp_path):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep
           + os.environ.get("PATH", "")}
    skipped = []
    for command in commands():
        missing = [name for name in needs(command) if not installed(name)]
        if missing:
            skipped.append((command, missing))
            continue
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"$ {command}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr, command
    # What the commands promise to write, they wrote.
    written = {"archspec.schema.json", "resnet50.py", "mnist_cnn.py"}
    if not skipped:
        written |= {"mnist_cnn.keras", "mnist_cnn.pt", "mnist_cnn.onnx", "mnist_imported.yaml",
                    "resnet50.onnx"}
    assert written <= {p.name for p in tmp_path.iterdir()}
    if skipped:
        pytest.skip(f"not installed for: {skipped}")


@pytest.mark.skipif(not installed("torch"), reason="the example compiles a torch model")
@pytest.mark.slow
def test_readme_python_example_runs(tmp_path):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (code,) = blocks("python")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "name: tiny" in result.stdout
