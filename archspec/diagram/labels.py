"""What a diagram says about each box, and how wide that text is.

Widths come from DejaVu Sans' advance widths (the font cairosvg finds on Linux, and among the
widest that browsers fall back to), so a box sized here fits its text in any common sans font.
"""

from __future__ import annotations

from typing import Any

# Advance widths of ASCII 32..126, in hundredths of an em: DejaVu Sans Book and Bold.
_REGULAR = (
    32, 40, 46, 84, 64, 95, 78, 27, 39, 39, 50, 84, 32, 36, 32, 34, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 34, 34, 84, 84, 84, 53, 100, 68, 69, 70, 77, 63, 58, 77, 75, 29, 29, 66, 56, 86,
    75, 79, 60, 79, 69, 63, 61, 73, 68, 99, 69, 61, 69, 39, 34, 39, 84, 50, 50, 61, 63, 55, 63,
    62, 35, 63, 63, 28, 28, 58, 28, 97, 63, 61, 63, 63, 41, 52, 39, 63, 59, 82, 59, 59, 52, 64,
    34, 64, 84)
_BOLD = (
    35, 46, 52, 84, 70, 100, 87, 31, 46, 46, 52, 84, 38, 42, 38, 37, 70, 70, 70, 70, 70, 70, 70,
    70, 70, 70, 40, 40, 84, 84, 84, 58, 100, 77, 76, 73, 83, 68, 68, 82, 84, 37, 37, 77, 64, 100,
    84, 85, 73, 85, 77, 72, 68, 81, 77, 110, 77, 72, 73, 46, 37, 46, 84, 50, 50, 67, 72, 59, 72,
    68, 44, 72, 71, 34, 34, 67, 34, 104, 71, 69, 72, 72, 49, 60, 48, 71, 65, 92, 65, 65, 58, 71,
    37, 71, 84)
_OTHER = {"×": 84, "·": 35, "–": 50, "→": 84, "…": 100}


def text_width(text: str, size: float, bold: bool = False) -> float:
    table = _BOLD if bold else _REGULAR
    total = 0
    for char in text:
        code = ord(char)
        total += table[code - 32] if 32 <= code < 127 else _OTHER.get(char, 100)
    return total * size / 100


# Fill and stroke by ``Layer.kind``; a kind not listed here (a plugin's) is drawn grey.
PALETTE: dict[str, tuple[str, str]] = {
    "input": ("#ffffff", "#334155"),
    "conv": ("#dbeafe", "#2563eb"),
    "dense": ("#ede9fe", "#7c3aed"),
    "attention": ("#e0e7ff", "#4f46e5"),
    "norm": ("#dcfce7", "#16a34a"),
    "activation": ("#fef9c3", "#ca8a04"),
    "pool": ("#ffedd5", "#ea580c"),
    "merge": ("#fce7f3", "#db2777"),
    "embedding": ("#ccfbf1", "#0d9488"),
    "reshape": ("#f1f5f9", "#64748b"),
    "regularization": ("#f5f5f4", "#78716c"),
    "padding": ("#f5f5f4", "#a8a29e"),
    "resample": ("#cffafe", "#0891b2"),
    "block": ("#f8fafc", "#0f172a"),
    "other": ("#f3f4f6", "#6b7280"),
}
# Mermaid class names and legend order.
KINDS = tuple(PALETTE)


def colours(kind: str) -> tuple[str, str]:
    return PALETTE.get(kind) or PALETTE["other"]


def compact(n: float) -> str:
    """Three significant digits: 9,408 → 9.41 K, 215,808 → 216 K, 25,557,032 → 25.6 M."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            value = n / factor
            digits = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{digits}f} {suffix}"
    return f"{n:g}"


def params_text(count: int, exact: bool) -> str:
    if not count:
        return ""
    return f"{count:,} params" if exact else f"{compact(count)} params"


def _pair(value: Any) -> str:
    values = value if isinstance(value, (tuple, list)) else (value,)
    if len(set(values)) == 1 and len(values) > 1:
        values = values[:1] * 2
    return "×".join(str(v) for v in values)


def _all_one(value: Any) -> bool:
    values = value if isinstance(value, (tuple, list)) else (value,)
    return all(v == 1 for v in values)


def type_text(layer) -> str:
    """The type and the few arguments that tell layers of one type apart: window and stride,
    a fused activation, a dropout rate."""
    parts = [layer.type_name]
    window = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if window is not None:
        parts.append(_pair(window))
        strides = getattr(layer, "strides", None)
        if strides is not None and not _all_one(strides):
            parts[-1] += f" /{_pair(strides) if len(set(_tuple(strides))) > 1 else _tuple(strides)[0]}"
    rate = getattr(layer, "rate", None)
    if isinstance(rate, (int, float)) and rate:
        parts.append(f"{rate:g}")
    activation = getattr(layer, "activation", None)
    if isinstance(activation, str) and activation not in ("linear", None):
        parts.append(f"· {activation}")
    return " ".join(parts)


def _tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def shape_text(shape) -> str:
    return str(tuple(shape))


def range_name(first: str, last: str) -> str:
    """``features_2`` … ``features_4`` → ``features_2–4``: the names of a run of calls."""
    stem_a, stem_b = first.rstrip("0123456789"), last.rstrip("0123456789")
    if stem_a == stem_b and stem_a != first and stem_b != last:
        return f"{first}–{last[len(stem_b):]}"
    return f"{first} … {last}"
