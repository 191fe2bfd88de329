"""The spec document: header, parameters, defaults, blocks and the layer list, as written.

Layer items stay close to the text here (``{"Conv2D": {"filters": 64}}``) because they may
hold ``${...}`` expressions that only have values once blocks and repeats are expanded; the
graph builder validates each item against its layer type with the item's own path.
"""

from __future__ import annotations

import json
import keyword
import re
from typing import Any, ClassVar, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ..errors import ArgumentError, Diagnostic, caller_location
from ..limits import MAX_DIM
from ..ops.base import Layer
from ..ops.docs import Documented
from ..ops.explain import arguments_error
from .marks import SourceMap

# \Z, not $: "$" also matches before a final newline, so "fc\n" would pass as a name.
IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
SPEC_NAME = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}\Z")
PACKAGE_NAME = re.compile(r"\A[A-Za-z0-9]([A-Za-z0-9._-]{0,98}[A-Za-z0-9])?\Z")  # PEP 508


def check_identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value) or keyword.iskeyword(value):
        raise ValueError(f"{what} {value!r} must be a Python-style identifier: letters, digits "
                         f"and '_', not starting with a digit, at most 64 characters, not a "
                         f"keyword")
    return value


def layer_item(layer: Layer) -> Union[str, dict]:
    """``Conv2D(32, 3)`` → ``{"Conv2D": {"filters": 32, "kernel_size": [3, 3]}}``."""
    body = layer.args()
    if layer.name:
        body["name"] = layer.name
    if layer.inputs:
        body["inputs"] = list(layer.inputs)
    return {layer.type_name: body} if body else layer.type_name


def _plain(item: Any) -> Any:
    if isinstance(item, Layer):
        return layer_item(item)
    if isinstance(item, dict):
        return {k: _plain(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_plain(v) for v in item]
    return item


def _refuse(message: str, path: str, received: Any = None, hint: Optional[str] = None):
    raise ArgumentError([Diagnostic(message, path=path, location=caller_location(),
                                    received=received, hint=hint)])


def _check_items(layers: Any, path: str) -> list:
    items = layers if isinstance(layers, (list, tuple)) else [layers]
    for i, item in enumerate(items):
        if not isinstance(item, (Layer, str, dict)):
            _refuse(f"a layer item must be a layer (Conv2D(32, 3)), a type name ('Flatten') or "
                    f"a mapping ({{'Conv2D': {{'filters': 32}}}}), not {type(item).__name__}",
                    f"{path}[{i}]")
    return list(items)


def repeat(times: Union[int, str], layers: list, index: str = "i",
           name: Optional[str] = None) -> dict:
    """A ``repeat`` item: ``layers`` expanded ``times`` times, with ``index`` bound to 0, 1, …
    Raises ``ArgumentError`` for arguments a spec could not hold."""
    is_count = isinstance(times, int) and not isinstance(times, bool) and times >= 0
    if not (is_count or (isinstance(times, str) and times.startswith("${"))):
        _refuse("repeat times must be an integer from 0, or a ${...} expression",
                "repeat.times", received=times)
    for label, value in (("index", index), ("name", name)):
        if value is not None and not (isinstance(value, str) and (
                IDENTIFIER.match(value) or (label == "name" and value == ""))):
            _refuse(f"repeat {label} must be an identifier" + (" or ''" if label == "name"
                                                                 else ""),
                    f"repeat.{label}", received=value)
    body: dict[str, Any] = {"times": times, "layers": _plain(_check_items(layers, "repeat.layers"))}
    if index != "i":
        body["index"] = index
    if name is not None:  # "" is a name: the iterations are then 0, 1, ...
        body["name"] = name
    return {"repeat": body}


def group(layers: list, name: Optional[str] = None,
          defaults: Optional[dict] = None) -> dict:
    """A ``group`` item: ``layers`` with their own ``defaults``; with a ``name`` it is a
    container whose unnamed items are named by position (``classifier_0``)."""
    if name is not None and not (isinstance(name, str) and IDENTIFIER.match(name)):
        _refuse("group name must be an identifier", "group.name", received=name)
    body: dict[str, Any] = {"layers": _plain(_check_items(layers, "group.layers"))}
    if name is not None:
        body["name"] = name
    if defaults:
        body["defaults"] = _plain(defaults)
    return {"group": body}


def call(block: str, /, **arguments: Any) -> dict:
    """A call of a block defined under ``blocks``: ``call("residual_block", filters=64)``."""
    if not isinstance(block, str) or not IDENTIFIER.match(block):
        _refuse("call's first argument is the name of a block defined under 'blocks'", "call",
                received=block)
    return {block: _plain(arguments)}


class _Checked(BaseModel, metaclass=Documented):
    """Constructors that raise ``ArgumentError`` (messages as for the same mistake in a spec
    file, at the caller's line) instead of pydantic's ValidationError; ``help()`` shows what
    archspec defines."""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise arguments_error(exc, type(self)) from None

    # The loader's model_validate keeps pydantic's error, which it locates in the file.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class InputSpec(_Checked):
    """The model's input: its shape without the batch, in ``layout`` (channels_last, Keras'
    default, or channels_first, PyTorch's)."""
    model_config = ConfigDict(extra="forbid")
    field_examples: ClassVar[dict[str, str]] = {"shape": "[28, 28, 1]",
                                                "layout": "channels_first"}
    shape: list[Union[int, str]] = Field(min_length=1, max_length=4)
    layout: Literal["channels_last", "channels_first"] = "channels_last"

    @field_validator("shape")
    @classmethod
    def _dims(cls, value: list) -> list:
        for v in value:
            if isinstance(v, bool) or (isinstance(v, int) and not 1 <= v <= MAX_DIM):
                raise ValueError(f"input sizes must be integers from 1 to {MAX_DIM}")
            if isinstance(v, str) and not v.startswith("${"):
                raise ValueError("input sizes must be integers or ${...} expressions")
        return value


class BlockDef(_Checked):
    """A parameterised group of layers, called like a layer: ``- residual_block: {filters: 64}``.
    ``params`` lists required names, or ``{name: default}`` mappings for optional ones."""
    model_config = ConfigDict(extra="forbid")
    field_examples: ClassVar[dict[str, str]] = {
        "params": "[filters, {stride: 1}]", "inputs": "[input]",
        "defaults": "{Conv2D: {padding: same}}", "layers": "[{Conv2D: {filters: 64}}]"}
    description: str = ""
    params: Union[list[Union[str, dict[str, Any]]], dict[str, Any]] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=lambda: ["input"], min_length=1)
    defaults: dict[str, dict[str, Any]] = Field(default_factory=dict)
    layers: list[Any] = Field(min_length=1)

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, value: list[str]) -> list[str]:
        return [check_identifier(v, "block input name") for v in value]

    @field_validator("layers", mode="before")
    @classmethod
    def _layers(cls, value: Any) -> Any:
        return _plain(value)

    def param_defaults(self) -> dict[str, Any]:
        """name → default; required parameters map to REQUIRED."""
        if isinstance(self.params, dict):
            return dict(self.params)
        result: dict[str, Any] = {}
        for entry in self.params:
            if isinstance(entry, str):
                result[entry] = REQUIRED
            else:
                result.update(entry)
        return result


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


