"""A block's parameters: the values that differ between its calls, one parameter per distinct
row of values, and an expression where a row is a whole multiple or fraction of another
(``${4 * filters}``: a bottleneck's expansion)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Optional

ABSENT = object()  # an instance without the layer: any value will do


def value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class Params:
    """Rows of values become parameters; they are named once all are known (``filters``
    alone, ``expand_filters`` and ``project_filters`` when two rows set filters), so the
    items refer to them by placeholders until ``resolve``."""

    def __init__(self) -> None:
        # argument (or flag) name, the layer's local name, whether a flag, the value for each
        # instance (ABSENT where it lacks the layer)
        self._rows: list[tuple[str, str, bool, list]] = []

    def reference(self, key: str, values: list, local: str = "") -> str:
        """``${...}`` for this row of values: an existing parameter, an expression of one, or
        a new one."""
        for i, (name, where, flag, known) in enumerate(self._rows):
            if not flag and _agree(values, known):
                merged = [u if v is ABSENT else v for v, u in zip(values, known)]
                self._rows[i] = (name, where, flag, merged)
                return f"${{{_token(i)}}}"
        for i, (_, _, flag, known) in enumerate(self._rows):
            relation = None if flag else _scaled(values, known)
            if relation:
                return f"${{{relation.format(_token(i))}}}"
        self._rows.append((key, local, False, list(values)))
        return f"${{{_token(len(self._rows) - 1)}}}"

    def flag(self, skipped, values: list[bool]) -> str:
        """A boolean parameter, ``${...}``: whether an instance has the ``skipped`` layers,
        named after what they share (``downsample`` for downsample_0 and downsample_1)."""
        parts = [[t for t in local.split("_") if t] for local in sorted(skipped)]
        common = []
        for tokens in zip(*parts):
            if len(set(tokens)) > 1:
                break
            common.append(tokens[0])
        base = "_".join(common) or "_".join(parts[0])
        if not base[:1].isalpha():
            base = f"with_{base}"
        self._rows.append((base, "", True, list(values)))
        return f"${{{_token(len(self._rows) - 1)}}}"

    def names(self) -> list[str]:
        repeated = Counter(key for key, _, flag, _ in self._rows if not flag)
        out: list[str] = []
        for key, local, flag, _ in self._rows:
            base = key
            if not flag and repeated[key] > 1 and local[:1].isalpha() and \
                    local.isidentifier() and "__" not in local:
                base = f"{local}_{key}"
            name, k = base, 2
            while name in out:
                name, k = f"{base}_{k}", k + 1
            out.append(name)
        return out

    def resolve(self, value: Any) -> Any:
        """``value`` (an item, a list, a string) with the placeholders replaced by names."""
        names = self.names()
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: names[int(m.group(1))], value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    @property
    def params(self) -> list[tuple[str, list]]:
        """name, the value for each instance (where an instance lacks every layer that reads
        a parameter, the most common value: it is never read); flags last."""
        out = []
        order = sorted(range(len(self._rows)), key=lambda i: self._rows[i][2])
        names = self.names()
        for i in order:
            values = self._rows[i][3]
            known = [v for v in values if v is not ABSENT]
            filler = max(known, key=lambda v: sum(_same(v, w) for w in known))
            out.append((names[i], [filler if v is ABSENT else v for v in values]))
        return out


_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _token(i: int) -> str:
    return f"\x00{i}\x00"


def _same(a: Any, b: Any) -> bool:
    return value_key(a) == value_key(b)


def _agree(values: list, known: list) -> bool:
    """Equal wherever both rows have a value (and somewhere they both do)."""
    both = [(v, u) for v, u in zip(values, known) if v is not ABSENT and u is not ABSENT]
    return bool(both) and all(_same(v, u) for v, u in both)


def _scaled(values: list, known: list) -> Optional[str]:
    """"k * {}" or "{} // k" when ``values`` are ``known`` times or divided by one integer."""
    pairs = [(v, u) for v, u in zip(values, known) if v is not ABSENT and u is not ABSENT]

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v > 0
    if not pairs or not all(whole(v) and whole(u) for v, u in pairs):
        return None
    for flip, form in ((False, "{k} * {{}}"), (True, "{{}} // {k}")):
        ordered = [(u, v) if flip else (v, u) for v, u in pairs]
        if all(a % b == 0 for a, b in ordered):
            ratios = {a // b for a, b in ordered}
            if len(ratios) == 1 and (k := ratios.pop()) > 1:
                return form.format(k=k)
    return None
