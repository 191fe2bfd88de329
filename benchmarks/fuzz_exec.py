"""Running one fuzz case through archspec, and telling what happened.

Each route hands the case to archspec as a user would: ``archspec.check`` on a path, spec text
(``archspec.loads`` where it exists), a mapping, ``archspec.generate``, the command line in
process (``main(args, standalone_mode=False)``) or as a subprocess, and for a few valid, small
specs ``archspec.compile`` plus a forward pass. The API is read when the worker starts, so the
fuzzer keeps working while archspec's entry points change.

Outcomes: ok, clean (archspec's own error, or exit 1/2 with a message), traceback, hang,
over-memory, unlocated (a diagnostic about readable spec text with no line/column), skip.
"""

from __future__ import annotations

import base64
import inspect
import io
import os
import re
import subprocess
import sys
import threading
import traceback
from pathlib import Path

ARCHSPEC_DIR = str(Path(__file__).resolve().parent.parent / "archspec")
# The child writes its own /proc/self/status at exit: ru_maxrss of a forked child counts the
# (large) parent's pages from before exec, VmHWM only the child's.
ENTRY = ("import atexit, os, shutil\n"
         "atexit.register(lambda: shutil.copyfile('/proc/self/status', os.environ['FUZZ_STATUS']))\n"
         "from archspec._entry import main; main()")
LOCATABLE_SOURCES = {"case.yaml", "case.json", "{x}.yaml", "a\nb.yaml", "-"}
MAX_COMPILE_PARAMS, MAX_COMPILE_MACS = 3_000_000, 2_000_000_000  # a forward pass ≲ 1 s


class Budget(BaseException):
    """The case used its CPU budget. A BaseException, so no ``except Exception`` in archspec
    can mistake it for one of its own failures."""


class Finding(Exception):
    """A wrong result that raised nothing (a compiled model's output shape, a silent exit)."""


def innermost_frame(tb) -> str:
    """'archspec/ir/builder.py:_repeat' for the deepest archspec frame of a traceback."""
    found = "<no archspec frame>"
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(ARCHSPEC_DIR):
            found = f"archspec{code.co_filename[len(ARCHSPEC_DIR):]}:{code.co_name}"
        tb = tb.tb_next
    return found


def _chain(exc: BaseException):
    seen = 0
    while exc is not None and seen < 20:
        yield exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1


def classify(exc: BaseException, spec_error: type, locatable: bool) -> dict:
    """An exception raised out of archspec, as an outcome with its dedup fields."""
    frame = innermost_frame(exc.__traceback__)
    if any(isinstance(e, Budget) for e in _chain(exc)):
        return {"outcome": "hang", "exc": "Budget", "frame": frame, "trace": _trace(exc)}
    if any(isinstance(e, MemoryError) for e in _chain(exc)):
        return {"outcome": "over-memory", "exc": "MemoryError", "frame": frame,
                "message": _first(exc), "trace": _trace(exc)}
    if isinstance(exc, spec_error):
        bad = unlocated(exc.diagnostics) if locatable else []
        return _unlocated(exc, bad, frame) if bad else {"outcome": "clean"}
    return {"outcome": "traceback", "exc": type(exc).__name__, "frame": frame,
            "message": _first(exc), "trace": _trace(exc)}


def _trace(exc: BaseException) -> str:
    """The innermost frames, as Python prints them (the report shows where, not just what)."""
    try:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8,
                                           chain=False)
    except Exception:  # noqa: BLE001 - MemoryError's aftermath, a message that fails to format
        return ""
    return "".join(lines)[-2500:]


