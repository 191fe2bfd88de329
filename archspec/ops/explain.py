"""What a pydantic validation error means, in archspec's words: a message, a hint, what is
allowed. Shared by the spec loader (which adds file positions) and the Python constructors
(which point at the caller's line), so a mistake reads the same whichever way it was made.
Nothing here knows about files; no pydantic wording (or URL) reaches users.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Optional

from pydantic import BaseModel

from ..errors import ArgumentError, Diagnostic, caller_location, did_you_mean, suggestion
from .docs import fields_in_order

# Keras arguments that archspec states somewhere else, and where.
_ELSEWHERE = {
    "data_format": "the layout is stated once for the whole spec: "
                   "input: {shape: [3, 224, 224], layout: channels_first}",
    "bias_regularizer": "archspec regularizes kernels only (kernel_regularizer: {l2: 0.001})",
    "activity_regularizer": "archspec regularizes kernels only (kernel_regularizer: {l2: 0.001})",
}
_INPUT_KEYS = ("input_shape", "batch_input_shape", "input_dim")


@dataclass(frozen=True)
class Problem:
    message: str
    hint: Optional[str] = None
    allowed: Optional[str] = None
    received: Any = None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold: ``Optional[Regularizer]``,
    ``dict[str, BlockDef]`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [m for m in _models_in(arg) if m not in found]
    return found


def model_at(model: Optional[type[BaseModel]], loc: tuple) -> Optional[type[BaseModel]]:
    """The model the value at ``loc`` is validated as (None for plain values). Indices and
    mapping keys (a block's name under ``blocks``) are stepped over."""
    current = model
    for part in loc:
        if current is None:
            return None
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is not None:
            models = _models_in(field.annotation)
            current = models[0] if len(models) == 1 else None
    return current


def implied(errors: list[dict], model: Optional[type[BaseModel]]) -> list[dict]:
    """The errors without a 'missing field' that an unknown field beside it already explains:
    ``filter: 8`` reports "unknown field 'filter' ... did you mean 'filters'?" once, not also
    "missing required field 'filters'"; ``input_shape`` stands for ``input`` the same way."""
    meant = set()
    for err in errors:
        if err["type"] == "extra_forbidden" and err["loc"]:
            *where, name = err["loc"]
            container = model_at(model, tuple(where))
            choices = list(container.model_fields) if container else []
            target = "input" if name in _INPUT_KEYS else did_you_mean(str(name), choices)
            if target:
                meant.add((*where, target))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in meant)]


def explain(err: dict, loc: tuple, model: Optional[type[BaseModel]],
            python: bool = False) -> Problem:
    """``err`` is one entry of ``ValidationError.errors()``; ``loc`` its location with
    pydantic's union tags removed; ``model`` the class that was validated. ``python`` phrases
    examples as Python arguments instead of YAML."""
    kind, received = err["type"], err.get("input")
    container, field = model_at(model, loc[:-1]), (loc[-1] if loc else None)
    if kind == "extra_forbidden":
        return _unknown(str(field), received, container, python)
    examples = getattr(container, "field_examples", None) or {}
    example = examples.get(field) if isinstance(field, str) else None
    if example:
        example = python_example(field, example) if python else f"{field}: {example}"
    if kind == "missing":
        why = (getattr(container, "why_required", None) or {}).get(field)
        return Problem(f"missing required field '{field}'",
                       why or (f"e.g. {example}" if example else None))
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected")
        hint = None
        if isinstance(received, str) and allowed:
            options = [o.strip().strip("'") for o in allowed.replace(" or ", ", ").split(",")]
            hint = suggestion(received, options)
        return Problem(f"invalid value {received!r}", hint, allowed)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"{field} must be a mapping" if isinstance(field, str) else "expected a mapping"
        return Problem(message, f"write it as {example}" if example else None, received=received)
    message = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    typed = kind.endswith(("_type", "_parsing"))
    return Problem(message, f"e.g. {example}" if example and typed else None, received=received)


def _unknown(name: str, value: Any, container: Optional[type[BaseModel]],
             python: bool) -> Problem:
    """An unknown field: a did-you-mean, or where the Keras argument goes in archspec."""
    choices = fields_in_order(container) if container else []
    message = f"unknown field '{name}'" + (f" for {container.__name__}" if container else "")
    allowed = ", ".join(choices) if choices else None
    if name in _INPUT_KEYS:
        return Problem(message, _input_hint(name, value, container, python), allowed)
    hint = _ELSEWHERE.get(name) or suggestion(name, choices)
    return Problem(message, hint, allowed)


def _input_hint(name: str, value: Any, container: Optional[type[BaseModel]],
                python: bool) -> str:
    """Keras' ``input_shape`` (on the model or its first layer) is the spec's ``input``."""
    shape = list(value) if isinstance(value, (list, tuple)) and value else ["..."]
    shape_text = ", ".join(str(v) for v in shape)
    form = (f"Spec(..., input=[{shape_text}])" if python
            else f"input: {{shape: [{shape_text}]}}")
    if container is not None and "layers" in container.model_fields:
        return f"Keras' {name} is the spec's input, written {form}"
    return (f"the model's input is stated once, at the top of the spec, not on a layer: "
            f"{form}; remove {name} here")


def arguments_error(exc: Any, model: type[BaseModel]) -> ArgumentError:
    """The ``ArgumentError`` for a constructor called from Python (``Conv2D(filter=8)``): the
    spec loader's messages, located at the caller's line, examples in Python syntax."""
    where = caller_location()
    diagnostics = []
    for err in implied(exc.errors(include_url=False), model):
        raw = err["loc"]
        loc = tuple(p for i, p in enumerate(raw)
                    if not _tag(p) or (i == len(raw) - 1
                                       and err["type"] in ("extra_forbidden", "missing")))
        problem = explain(err, loc, model, python=True)
        diagnostics.append(Diagnostic(problem.message, path=_python_path(model.__name__, loc),
                                      location=where, hint=problem.hint,
                                      received=short(problem.received),
                                      allowed=problem.allowed))
    return ArgumentError(diagnostics)


def _tag(part: Any) -> bool:
    """pydantic's names for union members and validators, such as ``function-after[...]``."""
    return isinstance(part, str) and "[" in part and "]" in part


def _python_path(model_name: str, loc: tuple) -> str:
    out = model_name
    for part in loc:
        out += f"[{part!r}]" if isinstance(part, int) or not str(part).isidentifier() \
            else f".{part}"
    return out


def short(value: Any) -> Any:
    """A received value worth showing: scalars, shortened; not whole mappings or lists."""
    if isinstance(value, (dict, list)) or value is None:
        return None
    text = repr(value)
    return value if len(text) < 80 else text[:77] + "..."


def python_example(field: str, example: str) -> str:
    """``kernel_regularizer: {l2: 0.001}`` as a Python argument: ``kernel_regularizer={'l2':
    0.001}``."""
    import yaml
    try:
        value = yaml.safe_load(example)
    except yaml.YAMLError:
        value = example
    return f"{field}={value!r}"
