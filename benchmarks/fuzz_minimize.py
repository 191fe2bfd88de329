"""Shrinking a finding's reproducer: delete chunks of lines (ddmin), then shorten long lines,
keeping a change only while the case still gives the same (class, exception, frame)."""

from __future__ import annotations

import base64
import copy
import time

MAX_ATTEMPTS = 250
MAX_HANG_ATTEMPTS = 8  # each one may cost the whole wall-clock deadline


def _field(case: dict):
    """Where the case's spec bytes live: (section, key) or None."""
    if case.get("text_b64"):
        return ("text_b64", None)
    if case.get("stdin_b64"):
        return ("stdin_b64", None)
    for section in ("files", "bfiles"):
        for name in case.get(section, {}):
            if name == case.get("target") or name.startswith("case."):
                return (section, name)
    return None


def _get(case: dict, where) -> bytes:
    section, name = where
    if section == "files":
        return case["files"][name].encode("utf-8", "surrogatepass")
    raw = case[section] if name is None else case[section][name]
    return base64.b64decode(raw)


def _with(case: dict, where, data: bytes) -> dict:
    section, name = where
    new = copy.deepcopy(case)
    if section == "files":
        del new["files"][name]
        new.setdefault("bfiles", {})[name] = base64.b64encode(data).decode("ascii")
    elif name is None:
        new[section] = base64.b64encode(data).decode("ascii")
    else:
        new[section][name] = base64.b64encode(data).decode("ascii")
    return new


class _Shrinker:
    def __init__(self, pool, finding: dict, deadline: float):
        self.pool, self.deadline = pool, deadline
        self.key = (finding["class"], finding["exc"], finding["frame"])
        self.left = MAX_HANG_ATTEMPTS if finding["class"] == "hang" else MAX_ATTEMPTS
        self.case = finding["case"]
        self.where = _field(self.case)

    def same(self, data: bytes) -> bool:
        if self.left <= 0 or time.monotonic() > self.deadline:
            return False
        self.left -= 1
        result = self.pool.run_case(_with(self.case, self.where, data))
        return (result["outcome"], result.get("exc"), result.get("frame")) == self.key

    def _ddmin(self, parts: list, still_fails) -> list:
        """Delta debugging: drop ever smaller chunks of ``parts`` while ``still_fails`` (given
        the shorter list) says the finding reproduces."""
        n = 2
        while len(parts) >= 2 and self.left > 0:
            size = -(-len(parts) // n)
            for start in range(0, len(parts), size):
                candidate = parts[:start] + parts[start + size:]
                if still_fails(candidate):
                    parts, n = candidate, max(n - 1, 2)
                    break
            else:
                if n >= len(parts):
                    break
                n = min(2 * n, len(parts))
        return parts

    def lines(self, data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        return b"".join(self._ddmin(lines, lambda kept: self.same(b"".join(kept))))

    def characters(self, data: bytes) -> bytes:
        """ddmin over the bytes of each short line: `{a: 1, b: !!int '0x'}` → `b: !!int '0x'`."""
        lines = data.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if len(line) > 300:
                continue
            def still_fails(kept: list, i=i) -> bool:
                return self.same(b"".join(lines[:i] + [bytes(kept)] + lines[i + 1:]))
            lines[i] = bytes(self._ddmin(list(line), still_fails))
        return b"".join(lines)

    def long_lines(self, data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        for i, line in enumerate(lines):
            while len(line) > 120 and self.left > 0:
                half = line[:len(line) // 2] + (b"\n" if line.endswith(b"\n") else b"")
                if not self.same(b"".join(lines[:i] + [half] + lines[i + 1:])):
                    break
                lines[i] = line = half
        return b"".join(lines)


def minimize(pool, finding: dict, deadline: float) -> dict | None:
    shrinker = _Shrinker(pool, finding, deadline)
    if shrinker.where is None:
        return None
    data = _get(finding["case"], shrinker.where)
    finding["reproduced"] = shrinker.same(data)
    if not finding["reproduced"]:  # flaky (timing, memory), or archspec changed meanwhile
        return None
    smaller = shrinker.characters(shrinker.long_lines(shrinker.lines(data)))
    return _with(finding["case"], shrinker.where, smaller) if len(smaller) < len(data) else None


def minimize_all(pool, findings: list[dict], deadline: float) -> None:
    for finding in findings:
        if time.monotonic() > deadline:
            break
        if finding.get("case") and finding["class"] != "generator-error":
            share = (deadline - time.monotonic()) / max(1, len(findings))
            minimized = minimize(pool, finding, time.monotonic() + max(share, 5.0))
            if minimized is not None:
                finding["minimized"] = minimized