def _first(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception as inner:  # noqa: BLE001 - a message that cannot be shown is data too
        text = f"<str() failed: {type(inner).__name__}>"
    return text[:400]


def unlocated(diagnostics) -> list[str]:
    return [f"{d.path}: {d.message}"[:300] for d in diagnostics
            if getattr(d.location, "line", None) is None]


def template(message: str) -> str:
    """A message without its particulars, so one kind of unlocated diagnostic is one finding."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message.split(": ", 1)[-1])
    message = re.sub(r"\d[\d,_]*", "N", message)
    return re.sub(r"\b(\w{3,}?)s\b", r"\1", message)[:60]  # "1 problem", "3 problems": one


def _unlocated(exc, bad: list[str], frame: str) -> dict:
    return {"outcome": "unlocated", "exc": f"{type(exc).__name__}[{template(bad[0])}]",
            "frame": frame, "message": bad[0]}


class Api:
    """archspec's entry points as found in this tree."""

    def __init__(self):
        import archspec
        import archspec.cli
        self.archspec, self.cli = archspec, archspec.cli
        self.SpecError = archspec.SpecError
        self.loads = getattr(archspec, "loads", None)
        hints = str(inspect.signature(archspec.check).parameters["spec"].annotation)
        hints += str(getattr(sys.modules.get("archspec.api"), "SpecLike", ""))
        self.takes_mapping = "Mapping" in hints or "dict" in hints
        self.reported: list = []
        original = getattr(archspec.cli, "_report_errors", None)
        if original is not None:  # record what the CLI printed, to check its locations
            def spy(exc, as_json, source, *rest, **kw):
                self.reported.append((source, exc))
                return original(exc, as_json, source, *rest, **kw)
            archspec.cli._report_errors = spy


def spec_text(case: dict):
    data = base64.b64decode(case["text_b64"])
    return data if case.get("decode") == "bytes" else data.decode("utf-8", case["decode"])


def run_api(api: Api, case: dict, stage) -> dict:
    """check / loads / mapping / generate; compile + forward for a few valid small specs."""
    saved = sys.stdin  # for the path "-"
    sys.stdin = _text_stream(base64.b64decode(case.get("stdin_b64", "")))
    try:
        return _run_api(api, case, stage)
    finally:
        sys.stdin = saved


def _run_api(api: Api, case: dict, stage) -> dict:
    route, params = case["route"], case.get("params")
    check = api.archspec.check
    if route == "api-mapping":
        if not api.takes_mapping:
            return {"outcome": "skip"}
        source = case["tree"]
    elif route == "api-text":
        text = spec_text(case)
        if api.loads is not None:
            source, params = api.loads(text, params), None
        else:
            source = text if isinstance(text, str) else text.decode("utf-8", "replace")
            source = source if "\n" in source or source.lstrip().startswith("{") else source + "\n"
    else:
        source = case["target"]
    if route == "generate":
        api.archspec.generate(source, backend=case["backend"], params=params)
        return {"outcome": "ok"}
    report = check(source, params)
    bad = unlocated(report.warnings) if case.get("locatable") else []
    if bad:
        return {"outcome": "unlocated", "exc": f"Warning[{template(bad[0])}]",
                "frame": "<report.warnings>", "message": bad[0]}
    totals = report.totals
    if case.get("compile") and totals.get("trainable_params", 0) <= MAX_COMPILE_PARAMS and \
            totals.get("macs", 0) <= MAX_COMPILE_MACS:
        stage("compile")
        compile_forward(api, source, params, report)
        return {"outcome": "ok", "compiled": True}
    return {"outcome": "ok"}


def compile_forward(api: Api, source, params, report) -> None:
    """The torch model of a valid spec runs, and its output has the analysed shape."""
    import torch
    model = api.archspec.compile(source, backend="torch", params=params)
    shape = list(report.input_shape)
    if report.layout == "channels_last" and len(shape) > 1:
        shape = shape[-1:] + shape[:-1]
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros([1] + shape))
    want = list(report.output_shape)
    if report.layout == "channels_last" and len(want) > 1:
        want = want[-1:] + want[:-1]
    if list(out.shape[1:]) != want:
        raise Finding(f"torch output {list(out.shape[1:])}, analysis {want}")


def _text_stream(data: bytes = b"") -> io.TextIOWrapper:
    # As a pipe behaves: UTF-8, strict, so output that cannot be encoded fails here as well.
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict",
                            write_through=True)


def run_cli(api: Api, case: dict) -> dict:
    import click
    stdin = base64.b64decode(case.get("stdin_b64", ""))
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = _text_stream(stdin), _text_stream(), _text_stream()
    api.reported.clear()
    os.environ["ARCHSPEC_DEBUG"] = "1"  # internal errors propagate, with their frames
    try:
        code = api.cli.main.main(args=list(case["argv"]), prog_name="archspec",
                                 standalone_mode=False)
        message = ""
    except SystemExit as exc:
        code, message = exc.code, ""
    except click.exceptions.ClickException as exc:
        code, message = exc.exit_code, exc.format_message()
    except click.exceptions.Abort:
        code, message = 1, "aborted"
    finally:
        out, err = sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.pop("ARCHSPEC_DEBUG", None)
    text = out.buffer.getvalue() + err.buffer.getvalue()
    return cli_outcome(api, case, code, message or text.decode("utf-8", "replace"))


