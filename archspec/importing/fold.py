"""A flat model → a spec document that says what repeats: blocks for repeated containers,
``repeat`` for runs of identical calls, named groups for containers that hold calls (a ResNet
stage, an ``nn.Sequential``), so that the compiled model keeps the source's layer names.

The result is always checked: analysed by archspec, the folded spec must give every layer of
the flat spec the same name (up to the renames reported), type, wiring, shape, parameter counts
and MACs. If it does not, the flat spec is the result, with a note saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import SpecError
from .flat import FlatModel
from .fold_blocks import Block, all_nodes, choose_instances, identifier, make_blocks, spec_local
from .fold_merge import families
from .fold_numbered import CallMade, number_bodies
from .fold_repeats import Call, collapsed, repeats
from .fold_tree import INPUT, Node, build_tree


@dataclass
class Folded:
    document: dict  # the spec document, ready for YAML
    renames: dict[str, str]  # the model's layer name → the spec's, where they differ
    notes: list[str] = field(default_factory=list)
    folded: bool = True  # False: the flat spec (nothing repeats, or folding changed something)


class _Rename(Exception):
    """A name that cannot be written as it is inside a group: the group is not made."""


def fold(flat: FlatModel) -> Folded:
    """The spec document of ``flat``, with its repeated structure as blocks and repeats where
    that gives exactly the same layers; the flat document otherwise."""
    if flat.output not in (None, flat.layers[-1].name if flat.layers else None):
        raise ValueError(f"the model's output {flat.output!r} is not its last layer: a "
                         f"reader lists layers in the order they run, the output last")
    legal, renames = _legal_names(flat)
    changed = {k: v for k, v in renames.items() if k != v}
    flat_doc = flat_document(legal)
    notes: list[str] = []
    try:
        reference = _rows(flat_doc)
    except SpecError as exc:
        raise ValueError(f"archspec refuses the imported model: {exc}") from None
    root = build_tree(legal)
    family = families(n.signature for n in all_nodes(root) if n.signature is not None)
    blocks = make_blocks(root, choose_instances(root, family), legal, family)
    if not blocks:
        return Folded(flat_doc, changed, ["nothing repeats: the spec is flat"], folded=False)
    emitter = _Emitter(legal, blocks)
    document = _header(legal)
    document["blocks"] = {b.name: _definition(b) for b in _unique(blocks.values())}
    document["layers"] = emitter.items(root, "", positional=False)
    number_bodies(document, _unique(blocks.values()), emitter.calls, legal, emitter.renames)
    try:
        problems = _compare(reference, _rows(document), emitter.renames)
    except SpecError as exc:
        problems = [str(exc).splitlines()[0]]
    if problems:
        notes.append("folding into blocks would change the model (" + "; ".join(problems[:3])
                     + "): the spec is flat")
        return Folded(flat_doc, changed, notes, folded=False)
    final = {k: emitter.renames.get(v, v) for k, v in renames.items()}
    return Folded(document, {k: v for k, v in final.items() if k != v}, notes)


def _legal_names(flat: FlatModel) -> tuple[FlatModel, dict[str, str]]:
    """A copy whose names are all identifiers (``1x1`` → ``_1x1``, ``a-b`` → ``a_b``), and
    every model name → spec name."""
    from dataclasses import replace
    taken = {layer.name for layer in flat.layers}
    renames: dict[str, str] = {}
    for layer in flat.layers:
        name = layer.name
        if not identifier(name):
            name = spec_local(re.sub(r"\W", "_", name))
            while name in taken:
                name += "_"
            taken.add(name)
        renames[layer.name] = name
    layers = [replace(layer, name=renames[layer.name],
                      inputs=[renames.get(n, n) for n in layer.inputs]) for layer in flat.layers]
    return replace(flat, layers=layers, output=renames.get(flat.output, flat.output)), renames


def _header(flat: FlatModel) -> dict:
    doc: dict[str, Any] = {"archspec": 1, "name": flat.name}
    if flat.description:
        doc["description"] = flat.description
    doc["input"] = {"shape": list(flat.input_shape)}
    if flat.channels_first:
        doc["input"]["layout"] = "channels_first"
    return doc


def flat_document(flat: FlatModel) -> dict:
    """Every layer on its own line, named as the model names it."""
    doc = _header(flat)
    doc["layers"] = [_layer_item(layer.type, layer.args, layer.name,
                                 _written_inputs(layer.inputs, _previous(flat, i)))
                     for i, layer in enumerate(flat.layers)]
    return doc


def _previous(flat: FlatModel, index: int) -> str:
    return flat.layers[index - 1].name if index else INPUT


def _written_inputs(inputs: list[str], previous: str) -> Optional[Any]:
    """What ``inputs:`` says, or None where the layer reads the item before it."""
    if inputs == [previous]:
        return None
    return inputs[0] if len(inputs) == 1 else list(inputs)


def _layer_item(type_name: str, args: dict, name: Optional[str], inputs: Any) -> Any:
    body = dict(args)
    if name is not None:
        body["name"] = name
    if inputs is not None:
        body["inputs"] = inputs
    return {type_name: body} if body else type_name


def _definition(block: Block) -> dict:
    out: dict[str, Any] = {}
    if block.params:
        out["params"] = [name for name, _ in block.params]
    out["layers"] = block.layers
    return out


def _unique(blocks) -> list[Block]:
    seen: dict[str, Block] = {}
    for block in blocks:
        seen.setdefault(block.name, block)
    return list(seen.values())


class _Emitter:
    """Writes a container's items: layers, calls, groups; runs of identical calls as
    repeats. ``renames`` records every layer whose spec name differs from the model's."""

    def __init__(self, flat: FlatModel, blocks: dict[int, Block]):
        self.flat, self.blocks = flat, blocks
        self.renames: dict[str, str] = {}
        self.calls: list[CallMade] = []
        self.index = {layer.name: i for i, layer in enumerate(flat.layers)}

    def items(self, node: Node, prefix: str, positional: bool, strict: bool = False) -> list:
        out: list = []
        position = [0]
        for child in self._entries(node, prefix, positional, position, strict):
            out.append(child)
        return repeats(out)

    def _entries(self, node: Node, prefix: str, positional: bool, position: list,
                 strict: bool):
        for child in node.children:
            if isinstance(child, int):
                yield self._layer(child, prefix, positional, position, strict)
            elif id(child) in self.blocks:
                yield self._call(child, prefix, positional, position, strict)
            else:
                wanted = self._holds_calls(child) or self._renamed_if_opened(child, prefix)
                group = self._group(child, prefix, positional, position) if wanted else None
                if group is not None:
                    yield group
                else:
                    yield from self._entries(child, prefix, positional, position, strict)

    def _renamed_if_opened(self, node: Node, prefix: str) -> bool:
        """Whether a layer of ``node`` would need another name if written in the container
        (torch's numbered modules: ``1_conv_0`` is no name; in a group it is ``conv_0``)."""
        cut = len(prefix) + 1 if prefix else 0
        return not all(identifier(self.flat.layers[i].name[cut:])
                       for i in range(node.start, node.end))

    def _holds_calls(self, node: Node) -> bool:
        return any(id(c) in self.blocks or self._holds_calls(c) for c in node.subnodes())

    def _name(self, full: str, prefix: str, positional: bool, position: list,
              strict: bool) -> tuple[Optional[str], str]:
        """(the name to write — None: left to the group's numbering —, the spec's full name)."""
        rel = full[len(prefix) + 1:] if prefix else full
        here = position[0]
        position[0] += 1
        if positional and rel == str(here):
            return None, full
        if identifier(rel):
            return rel, full
        if strict:
            raise _Rename(rel)
        written = spec_local(rel)
        return written, f"{prefix}_{written}" if prefix else written

    def _reference(self, name: str) -> str:
        return self.renames.get(name, name)

    def _inputs(self, inputs: list[str], start: int) -> Any:
        previous = self.flat.layers[start - 1].name if start else INPUT
        written = _written_inputs(inputs, previous)
        if written is None:
            return None
        return [self._reference(n) for n in written] if isinstance(written, list) \
            else self._reference(written)

    def _layer(self, index: int, prefix: str, positional: bool, position: list, strict: bool):
        layer = self.flat.layers[index]
        name, full = self._name(layer.name, prefix, positional, position, strict)
        inputs = self._inputs(layer.inputs, index)
        if full != layer.name:
            self.renames[layer.name] = full
        return _layer_item(layer.type, layer.args, name, inputs)

    def _call(self, node: Node, prefix: str, positional: bool, position: list, strict: bool):
        block = self.blocks[id(node)]
        if node.named:
            name, full = self._name(node.prefix, prefix, positional, position, strict)
        else:  # no name marks it: the block's name, numbered (block1, block2...)
            name = f"{block.name}{block.instances.index(node) + 1}"
            full = f"{prefix}_{name}" if prefix else name
            position[0] += 1
        entry = next(n for i in range(node.start, node.end)
                     for n in self.flat.layers[i].inputs
                     if not node.start <= self.index.get(n, -1) < node.end)
        inputs = self._inputs([entry], node.start)
        for i in range(node.start, node.end):
            original = self.flat.layers[i].name
            spec_name = f"{full}_{spec_local(node.locals[i - node.start])}"
            if spec_name != original:
                self.renames[original] = spec_name
        self.calls.append((block.name, full, node))
        return Call(block.name, name, block.call_arguments(node), inputs)

    def _group(self, node: Node, prefix: str, positional: bool, position: list):
        """The container as a group, if every name in it can be written as it is: named, or
        numbered by the group it is in (torch's ``features.1``)."""
        rel = node.prefix[len(prefix) + 1:] if prefix else node.prefix
        numbered = positional and rel == str(position[0])
        if not (numbered or identifier(rel)) or not node.named:
            return None
        saved, made = dict(self.renames), len(self.calls)
        try:
            layers = self.items(node, node.prefix, positional=True, strict=True)
        except _Rename:
            self.renames, self.calls = saved, self.calls[:made]
            return None
        position[0] += 1
        if numbered:
            return {"group": {"layers": layers}}
        return collapsed(rel, layers) or {"group": {"name": rel, "layers": layers}}


# --- the check -------------------------------------------------------------------------------

def _rows(document: dict) -> dict[str, tuple]:
    from ..analysis import analyze
    graph = analyze(document)
    return {n.name: (n.type, tuple(n.inputs), tuple(n.meta["shape"]), n.meta["trainable"],
                     n.meta["non_trainable"], n.meta["macs"]) for n in graph.live()}


def _compare(reference: dict[str, tuple], folded: dict[str, tuple],
             renames: dict[str, str]) -> list[str]:
    back = {new: old for old, new in renames.items()}
    mapped = {}
    for name, (type_name, inputs, *rest) in folded.items():
        mapped[back.get(name, name)] = (type_name, tuple(back.get(n, n) for n in inputs), *rest)
    problems = []
    for name in reference.keys() | mapped.keys():
        if reference.get(name) != mapped.get(name):
            problems.append(f"{name}: {reference.get(name)} vs {mapped.get(name)}")
    return sorted(problems)
