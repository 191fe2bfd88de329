"""One class (or function) for many containers: the instances of a block are emitted one by
one, then their texts are unified — literals that differ become constructor parameters, a
member that some instances lack (a ``when: false`` item, the identity) becomes optional.
Instances that do not unify become variants, each its own class.

This works on the emitted text rather than on the spec's expressions, so it needs nothing from
the emitters beyond what flat code needs, and a generated class is right by construction: each
instance's arguments give back exactly the text emitted for it.

Nothing here imports a framework.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Any, Optional

from .common import literal


@dataclass
class Step:
    """One member in a container's forward: ``attr`` applied to ``refs`` (local symbols: the
    container's inputs ``in0``, ``in1``, ... or earlier members' attributes)."""
    attr: str
    call: str  # the call template, with {m} and {x}
    refs: tuple[str, ...]


@dataclass
class Instance:
    ctors: dict[str, str]  # attr → constructor text
    steps: list[Step]
    output: str  # local symbol
    candidates: dict[str, Any]  # names a varying value may take: block parameters, in_channels


@dataclass
class Template:
    instances: list[Instance]
    members: list[str]  # attrs, in order
    ctors: dict[str, str] = field(default_factory=dict)  # attr → text with parameter names
    optional: dict[str, str] = field(default_factory=dict)  # attr → the flag that keeps it
    params: dict[str, list] = field(default_factory=dict)  # name → value per instance
    steps: list[Step] = field(default_factory=list)
    output: str = ""

    def arguments(self, index: int) -> dict[str, Any]:
        return {name: values[index] for name, values in self.params.items()}


class _Mismatch(Exception):
    pass


def unify(instances: list[Instance], defaults: dict[tuple[str, str], Any]) -> list[Template]:
    """Group instances into as few templates as unify, in first-seen order."""
    # Instances alike in all but their literals always unify: sorted into such buckets first,
    # the greedy merge compares buckets, not instances, so a spec with thousands of calls of
    # one block stays linear.
    buckets: dict[tuple, list[Instance]] = {}
    for instance in instances:
        buckets.setdefault(_signature(instance), []).append(instance)
    groups: list[list[Instance]] = []
    for bucket in buckets.values():
        for group in groups:
            if _template(group + bucket, defaults) is not None:
                group.extend(bucket)
                break
        else:
            groups.append(bucket)
    # first-seen order, as the instances came
    order = {id(inst): i for i, inst in enumerate(instances)}
    for group in groups:
        group.sort(key=lambda inst: order[id(inst)])
    groups.sort(key=lambda group: order[id(group[0])])
    return [_template(group, defaults) for group in groups]


def _signature(instance: Instance) -> tuple:
    steps = tuple((s.attr, s.call, s.refs) for s in instance.steps)
    return steps, instance.output, tuple((attr, _form(text))
                                         for attr, text in instance.ctors.items())


@functools.lru_cache(maxsize=4096)
def _form(text: str) -> Any:
    return _shape(_parse(text))


def _shape(node) -> Any:
    """A constructor's form with its literals left out."""
    if _literal(node) is not _ABSENT:
        return "literal"
    if isinstance(node, ast.Call):
        return (ast.unparse(node.func), tuple(_shape(a) for a in node.args),
                tuple((k.arg, _shape(k.value)) for k in node.keywords))
    if isinstance(node, ast.Tuple):
        return ("tuple",) + tuple(_shape(e) for e in node.elts)
    return ast.dump(node)


def param_order(template: Template) -> list[str]:
    """in_channels first (as torch's own layers take it), then the block's parameters in
    their declared order, then the rest."""
    declared = list(template.instances[0].candidates)
    return sorted(template.params, key=lambda p: (declared.index(p) if p in declared
                                                  else len(declared)))


def full_instance(template: Template) -> int:
    """The index of an instance with every member (the one the template was written from)."""
    return max(range(len(template.instances)),
               key=lambda i: len(template.instances[i].ctors))


def _template(instances: list[Instance], defaults) -> Optional[Template]:
    if len(instances) == 1:  # nothing to unify: the text as emitted
        (only,) = instances
        return Template(instances, [s.attr for s in only.steps], dict(only.ctors),
                        steps=only.steps, output=only.output)
    full = max(instances, key=lambda i: len(i.ctors))
    order = [step.attr for step in full.steps]
    template = Template(instances, order, steps=full.steps, output=full.output)
    try:
        for instance in instances:
            _check_flow(full, instance)
        namer = _Namer(template, instances)
        for attr in order:
            present = [i for i, inst in enumerate(instances) if attr in inst.ctors]
            if len(present) < len(instances):
                # Optional only where a yes/no parameter of the block says so (a `when`);
                # a member missing for another reason (a shorter repeat) makes a variant.
                template.optional[attr] = namer.flag([attr in inst.ctors for inst in instances])
            texts = [instances[i].ctors[attr] for i in present]
            pattern = _align([_parse(t) for t in texts], defaults)
            template.ctors[attr] = _render(pattern, lambda values, hint: namer.name(
                _spread(values, present, len(instances)), f"{attr}_{hint}"), "arg")
    except _Mismatch:
        return None
    return template


def _spread(values: list, present: list[int], count: int) -> list:
    """Values of the instances that have a member → a value per instance (None elsewhere)."""
    out: list = [None] * count
    for index, value in zip(present, values):
        out[index] = value
    return out


