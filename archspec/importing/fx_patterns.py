"""Idioms of several fx nodes that together are one archspec layer, though no node alone is.

torchvision's GoogLeNet and Inception-v3 with ``transform_input`` (set whenever pretrained
weights are asked for) renormalize their input channel by channel::

    x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
    ...
    x = torch.cat((x_ch0, x_ch1, x_ch2), 1)

Indexing has no layer, but the whole is a per-channel ``Rescaling`` of ``x``.
"""

from __future__ import annotations

import operator
from typing import Any

from .fx_modules import METHODS, bind
from .fx_ops import Mapped, shape_of


def channel_affines(graph, functions: dict) -> tuple[dict[Any, Mapped], set[Any]]:
    """Each ``cat`` that is a per-channel affine map of one tensor → its Rescaling, and the
    nodes it absorbs (the indexing and arithmetic, which become no layer)."""
    replaced: dict[Any, Mapped] = {}
    absorbed: set[Any] = set()
    for node in graph.nodes:
        if _key(node, functions) == "cat":
            found = _channel_affine(node, functions)
            if found is not None:
                mapped, chain = found
                replaced[node] = mapped
                absorbed |= chain
    return replaced, absorbed


def _key(node, functions: dict) -> str | None:
    if node.op == "call_function":
        return functions.get(node.target)
    if node.op == "call_method":
        return METHODS.get(node.target.rstrip("_"), node.target)
    return None


def _channel_affine(cat, functions: dict) -> tuple[Mapped, set[Any]] | None:
    values = bind("cat", cat.args, cat.kwargs)
    parts = list(values["tensors"])
    scales, offsets, chain, source = [], [], set(), None
    for channel, part in enumerate(parts):
        found = _one_channel(part, functions)
        if found is None:
            return None
        x, index, scale, offset, nodes = found
        if index != channel or (source is not None and x is not source):
            return None
        source = x
        scales.append(scale)
        offsets.append(offset)
        chain |= nodes
    shape = shape_of(source)
    if shape is None or len(shape) < 3 or shape[1] != len(parts) \
            or values["dim"] not in (1, 1 - len(shape)):
        return None
    if any(user is not cat and user not in chain for node in chain for user in node.users):
        return None  # a part is read elsewhere too: it must stay a tensor of its own
    args: dict[str, Any] = {"scale": scales}
    if any(offsets):
        args["offset"] = offsets
    return Mapped("Rescaling", args, [source]), chain


def _one_channel(node, functions: dict):
    """``unsqueeze(x[:, i], 1) * s + o`` (or ``x[:, i:i + 1]``, any chain of +, -, * and /
    by numbers) → (x, i, scale, offset, its nodes); None for anything else."""
    scale, offset, nodes = 1.0, 0.0, set()
    while True:
        step = _affine_step(node, functions)
        if step is None:
            break
        inner, s, o = step
        scale, offset = scale * s, scale * o + offset
        nodes.add(node)
        node = inner
    found = _channel_of(node, functions)
    if found is None:
        return None
    x, index, picked = found
    return x, index, scale, offset, nodes | picked


def _affine_step(node, functions: dict):
    """``inner * s + o`` as one node (x + c, c - x, x / c ...) → (inner, s, o)."""
    key = _key(node, functions)
    if key not in ("add", "sub", "mul", "div"):
        return None
    values = bind(key, node.args, node.kwargs)
    a, b = values["input"], values["other"]
    number_first = shape_of(b) is not None
    x, c = (b, a) if number_first else (a, b)
    if shape_of(x) is None or not isinstance(c, (int, float)) or isinstance(c, bool) \
            or values.get("alpha", 1) != 1:
        return None
    if key == "add":
        return x, 1.0, float(c)
    if key == "mul":
        return x, float(c), 0.0
    if key == "sub":
        return (x, -1.0, float(c)) if number_first else (x, 1.0, -float(c))
    return None if number_first or c == 0 else (x, 1.0 / c, 0.0)


def _channel_of(node, functions: dict):
    """``x[:, i:i + 1]`` or ``unsqueeze(x[:, i], 1)`` → (x, i, its nodes)."""
    picked = set()
    if _key(node, functions) == "unsqueeze" or getattr(node, "target", None) is _unsqueeze():
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        if dim != 1:
            return None
        picked.add(node)
        node, keeps = node.args[0], False
    else:
        keeps = True
    if getattr(node, "op", None) != "call_function" or node.target is not operator.getitem:
        return None
    x, index = node.args
    if not isinstance(index, tuple) or len(index) != 2 or index[0] != slice(None):
        return None
    i = index[1]
    if keeps and isinstance(i, slice) and i.step in (None, 1) and isinstance(i.start, int) \
            and i.stop == i.start + 1:
        return x, i.start, picked | {node}
    if not keeps and isinstance(i, int) and not isinstance(i, bool):
        return x, i, picked | {node}
    return None


def _unsqueeze():
    import torch
    return torch.unsqueeze
