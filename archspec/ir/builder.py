"""Spec document → graph IR: evaluates parameters, expands blocks, repeats and groups, applies
defaults, validates every layer item against its type, and resolves ``inputs`` references.

Errors are collected, not thrown one at a time: a bad item becomes a placeholder node so that
later items still get checked, and references to it do not cascade into more errors.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any, Optional

from pydantic import ValidationError

from ..errors import Diagnostic, SpecError, omitted, suggestion
from ..expr import ExprError, Meter, substitute
from ..expr import evaluate as evaluate_expression
from ..limits import (
    EXPANSION_STEPS_PER_LAYER,
    MAX_CALL_DEPTH,
    MAX_DIM,
    MAX_ERRORS,
    MAX_LAYERS,
    MAX_SUGGESTION_NAMES,
)
from ..ops.base import Layer, layer_types
from ..spec.diagnose import from_validation_error
from ..spec.model import IDENTIFIER, REQUIRED, Spec, check_identifier
from ..spec.overrides import parse_override  # noqa: F401 - moved to the spec layer
from ..spec.paths import format_path
from .bounds import LaterNames as _LaterNames
from .bounds import item_key, shortened
from .graph import INPUT, Frame, Graph, Node

CACHE_LIMIT = 50_000
# Layers are immutable, so one validated object serves every item with the same arguments,
# across specs too: architecture sweeps re-check the same layers thousands of times.
_VALIDATED: dict[tuple, Layer] = {}
CALL_STEPS = 3
STRUCTURAL = ("name", "inputs", "when")
KEYWORDS = ("repeat", "group")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def snake(type_name: str) -> str:
    """Keras-style automatic names: Conv2D → conv2d, BatchNormalization → batch_normalization."""
    return _CAMEL.sub("_", type_name).lower()


def unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A mistake inside a block is reported once, not once per call: keep the first of each
    (message, place) pair."""
    seen, result = set(), []
    for d in diagnostics:
        key = (d.message, d.path, d.location)
        if key not in seen:
            seen.add(key)
            result.append(d)
    return result


# What the name of a disabled merge refers to: no layer name can equal it.
_SKIPPED_MERGE = "\0skipped merge"




_SCALARS = (str, int, float, bool, type(None))


