"""Spec document → graph IR: evaluates parameters, expands blocks, repeats and groups, applies
defaults, validates every layer item against its type, and resolves ``inputs`` references.

Errors are collected, not thrown one at a time: a bad item becomes a placeholder node so that
later items still get checked, and references to it do not cascade into more errors.

The work is layered, each module on the one before: ``diagnostics`` (reporting, the work
budget, expressions), ``naming`` (scopes, names, ``inputs``), ``layers`` (a layer item, the
defaults sections), ``expansion`` (item lists, block calls, repeats, groups), and here the
document's header: its parameters, its input and the top-level list.
"""

from __future__ import annotations

import gc

from typing import Any, Optional

from ..errors import SpecError
from ..expr import ExprError
from ..expr_values import UNKNOWN
from ..limits import MAX_LAYERS
from ..ops.base import layer_types
from ..ops.plugin_notes import missing_plugins, refused_names
from ..spec.model import Spec
from ..spec.overrides import parse_override  # noqa: F401 - moved to the spec layer
from .bounds import with_room_to_recurse
from .expansion import Expander
from .graph import INPUT, Graph, Node
from .naming import Place, Scope, snake


class Builder(Expander):
    def __init__(self, spec: Spec, max_layers: Optional[int] = None):
        self.spec = spec
        self.types = layer_types()  # loads the installed plugins on first use
        self.refused = refused_names()  # names some plugin was refused: warned where used
        super().__init__(spec.source, frozenset(self.types) | frozenset(spec.blocks),
                         MAX_LAYERS if max_layers is None else max_layers)

    def build(self) -> Graph:
        spec = self.spec
        self.spec_env = env = self._spec_params()
        shape = self._input_shape(env)
        channels_first = spec.input.layout == "channels_first"
        self.nodes.append(Node(INPUT, None, [], path_key=("input",),
                               location=self.source.locate(("input",))))
        self.by_name[INPUT] = self.nodes[0]
        for index, message, hint in missing_plugins(spec.plugins):
            self.error(message, ("plugins", index), hint=hint)
        scope = Scope("", None)
        scope.names[INPUT] = INPUT
        # Blocks start from these too; their mistakes are reported once, here.
        self.spec_defaults = self.defaults(spec.defaults, ("defaults",), {})
        output = self.items(spec.layers, Place(("layers",), scope, env, self.spec_defaults,
                                               INPUT))
        self.diagnostics = self.finished()
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
                env[key] = UNKNOWN
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


@with_room_to_recurse
def build_graph(spec: Spec, max_layers: Optional[int] = None) -> Graph:
    """The graph IR of ``spec``; ``max_layers`` raises (or lowers) the expansion limit."""
    # Expansion allocates a few small objects per item and frees almost none before the end,
    # so the cycle collector's passes over everything built so far are pure cost (about a
    # sixth of the time at the layer limit); the builder makes no reference cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Builder(spec, max_layers).build()
    finally:
        if enabled:
            gc.enable()


__all__ = ["Builder", "build_graph", "parse_override", "snake"]
