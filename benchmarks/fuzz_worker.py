"""A fuzz worker: a process that runs cases through archspec, one at a time, under budgets.

Protocol (JSON lines): the parent writes ``{"seed", "id"}`` (the worker generates the case) or
``{"case": {...}}`` (an explicit case, when minimizing) or ``{"quit": true}``; the worker
answers ``{"ready": ...}`` once, then one result per case, and ``{"extend": seconds}`` before a
case's compile stage so the parent's deadline follows. Its own stdin/stdout/stderr are moved
to private descriptors first, so nothing archspec prints can corrupt the protocol.

Budgets: CPU time via ITIMER_PROF (a wall clock would call a loaded machine's slowness a hang),
raising ``Budget`` inside archspec so the hang has a frame; memory via RLIMIT_AS at the
warmed-up size plus the budget, and the per-case peak RSS (VmHWM, reset through clear_refs).
A case stuck in C code or blocked is killed by the parent; faulthandler has written its stack
to ``--fault-file`` by then.
"""

from __future__ import annotations

import argparse
import base64
import faulthandler
import gc
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time

from fuzz_cases import SUPPORT_FILES, case_size, make_case, zoo
from fuzz_exec import (Api, Budget, classify, run_api, run_cli, run_cli_subprocess)

COMPILE_CPU_S = 30.0  # torch's model building and forward pass are not archspec's analysis:
COMPILE_MIB = 1024    # they get their own, larger budgets
MiB = 1 << 20


