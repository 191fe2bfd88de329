"""The fuzzer's worker pool: start workers, hand out cases, enforce the wall-clock deadline.

A worker that does not answer by its deadline is killed (the case is a hang; faulthandler has
written the stuck stack to the worker's fault file), one that dies is a crash, and one that
asks (after a hang or an over-allocation) or has run ``restart_every`` cases is replaced, so
caches and fragmentation do not build up across cases.
"""

from __future__ import annotations

import collections
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fuzz_cases import case_size, make_case

HERE = Path(__file__).resolve().parent
WORKER = HERE / "fuzz_worker.py"
ROOT = HERE.parent
FRAME = re.compile(r'File "([^"]*)", line \d+ in (\S+)')
STARTUP_S = 240.0


def wall_limit(budget_s: float) -> float:
    """Generous: the CPU budget is the real limit; this only catches blocked or C-bound work
    on a machine that other processes share."""
    return budget_s * 4 + 6


def fault_frame(text: str) -> str:
    """The innermost archspec frame of a faulthandler dump (most recent call first)."""
    archspec_dir = str(ROOT / "archspec")
    for path, function in FRAME.findall(text):
        if path.startswith(archspec_dir):
            return f"archspec{path[len(archspec_dir):]}:{function}"
    return "<no archspec frame>"


class Handle:
    def __init__(self, pool: "Pool", index: int):
        self.pool, self.index = pool, index
        self.fault_path = os.path.join(pool.tmp, f"fault-{index}")
        self.log_path = os.path.join(pool.tmp, f"worker-{index}.log")
        env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1",
               "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("ARCHSPEC_DEBUG", None)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), "--budget-s", str(pool.budget_s), "--budget-mib",
                 str(pool.budget_mib), "--wall-s", str(pool.wall_s), "--fault-file",
                 self.fault_path, "--sandbox-root", pool.tmp], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=ROOT, env=env)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer, self.job, self.deadline, self.done = b"", None, None, 0
        pool.starts += 1
        ready = self._wait_line(STARTUP_S)
        if not ready or not ready.get("ready"):
            self.kill()
            raise RuntimeError(f"a fuzz worker did not start; its log ends:\n{self.log_tail()}")
        pool.api_info = {k: ready[k] for k in ("mapping", "loads", "baseline_mib")}

    def log_tail(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _wait_line(self, timeout: float):
        end = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < end:
                messages, eof = self.read()
                if messages:
                    return messages[0]
                if eof:
                    return None
                sel.select(max(0.0, end - time.monotonic()))
        return None

    def send(self, message: dict, job) -> None:
        self.job, self.deadline = job, time.monotonic() + self.pool.wall_s
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def read(self) -> tuple[list[dict], bool]:
        """Complete messages available now, and whether the worker has gone."""
        eof = False
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                eof = True
                break
            self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], eof

    def fault_text(self) -> str:
        try:
            return Path(self.fault_path).read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def quit(self) -> None:
        try:
            self.proc.stdin.write(b'{"quit": true}\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class Pool:
    def __init__(self, workers: int, budget_s: float, budget_mib: int, restart_every: int,
                 wall_s: float | None = None):
        self.budget_s, self.budget_mib, self.restart_every = budget_s, budget_mib, restart_every
        self.wall_s = wall_s or wall_limit(budget_s)
        self.size, self.starts, self.api_info = workers, 0, {}
        self.tmp = tempfile.mkdtemp(prefix="archspec-fuzz-pool-")
        self.handles: list[Handle] = []

    def __enter__(self) -> "Pool":
        self.handles = [Handle(self, i) for i in range(self.size)]
        return self

    def __exit__(self, *_exc) -> None:
        for handle in self.handles:
            handle.quit()
        shutil.rmtree(self.tmp, ignore_errors=True)  # sandboxes, logs, fault files

    def run_many(self, seed: int, ids):
        """Results of cases ``ids`` of ``seed``, in completion order."""
        jobs = (({"seed": seed, "id": i}, (seed, i, None)) for i in ids)
        yield from self._run(jobs)

    def run_case(self, case: dict) -> dict:
        return next(self._run(iter([({"case": case}, (None, case.get("id"), case))])))

    def _run(self, jobs):
        queue = collections.deque(jobs)
        while queue or any(h.job is not None for h in self.handles):
            for handle in self.handles:
                if handle.job is None and queue:
                    message, job = queue.popleft()
                    handle.send(message, job)
            yield from self._collect()

    def _collect(self):
        busy = [h for h in self.handles if h.job is not None]
        timeout = max(0.0, min(h.deadline for h in busy) - time.monotonic())
        with selectors.DefaultSelector() as sel:
            for handle in busy:
                sel.register(handle.proc.stdout, selectors.EVENT_READ, handle)
            ready = [key.data for key, _ in sel.select(timeout)]
        results = []  # workers are replaced before anything is yielded: a caller may stop early
        for handle in ready:
            messages, eof = handle.read()
            for message in messages:
                if "extend" in message:
                    handle.deadline = time.monotonic() + message["extend"]
                elif "outcome" in message:
                    handle.job = None
                    handle.done += 1
                    results.append(message)
                    if message.get("exiting") or handle.done >= self.restart_every:
                        self._replace(handle, graceful=not message.get("exiting"))
            if eof and handle.job is not None:
                results.append(self._lost(handle, died=True))
        for handle in [h for h in self.handles if h.job is not None]:
            if time.monotonic() > handle.deadline:
                results.append(self._lost(handle, died=False))
        yield from results

    def _lost(self, handle: Handle, died: bool) -> dict:
        """The result for the case a worker never answered: it hung (killed) or died."""
        seed, index, case = handle.job
        if not died:
            handle.proc.send_signal(signal.SIGKILL)
        handle.kill()
        code = handle.proc.returncode
        case = case or make_case(seed, index)
        frame = fault_frame(handle.fault_text())
        if died:
            name = signal.Signals(-code).name if code and code < 0 else f"exit {code}"
            outcome = "over-memory" if name == "SIGKILL" else "traceback"
            result = {"outcome": outcome, "exc": f"WorkerDied({name})", "frame": frame}
        else:
            result = {"outcome": "hang", "exc": "Killed", "frame": frame,
                      "message": f"no answer in {self.wall_s:.0f} s"}
        result.update(id=index, route=case["route"], size=case_size(case),
                      ops=case.get("ops", []), cpu_s=None)
        handle.job = None
        self._replace(handle, graceful=False)
        return result

    def _replace(self, handle: Handle, graceful: bool) -> None:
        handle.quit() if graceful else handle.kill()
        self.handles[self.handles.index(handle)] = Handle(self, handle.index)
