"""A CI slice of archspec's fuzzer (benchmarks/fuzz.py): a few hundred mutated zoo specs,
spec texts and command lines, none of which may end in a traceback, a hang or a memory
blow-up. The seed changes every run, so CI keeps exploring; it is printed (and named in the
failure message), and ARCHSPEC_FUZZ_SEED=N repeats a run. ARCHSPEC_FUZZ_CASES changes the
slice's size. The classifier itself is tested on cases known to misbehave, so a clean slice
means something.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import fuzz  # noqa: E402
from fuzz_cases import ROUTES, make_case  # noqa: E402
from fuzz_mutate import MUTATIONS  # noqa: E402
from fuzz_pool import Pool  # noqa: E402

CASES = int(os.environ.get("ARCHSPEC_FUZZ_CASES", "300"))


def _seed() -> int:
    pinned = os.environ.get("ARCHSPEC_FUZZ_SEED")
    return int(pinned) if pinned else int.from_bytes(os.urandom(4), "big")


@pytest.mark.slow
def test_fuzz_slice_finds_no_traceback_hang_or_memory_blowup():
    seed = _seed()
    print(f"\nfuzz seed {seed}: repeat with ARCHSPEC_FUZZ_SEED={seed}")
    report = fuzz.run_campaign(CASES, seed, workers=2, budget_s=2.0, budget_mib=200)
    fuzz.print_summary(report)
    assert report["cases"] == CASES
    assert report["counts"]["generator-error"] == 0
    bad = {c: report["counts"][c] for c in ("traceback", "hang", "over-memory")}
    findings = [f"{f['class']} {f['exc']} at {f['frame']} (replay: python benchmarks/fuzz.py "
                f"--seed {seed} --replay {f.get('smallest')})" for f in report["findings"]
                if f["class"] in bad]
    assert bad == {"traceback": 0, "hang": 0, "over-memory": 0}, \
        f"seed {seed} (ARCHSPEC_FUZZ_SEED={seed}):\n" + "\n".join(findings)


def test_cases_are_a_function_of_seed_and_index():
    assert make_case(7, 123) == make_case(7, 123)
    assert make_case(7, 123) != make_case(8, 123)


TEXT_MUTATIONS = {"byte_flip", "truncate", "tab", "nul", "invalid_utf8", "bom", "line_endings",
                  "deep_nesting", "alias_bomb", "duplicate_key", "documents", "odd_key",
                  "long_line", "json_breakage", "degenerate", "raw_token"}


@pytest.mark.slow
def test_the_generator_reaches_every_mutation_and_route():
    seen, routes = set(), set()
    for index in range(500):
        case = make_case(11, index)
        seen.update(op.split(":")[0] for op in case["ops"])
        routes.add(case["route"])
    assert {function.__name__ for function, _ in MUTATIONS} <= seen
    assert TEXT_MUTATIONS <= seen
    assert routes == {route for route, _ in ROUTES}


def test_generating_and_dispatching_cases_never_imports_archspec():
    """The fuzzer's idea of the language is its own; only the workers load archspec."""
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import fuzz, fuzz_cases\n"
            "[fuzz_cases.make_case(3, i) for i in range(50)]\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'archspec'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=BENCHMARKS.parent, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


@pytest.fixture(scope="module")
def pool():
    with Pool(1, budget_s=0.5, budget_mib=100, restart_every=1000, wall_s=4.0) as running:
        yield running


@pytest.mark.parametrize("kind, outcome, exc", [
    ("ok", "ok", None),
    ("clean", "clean", None),
    ("unlocated", "unlocated", "SpecError[nowhere]"),
    ("raise", "traceback", "KeyError"),
    ("spin", "hang", "Budget"),  # CPU-bound: interrupted inside, with its frame
    ("sleep", "hang", "Killed"),  # blocked: the parent's wall clock kills it
    ("allocate", "over-memory", "MemoryError"),
    ("crash", "traceback", "WorkerDied(SIGSEGV)"),
])
@pytest.mark.slow
def test_the_classifier_sees_each_kind_of_failure(pool, kind, outcome, exc):
    result = pool.run_case({"route": "selftest", "kind": kind, "id": 0, "locatable": True})
    assert (result["outcome"], result.get("exc")) == (outcome, exc)


@pytest.mark.slow
def test_a_healthy_worker_survives_the_failures(pool):
    """After hangs, crashes and over-allocation the pool still runs ordinary cases."""
    result = pool.run_case({"route": "api-path", "target": "mnist_cnn.yaml", "id": 0,
                            "locatable": True})
    assert result["outcome"] == "ok"
