"""Names and scopes: what an item is called (its own name, its position in a named group, or
a counted automatic name such as ``conv2d_3``), which names its ``inputs`` can see, and where
in the expansion it stands (``Place``)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from ..spec.model import IDENTIFIER, check_identifier
from .bounds import CallChain, LaterNames
from .diagnostics import Reporter
from .graph import INPUT, Frame, Node

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

# What the name of a disabled merge refers to: no layer name can equal it.
SKIPPED_MERGE = "\0skipped merge"


def snake(type_name: str) -> str:
    """Keras-style automatic names: Conv2D → conv2d, BatchNormalization → batch_normalization."""
    return _CAMEL.sub("_", type_name).lower()


class Scope:
    """Names visible to ``inputs``: a block body sees only its own inputs and layers; the top
    level also resolves fully qualified names such as ``stage2_conv1``."""

    def __init__(self, prefix: str, parent: Optional["Scope"], isolated: bool = False,
                 auto_prefix: Optional[str] = None, frame: Optional[Frame] = None,
                 positional: bool = False, positions: Optional[Iterator[int]] = None):
        self.prefix, self.parent, self.isolated = prefix, parent, isolated
        # Automatic names skip the levels of unnamed repeats: stage1_conv2d_3, not
        # repeat1_0_stage1_repeat2_1_conv2d_3 (the counter keeps them unique anyway).
        self.auto_prefix = prefix if auto_prefix is None else auto_prefix
        self.names: dict[str, str] = {}
        parent_frames = parent.frames if parent is not None else ()
        self.frames: tuple = parent_frames + (frame,) if frame is not None else parent_frames
        # In a named group, unnamed items are named by their position among the items that
        # are there (when: false ones are not), as nn.Sequential numbers its modules.
        # An unnamed repeat inside one adds no container, so it continues the count.
        self.positions = positions if positions is not None else (
            itertools.count() if positional else None)

    def auto(self, short: str) -> str:
        return f"{self.auto_prefix}_{short}" if self.auto_prefix else short

    def qualify(self, short: str) -> str:
        return f"{self.prefix}_{short}" if self.prefix else short

    def local(self, name: str) -> str:
        """``name`` inside the innermost frame: what a container is called in its parent."""
        inner = self.frames[-1].prefix if self.frames else ""
        return name[len(inner) + 1:] if inner else name

    def lookup(self, short: str) -> Optional[str]:
        scope: Optional[Scope] = self
        while scope is not None:
            if short in scope.names:
                return scope.names[short]
            if scope.isolated:
                return None
            scope = scope.parent
        return None

    def top_level(self) -> bool:
        scope: Optional[Scope] = self
        while scope is not None:
            if scope.isolated:
                return False
            scope = scope.parent
        return True

    def visible(self):
        """The names this scope sees, nearest first (the likeliest meant, and what the
        bounded did-you-mean search keeps)."""
        s: Optional[Scope] = self
        while s is not None:
            yield from reversed(s.names)
            if s.isolated:
                break
            s = s.parent


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a microsecond a field, per item
class Place:
    """Where an item is expanded: its path in the document, the scope its name goes to, the
    parameters (``env``) and per-type defaults in force, the output of the item before it
    (its implicit input), the block calls that led here (for messages), and the names of the
    items after it (so that a bad reference can say "defined later")."""
    path: tuple
    scope: Scope
    env: dict
    defaults: dict
    prev: Optional[str] = None
    via: Optional[CallChain] = None
    later: Any = ()

    def item(self, items: list, index: int, prev: Optional[str]) -> "Place":
        """The place of ``items[index]``, for the list at this place."""
        # Built directly, not by dataclasses.replace: this runs once per expanded item.
        return Place(self.path + (index,), self.scope, self.env, self.defaults, prev, self.via,
                     LaterNames(items, index))

    def nested(self, path: tuple, scope: Scope, env: dict, defaults: dict,
               prev: Optional[str]) -> "Place":
        """The place of a list nested in this item (a repeat's or a group's)."""
        return Place(path, scope, env, defaults, prev, self.via)


class Namer(Reporter):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.nodes: list[Node] = []
        self.by_name: dict[str, Node] = {}
        self.counters: Counter = Counter()

    def name(self, raw: Any, type_name: str, at: Place, path: tuple) -> Optional[str]:
        scope = at.scope
        if raw is None:
            if scope.positions is not None:
                return scope.auto(str(next(scope.positions)))
            return self.auto_name(snake(type_name) + "_", scope)
        try:
            check_identifier(raw, "layer name")
        except ValueError as exc:
            self.error(str(exc), path + ("name",), received=raw, via=at.via)
            return None
        if raw == INPUT:
            self.error("'input' names the model input and cannot name a layer", path + ("name",),
                       via=at.via)
            return None
        if scope.positions is not None:
            next(scope.positions)
        full = scope.qualify(raw)
        if full in self.by_name or raw in scope.names:
            first = self.by_name.get(full)
            self.error(f"duplicate layer name '{raw}'", path + ("name",), via=at.via,
                       hint=f"first used at {first.path} ({first.location})" if first else None)
            return None
        return full

    def auto_name(self, base: str, scope: Scope) -> str:
        """``conv2d_3``: counted per container (a block call, a named repeat's iteration), so a
        name says where a layer is rather than how many came before it in the whole spec."""
        counter = (scope.auto_prefix, base)
        while True:
            self.counters[counter] += 1
            short = f"{base}{self.counters[counter]}"
            full = scope.auto(short)
            if full not in self.by_name and short not in scope.names:
                return full

    def resolve(self, refs: Any, at: Place, path: tuple,
                own_name: Optional[str]) -> Optional[list[str]]:
        if refs is None:
            return [at.prev] if at.prev is not None else None
        if isinstance(refs, str):
            refs = [refs]
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            self.error("'inputs' must be a layer name or a list of layer names", path + ("inputs",),
                       received=refs, via=at.via)
            return None
        resolved = []
        for i, ref in enumerate(refs):
            target = self._target(ref, at, path)
            if target is None:
                where = path + ("inputs", i) if len(refs) > 1 else path + ("inputs",)
                self._unresolved(ref, at, where, own_name)
                return None
            if target == SKIPPED_MERGE:
                return None
            resolved.append(target)
        return resolved

    def _target(self, ref: str, at: Place, path: tuple) -> Optional[str]:
        target = at.scope.lookup(ref)
        if target is None and at.scope.top_level() and ref in self.by_name:
            target = self.by_name[ref].name
        if target == SKIPPED_MERGE:
            self.error(f"'{ref}' is left out (when: false) and names several inputs, so it "
                       f"stands for none of them", path + ("inputs",), via=at.via,
                       hint="name one of its inputs here, or give the optional item a "
                            "single input")
        return target

    def _unresolved(self, ref: str, at: Place, where: tuple, own_name: Optional[str]) -> None:
        if ref == own_name:
            self.error(f"layer '{ref}' takes its own output as input: a cycle", where,
                       via=at.via)
        elif ref in at.later:
            self.error(f"'{ref}' is defined later; a layer can only take inputs from "
                       f"layers before it", where, via=at.via,
                       hint="move the layer up, or if each needs the other, the graph has "
                            "a cycle, which a feed-forward network cannot have")
        else:
            self.error(f"unknown layer '{ref}' in inputs", where, via=at.via,
                       hint=self.hint(ref, at.scope.visible()))

    def placeholder(self, raw_name: Any, at: Place) -> str:
        """A node for an item that failed: references to it do not cascade into more errors."""
        name = raw_name if isinstance(raw_name, str) and IDENTIFIER.match(raw_name) else None
        node = Node(at.scope.qualify(name) if name else f"_invalid_{len(self.nodes)}", None,
                    [at.prev or "?"], path_key=at.path, via=at.via, meta={"invalid": True},
                    scope=at.scope.frames)
        self.register(node, name, at.scope)
        return node.name

    def register(self, node: Node, short: Optional[str], scope: Scope) -> None:
        if len(self.nodes) > self.max_layers:  # nodes[0] is the input
            self.refuse(f"the spec expands to more than {self.max_layers:,} layers",
                        node.path_key, node.via)
        self.nodes.append(node)
        self.by_name[node.name] = node
        if short:
            scope.names[short] = node.name

    def alias(self, short: Any, name: str, out: Optional[str], scope: Scope) -> None:
        """A container's name (a named call or group) stands for its output."""
        scope.names[short] = out
        if out is not None:
            self.by_name.setdefault(name, self.by_name.get(out))