class Spec(_Checked):
    """A whole architecture. Build it from a file with ``archspec.load`` or directly:
    ``Spec(name="mnist_cnn", input=[28, 28, 1], layers=[Conv2D(32, 3, activation="relu"), ...])``.

    Fields (docs/spec-language.md has the whole language):
      name: letters, digits, _ - . (at most 64)
      input: the input shape without the batch, [28, 28, 1], or {shape: [...], layout:
          channels_first} (Keras' input_shape)
      layers: layer objects, type names ("Flatten") or {type: arguments} mappings, and
          repeat(...)/call(...) items
      params, defaults, blocks: spec parameters (``${...}``), per-type default arguments,
          reusable groups of layers
      description, reference: free text, and what the spec reproduces
      plugins: the packages whose layer types it uses (docs/plugins.md)
    Mistakes raise ``ArgumentError``.
    """
    model_config = ConfigDict(extra="forbid")
    field_examples: ClassVar[dict[str, str]] = {
        "name": "mnist_cnn", "input": "{shape: [28, 28, 1]}", "params": "{depth: 50}",
        "defaults": "{Conv2D: {padding: same}}", "layers": "[Flatten, {Dense: {units: 10}}]",
        "blocks": "{residual: {params: [filters], layers: [{Conv2D: {filters: '${filters}'}}]}}"}
    archspec: Literal[1] = 1
    name: str
    description: str = ""
    reference: Optional[str] = None
    plugins: list[str] = Field(default_factory=list)
    input: InputSpec
    params: dict[str, Any] = Field(default_factory=dict)
    defaults: dict[str, dict[str, Any]] = Field(default_factory=dict)
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    layers: list[Any] = Field(min_length=1)

    _source: SourceMap = PrivateAttr(default_factory=SourceMap)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SPEC_NAME.match(value):
            raise ValueError("name must be 1-64 letters, digits, '_', '-' or '.'")
        return value

    @field_validator("plugins")
    @classmethod
    def _plugins(cls, value: list[str]) -> list[str]:
        for package in value:
            if not PACKAGE_NAME.match(package):
                raise ValueError(f"{package!r} is not a package name (letters, digits, '.', "
                                 f"'-', '_', as pip spells it: archspec-squeeze-excite)")
        return value

    @field_validator("input", mode="before")
    @classmethod
    def _input(cls, value: Any) -> Any:
        return {"shape": list(value)} if isinstance(value, (list, tuple)) else value

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict) -> dict:
        for key in value:
            check_identifier(key, "parameter name")
        return value

    @field_validator("blocks")
    @classmethod
    def _blocks(cls, value: dict) -> dict:
        from ..ops.base import layer_types
        for key in value:
            check_identifier(key, "block name")
            if key in layer_types() or key in ("repeat", "group"):
                raise ValueError(f"block name {key!r} is taken by a built-in layer or keyword")
        return value

    @field_validator("layers", mode="before")
    @classmethod
    def _layers(cls, value: Any) -> Any:
        return _plain(value)

    def __eq__(self, other: object) -> bool:
        # The document is the identity; where it was read from (the source map) is not.
        return isinstance(other, Spec) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def source(self) -> SourceMap:
        return self._source

    def with_params(self, /, **overrides: Any) -> "Spec":
        """A copy with some spec parameters changed (what ``--set k=v`` does)."""
        from ..errors import Diagnostic, SpecError, suggestion
        unknown = [k for k in overrides if k not in self.params]
        if unknown:
            raise SpecError([Diagnostic(
                f"unknown parameter '{k}'", path="params",
                location=self._source.locate(("params",)),
                hint=suggestion(k, self.params) or
                f"this spec's parameters: {', '.join(self.params) or 'none'}") for k in unknown])
        copy = self.model_copy(update={"params": {**self.params, **overrides}})
        copy._source = self._source
        return copy

    def to_dict(self) -> dict:
        return {"archspec": self.archspec, **self.model_dump(mode="json", exclude_defaults=True)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None,
                              width=100)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
