"""A layer item → a node: its arguments (positional or a mapping, over the per-type defaults
in force), evaluated and validated against its layer type; a failed one becomes a placeholder
node. Also the per-type ``defaults`` sections, checked against the types they name."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import ValidationError

from ..expr import ExprError
from ..ops.base import Layer
from .graph import Node
from .naming import Namer, Place

CACHE_LIMIT = 50_000
# Layers are immutable, so one validated object serves every item with the same arguments,
# across specs too: architecture sweeps re-check the same layers thousands of times.
_VALIDATED: dict[tuple, Layer] = {}

_SCALARS = (str, int, float, bool, type(None))


def freeze(value: Any) -> Any:
    """A hashable, type-exact key for parsed YAML arguments (1, 1.0 and True stay distinct)."""
    if type(value) is dict:
        # keys are unique, so sorting never compares the values
        return tuple(sorted((k, type(v), v) if type(v) in _SCALARS else (k, freeze(v))
                            for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[]",) + tuple(freeze(v) for v in value)
    if isinstance(value, _SCALARS):
        return (type(value), value)
    raise TypeError(f"unhashable argument {type(value).__name__}")


class LayerMaker(Namer):
    types: dict[str, type[Layer]]

    def layer(self, type_name: str, body: Any, at: Place) -> Optional[str]:
        cls: type[Layer] = self.types[type_name]
        data_path = at.path + (type_name,)
        args = self._arguments(cls, body, at)
        if args is None:
            return self.placeholder(None, at)
        try:
            args = self.evaluate({**at.defaults.get(type_name, {}), **args}, at.env, data_path,
                                 at.via)
        except ExprError:
            return self.placeholder(args.get("name"), at)
        raw_name, refs = args.pop("name", None), args.pop("inputs", None)
        name = self.name(raw_name, type_name, at, data_path)
        inputs = self.resolve(refs, at, data_path, raw_name)
        layer = self._validate(cls, args, data_path, at)
        if name is None:
            return None
        node = Node(name, layer if inputs is not None else None, inputs or ["?"],
                    path_key=at.path, location=self.source.locate(data_path), via=at.via,
                    scope=at.scope.frames)
        if inputs is None or layer is None:
            node.layer, node.meta["invalid"] = None, True
        self.register(node, raw_name, at.scope)
        return name

    def _arguments(self, cls: type[Layer], body: Any, at: Place) -> Optional[dict]:
        if body is None:
            return {}
        if isinstance(body, dict):
            return dict(body)
        positional = cls.positional
        if isinstance(body, list) and len(positional) != 1:
            if len(body) > len(positional):
                self.error(f"{cls.__name__} takes at most {len(positional)} positional arguments "
                           f"({', '.join(positional) or 'none'})", at.path, received=body,
                           via=at.via)
                return None
            return dict(zip(positional, body))
        if not positional:
            self.error(f"{cls.__name__} takes no positional argument; write its arguments as a "
                       f"mapping", at.path, received=body, via=at.via)
            return None
        return {positional[0]: body}

    def _validate(self, cls: type[Layer], args: dict, data_path: tuple,
                  at: Place) -> Optional[Layer]:
        try:
            key = (cls, freeze(args))
        except TypeError:
            key = None
        layer = _VALIDATED.get(key) if key is not None else None
        if layer is not None:
            return layer
        try:
            layer = cls.model_validate(args)
        except ValidationError as exc:
            self.invalid(exc, cls, at.path, at.via, data_path=data_path)
            return None
        if key is not None:
            if len(_VALIDATED) > CACHE_LIMIT:
                _VALIDATED.clear()
            _VALIDATED[key] = layer
        return layer

    def defaults(self, section: dict, path: tuple, inherited: dict) -> dict:
        """``inherited`` with ``section``'s arguments per layer type over it."""
        merged = {k: dict(v) for k, v in inherited.items()}
        for type_name, args in section.items():
            cls = self.types.get(type_name)
            if cls is None:
                self.error(f"defaults name an unknown layer type '{type_name}'",
                           path + (type_name,), hint=self.hint(type_name, self.types))
                continue
            for key in args:
                if key not in cls.model_fields or key in ("type", "name", "inputs"):
                    self.error(f"unknown field '{key}' for {type_name} in defaults",
                               path + (type_name, key),
                               hint=self.hint(key, [f for f in cls.model_fields if f != "type"]))
            merged.setdefault(type_name, {}).update(args)
        return merged