def _check_flow(full: Instance, instance: Instance) -> None:
    """``instance`` must be ``full`` with some single-input members replaced by the identity."""
    substitute: dict[str, str] = {}
    expected = []
    for step in full.steps:
        refs = tuple(substitute.get(r, r) for r in step.refs)
        if step.attr in instance.ctors:
            expected.append(Step(step.attr, step.call, refs))
        elif len(refs) == 1:
            substitute[step.attr] = refs[0]
        else:
            raise _Mismatch
    if expected != instance.steps or substitute.get(full.output, full.output) != instance.output:
        raise _Mismatch


class _Namer:
    """Source text for values that differ between instances: a block parameter with exactly
    those values, a small multiple of one (``4 * width``), the input's channels, or else a new
    parameter named after the member's own argument."""

    MULTIPLES = (2, 3, 4, 6, 8)

    def __init__(self, template: Template, instances: list[Instance]):
        self.template, self.instances = template, instances
        self.candidates = {name: [inst.candidates.get(name) for inst in instances]
                           for name in instances[0].candidates}

    def name(self, values: list, hint: str, varying: bool = True) -> str:
        for name, existing in self.template.params.items():
            if _same(existing, values):
                self._use(name, values)
                return name
        for name, candidate in self._ranked():
            if _same(candidate, values):
                return self._use(name, candidate)
        for name, candidate in self._ranked():
            for k in self.MULTIPLES:
                if all(type(c) is int for c in candidate) and _same([k * c for c in candidate],
                                                                    values):
                    self._use(name, candidate)
                    return f"{k} * {name}"
        return self._use(_fresh(hint, self.template.params), values)

    def flag(self, flags: list[bool]) -> str:
        for name, candidate in self.candidates.items():
            if _same(candidate, flags):
                return self._use(name, candidate)
        raise _Mismatch

    def _ranked(self):
        """The block's parameters before in_channels, which matches values by coincidence
        more often."""
        items = list(self.candidates.items())
        return [kv for kv in items if kv[0] != "in_channels"] + \
            [kv for kv in items if kv[0] == "in_channels"]

    def _use(self, name: str, values: list) -> str:
        known = self.template.params.get(name)
        self.template.params[name] = values if known is None else [
            a if a is not None else b for a, b in zip(known, values)]
        return name


def numbered(name: str, taken: set[str]) -> str:
    """``name``, or for a block's second and later variants ``name2``, ``name3``..."""
    result, n = name, 1
    while result in taken:
        n += 1
        result = f"{name}{n}"
    return result


def _same(a: list, b: list) -> bool:
    """Equal value by value, None matching anything (a member absent there), type-exact so
    that True is not 1."""
    return len(a) == len(b) and all(
        x is None or y is None or (type(x) is type(y) and x == y) for x, y in zip(a, b))


def _fresh(hint: str, taken: dict) -> str:
    name, n = hint, 1
    while name in taken:
        n += 1
        name = f"{hint}{n}"
    return name


# --- constructor text: parse, align, render -----------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


@dataclass
class _Leaf:
    values: list


@dataclass
class _Call:
    func: str
    args: list
    keywords: dict


@dataclass
class _Fixed:
    source: str


_ABSENT = object()


def _literal(node) -> Any:
    if node is _ABSENT:
        return _ABSENT
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _ABSENT


def _align(nodes: list, defaults, func: str = "", key: str = ""):
    values = [_literal(n) for n in nodes]
    if all(v is not _ABSENT for v in values):
        return _Leaf(values)
    if any(n is _ABSENT for n in nodes):
        default = defaults.get((func, key), _ABSENT)
        if default is _ABSENT or any(v is _ABSENT and n is not _ABSENT
                                     for v, n in zip(values, nodes)):
            raise _Mismatch
        return _Leaf([default if v is _ABSENT else v for v in values])
    if all(isinstance(n, ast.Call) for n in nodes):
        return _align_calls(nodes, defaults)
    if all(isinstance(n, ast.Tuple) and len(n.elts) == len(nodes[0].elts) for n in nodes):
        return _Call("", [_align([n.elts[i] for n in nodes], defaults)
                          for i in range(len(nodes[0].elts))], {})
    first = ast.dump(nodes[0])
    if all(ast.dump(n) == first for n in nodes[1:]):
        return _Fixed(ast.unparse(nodes[0]))
    raise _Mismatch


def _align_calls(nodes: list, defaults) -> _Call:
    func = ast.unparse(nodes[0].func)
    if any(ast.unparse(n.func) != func or len(n.args) != len(nodes[0].args) for n in nodes):
        raise _Mismatch
    args = [_align([n.args[i] for n in nodes], defaults, func, str(i))
            for i in range(len(nodes[0].args))]
    keys: list[str] = []
    for n in nodes:
        keys += [k.arg for k in n.keywords if k.arg not in keys]
    if None in keys:  # **kwargs
        raise _Mismatch
    keywords = {key: _align([next((k.value for k in n.keywords if k.arg == key), _ABSENT)
                             for n in nodes], defaults, func, key) for key in keys}
    return _Call(func, args, keywords)


def _render(pattern, name_for, hint: str) -> str:
    if isinstance(pattern, _Fixed):
        return pattern.source
    if isinstance(pattern, _Leaf):
        first = pattern.values[0]
        if all(type(v) is type(first) and v == first for v in pattern.values):
            return literal(first)
        return name_for(pattern.values, hint)
    parts = [_render(a, name_for, f"arg{i}") for i, a in enumerate(pattern.args)]
    parts += [f"{k}={_render(v, name_for, k)}" for k, v in pattern.keywords.items()]
    if not pattern.func and len(parts) == 1:  # a one-element tuple
        return f"({parts[0]},)"
    return f"{pattern.func}({', '.join(parts)})"
