"""Spec documents as YAML that reads like the zoo's: a layer or call per line in flow style
(``- Conv2D: {filters: 64, kernel_size: 3, name: conv1}``), repeats and groups in block style
when one line would be too long, and a header comment saying where the spec came from."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

WIDTH = 110
_INDENT = "  "


class _Dumper(yaml.SafeDumper):
    """Expressions and empty names in double quotes, as the zoo writes them."""


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if "${" in data or data == "" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _string)


def flow(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10 ** 9,
                     sort_keys=False, allow_unicode=True).strip().removesuffix("\n...").strip()


def to_yaml(document: dict, comments: list[str]) -> str:
    lines = [f"# {line}".rstrip() for text in comments for line in textwrap.wrap(
        text, WIDTH - 2, subsequent_indent="  ", break_on_hyphens=False) or [""]]
    for key, value in document.items():
        if key == "layers":
            lines.append("layers:")
            lines.extend(_items(value, 1))
        elif key == "blocks":
            lines.append("blocks:")
            for name, block in value.items():
                lines.append(f"{_INDENT}{name}:")
                for field, content in block.items():
                    if field == "layers":
                        lines.append(f"{_INDENT * 2}layers:")
                        lines.extend(_items(content, 3))
                    else:
                        lines.append(f"{_INDENT * 2}{field}: {flow(content)}")
        else:
            lines.append(f"{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def _items(items: list, depth: int) -> list[str]:
    out: list[str] = []
    pad = _INDENT * depth
    for item in items:
        if isinstance(item, str):
            out.append(f"{pad}- {item}")
            continue
        ((key, body),) = item.items()
        line = f"{pad}- {key}: {flow(body)}"
        if len(line) <= WIDTH:
            out.append(line)
            continue
        if key not in ("repeat", "group"):
            out.extend(_folded_line(f"{pad}- {key}: ", body))
            continue
        wrapped = _wrapped(key, body, pad)
        if wrapped is not None:
            out.extend(wrapped)
            continue
        out.append(f"{pad}- {key}:")
        for field, content in body.items():
            if field == "layers":
                out.append(f"{pad}{_INDENT * 2}layers:")
                out.extend(_items(content, depth + 3))
            else:
                out.append(f"{pad}{_INDENT * 2}{field}: {flow(content)}")
    return out


def _wrapped(key: str, body: dict, pad: str) -> list[str] | None:
    """A repeat or group in flow style over several lines, its items one a line:
    ``- repeat: {times: 4, name: conv3_block, layers: [`` then ``conv_block: {...}]}``.
    None where an item would not fit on a line of its own."""
    head = {k: v for k, v in body.items() if k != "layers"}
    opening = flow(head)[:-1] + (", " if head else "") + "layers: ["
    inner = pad + _INDENT * 2
    lines = [f"{pad}- {key}: {opening}"]
    items = body["layers"]
    for i, item in enumerate(items):
        text = item if isinstance(item, str) else "{}: {}".format(*_only(item))
        text = inner + text + ("]}" if i == len(items) - 1 else ",")
        if len(text) > WIDTH + 20:
            return None
        lines.append(text)
    return lines


def _only(item: dict) -> tuple[str, str]:
    ((key, value),) = item.items()
    return key, flow(value)


def _folded_line(head: str, body: Any) -> list[str]:
    """A flow mapping too long for one line, broken between its entries, the continuation
    lines aligned after its brace (as the docs' examples write them)."""
    if not isinstance(body, dict):
        return [head + flow(body)]
    entries = [f"{flow(k)}: {flow(v)}" for k, v in body.items()]
    lines, current = [], head + "{"
    indent = " " * len(current)
    for i, entry in enumerate(entries):
        text = entry + ("}" if i == len(entries) - 1 else ",")
        if current.strip() not in ("", "{") and not current.endswith("{") and \
                len(current) + 1 + len(text) > WIDTH:
            lines.append(current)
            current = indent + text
        else:
            current += ("" if current.endswith("{") else " ") + text
    lines.append(current)
    return lines
