"""The spec's structure as the backends lay out code: a tree of containers — block calls,
iterations of named repeats, named groups — recovered from the nodes' frames.

A container is compiled as a unit (a torch module, a Keras function) only if it reads values
from outside and gives exactly one value back, as a call or a stage does. When some container
is not such a unit (the top level reads a layer deep inside a block by its qualified name),
the whole model falls back to one flat container: correct, only less structured.

Nothing here imports a framework.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

from ..ir.graph import Frame, Node
from .common import Facts

_DIGITS = re.compile(r"\d+\Z")


@dataclass(eq=False)
class Container:
    name: str  # its attribute name in the enclosing container; "" for the top level
    frame: Optional[Frame] = None
    block: Optional[str] = None  # set when the container is one block call
    params: tuple = ()
    members: list[Union[Node, "Container"]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # outside values read, in first-use order
    output: str = ""
    flat: bool = False  # the fallback: members keep their full names
    chains: Callable[[Node, bool], bool] = lambda node, last: True  # see build_tree
    attrs: dict = field(default_factory=dict)  # id(member) → attribute name, once assigned
    # A ModuleList (see _find_loop): what the loop passes each member, the value before the
    # first one and then the values every member reads from outside.
    loop_inputs: Optional[list[str]] = None
    # (member's output name, input index) → the position in ``inputs`` it reads, where a name
    # alone cannot say: the first member of a loop may get one value in two places.
    slots: dict = field(default_factory=dict)

    def attr(self, member: Union[Node, "Container"]) -> str:
        return self.attrs[id(member)]

    def raw_name(self, member: Union[Node, "Container"]) -> str:
        if isinstance(member, Container):
            return member.name
        return member.name if self.flat else member.local

    def nodes(self) -> Iterator[Node]:
        for member in self.members:
            if isinstance(member, Container):
                yield from member.nodes()
            else:
                yield member

    def containers(self) -> Iterator["Container"]:
        for member in self.members:
            if isinstance(member, Container):
                yield member
                yield from member.containers()

    @property
    def sequential(self) -> bool:
        """Numbered members that each read the one before: an ``nn.Sequential``."""
        if len(self.inputs) != 1 or not self.members:
            return False
        previous = self.inputs[0]
        last = len(self.members) - 1
        for index, member in enumerate(self.members):
            if member_name(member) != str(index) or member_inputs(member) != [previous]:
                return False
            if isinstance(member, Node) and not self.chains(member, index == last):
                return False
            previous = member_output(member)
        return previous == self.output


def member_name(member: Union[Node, Container]) -> str:
    return member.name if isinstance(member, Container) else member.local


def assign_attributes(root: Container, rename) -> None:
    """Give every member an attribute name: ``rename(names)`` maps a container's raw member
    names to safe, distinct ones (each backend has its own reserved words)."""
    for container in [root, *root.containers()]:
        raw = [container.raw_name(m) for m in container.members]
        safe = rename(raw)
        container.attrs = {id(m): safe[name] for m, name in zip(container.members, raw)}


def member_inputs(member: Union[Node, Container]) -> list[str]:
    return member.inputs


def member_output(member: Union[Node, Container]) -> str:
    return member.output if isinstance(member, Container) else member.name


def build_tree(facts: Facts, structured: bool = True,
               chains: Optional[Callable[[Node, bool], bool]] = None) -> Container:
    """The top-level container of the live layers; flat when ``structured`` is false or the
    structure does not split into units. ``chains(node, last)`` says whether a layer can be a
    module of an nn.Sequential (torch: not where its forward wraps the module's call)."""
    root = Container("")
    if structured:
        _place_all(root, facts.live)
        for container in root.containers():
            container.chains = chains or container.chains
        if _close(root, facts):
            return root
    root = Container("", flat=True)
    root.members.extend(facts.live)
    _close(root, facts)
    return root


def _place_all(root: Container, live: list[Node]) -> None:
    by_key: dict[tuple, Container] = {}
    for node in live:
        parent, key = root, ()
        for frame in node.scope:
            if frame.kind == "call" and frame.name == "":
                _adopt_call(parent, frame)
                continue
            key += (frame.prefix,)
            child = by_key.get(key)
            if child is None:
                child = by_key[key] = Container(frame.name, frame)
                if frame.kind == "call":
                    child.block, child.params = frame.block, frame.params
                parent.members.append(child)
            parent = child
        parent.members.append(node)


def _adopt_call(container: Container, frame: Frame) -> None:
    """A call written ``name: ""`` lends its block to the iteration it fills — unless the
    iteration holds more than that one call, which then stays a plain container."""
    if container.frame is None:
        return
    if container.block is None and not container.members:
        container.block, container.params = frame.block, frame.params
    elif (container.block, container.params) != (frame.block, frame.params):
        container.block, container.params = None, ()


def _close(container: Container, facts: Facts) -> bool:
    """Fill in what each container reads and gives back; False if one gives back several
    values (it cannot be compiled as a unit)."""
    inside = {n.name for n in container.nodes()}
    for child in container.containers():
        if not _interface(child, facts):
            return False
    container.inputs = _reads(container, inside)
    container.output = facts.graph.output
    for child in [container, *container.containers()]:
        _find_loop(child)
    # a numbered member has no attribute name: only an nn.Sequential or ModuleList may hold one
    return all(parent.sequential or parent.flat or parent.loop_inputs is not None or
               not any(_DIGITS.match(container.raw_name(m)) for m in parent.members)
               for parent in [container, *container.containers()])


def _find_loop(container: Container) -> None:
    """Numbered containers that each read the one before and the same outside values (a
    stage whose blocks all read one context tensor) become a loop over an ``nn.ModuleList``.
    The first member reads the value before the stage where the others read their
    predecessor; which of its inputs that is, is read off the second member, since the value
    before the stage may be one of the extras too."""
    members = container.members
    if len(members) < 2 or container.sequential or not all(
            isinstance(m, Container) and m.name == str(i) for i, m in enumerate(members)):
        return
    first, second = members[0], members[1]
    extras = second.inputs[1:]
    inside = {n.name for n in container.nodes()}
    if second.inputs[:1] != [first.output] or not extras or any(e in inside for e in extras):
        return
    previous = first.output
    for member in members[1:]:
        if member.inputs != [previous, *extras]:
            return
        previous = member.output
    slots = _slots_like(first, second)
    if previous != container.output or slots is None:
        return
    starts = {first_value for first_value, slot in slots.values() if slot == 0}
    if len(starts) != 1:
        return
    loop = [starts.pop(), *extras]
    if any(loop[slot] != value for value, slot in slots.values()):
        return
    container.loop_inputs = first.inputs = loop
    first.slots = {key: slot for key, (_, slot) in slots.items()}


def _slots_like(first: Container, second: Container) -> Optional[dict]:
    """For each outside read of ``first``'s members, the position in ``second.inputs`` that
    the matching member of ``second`` reads there: {(member, index): (value, position)}."""
    if [member_name(m) for m in first.members] != [member_name(m) for m in second.members]:
        return None
    slots = {}
    for a, b in zip(first.members, second.members):
        if len(a.inputs) != len(b.inputs):
            return None
        for index, (mine, theirs) in enumerate(zip(a.inputs, b.inputs)):
            if theirs in second.inputs:
                slots[(member_output(a), index)] = (mine, second.inputs.index(theirs))
    return slots


def _interface(container: Container, facts: Facts) -> bool:
    inside = {n.name for n in container.nodes()}
    container.inputs = _reads(container, inside)
    leaving = [n.name for n in container.nodes()
               if n.name == facts.graph.output
               or any(user not in inside for user in facts.consumers[n.name])]
    if len(leaving) != 1:
        return False
    container.output = leaving[0]
    return True


def _reads(container: Container, inside: set[str]) -> list[str]:
    reads: list[str] = []
    for node in container.nodes():
        for name in node.inputs:
            if name not in inside and name not in reads:
                reads.append(name)
    return reads


def height(container: Container) -> int:
    """1 for a container of layers only; its contents are emitted before it."""
    return 1 + max((height(c) for c in container.members if isinstance(c, Container)),
                   default=0)


def module_paths(root: Container) -> dict[str, str]:
    """Spec layer name → its dotted path from the top (``layer1.0.conv1``)."""
    paths: dict[str, str] = {}

    def walk(container: Container, prefix: str) -> None:
        for member in container.members:
            path = prefix + container.attr(member)
            if isinstance(member, Container):
                walk(member, path + ".")
            else:
                paths[member.name] = path

    walk(root, "")
    return paths