def proc_status(field: str) -> float:
    """A /proc/self/status size in MiB (VmRSS, VmHWM, VmSize)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


class _NotAnError(Exception):
    """Stands for SpecError where a SpecError escaping is itself the bug (the CLI's)."""


class Sandbox:
    """A directory holding the zoo and the extends targets; a case adds files and leaves."""

    def __init__(self, root: str | None):
        self.dir = tempfile.mkdtemp(prefix="sandbox-", dir=root)
        for name, text in {**zoo(), **SUPPORT_FILES}.items():
            with open(os.path.join(self.dir, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        self.template = set(os.listdir(self.dir)) | {"warm.json"}
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def prepare(self, case: dict) -> None:
        for name, text in case.get("files", {}).items():
            self._write(name, text.encode("utf-8", "surrogatepass"))
        for name, data in case.get("bfiles", {}).items():
            self._write(name, base64.b64decode(data))
        for name in case.get("dirs", []):
            os.mkdir(os.path.join(self.dir, name))
        for name, target in case.get("symlinks", {}).items():
            os.symlink(target, os.path.join(self.dir, name))
        self.stop.clear()
        for name, text in case.get("fifos", {}).items():
            path = os.path.join(self.dir, name)
            os.mkfifo(path)
            thread = threading.Thread(target=self._feed, args=(path, text.encode()), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _write(self, name: str, data: bytes) -> None:
        with open(os.path.join(self.dir, name), "wb") as handle:
            handle.write(data)

    def _feed(self, path: str, data: bytes) -> None:
        """A writer for a FIFO, if archspec ever opens it for reading."""
        while not self.stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.005)
                continue
            os.set_blocking(fd, True)
            try:
                os.write(fd, data)
            except OSError:
                pass
            finally:
                os.close(fd)
            return

    def clean(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=1)
        self.threads.clear()
        os.chdir(self.dir)
        for name in set(os.listdir(self.dir)) - self.template:
            path = os.path.join(self.dir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


class Worker:
    def __init__(self, options, send):
        self.budget_s, self.budget_mib = options.budget_s, options.budget_mib
        self.wall_s, self.send = options.wall_s, send
        self.fault = open(options.fault_file, "w+b", buffering=0)
        faulthandler.enable(file=self.fault)  # a crash leaves its stack here too
        self.sandbox = Sandbox(options.sandbox_root)
        os.chdir(self.sandbox.dir)
        threading.stack_size(512 * 1024)
        self.api = Api()
        self.torch_ready = False
        self.subprocess_baseline: dict | None = None
        self._warm_up()
        signal.signal(signal.SIGPROF, self._on_budget)
        gc.collect()
        gc.freeze()  # the warmed-up heap is permanent: per-case collections skip it

    def _on_budget(self, _signum, _frame):
        raise Budget()

    def _limit_memory(self, budget_mib: float | None = None) -> None:
        size = int((proc_status("VmSize") + (budget_mib or self.budget_mib)) * MiB)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (size, hard))

    def _warm_up(self) -> dict:
        """Every lazy import and cache a normal case touches, before the baseline is taken."""
        calls = [(self.api.archspec.check, name, {}) for name in
                 ("mnist_cnn.yaml", "resnet.yaml", "googlenet.yaml", "mobilenet_v2.yaml")]
        calls += [(self.api.archspec.generate, "inception_course.yaml", {"backend": b})
                  for b in ("torch", "keras")]
        for function, name, kwargs in calls:
            try:
                function(name, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a zoo spec broken mid-edit: warm the rest
                print(f"warm-up: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        import difflib, json, traceback  # noqa: F401, E401 - used lazily by archspec
        with open("warm.json", "w") as handle:
            handle.write('{"name": "w", "input": [4], "layers": ["Flaten"], }')
        for argv in (["check", "mnist_cnn.yaml"], ["check", "--json", "base_bad.yaml"],
                     ["check", "warm.json"], ["compile", "lenet5.yaml", "--backend", "keras"]):
            run_cli(self.api, {"argv": argv})

    def _subprocess_baseline(self) -> dict:
        """What a plain `archspec check` costs as a process: subtracted from each run's."""
        if self.subprocess_baseline is None:
            case = {"argv": ["check", "mnist_cnn.yaml"]}
            runs = [run_cli_subprocess(case, 1e9, 120, {}) for _ in range(2)]
            self.subprocess_baseline = {"cpu": max(r["cpu_s"] for r in runs),
                                        "rss_mib": max(r["peak_mib"] for r in runs),
                                        "budget_mib": self.budget_mib}
        return self.subprocess_baseline

    def _stage(self, name: str) -> None:
        """Called by the executor before the compile stage: torch loads outside the budgets."""
        if name != "compile":
            return
        signal.setitimer(signal.ITIMER_PROF, 0)
        faulthandler.cancel_dump_traceback_later()
        self.analysis_cpu = time.process_time() - self.cpu0
        self.analysis_peak = proc_status("VmHWM") - self.rss0
        self.send({"extend": COMPILE_CPU_S * 3 + 60})  # importing torch alone takes seconds
        if not self.torch_ready:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            import torch
            torch.set_num_threads(1)
            self.torch_ready = True
            gc.collect()
            gc.freeze()  # torch's objects too: a collection per case must not walk them
        self._limit_memory(max(self.budget_mib, COMPILE_MIB))
        reset_peak()
        self.rss0 = proc_status("VmRSS")
        self.send({"extend": COMPILE_CPU_S * 3 + 30})
        faulthandler.dump_traceback_later(COMPILE_CPU_S * 3 + 25, file=self.fault)
        self.cpu0 = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, COMPILE_CPU_S)

    def run(self, case: dict) -> dict:
        if case["route"] == "cli-subproc":
            self._subprocess_baseline()
        self.sandbox.prepare(case)
        self.fault.seek(0)
        self.fault.truncate()
        gc.collect()
        self._limit_memory()  # from where this case starts: a worker's heap creeps up
        reset_peak()
        self.rss0, self.analysis_cpu, self.analysis_peak = proc_status("VmRSS"), None, 0.0
        units = case.get("units", 1)
        if units > 1:
            self.send({"extend": self.wall_s * units})
        faulthandler.dump_traceback_later(self.wall_s * units - 1.0, file=self.fault)
        wall0 = time.monotonic()
        self.cpu0 = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, self.budget_s * case.get("units", 1))
        try:
            try:
                result = self._execute(case)
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
                faulthandler.cancel_dump_traceback_later()
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding or a clean error
            spec_error = _NotAnError if case["route"] == "cli" else self.api.SpecError
            result = classify(exc, spec_error, bool(case.get("locatable")))
            del exc
        cpu = time.process_time() - self.cpu0
        peak = proc_status("VmHWM") - self.rss0
        self.sandbox.clean()
        return self._judge(result, case, cpu, peak, time.monotonic() - wall0)

    def _judge(self, result: dict, case: dict, cpu: float, peak: float, wall: float) -> dict:
        compiled = self.analysis_cpu is not None
        budget = self.budget_s * case.get("units", 1)
        late = cpu > (COMPILE_CPU_S if compiled else budget) or \
            (compiled and self.analysis_cpu > budget)
        big = peak > (max(self.budget_mib, COMPILE_MIB) if compiled else self.budget_mib) or \
            (compiled and self.analysis_peak > self.budget_mib)
        if case["route"] != "cli-subproc" and result["outcome"] not in ("hang", "over-memory"):
            stage = "compile" if compiled else "analysis"
            if late:
                result = {"outcome": "hang", "exc": "Budget", "frame": f"<{stage} finished late>"}
            elif big:
                result = {"outcome": "over-memory", "exc": "PeakRSS", "frame": f"<{stage} peak>",
                          "message": f"peak {peak:.0f} MiB above the baseline"}
        result.setdefault("cpu_s", round(cpu + (self.analysis_cpu or 0), 4))
        result.setdefault("peak_mib", round(peak, 1))
        result.update(id=case.get("id"), route=case["route"], wall_s=round(wall, 4),
                      size=case_size(case), ops=case.get("ops", []),
                      compiled=result.get("compiled", compiled))
        result["exiting"] = result["outcome"] in ("hang", "over-memory")
        return result

    def _execute(self, case: dict) -> dict:
        route = case["route"]
        if route == "selftest":
            return selftest(case["kind"], self.budget_mib, self.api)
        if route == "cli":
            return run_cli(self.api, case)
        if route == "cli-subproc":
            signal.setitimer(signal.ITIMER_PROF, 0)  # the child's CPU is what counts
            units = case.get("units", 1)
            return run_cli_subprocess(case, self.budget_s * units, self.wall_s * units - 2,
                                      self.subprocess_baseline)
        return run_api(self.api, case, self._stage)


def selftest(kind: str, budget_mib: int, api: Api) -> dict:
    """Known misbehaviour, so the tests can prove each outcome is detected."""
    from archspec.errors import Diagnostic, Location
    if kind == "spin":
        while True:
            pass
    if kind == "sleep":
        time.sleep(3600)
    if kind == "allocate":
        return {"outcome": "ok", "size": len(bytearray(4 * budget_mib * MiB))}
    if kind == "touch":  # under RLIMIT_AS's reach only through the peak: many small blocks
        blocks = [bytearray(MiB) for _ in range(int(budget_mib * 0.9))]
        return {"outcome": "ok", "blocks": len(blocks) - len(blocks)}
    if kind == "raise":
        raise KeyError("selftest")
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "unlocated":
        raise api.SpecError([Diagnostic("nowhere")])
    if kind == "clean":
        raise api.SpecError([Diagnostic("somewhere", location=Location("f.yaml", 1, 1))])
    return {"outcome": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-s", type=float, required=True)
    parser.add_argument("--budget-mib", type=int, required=True)
    parser.add_argument("--wall-s", type=float, required=True)
    parser.add_argument("--fault-file", required=True)
    parser.add_argument("--sandbox-root", help="where the case directory goes (the pool's)")
    options = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    inbox = os.fdopen(os.dup(0), "r", encoding="utf-8")
    outbox = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    sys.stdout = open(os.devnull, "w")

    def send(message: dict) -> None:
        outbox.write(json.dumps(message, ensure_ascii=True) + "\n")
        outbox.flush()

    worker = Worker(options, send)
    send({"ready": True, "pid": os.getpid(), "mapping": worker.api.takes_mapping,
          "loads": worker.api.loads is not None, "baseline_mib": proc_status("VmRSS")})
    for line in inbox:
        message = json.loads(line)
        if message.get("quit"):
            break
        try:
            case = message.get("case") or make_case(message["seed"], message["id"])
        except Exception as exc:  # noqa: BLE001 - the fuzzer's own bug, reported apart
            send({"id": message.get("id"), "outcome": "generator-error", "exc": type(exc).__name__,
                  "message": str(exc)[:400]})
            continue
        result = worker.run(case)
        send(result)
        if result["exiting"]:
            break


if __name__ == "__main__":
    main()
