"""Run the archspec CLI in a fresh interpreter that reports its own peak memory: the hostile-
input tests hold every case to a time and memory budget."""

from __future__ import annotations

import re
import subprocess
import sys

# VmHWM, not getrusage: ru_maxrss carries the parent's peak over through fork+exec, so a test
# process that has loaded torch would make every child look 1 GB large.
_WRAPPER = (
    "import re, runpy, sys\n"
    "sys.argv = ['archspec', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('archspec.cli', run_name='__main__')\n"
    "    code = 0\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "status = open('/proc/self/status').read()\n"
    "print('PEAK_KB=' + re.search(r'VmHWM:\\s*(\\d+)', status).group(1), file=sys.stderr)\n"
    "sys.exit(code)\n")


def run_measured(args, timeout: float, **kwargs) -> tuple[int, bytes, str, int]:
    """(exit code, stdout bytes, stderr text without the report, peak KB). A run past
    ``timeout`` raises subprocess.TimeoutExpired, which fails the calling test."""
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True,
                            timeout=timeout, **kwargs)
    stderr = result.stderr.decode("utf-8", "replace")
    err, _, peak = stderr.rpartition("PEAK_KB=")
    return result.returncode, result.stdout, err, int(re.match(r"\d+", peak).group())
