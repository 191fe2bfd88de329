"""The structural items of a layer list — ``repeat``, ``group`` and block calls — as pydantic
models, validated like layers: an unknown field, a wrong type or a bad name becomes a located
diagnostic through ``spec.diagnose`` (which asks ``reword`` for these items' wording).

The graph builder validates each item where it expands it, since ``times`` may be a ``${...}``
expression that only has a value there: it passes ``context={"evaluate": ...}``, which
evaluates (and reports the errors of) an expression field, and ``{"block": ...}`` for a call.
A call's ``inputs`` are resolved, and their type checked, as a layer's are.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from pydantic import (BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from ..limits import MAX_DIM
from ..ops.explain import Problem
from .model import IDENTIFIER, check_identifier


class ItemError(ValueError):
    """A mistake in archspec's words, with the hint and received value its diagnostic shows
    (pydantic keeps the exception, and ``reword`` reads them back)."""

    def __init__(self, message: str, hint: Optional[str] = None, received: Any = None):
        super().__init__(message)
        self.hint, self.received = hint, received


class Reported(ValueError):
    """An expression whose error the builder reported where it arose: no second diagnostic."""


def new_errors(exc: ValidationError) -> int:
    """How many of the errors in ``exc`` were not reported already (see ``Reported``)."""
    return sum(1 for err in exc.errors(include_url=False)
               if not isinstance((err.get("ctx") or {}).get("error"), Reported))


def without_unknown(exc: ValidationError, model: type[BaseModel], body: Any) -> Optional[dict]:
    """``body`` less its unknown fields when they are all that is wrong with it (an unknown
    field is reported, and the item still expands), else None."""
    if any(err["type"] != "extra_forbidden" for err in exc.errors(include_url=False)):
        return None
    return {k: v for k, v in body.items() if k in model.model_fields}


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keyword: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[str] = ""  # the message for a body that is no mapping or lacks `required`
    needs_hint: ClassVar[Optional[str]] = None

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict) or any(key not in value for key in cls.required):
            raise ItemError(cls.needs, cls.needs_hint)
        return value

    @field_validator("layers", mode="before", check_fields=False)
    @classmethod
    def _layers(cls, value: Any) -> list:
        """A single item stands for a list of one (``layers: {Dense: 4}``)."""
        return value if isinstance(value, list) else [value]

    @classmethod
    def reword(cls, err: dict, problem: Problem) -> Optional[Problem]:
        """The diagnostic for one pydantic error: the messages the builder has always given
        (``unknown field 'x' in repeat``), or None for an error already reported."""
        if err["type"] == "extra_forbidden":
            return Problem(f"unknown field '{err['loc'][-1]}' in {cls.keyword}", problem.hint)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, Reported):
            return None
        if isinstance(cause, ItemError):
            return Problem(problem.message, cause.hint, received=cause.received)
        return problem


def _evaluated(value: Any, field: str, info: ValidationInfo) -> Any:
    evaluate = (info.context or {}).get("evaluate")
    return value if evaluate is None else evaluate(value, field)


def _count(label: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DIM:
        raise ItemError(f"repeat {label} must be an integer from 0 to {MAX_DIM:,}",
                        received=value)
    return value


class RepeatItem(_Item):
    """``- repeat: {times: 3, layers: [...]}``: ``layers`` expanded ``times`` times, with
    ``index`` bound to ``start``, ``start + 1``, ...; a ``name`` makes each iteration a
    container (``layer1_0``, or ``0``, ``1``, ... for ``name: ""``)."""
    keyword = "repeat"
    required = ("times", "layers")
    needs = "'repeat' needs 'times' and 'layers'"
    needs_hint = "- repeat: {times: 3, layers: [{Conv2D: {filters: 64}}]}"
    times: int
    layers: Any  # a list, kept as the same object: bounds.LaterNames indexes it by identity
    index: str = "i"
    name: Optional[str] = None
    start: int = 0

    @field_validator("times", mode="before")
    @classmethod
    def _times(cls, value: Any, info: ValidationInfo) -> int:
        return _count("times", _evaluated(value, "times", info))

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> int:
        return _count("start", value)

    @field_validator("index", mode="before")
    @classmethod
    def _index(cls, value: Any) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            raise ItemError("repeat index must be an identifier", received=value)
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Optional[str]:
        if value is not None and (not isinstance(value, str) or
                                  (value and not IDENTIFIER.match(value))):
            raise ItemError("repeat name must be an identifier or ''", received=value)
        return value


class GroupItem(_Item):
    """``- group: {layers: [...], defaults: {...}}``: layers with their own defaults; a
    ``name`` makes it a container whose unnamed items are named by position."""
    keyword = "group"
    required = ("layers",)
    needs = "'group' needs 'layers' (and usually 'defaults')"
    field_examples: ClassVar[dict[str, str]] = {"defaults": "{Conv2D: {padding: same}}"}
    layers: Any  # a list (see RepeatItem.layers)
    defaults: dict[str, dict[str, Any]] = {}
    name: Optional[str] = None

    @field_validator("defaults", mode="before")
    @classmethod
    def _defaults(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Optional[str]:
        return value if value is None else check_identifier(value, "layer name")


class CallItem(_Item):
    """``- residual_block: {filters: 64, name: b1, inputs: x}``: the structural keys of a call;
    every other key is a parameter of the block (``model_extra``), checked against its
    declaration by the builder."""
    model_config = ConfigDict(extra="allow")
    keyword = "call"
    name: Optional[str] = None  # "": the body's layers take the enclosing iteration's prefix
    inputs: Any = None
    when: Any = None

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            block = (info.context or {}).get("block", "")
            raise ItemError(f"a call of block '{block}' takes a mapping of its parameters",
                            received=value)
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Optional[str]:
        return value if value in (None, "") else check_identifier(value, "layer name")

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
