"""The JSON Schema of the spec language, for editors. Built from the same pydantic models the
loader validates with, so the two cannot drift apart. Any argument may also be a ``${...}``
expression, which the schema allows alongside the argument's own type."""

from __future__ import annotations

from typing import Any

from .ops.base import layer_types
from .spec.model import Spec

EXPRESSION = {"type": "string", "pattern": r"^\$\{.*\}$", "description": "a ${...} expression"}
STRUCTURAL = {
    "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
    "inputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "when": {"anyOf": [{"type": "boolean"}, EXPRESSION]},
}


def _layer_schema(cls) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="validation")
    properties = {k: {"anyOf": [v, EXPRESSION]} for k, v in schema.get("properties", {}).items()
                  if k not in ("type", "name", "inputs")}
    properties.update(STRUCTURAL)
    body = {"type": "object", "properties": properties, "additionalProperties": False,
            "description": (cls.__doc__ or "").strip()}
    if "$defs" in schema:
        body["$defs"] = schema["$defs"]
    return body


def spec_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    defs = schema.setdefault("$defs", {})
    item_options: list[dict[str, Any]] = [{"type": "string", "enum": sorted(layer_types())}]
    for name, cls in sorted(layer_types().items()):
        layer = _layer_schema(cls)
        defs.update(layer.pop("$defs", {}))
        defs[f"layer_{name}"] = layer
        item_options.append({"type": "object", "required": [name], "additionalProperties": False,
                             "properties": {name: {"anyOf": [{"$ref": f"#/$defs/layer_{name}"},
                                                             {"type": "null"}, {"type": "array"},
                                                             {"type": ["number", "string"]}]}}})
    item_options.append({"type": "object", "required": ["repeat"], "additionalProperties": False,
                         "properties": {"repeat": {"type": "object", "required": ["times", "layers"]}}})
    item_options.append({"type": "object", "required": ["group"], "additionalProperties": False,
                         "properties": {"group": {"type": "object", "required": ["layers"]}}})
    item_options.append({"type": "object", "minProperties": 1, "maxProperties": 1,
                         "description": "a call of a block defined under 'blocks'"})
    defs["layer_item"] = {"anyOf": item_options}
    schema["properties"]["layers"] = {"type": "array", "minItems": 1,
                                      "items": {"$ref": "#/$defs/layer_item"}}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec spec"
    return schema
