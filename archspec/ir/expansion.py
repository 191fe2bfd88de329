"""Expanding a layer list: each item is a layer, a block call, a ``repeat`` or a ``group``
(``when: false`` leaves it out). Structural items are validated by their models in
``spec/items.py``; their expansion records its provenance as ``Frame``s on the nodes."""

from __future__ import annotations

from typing import Any, Callable, Optional

from pydantic import BaseModel, ValidationError

from ..expr import ExprError
from ..expr_values import UNKNOWN
from ..limits import EXPANSION_STEPS_PER_LAYER, MAX_CALL_DEPTH
from ..ops.plugin_notes import no_such_type_hint, refusal_warning, unknown_type_hint
from ..spec.items import (CallItem, GroupItem, RepeatItem, Reported, new_errors,
                          without_unknown)
from ..spec.model import REQUIRED, BlockDef, Spec
from .bounds import CallChain, item_key
from .graph import Frame
from .layers import LayerMaker, freeze
from .naming import SKIPPED_MERGE, Place, Scope

CALL_STEPS = 3
STRUCTURAL = ("name", "inputs", "when")
KEYWORDS = ("repeat", "group")


class Expander(LayerMaker):
    spec: Spec
    refused: frozenset[str]  # type names some plugin was refused (ops/plugins.py)
    spec_env: dict  # the spec's parameters, evaluated once
    spec_defaults: dict  # the spec's defaults section, checked once

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.call_stack: list[str] = []
        self._call_items: dict[tuple, Any] = {}
        self.handlers: dict[str, Callable[[str, Any, Place], Optional[str]]] = {
            "layer": self.layer, "block": self._call, "repeat": self._repeat,
            "group": self._group}

    def items(self, items: list, at: Place) -> Optional[str]:
        """Expand ``items`` (the list at ``at.path``); the output of the last one."""
        prev = at.prev
        for index, item in enumerate(items):
            prev = self._item(item, at.item(items, index, prev))
        return prev

    def _item(self, item: Any, at: Place) -> Optional[str]:
        self.spend(1, at.path, at.via, "at this item")
        parsed = self._classify(item, at)
        if parsed is None:
            return None
        kind, key, body = parsed
        if isinstance(body, dict) and "when" in body:
            try:
                keep = self.evaluate(body["when"], at.env, at.path + (key, "when"), at.via)
            except ExprError:
                keep = True
            body = {k: v for k, v in body.items() if k != "when"}
            if not keep:
                return self._skip(key, body, at)
        return self.handlers[kind](key, body, at)

    def _skip(self, key: str, body: dict, at: Place) -> str:
        """A disabled item becomes the identity on its input: its name, and the implicit input
        of the item after it, stand for what it would have read — the named ``inputs`` if it
        has one (an optional shortcut written after the main branch), else the item before.
        A disabled merge (several ``inputs``, such as MobileNetV2's optional residual Add) is
        simply left out: the flow goes on from the item before, and its name stands for none
        of its inputs, so naming it later is an error."""
        refs = body.get("inputs")
        raw_name = body.get("name")
        stand_in = name_target = at.prev
        if refs is not None:
            resolved = self.resolve(refs, at, at.path + (key,), raw_name)
            if resolved is None:
                stand_in = name_target = None
            elif len(resolved) == 1:
                stand_in = name_target = resolved[0]
            else:
                name_target = SKIPPED_MERGE
        if isinstance(raw_name, str):
            at.scope.names[raw_name] = name_target or "?"
        return stand_in or "?"  # an unresolved input was reported; don't cascade

    def _classify(self, item: Any, at: Place) -> Optional[tuple[str, str, Any]]:
        if isinstance(item, str):
            item = {item: None}
        if not isinstance(item, dict) or len(item) != 1:
            keys = list(item) if isinstance(item, dict) else None
            hint = ("each item is one mapping like '- Conv2D: {filters: 32}'; put name, inputs "
                    "and arguments inside it")
            if keys and any(k in STRUCTURAL for k in keys):
                hint = "indent 'name'/'inputs' under the layer type: '- Dense: {units: 10, name: fc}'"
            self.error("a layer item must be a layer type, block or 'repeat' with its "
                       "arguments", at.path, hint=hint, received=keys or item, via=at.via)
            return None
        (key, body), = item.items()
        if key in self.types:
            if key in self.refused:
                self._warn_refused(key, at)
            return "layer", key, body
        if key in self.spec.blocks:
            return "block", key, body
        if key in KEYWORDS:
            return key, key, body
        choices = list(self.types) + list(self.spec.blocks) + list(KEYWORDS)
        hint = unknown_type_hint(key, tuple(self.spec.plugins)) or self.hint(key, choices) \
            or no_such_type_hint(key)
        self.error(f"unknown layer type '{key}'", at.path + (key,), via=at.via, hint=hint)
        return None

    def _warn_refused(self, key: str, at: Place) -> None:
        """Once per type: the spec gets the built-in (or first) type of a name a plugin
        also claimed."""
        self.refused = self.refused - {key}
        self.error(f"layer type '{key}' is claimed by more than one source",
                   at.path + (key,), via=at.via, severity="warning",
                   hint=refusal_warning(key))

    def _checked(self, model: type[BaseModel], body: Any, at: Place, data_path: tuple,
                 context: Optional[dict] = None) -> Any:
        """``body`` validated as ``model``, or None once its mistakes are reported."""
        try:
            return model.model_validate(body, context=context)
        except ValidationError as exc:
            self.invalid(exc, model, data_path, at.via, count=new_errors(exc), once=True)
            known = without_unknown(exc, model, body)
        return None if known is None else model.model_validate(known, context=context)

    def _call_item(self, block: str, body: Any, at: Place, data_path: tuple) -> Any:
        """A call's item, validated once per distinct body: a repeat or a fan-out calls a
        block thousands of times with the same text (validation has no side effects when it
        succeeds; a failing body is validated, and reported, each time)."""
        try:
            key = (block, freeze(body))
        except TypeError:
            key = None
        item = self._call_items.get(key) if key is not None else None
        if item is None:
            item = self._checked(CallItem, body, at, data_path, {"block": block})
            if item is not None and key is not None and len(self._call_items) < 10_000:
                self._call_items[key] = item
        return item

    def _evaluator(self, at: Place, path: tuple) -> Callable[[Any, str], Any]:
        """How a model evaluates its expression fields: each once (an item with unknown
        fields is validated twice), an error reported here and passed on as ``Reported``."""
        evaluated: dict[str, Any] = {}

        def evaluate(value: Any, field: str) -> Any:
            if field not in evaluated:
                try:
                    evaluated[field] = self.evaluate(value, at.env, path + (field,), at.via)
                except ExprError:
                    raise Reported() from None
            return evaluated[field]
        return evaluate

    # --- block calls ----------------------------------------------------------------------
    def _call(self, block: str, body: Any, at: Place) -> Optional[str]:
        definition = self.spec.blocks[block]
        data_path = at.path + (block,)
        item = self._call_item(block, body, at, data_path)
        if item is None:
            return None
        try:
            arguments = self.evaluate(item.arguments, at.env, data_path, at.via)
        except ExprError:
            return self.placeholder(item.name, at)
        declared = definition.param_defaults()
        block_env = self._block_env(block, declared, arguments, at, data_path)
        if block_env is None:  # expanding would only add echoes
            return self.placeholder(item.name, at)
        # A call costs about what three layers do (a scope, the parameters, the defaults).
        self.spend(CALL_STEPS + len(block_env) // 32 + len(definition.defaults), data_path,
                   at.via, f"at this call of block '{block}'")
        if block in self.call_stack or len(self.call_stack) >= MAX_CALL_DEPTH:
            self.error(f"block '{block}' calls itself (through {' -> '.join(self.call_stack)})",
                       data_path, via=at.via)
            return None
        params = tuple((key, block_env.get(key)) for key in declared)
        if item.name == "" and at.scope.prefix:
            # name: "" — the body's layers take the enclosing repeat iteration's prefix
            # (layer1_0_conv1 rather than layer1_0_bottleneck3_conv1).
            inputs = self.resolve(item.inputs, at, data_path, None)
            frame = Frame("call", "", at.scope.prefix, block, params)
            return self._expand_block(definition, frame, inputs, block_env, at)
        raw_name, name = self._call_name(item.name, block, at, data_path)
        inputs = self.resolve(item.inputs, at, data_path, raw_name)
        if name is None:
            return None
        frame = Frame("call", at.scope.local(name), name, block, params)
        out = self._expand_block(definition, frame, inputs, block_env, at)
        self.alias(raw_name, name, out, at.scope)
        return out

    def _block_env(self, block: str, declared: dict, arguments: dict, at: Place,
                   data_path: tuple) -> Optional[dict]:
        """The parameters a call's body sees: the spec's, then the block's (the call's
        arguments over the declared defaults); None when the call has mistakes."""
        errors_before = self.error_count
        for key in arguments:
            if key not in declared:
                self.error(f"block '{block}' has no parameter '{key}'", data_path + (key,),
                           via=at.via, hint=self.hint(key, declared),
                           allowed=", ".join(declared) or "none")
        block_env = dict(self.spec_env)
        for key, default in declared.items():
            if key in arguments:
                block_env[key] = arguments[key]
            elif default is REQUIRED:
                self.error(f"block parameter '{key}' of '{block}' is not set", data_path,
                           via=at.via, hint=f"add {key}: <value> to this call")
                block_env[key] = UNKNOWN
            else:
                try:
                    block_env[key] = self.evaluate(default, block_env,
                                                   ("blocks", block, "params"), at.via)
                except ExprError:
                    block_env[key] = UNKNOWN
        return None if self.error_count > errors_before else block_env

    def _call_name(self, raw: Optional[str], block: str, at: Place,
                   path: tuple) -> tuple[Any, Optional[str]]:
        """(its name in the calling scope, its full name) for a named or unnamed call."""
        scope = at.scope
        if raw is None and scope.positions is not None:
            raw = str(next(scope.positions))
            return raw, scope.auto(raw)
        if raw is None:
            name = self.auto_name(block, scope)
            return (name[len(scope.auto_prefix) + 1:] if scope.auto_prefix else name), name
        return raw, self.name(raw, block, at, path)

    def _expand_block(self, definition: BlockDef, frame: Frame, inputs: Optional[list],
                      block_env: dict, at: Place) -> Optional[str]:
        block, name = frame.block, frame.prefix
        if inputs is not None and len(inputs) != len(definition.inputs):
            self.error(f"block '{block}' takes {len(definition.inputs)} input(s) "
                       f"({', '.join(definition.inputs)}), got {len(inputs)}",
                       at.path + (block, "inputs"), via=at.via)
            inputs = None
        # Called inside a named group (an nn.Sequential), its unnamed layers are numbered too,
        # as torchvision's Conv2dNormActivation numbers its conv, norm and activation.
        numbered = at.scope.positions is not None
        inner = Scope(name, at.scope, isolated=True, frame=frame, positional=numbered,
                      positions=at.scope.positions if numbered and not frame.name else None)
        for local, target in zip(definition.inputs, inputs or [None] * len(definition.inputs)):
            inner.names[local] = target if target is not None else "?"
        inner_defaults = self.defaults(definition.defaults, ("blocks", block, "defaults"),
                                       self.spec_defaults)
        call_via = CallChain(at.via, at.path, block, name)
        self.call_stack.append(block)
        try:
            return self.items(definition.layers, Place(
                ("blocks", block, "layers"), inner, block_env, inner_defaults,
                inner.names[definition.inputs[0]], call_via))
        finally:
            self.call_stack.pop()

    # --- repeats and groups ---------------------------------------------------------------
    def _repeat(self, _key: str, body: Any, at: Place) -> Optional[str]:
        data_path = at.path + ("repeat",)
        item = self._checked(RepeatItem, body, at, data_path,
                             {"evaluate": self._evaluator(at, data_path)})
        if item is None:
            return None
        name, auto = item.name, item.name is None
        if auto:
            self.counters[(at.scope.auto_prefix, "repeat")] += 1
            name = f"repeat{self.counters[(at.scope.auto_prefix, 'repeat')]}_"
        self._predict(item.times, item.layers, data_path + ("times",), at.via)
        # Each iteration copies the parameters (a spec with thousands pays for them).
        iteration_cost = 1 + len(at.env) // 32
        prev = at.prev
        for i in range(item.start, item.start + item.times):
            self.spend(iteration_cost, data_path, at.via, f"at iteration {i} of this repeat")
            # Iteration i's layers are named <name><i>_<layer>, e.g. layer1_0_conv1.
            prefix = at.scope.qualify(f"{name}{i}")
            # A named repeat's iterations are containers (layer1, or 0, 1, ... for name: "");
            # an unnamed one's layers belong to the container around it.
            frame = None if auto else Frame("iteration", f"{name}{i}", prefix, index=i)
            inner = Scope(prefix, at.scope, auto_prefix=at.scope.auto_prefix if auto else None,
                          frame=frame, positions=at.scope.positions if auto else None)
            prev = self.items(item.layers, at.nested(
                data_path + ("layers",), inner, {**at.env, item.index: i}, at.defaults, prev))
        return prev

    def _predict(self, times: int, layers: list, path: tuple, via: Optional[CallChain]) -> None:
        """Refuse a repeat before expanding it when its size is certain to cross a limit:
        ``times`` x its own items (nested repeats and blocks are checked when reached)."""
        own_layers = sum(1 for item in layers if item_key(item) in self.types)
        if times * own_layers > self.max_layers - (len(self.nodes) - 1):
            self.refuse(f"this repeat makes {times:,} x {own_layers} layers, more than the "
                        f"limit of {self.max_layers:,} layers in a spec", path, via)
        if times * (max(1, len(layers)) + 1) > self.steps_left:
            self.refuse(f"this repeat of {times:,} iterations ({len(layers)} item(s) each) "
                        f"would take more than the {EXPANSION_STEPS_PER_LAYER * self.max_layers:,}"
                        f" expansion steps allowed for {self.max_layers:,} layers", path, via)

    def _group(self, _key: str, body: Any, at: Place) -> Optional[str]:
        data_path = at.path + ("group",)
        item = self._checked(GroupItem, body, at, data_path)
        if item is None:
            return None
        defaults = self.defaults(item.defaults, data_path + ("defaults",), at.defaults)
        path = data_path + ("layers",)
        if item.name is None and at.scope.positions is None:
            return self.items(item.layers, at.nested(path, at.scope, at.env, defaults, at.prev))
        if item.name is None:  # inside a named group: a nested container, numbered
            local = str(next(at.scope.positions))
            name = at.scope.auto(local)
            inner = Scope(name, at.scope, frame=Frame("group", local, name), positional=True)
            return self.items(item.layers, at.nested(path, inner, at.env, defaults, at.prev))
        # A named group is a container (torch: an nn.Sequential when its items chain); its
        # unnamed items are named by position: downsample_0, downsample_1.
        name = self.name(item.name, "group", at, data_path)
        if name is None:
            return None
        inner = Scope(name, at.scope, frame=Frame("group", at.scope.local(name), name),
                      positional=True)
        out = self.items(item.layers, at.nested(path, inner, at.env, defaults, at.prev))
        self.alias(item.name, name, out, at.scope)
        return out