def _readable(case: dict) -> set[str]:
    """Command-line sources whose diagnostics must carry line:column: spec text it can read."""
    written = set(case.get("files", {})) | set(case.get("bfiles", {}))
    return {s for s in LOCATABLE_SOURCES if s in written or (s == "-" and
                                                             case.get("stdin_b64"))}


def cli_outcome(api: Api, case: dict, code, message: str) -> dict:
    code = 0 if code is None else code
    if code not in (0, 1, 2, 141):
        return {"outcome": "traceback", "exc": f"Exit({code!r})", "frame": "<cli>",
                "message": message[:400]}
    if code in (1, 2) and not message.strip():
        return {"outcome": "traceback", "exc": "SilentExit", "frame": "<cli>"}
    readable = _readable(case)
    for source, exc in api.reported:
        bad = unlocated(exc.diagnostics) if source in readable else []
        if bad:
            return _unlocated(exc, bad, "<cli>")
    return {"outcome": "ok" if code == 0 else "clean"}


def _child_peak(path: str) -> float:
    """VmHWM (MiB) the child recorded; 0 when it died before writing it."""
    try:
        with open(path) as handle:
            text = handle.read()
        os.unlink(path)
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+)", text, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


INTERNAL = re.compile(r"internal error: (\w+)")
TRACEBACK_LAST = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit|Interrupt)\b)", re.M)
UNLOCATED_LINE = re.compile(r"^(.*?): (?:error|warning): ", re.M)


def run_cli_subprocess(case: dict, budget_s: float, wall_s: float, baseline: dict) -> dict:
    """The console script as users run it: exit code, stderr, CPU and peak memory from wait4."""
    import tempfile
    env = {k: v for k, v in os.environ.items() if k != "ARCHSPEC_DEBUG"}
    env["FUZZ_STATUS"] = status_path = os.path.abspath("child-status")
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err:
        stdin.write(base64.b64decode(case.get("stdin_b64", "")))
        stdin.seek(0)
        try:
            proc = subprocess.Popen([sys.executable, "-c", ENTRY, *case["argv"]], stdin=stdin,
                                    stdout=out, stderr=err, env=env)
        except (ValueError, OSError):  # an argument the OS cannot pass (NUL)
            return {"outcome": "skip"}
        timer = threading.Timer(wall_s, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        said = stderr + out.read(4096).decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime - baseline.get("cpu", 0.0)
    peak = _child_peak(status_path) - baseline.get("rss_mib", 0.0)
    result = {"cpu_s": round(cpu, 3), "peak_mib": round(peak, 1)}
    if code == -9 or cpu > budget_s:
        return {**result, "outcome": "hang", "exc": "Timeout", "frame": "<subprocess>"}
    match = INTERNAL.search(stderr) or ("Traceback (most recent" in stderr and
                                        TRACEBACK_LAST.search(stderr))
    if match or code < 0:
        name = match.group(1) if match else f"Signal{-code}"
        kind = "over-memory" if name == "MemoryError" else "traceback"
        return {**result, "outcome": kind, "exc": name, "frame": "<subprocess>",
                "message": stderr[-400:]}
    if peak > baseline.get("budget_mib", 1e9):
        return {**result, "outcome": "over-memory", "exc": "PeakRSS", "frame": "<subprocess>"}
    if code not in (0, 1, 2, 141) or (code in (1, 2) and not said.strip()):
        return {**result, "outcome": "traceback", "exc": f"Exit({code})", "frame": "<subprocess>",
                "message": stderr[-400:]}
    readable = _readable(case)
    names = readable | {ascii(n) for n in readable} | ({"<stdin>"} if "-" in readable else set())
    for where in UNLOCATED_LINE.findall(stderr):
        if where in names:  # a file it could read, named without line:column
                line = next(x for x in stderr.splitlines() if x.startswith(where + ": "))
                return {**result, "outcome": "unlocated", "frame": "<subprocess>",
                        "exc": f"SpecError[{template(line.split(': ', 2)[-1])}]",
                        "message": line[:300]}
    return {**result, "outcome": "ok" if code == 0 else "clean"}
