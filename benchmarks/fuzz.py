"""archspec's own fuzzer: mutated zoo specs, spec text and command lines, run through the API
and the CLI in worker processes under time and memory budgets.

    python benchmarks/fuzz.py --cases 100000 --seed N --workers 2 --budget-s 2 \\
        --budget-mib 200 [--report out.json] [--minimize-s 120]
    python benchmarks/fuzz.py --seed N --replay ID     # one case: its files, and its outcome

Every case is classified: ok; clean (archspec's SpecError, or a CLI exit 1/2 with a message);
traceback (any other exception, a CLI "internal error", a crash, a compiled model whose output
shape is not the analysed one); hang (over --budget-s of CPU per spec, or no answer: the worker
is killed and restarted); over-memory (over --budget-mib above the worker's size when the case
began); unlocated (a diagnostic about readable spec text without line:column). The torch
compile + forward stage of a few valid specs has its own budgets (30 s CPU, 1 GiB).
Findings are deduplicated by (class, exception type, innermost archspec frame); each keeps the
smallest case seen, replayed once more ("reproduced") and shrunk by deleting lines and
characters (--minimize-s). Case i of seed N is a pure function of (N, i), so every finding
replays from those two numbers. This process never imports archspec (the workers do). Case
generation: fuzz_cases.py, fuzz_mutate.py, fuzz_values.py; execution and classification:
fuzz_worker.py, fuzz_exec.py; process management: fuzz_pool.py; shrinking: fuzz_minimize.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_cases import case_size, make_case  # noqa: E402
from fuzz_pool import Pool  # noqa: E402

BAD = ("traceback", "hang", "over-memory", "unlocated")
CLASSES = ("ok", "clean") + BAD + ("skip", "generator-error")


class Tally:
    """Counts per class and route, and one entry per distinct finding."""

    def __init__(self):
        self.counts = {c: 0 for c in CLASSES}
        self.routes: dict[str, dict[str, int]] = {}
        self.findings: dict[tuple, dict] = {}
        self.slowest: list[tuple[float, int, str]] = []
        self.cpu = 0.0

    def add(self, result: dict) -> None:
        outcome = result["outcome"]
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        route = self.routes.setdefault(result.get("route", "?"), {})
        route[outcome] = route.get(outcome, 0) + 1
        self.cpu += result.get("cpu_s") or 0.0
        if outcome in ("ok", "clean"):
            self.slowest = sorted(self.slowest + [(result.get("cpu_s") or 0.0, result["id"],
                                                   result.get("route", "?"))], reverse=True)[:5]
        if outcome not in BAD and outcome != "generator-error":
            return
        key = (outcome, result.get("exc"), result.get("frame"))
        entry = self.findings.setdefault(key, {"class": outcome, "exc": key[1],
                                               "frame": key[2], "count": 0, "ids": [],
                                               "routes": [], "size": None})
        entry["count"] += 1
        entry["ids"] = (entry["ids"] + [result["id"]])[:8]
        if result.get("route") not in entry["routes"]:
            entry["routes"].append(result.get("route"))
        size = result.get("size")
        if size is not None and (entry["size"] is None or size < entry["size"]):
            entry.update(size=size, smallest=result["id"], message=result.get("message"),
                         ops=result.get("ops"), trace=result.get("trace"))

    def bad(self) -> int:
        return sum(self.counts[c] for c in BAD)


def run_campaign(cases: int, seed: int, workers: int = 2, budget_s: float = 2.0,
                 budget_mib: int = 200, start: int = 0, restart_every: int = 1000,
                 minimize_s: float = 0.0, progress=None) -> dict:
    """Run cases [start, start + cases) of ``seed``; the report as a dict."""
    tally, began = Tally(), time.monotonic()
    cpu0 = _children_cpu()
    with Pool(workers, budget_s, budget_mib, restart_every) as pool:
        for result in pool.run_many(seed, range(start, start + cases)):
            tally.add(result)
            if progress and sum(tally.counts.values()) % 1000 == 0:
                progress(tally, time.monotonic() - began)
        elapsed = time.monotonic() - began
        findings = sorted(tally.findings.values(), key=lambda f: (BAD.index(f["class"])
                                                                 if f["class"] in BAD else 9,
                                                                 -f["count"]))
        for finding in findings:
            if "smallest" in finding:
                finding["case"] = make_case(seed, finding["smallest"])
        if minimize_s > 0:
            from fuzz_minimize import minimize_all
            minimize_all(pool, findings, deadline=time.monotonic() + minimize_s)
    done = sum(tally.counts.values())
    cpu = _children_cpu() - cpu0  # workers and their subprocesses, start-ups and minimizing too
    return {"seed": seed, "start": start, "cases": done, "elapsed_s": round(elapsed, 1),
            "cases_per_s": round(done / elapsed, 1) if elapsed else None,
            "worker_cpu_ms_per_case": round(1000 * cpu / max(done, 1), 1),
            "mean_case_cpu_ms": round(1000 * tally.cpu / max(done, 1), 1),
            "workers": workers, "budget_s": budget_s, "budget_mib": budget_mib,
            "counts": tally.counts, "routes": tally.routes, "findings": findings,
            "slowest_passing": [{"cpu_s": c, "id": i, "route": r} for c, i, r in tally.slowest],
            "worker_starts": pool.starts, "api": pool.api_info}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def describe_case(case: dict, max_lines: int = 40, max_width: int = 160) -> str:
    """The case as a person reproduces it: route, arguments, and the files it writes."""
    lines = [f"route: {case['route']}   ops: {', '.join(case.get('ops', []))}"]
    for field in ("argv", "params", "target"):
        if case.get(field) is not None:
            lines.append(f"{field}: {case[field]!r}"[:max_width * 2])
    contents = dict(case.get("files", {}))
    contents.update({k: base64.b64decode(v).decode("utf-8", "backslashreplace")
                     for k, v in case.get("bfiles", {}).items()})
    for key, name in (("text_b64", "spec text"), ("stdin_b64", "stdin")):
        if case.get(key):
            contents[name] = base64.b64decode(case[key]).decode("utf-8", "backslashreplace")
    if case.get("tree") is not None:
        contents["mapping"] = json.dumps(case["tree"], indent=1)
    for name, text in contents.items():
        body = text.splitlines() or [""]
        lines.append(f"--- {name!r} ({len(text)} chars)")
        for line in body[:max_lines]:
            shown = line.encode("unicode_escape").decode("ascii")
            lines.append("    " + (shown if len(shown) <= max_width
                                   else shown[:max_width] + f"... (+{len(shown) - max_width})"))
        if len(body) > max_lines:
            lines.append(f"    ... {len(body) - max_lines} more lines")
    return "\n".join(lines)


def print_summary(report: dict, out=sys.stdout) -> None:
    print(f"seed {report['seed']}: {report['cases']} cases in {report['elapsed_s']} s "
          f"({report['cases_per_s']} cases/s, {report['workers']} workers; CPU per case: "
          f"{report['mean_case_cpu_ms']} ms in archspec, {report['worker_cpu_ms_per_case']} ms "
          f"in all)", file=out)
    print("  " + "  ".join(f"{k}={v}" for k, v in report["counts"].items()), file=out)
    for route, counts in sorted(report["routes"].items()):
        print(f"  {route:12s} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())),
              file=out)
    print(f"{len(report['findings'])} distinct findings", file=out)
    for n, f in enumerate(report["findings"], 1):
        again = {True: ", reproduced", False: ", NOT reproduced on replay"}.get(
            f.get("reproduced"), "")
        print(f"\n[{n}] {f['class']}: {f['exc']} at {f['frame']}  ({f['count']} cases, "
              f"routes {', '.join(map(str, f['routes']))}{again})", file=out)
        if f.get("message"):
            print(f"    message: {f['message'][:300]!r}", file=out)
        if f.get("trace"):
            tail = f["trace"].rstrip().splitlines()[-7:-1]  # the innermost frames
            print("    where:\n" + "\n".join("      " + line for line in tail), file=out)
        if "smallest" in f:
            print(f"    replay: python benchmarks/fuzz.py --seed {report['seed']} "
                  f"--replay {f['smallest']}" + (" (minimized below)" if f.get("minimized")
                                                 else ""), file=out)
        if f.get("case"):
            print("    " + describe_case(f.get("minimized") or f["case"], max_lines=25)
                  .replace("\n", "\n    "), file=out)


def replay(seed: int, index: int, budget_s: float, budget_mib: int) -> int:
    case = make_case(seed, index)
    print(describe_case(case, max_lines=10**6, max_width=10**6))
    print(f"size: {case_size(case)}")
    with Pool(1, budget_s, budget_mib, 10) as pool:
        result = pool.run_case(case)
    trace = result.pop("trace", None)
    print(json.dumps(result, indent=1))
    if trace:
        print(trace)
    return 0 if result["outcome"] in ("ok", "clean", "skip") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None,
                        help="default: random (printed, so a run can be repeated)")
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget-s", type=float, default=2.0, help="CPU seconds per case")
    parser.add_argument("--budget-mib", type=int, default=200)
    parser.add_argument("--restart-every", type=int, default=1000,
                        help="cases per worker before a fresh one takes over")
    parser.add_argument("--minimize-s", type=float, default=120.0,
                        help="seconds to spend shrinking the reproducers (0: none)")
    parser.add_argument("--report", help="write the full report as JSON here")
    parser.add_argument("--replay", type=int, help="run one case of --seed and show it")
    options = parser.parse_args(argv)
    seed = options.seed if options.seed is not None else int.from_bytes(os.urandom(4), "big")
    if options.replay is not None:
        return replay(seed, options.replay, options.budget_s, options.budget_mib)
    print(f"archspec fuzz: seed {seed}, cases {options.start}..{options.start + options.cases - 1}",
          flush=True)

    def progress(tally, elapsed):
        done = sum(tally.counts.values())
        print(f"  {done} cases, {done / elapsed:.1f}/s, bad: " + ", ".join(
            f"{c}={tally.counts[c]}" for c in BAD), flush=True)

    report = run_campaign(options.cases, seed, options.workers, options.budget_s,
                          options.budget_mib, options.start, options.restart_every,
                          options.minimize_s, progress)
    print_summary(report)
    if options.report:
        Path(options.report).write_text(json.dumps(report, indent=1, default=str))
    return 1 if any(report["counts"][c] for c in ("traceback", "hang", "over-memory")) else 0


if __name__ == "__main__":
    sys.exit(main())
