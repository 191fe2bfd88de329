"""Where a torch.fx node comes from, for messages: the model's source line (from the stack
fx records), the modules around it, and one diagnostic per node archspec cannot express."""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import Diagnostic, Location
from .flat import UnsupportedModel
from .fx_ops import Unsupported

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)\n'
                    r'(?: +(?P<code>\S[^\n]*))?')


def trace_failure(module: Any, exc: Exception) -> UnsupportedModel:
    frame = _user_frame(_traceback_frames(exc.__traceback__))
    where = f" at `{frame[3]}`" if frame and frame[3] else ""
    return UnsupportedModel([Diagnostic(
        f"torch.fx cannot trace {type(module).__name__}{where}: {type(exc).__name__}: {exc}",
        location=Location(frame[0], frame[1]) if frame else Location("<torch.fx>"),
        hint="torch.fx records the operations on symbolic tensors: Python control flow that "
             "depends on tensor values (`if x.sum() > 0`, loops over a tensor) cannot be "
             "traced; move it out of forward or make it depend on constants")])


def _traceback_frames(tb) -> list[tuple[str, int, str, str]]:
    import linecache
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append((code.co_filename, tb.tb_lineno, code.co_name,
                       linecache.getline(code.co_filename, tb.tb_lineno).strip()))
        tb = tb.tb_next
    return frames


def _user_frame(frames: list[tuple[str, int, str, str]]) -> tuple[str, int, str, str] | None:
    """The innermost frame outside torch's own code: the line of the model's source."""
    import torch
    root = os.path.dirname(torch.__file__) + os.sep
    user = [f for f in frames if not f[0].startswith(root)]
    return user[-1] if user else None


def _node_frame(node) -> tuple[str, int, str, str] | None:
    frames = [(m["file"], int(m["line"]), m["function"], (m["code"] or "").strip())
              for m in _FRAME.finditer(node.stack_trace or "")]
    return _user_frame(frames)


def scope_of(node) -> tuple[tuple[str, str], ...]:
    """The modules around the node, outermost first, each as (its name in its parent,
    its class name); a module call's own module is not part of it."""
    levels = list((node.meta.get("nn_module_stack") or {}).values())
    if node.op == "call_module" and levels and levels[-1][0] == node.target:
        levels.pop()
    scope, parent = [], ""
    for path, cls in levels:
        own = path[len(parent) + 1:] if parent and path.startswith(parent + ".") else path
        scope.append((own, cls.__name__ if isinstance(cls, type) else str(cls).split(".")[-1]))
        parent = path
    return tuple(scope)


def class_name(module) -> str:
    cls = type(module)
    return f"torch.nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") \
        else f"{cls.__module__}.{cls.__qualname__}"


def target_name(node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    from torch.fx.node import _get_qualified_name
    try:
        name = _get_qualified_name(node.target)
    except Exception:  # noqa: BLE001 - a callable fx cannot name: its repr will do
        return repr(node.target)
    return name.replace("_operator.", "operator.", 1)


def diagnostic(node, exc: Unsupported, gm) -> Diagnostic:
    if node.op == "call_module":
        what = f"call_module {class_name(gm.get_submodule(node.target))} '{node.target}'"
    elif node.op in ("call_function", "call_method"):
        what = f"{node.op} {target_name(node)}"
    else:
        what = f"{node.op} '{node.target}'"
    scope = scope_of(node)
    inside = f"in '{'.'.join(own for own, _ in scope)}' ({scope[-1][1]})" if scope \
        else f"at the top level of {type(gm).__name__}"
    frame = _node_frame(node)
    code = f"\n    {frame[3]}" if frame and frame[3] else ""
    if frame and frame[2] != "forward":
        inside += f", in {frame[2]}()"
    return Diagnostic(f"{what} (node '{node.name}', {inside}) cannot be expressed: "
                      f"{exc.reason}{code}", hint=exc.hint,
                      location=Location(frame[0], frame[1]) if frame else Location("<torch.fx>"))