def _freeze(value: Any) -> Any:
    """A hashable, type-exact key for parsed YAML arguments (1, 1.0 and True stay distinct)."""
    if type(value) is dict:
        # keys are unique, so sorting never compares the values
        return tuple(sorted((k, type(v), v) if type(v) in _SCALARS else (k, _freeze(v))
                            for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[]",) + tuple(_freeze(v) for v in value)
    if isinstance(value, _SCALARS):
        return (type(value), value)
    raise TypeError(f"unhashable argument {type(value).__name__}")


class _Scope:
    """Names visible to ``inputs``: a block body sees only its own inputs and layers; the top
    level also resolves fully qualified names such as ``stage2_conv1``."""

    def __init__(self, prefix: str, parent: Optional["_Scope"], isolated: bool = False,
                 auto_prefix: Optional[str] = None, frame: Optional[Frame] = None,
                 positional: bool = False):
        self.prefix, self.parent, self.isolated = prefix, parent, isolated
        # Automatic names skip the levels of unnamed repeats: stage1_conv2d_3, not
        # repeat1_0_stage1_repeat2_1_conv2d_3 (the counter keeps them unique anyway).
        self.auto_prefix = prefix if auto_prefix is None else auto_prefix
        self.names: dict[str, str] = {}
        parent_frames = parent.frames if parent is not None else ()
        self.frames: tuple = parent_frames + (frame,) if frame is not None else parent_frames
        # In a named group, unnamed items are named by their position among the items that
        # are there (when: false ones are not), as nn.Sequential numbers its modules.
        self.positions = itertools.count() if positional else None

    def auto(self, short: str) -> str:
        return f"{self.auto_prefix}_{short}" if self.auto_prefix else short

    def qualify(self, short: str) -> str:
        return f"{self.prefix}_{short}" if self.prefix else short

    def lookup(self, short: str) -> Optional[str]:
        scope: Optional[_Scope] = self
        while scope is not None:
            if short in scope.names:
                return scope.names[short]
            if scope.isolated:
                return None
            scope = scope.parent
        return None

    def top_level(self) -> bool:
        scope: Optional[_Scope] = self
        while scope is not None:
            if scope.isolated:
                return False
            scope = scope.parent
        return True


class Builder:
    def __init__(self, spec: Spec, max_layers: Optional[int] = None):
        self.spec = spec
        self.max_layers = MAX_LAYERS if max_layers is None else max_layers
        # Expansion work is counted, not only the layers it makes: a repeat of empty repeats
        # makes none, yet would loop forever.
        self.steps_left = EXPANSION_STEPS_PER_LAYER * self.max_layers
        self.meter = Meter()  # every expression of the spec shares one work budget
        self.error_count = self.omitted = 0
        self.first_omitted: Optional[tuple] = None
        self._reported: set[tuple] = set()
        self.source = spec.source
        self.types = layer_types()
        self.hidden = frozenset(self.types) | frozenset(spec.blocks)
        self.nodes: list[Node] = []
        self.by_name: dict[str, Node] = {}
        self.diagnostics: list[Diagnostic] = []
        self.counters: Counter = Counter()
        self.call_stack: list[str] = []
        self.handlers = {"layer": self._layer, "block": self._call, "repeat": self._repeat,
                         "group": self._group}

    # --- diagnostics --------------------------------------------------------------------
    def error(self, message: str, path: tuple, hint: str | None = None, received: Any = None,
              allowed: str | None = None, via: str | None = None, severity: str = "error",
              data_path: tuple | None = None) -> None:
        where = path if data_path is None else data_path
        if (message, where) in self._reported:
            return  # the same mistake again, from another call of its block or repeat
        self._reported.add((message, where))
        if not self._room_for(severity):
            self.first_omitted = self.first_omitted or where
            return
        self.diagnostics.append(Diagnostic(
            message, path=format_path(path, self.hidden),
            location=self.source.locate(path if data_path is None else data_path),
            hint=hint, received=received, allowed=allowed, via=via, severity=severity))

    def _room_for(self, severity: str = "error", count: int = 1) -> bool:
        """Past MAX_ERRORS errors, further ones are only counted: describing each costs a
        location and often a did-you-mean search."""
        if severity != "error":
            return True
        self.error_count += count
        if self.error_count > MAX_ERRORS:
            self.omitted += count
            return False
        return True

    def hint(self, word: str, choices) -> Optional[str]:
        """A did-you-mean among at most MAX_SUGGESTION_NAMES names, and none once errors are
        only being counted."""
        if self.error_count >= MAX_ERRORS:
            return None
        return suggestion(word, list(itertools.islice(choices, MAX_SUGGESTION_NAMES)))

    def spend(self, steps: int, path: tuple, via: Optional[str], what: str) -> None:
        """Charge expansion work; past the budget the spec is refused at the item that
        crossed it (nothing after it could be checked in bounded time anyway)."""
        self.steps_left -= steps
        if self.steps_left < 0:
            self._refuse(f"{what}: expanding the spec takes more than "
                         f"{EXPANSION_STEPS_PER_LAYER * self.max_layers:,} steps (items, repeat "
                         f"iterations and block calls), the limit for {self.max_layers:,} "
                         f"layers", path, via)

    def _refuse(self, message: str, path: tuple, via: Optional[str]) -> None:
        """Stop expanding. This error comes first, whatever was found before it: it is why
        the rest of the spec went unchecked."""
        earlier = self._finished()
        self.diagnostics, self.error_count, self.omitted = [], 0, 0
        self.error(message, path, via=via,
                   hint=f"check repeat counts and parameters; a spec this large on purpose "
                        f"needs --max-layers N (Python: max_layers=N), e.g. "
                        f"{2 * self.max_layers:,}")
        raise SpecError(self.diagnostics + earlier)

    def _finished(self) -> list[Diagnostic]:
        diagnostics = unique(self.diagnostics)
        if self.omitted:
            diagnostics.append(omitted(self.omitted, self.source.locate(self.first_omitted)))
        return diagnostics

    def evaluate(self, value: Any, env: dict, path: tuple, via: str | None) -> Any:
        if type(value) is dict:  # per key, so an error points at its own field
            result = dict(value)
            for k, v in value.items():
                kind = type(v)
                if (kind is str and v.startswith("${")) or kind is list or kind is dict:
                    result[k] = self.evaluate(v, env, path + (k,), via)
            return result
        if isinstance(value, str) and not value.startswith("${"):
            return value
        try:
            if isinstance(value, str) and value.endswith("}"):
                return evaluate_expression(value[2:-1], env, self.meter)
            return substitute(value, env, self.meter)
        except ExprError as exc:
            # The expression itself is shown: with --set, the user may never have read it.
            self.error(f"in expression: {exc}", path, via=via,
                       received=value if isinstance(value, str) else None,
                       hint=getattr(exc, "hint", None) or
                       "expressions are ${...} with parameters, numbers, + - * / // % **, "
                       "comparisons, 'a if c else b', lists and min/max/ceil/floor/...")
            raise

    # --- entry point ----------------------------------------------------------------------
    def build(self) -> Graph:
        spec = self.spec
        env = self._spec_env()
        shape = self._input_shape(env)
        channels_first = spec.input.layout == "channels_first"
        self.nodes.append(Node(INPUT, None, [], path_key=("input",),
                               location=self.source.locate(("input",))))
        self.by_name[INPUT] = self.nodes[0]
        scope = _Scope("", None)
        scope.names[INPUT] = INPUT
        defaults = self._defaults(spec.defaults, ("defaults",), {})
        output = self._items(spec.layers, ("layers",), scope, env, defaults, INPUT, None)
        self.diagnostics = self._finished()
        if shape is None:
            raise SpecError(self.diagnostics)
        # Returned even with errors: inference still checks the valid part, so shape errors
        # arrive together with these; it raises at the end.
        return Graph(spec.name, shape, channels_first, self.nodes, output or INPUT,
                     spec.description, spec.reference, diagnostics=list(self.diagnostics),
                     source=spec.source.file)

    def _spec_params(self) -> dict:
        env: dict[str, Any] = {}
        for key, value in self.spec.params.items():
            try:
                env[key] = self.evaluate(value, env, ("params", key), None)
            except ExprError:
                env[key] = None
        return env

    def _input_shape(self, env: dict):
        try:
            dims = self.evaluate(list(self.spec.input.shape), env, ("input", "shape"), None)
        except ExprError:
            return None
        if any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d < 2**31 for d in dims):
            self.error("input sizes must be integers from 1 to 2**31-1", ("input", "shape"),
                       received=dims)
            return None
        dims = tuple(dims)
        if self.spec.input.layout == "channels_first" and len(dims) > 1:
            dims = dims[1:] + dims[:1]
        return dims

    def _defaults(self, section: dict, path: tuple, inherited: dict) -> dict:
        merged = {k: dict(v) for k, v in inherited.items()}
        for type_name, args in section.items():
            cls = self.types.get(type_name)
            if cls is None:
                self.error(f"defaults name an unknown layer type '{type_name}'", path + (type_name,),
                           hint=self.hint(type_name, self.types))
                continue
            for key in args:
                if key not in cls.model_fields or key in ("type", "name", "inputs"):
                    self.error(f"unknown field '{key}' for {type_name} in defaults",
                               path + (type_name, key),
                               hint=self.hint(key, [f for f in cls.model_fields if f != "type"]))
            merged.setdefault(type_name, {}).update(args)
        return merged

    # --- items ----------------------------------------------------------------------------
    def _items(self, items: list, base: tuple, scope: _Scope, env: dict, defaults: dict,
               prev: Optional[str], via: Optional[str]) -> Optional[str]:
        for index, item in enumerate(items):
            path = base + (index,)
            self.spend(1, path, via, "at this item")
            parsed = self._classify(item, path, via)
            if parsed is None:
                prev = None
                continue
            kind, key, body = parsed
            if isinstance(body, dict) and "when" in body:
                try:
                    keep = self.evaluate(body["when"], env, path + (key, "when"), via)
                except ExprError:
                    keep = True
                body = {k: v for k, v in body.items() if k != "when"}
                if not keep:
                    prev = self._skip(key, body, path, scope, prev, via, _LaterNames(items, index))
                    continue
            later = _LaterNames(items, index)
            prev = self.handlers[kind](key, body, path, scope, env, defaults, prev, via, later)
        return prev

    def _skip(self, key: str, body: dict, path: tuple, scope: _Scope, prev: Optional[str], via,
              later: _LaterNames) -> str:
        """A disabled item becomes the identity on its input: its name, and the implicit input
        of the item after it, stand for what it would have read — the named ``inputs`` if it
        has one (an optional shortcut written after the main branch), else the item before.
        A disabled merge (several ``inputs``, such as MobileNetV2's optional residual Add) is
        simply left out: the flow goes on from the item before, and its name stands for none
        of its inputs, so naming it later is an error."""
        refs = body.get("inputs")
        raw_name = body.get("name")
        stand_in = name_target = prev
        if refs is not None:
            resolved = self._resolve(refs, prev, scope, path + (key,), via, later, raw_name)
            if resolved is None:
                stand_in = name_target = None
            elif len(resolved) == 1:
                stand_in = name_target = resolved[0]
            else:
                name_target = _SKIPPED_MERGE
        if isinstance(raw_name, str):
            scope.names[raw_name] = name_target or "?"
        return stand_in or "?"  # an unresolved input was reported; don't cascade

    def _classify(self, item: Any, path: tuple, via: Optional[str]):
        if isinstance(item, str):
            item = {item: None}
        if not isinstance(item, dict) or len(item) != 1:
            keys = list(item) if isinstance(item, dict) else None
            hint = ("each item is one mapping like '- Conv2D: {filters: 32}'; put name, inputs "
                    "and arguments inside it")
            if keys and any(k in STRUCTURAL for k in keys):
                hint = "indent 'name'/'inputs' under the layer type: '- Dense: {units: 10, name: fc}'"
            self.error("a layer item must be a layer type, block or 'repeat' with its "
                       "arguments", path, hint=hint, received=keys or item, via=via)
            return None
        (key, body), = item.items()
        if key in self.types:
            return "layer", key, body
        if key in self.spec.blocks:
            return "block", key, body
        if key in KEYWORDS:
            return key, key, body
        choices = list(self.types) + list(self.spec.blocks) + list(KEYWORDS)
        self.error(f"unknown layer type '{key}'", path + (key,), via=via,
                   hint=self.hint(key, choices) or "see 'archspec schema' for the layer types")
        return None

    def _name(self, raw: Any, type_name: str, scope: _Scope, path: tuple, via) -> Optional[str]:
        if raw is None:
            if scope.positions is not None:
                return scope.qualify(str(next(scope.positions)))
            return self._auto_name(snake(type_name) + "_", scope)
        try:
            check_identifier(raw, "layer name")
        except ValueError as exc:
            self.error(str(exc), path + ("name",), received=raw, via=via)
            return None
        if raw == INPUT:
            self.error("'input' names the model input and cannot name a layer", path + ("name",),
                       via=via)
            return None
        if scope.positions is not None:
            next(scope.positions)
        full = scope.qualify(raw)
        if full in self.by_name or raw in scope.names:
            first = self.by_name.get(full)
            self.error(f"duplicate layer name '{raw}'", path + ("name",), via=via,
                       hint=f"first used at {first.path} ({first.location})" if first else None)
            return None
        return full

    def _auto_name(self, base: str, scope: _Scope) -> str:
        """``conv2d_3``: counted per container (a block call, a named repeat's iteration), so a
        name says where a layer is rather than how many came before it in the whole spec."""
        counter = (scope.auto_prefix, base)
        while True:
            self.counters[counter] += 1
            short = f"{base}{self.counters[counter]}"
            full = scope.auto(short)
            if full not in self.by_name and short not in scope.names:
                return full

    def _resolve(self, refs: Any, prev: Optional[str], scope: _Scope, path: tuple, via,
                 later: list, own_name: Optional[str]) -> Optional[list[str]]:
        if refs is None:
            return [prev] if prev is not None else None
        if isinstance(refs, str):
            refs = [refs]
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            self.error("'inputs' must be a layer name or a list of layer names", path + ("inputs",),
                       received=refs, via=via)
            return None
        resolved = []
        for i, ref in enumerate(refs):
            target = scope.lookup(ref)
            if target is None and scope.top_level() and ref in self.by_name:
                target = self.by_name[ref].name
            if target == _SKIPPED_MERGE:
                self.error(f"'{ref}' is left out (when: false) and names several inputs, so it "
                           f"stands for none of them", path + ("inputs",), via=via,
                           hint="name one of its inputs here, or give the optional item a "
                                "single input")
                return None
            if target is None:
                where = path + ("inputs", i) if len(refs) > 1 else path + ("inputs",)
                if ref == own_name:
                    self.error(f"layer '{ref}' takes its own output as input: a cycle", where,
                               via=via)
                elif ref in later:
                    self.error(f"'{ref}' is defined later; a layer can only take inputs from "
                               f"layers before it", where, via=via,
                               hint="move the layer up, or if each needs the other, the graph has "
                                    "a cycle, which a feed-forward network cannot have")
                else:
                    self.error(f"unknown layer '{ref}' in inputs", where, via=via,
                               hint=self.hint(ref, self._visible(scope)))
                return None
            resolved.append(target)
        return resolved

    def _visible(self, scope: _Scope):
        """The names ``scope`` sees, nearest first (the likeliest meant, and what the bounded
        did-you-mean search keeps)."""
        s: Optional[_Scope] = scope
        while s is not None:
            yield from reversed(s.names)
            if s.isolated:
                break
            s = s.parent

    # --- a layer ----------------------------------------------------------------------------
    def _layer(self, type_name, body, path, scope, env, defaults, prev, via, later):
        cls: type[Layer] = self.types[type_name]
        data_path = path + (type_name,)
        args = self._arguments(cls, body, path, via)
        if args is None:
            return self._placeholder(None, scope, path, via, prev)
        try:
            args = self.evaluate({**defaults.get(type_name, {}), **args}, env, data_path, via)
        except ExprError:
            return self._placeholder(args.get("name"), scope, path, via, prev)
        raw_name, refs = args.pop("name", None), args.pop("inputs", None)
        name = self._name(raw_name, type_name, scope, data_path, via)
        inputs = self._resolve(refs, prev, scope, data_path, via, later, raw_name)
        layer = self._validate(cls, args, data_path, path, via)
        if name is None:
            return None
        node = Node(name, layer if inputs is not None else None, inputs or ["?"],
                    path_key=path, location=self.source.locate(data_path), via=via,
                    scope=scope.frames)
        if inputs is None or layer is None:
            node.layer, node.meta["invalid"] = None, True
        self._register(node, raw_name, scope)
        return name

    def _arguments(self, cls, body, path, via) -> Optional[dict]:
        if body is None:
            return {}
        if isinstance(body, dict):
            return dict(body)
        positional = cls.positional
        if isinstance(body, list) and len(positional) != 1:
            if len(body) > len(positional):
                self.error(f"{cls.__name__} takes at most {len(positional)} positional arguments "
                           f"({', '.join(positional) or 'none'})", path, received=body, via=via)
                return None
            return dict(zip(positional, body))
        if not positional:
            self.error(f"{cls.__name__} takes no positional argument; write its arguments as a "
                       f"mapping", path, received=body, via=via)
            return None
        return {positional[0]: body}

    def _validate(self, cls, args: dict, data_path, path, via) -> Optional[Layer]:
        try:
            key = (cls, _freeze(args))
        except TypeError:
            key = None
        layer = _VALIDATED.get(key) if key is not None else None
        if layer is not None:
            return layer
        try:
            layer = cls.model_validate(args)
        except ValidationError as exc:
            if self._room_for("error", exc.error_count()):
                self.diagnostics.extend(from_validation_error(
                    exc, path, self.source, cls, self.hidden, via, data_path=data_path))
            else:
                self.first_omitted = self.first_omitted or data_path
            return None
        if key is not None:
            if len(_VALIDATED) > CACHE_LIMIT:
                _VALIDATED.clear()
            _VALIDATED[key] = layer
        return layer

    def _placeholder(self, raw_name, scope, path, via, prev):
        name = raw_name if isinstance(raw_name, str) and IDENTIFIER.match(raw_name) else None
        node = Node(scope.qualify(name) if name else f"_invalid_{len(self.nodes)}", None,
                    [prev or "?"], path_key=path, via=via, meta={"invalid": True},
                    scope=scope.frames)
        self._register(node, name, scope)
        return node.name

    def _register(self, node: Node, short: Optional[str], scope: _Scope) -> None:
        if len(self.nodes) > self.max_layers:  # nodes[0] is the input
            self._refuse(f"the spec expands to more than {self.max_layers:,} layers",
                         node.path_key, node.via)
        self.nodes.append(node)
        self.by_name[node.name] = node
        if short:
            scope.names[short] = node.name

    # --- blocks, repeats, groups ----------------------------------------------------------------
    def _call(self, block, body, path, scope, env, defaults, prev, via, later):
        definition = self.spec.blocks[block]
        data_path = path + (block,)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            self.error(f"a call of block '{block}' takes a mapping of its parameters", data_path,
                       received=body, via=via)
            return None
        raw_name, refs = body.get("name"), body.get("inputs")
        try:
            arguments = self.evaluate({k: v for k, v in body.items() if k not in STRUCTURAL},
                                      env, data_path, via)
        except ExprError:
            return self._placeholder(raw_name, scope, path, via, prev)
        declared = definition.param_defaults()
        errors_before = self.error_count
        for key in arguments:
            if key not in declared:
                self.error(f"block '{block}' has no parameter '{key}'", data_path + (key,),
                           via=via, hint=self.hint(key, declared),
                           allowed=", ".join(declared) or "none")
        block_env = dict(self._spec_env())
        for key, default in declared.items():
            if key in arguments:
                block_env[key] = arguments[key]
            elif default is REQUIRED:
                self.error(f"block parameter '{key}' of '{block}' is not set", data_path, via=via,
                           hint=f"add {key}: <value> to this call")
                block_env[key] = None
            else:
                try:
                    block_env[key] = self.evaluate(default, block_env, ("blocks", block, "params"), via)
                except ExprError:
                    block_env[key] = None
        if self.error_count > errors_before:  # expanding would only add echoes
            return self._placeholder(raw_name, scope, path, via, prev)
        # A call costs about what three layers do (a scope, the parameters, the defaults).
        self.spend(CALL_STEPS + len(block_env) // 32 + len(definition.defaults), data_path,
                   via, f"at this call of block '{block}'")
        if block in self.call_stack or len(self.call_stack) >= MAX_CALL_DEPTH:
            self.error(f"block '{block}' calls itself (through {' -> '.join(self.call_stack)})",
                       data_path, via=via)
            return None
        if raw_name == "" and scope.prefix:
            # name: "" — the body's layers take the enclosing repeat iteration's prefix
            # (layer1_0_conv1 rather than layer1_0_bottleneck3_conv1).
            inputs = self._resolve(refs, prev, scope, data_path, via, later, None)
            frame = Frame("call", "", scope.prefix, block, _params(declared, block_env))
            return self._expand_block(block, definition, path, frame, scope, inputs,
                                      block_env, via)
        if raw_name is None and scope.positions is not None:
            raw_name = str(next(scope.positions))
            name = scope.qualify(raw_name)
        elif raw_name is None:
            name = self._auto_name(block, scope)
            raw_name = name[len(scope.auto_prefix) + 1:] if scope.auto_prefix else name
        else:
            name = self._name(raw_name, block, scope, data_path, via)
        inputs = self._resolve(refs, prev, scope, data_path, via, later, raw_name)
        if name is None:
            return None
        local = name[len(scope.frames[-1].prefix) + 1:] if scope.frames and \
            scope.frames[-1].prefix else name
        frame = Frame("call", local, name, block, _params(declared, block_env))
        out = self._expand_block(block, definition, path, frame, scope, inputs, block_env, via)
        scope.names[raw_name] = out
        if out is not None:
            self.by_name.setdefault(name, self.by_name.get(out))
        return out

    def _expand_block(self, block, definition, path, frame, scope, inputs, block_env, via):
        name = frame.prefix
        if inputs is not None and len(inputs) != len(definition.inputs):
            self.error(f"block '{block}' takes {len(definition.inputs)} input(s) "
                       f"({', '.join(definition.inputs)}), got {len(inputs)}",
                       path + (block, "inputs"), via=via)
            inputs = None
        inner = _Scope(name, scope, isolated=True, frame=frame)
        for local, target in zip(definition.inputs, inputs or [None] * len(definition.inputs)):
            inner.names[local] = target if target is not None else "?"
        inner_defaults = self._defaults(definition.defaults, ("blocks", block, "defaults"),
                                        self._spec_defaults())
        call_via = f"{format_path(path)} ({block} '{name}')"
        call_via = shortened(f"{via} -> {call_via}") if via else call_via
        self.call_stack.append(block)
        try:
            return self._items(definition.layers, ("blocks", block, "layers"), inner, block_env,
                               inner_defaults, inner.names[definition.inputs[0]], call_via)
        finally:
            self.call_stack.pop()

    def _spec_env(self) -> dict:
        if not hasattr(self, "_env_cache"):
            self._env_cache = self._spec_params()
        return self._env_cache

    def _spec_defaults(self) -> dict:
        if not hasattr(self, "_defaults_cache"):
            saved = len(self.diagnostics)
            self._defaults_cache = self._defaults(self.spec.defaults, ("defaults",), {})
            del self.diagnostics[saved:]  # already reported once at the top level
        return self._defaults_cache

    def _repeat(self, _key, body, path, scope, env, defaults, prev, via, later):
        data_path = path + ("repeat",)
        if not isinstance(body, dict) or "layers" not in body or "times" not in body:
            self.error("'repeat' needs 'times' and 'layers'", data_path, via=via,
                       hint="- repeat: {times: 3, layers: [{Conv2D: {filters: 64}}]}")
            return None
        fields = ("times", "layers", "index", "name", "start")
        for key in sorted(set(body) - set(fields)):
            self.error(f"unknown field '{key}' in repeat", data_path + (key,), via=via,
                       hint=self.hint(key, fields))
        try:
            times = self.evaluate(body["times"], env, data_path + ("times",), via)
        except ExprError:
            return None
        start = body.get("start", 0)
        for label, value in (("times", times), ("start", start)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DIM:
                self.error(f"repeat {label} must be an integer from 0 to {MAX_DIM:,}",
                           data_path + (label,), received=value, via=via)
                return None
        index = body.get("index", "i")
        if not isinstance(index, str) or not IDENTIFIER.match(index):
            self.error("repeat index must be an identifier", data_path + ("index",),
                       received=index, via=via)
            return None
        name = body.get("name")
        auto = name is None
        if auto:
            self.counters[(scope.auto_prefix, "repeat")] += 1
            name = f"repeat{self.counters[(scope.auto_prefix, 'repeat')]}_"
        elif not isinstance(name, str) or (name and not IDENTIFIER.match(name)):
            self.error("repeat name must be an identifier or ''", data_path + ("name",),
                       received=name, via=via)
            return None
        layers = body["layers"] if isinstance(body["layers"], list) else [body["layers"]]
        self._predict(times, layers, data_path + ("times",), via)
        # Each iteration copies the parameters (a spec with thousands pays for them).
        iteration_cost = 1 + len(env) // 32
        for i in range(start, start + times):
            self.spend(iteration_cost, data_path, via, f"at iteration {i} of this repeat")
            # Iteration i's layers are named <name><i>_<layer>, e.g. layer1_0_conv1.
            prefix = scope.qualify(f"{name}{i}")
            # A named repeat's iterations are containers (layer1, or 0, 1, ... for name: "");
            # an unnamed one's layers belong to the container around it.
            frame = None if auto else Frame("iteration", f"{name}{i}", prefix, index=i)
            inner = _Scope(prefix, scope, auto_prefix=scope.auto_prefix if auto else None,
                           frame=frame)
            prev = self._items(layers, data_path + ("layers",), inner, {**env, index: i},
                               defaults, prev, via)
        return prev

    def _predict(self, times: int, layers: list, path: tuple, via) -> None:
        """Refuse a repeat before expanding it when its size is certain to cross a limit:
        ``times`` x its own items (nested repeats and blocks are checked when reached)."""
        own_layers = sum(1 for item in layers if item_key(item) in self.types)
        if times * own_layers > self.max_layers - (len(self.nodes) - 1):
            self._refuse(f"this repeat makes {times:,} x {own_layers} layers, more than the "
                         f"limit of {self.max_layers:,} layers in a spec", path, via)
        if times * (max(1, len(layers)) + 1) > self.steps_left:
            self._refuse(f"this repeat of {times:,} iterations ({len(layers)} item(s) each) "
                         f"would take more than the {EXPANSION_STEPS_PER_LAYER * self.max_layers:,}"
                         f" expansion steps allowed for {self.max_layers:,} layers", path, via)

    def _group(self, _key, body, path, scope, env, defaults, prev, via, later):
        data_path = path + ("group",)
        if not isinstance(body, dict) or "layers" not in body:
            self.error("'group' needs 'layers' (and usually 'defaults')", data_path, via=via)
            return None
        for key in sorted(set(body) - {"layers", "defaults", "name"}):
            self.error(f"unknown field '{key}' in group", data_path + (key,), via=via,
                       hint=self.hint(key, ["layers", "defaults", "name"]))
        inner_defaults = self._defaults(body.get("defaults") or {}, data_path + ("defaults",),
                                        defaults)
        raw_name = body.get("name")
        if raw_name is None:
            return self._items(body["layers"], data_path + ("layers",), scope, env,
                               inner_defaults, prev, via)
        # A named group is a container (torch: an nn.Sequential when its items chain); its
        # unnamed items are named by position: downsample_0, downsample_1.
        name = self._name(raw_name, "group", scope, data_path, via)
        if name is None:
            return None
        local = name[len(scope.frames[-1].prefix) + 1:] if scope.frames and \
            scope.frames[-1].prefix else name
        inner = _Scope(name, scope, frame=Frame("group", local, name), positional=True)
        out = self._items(body["layers"], data_path + ("layers",), inner, env, inner_defaults,
                          prev, via)
        scope.names[raw_name] = out
        if out is not None:
            self.by_name.setdefault(name, self.by_name.get(out))
        return out


def _params(declared: dict, env: dict) -> tuple:
    return tuple((key, env.get(key)) for key in declared)


def build_graph(spec: Spec, max_layers: Optional[int] = None) -> Graph:
    """The graph IR of ``spec``; ``max_layers`` raises (or lowers) the expansion limit."""
    return Builder(spec, max_layers).build()


__all__ = ["Builder", "build_graph", "parse_override", "snake"]
