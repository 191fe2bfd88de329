"""From the container tree to Keras functions: one Python function per block, as
keras.applications writes ``stack1``/``block1``, called once per block call; everything else
(iterations, groups) is written inline. Layer names stay the spec's: a function takes its call's
``name`` and names its layers ``f"{name}_conv1"``.

Nothing here imports a framework.
"""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass
from typing import Iterator, Union

from ..ir.graph import Node
from ..ops.plugins import attach_names
from .common import Facts, identifier, literal
from .keras_codegen import HELPERS, Emitted
from .structure import Container, height
from .unify import (
    Instance,
    Step,
    Template,
    full_instance,
    numbered,
    param_order,
    unify,
)

# A set, not a frozenset: the installed plugins' helper names join it (ops/plugins.py).
RESERVED = {"x", "inputs", "model", "keras", "layers", "ops", "build_model", "float", "math",
            "name", "self"} | HELPERS
attach_names("keras", RESERVED)

# Values the Keras emitters leave out because they are Keras' defaults.
DEFAULTS = {
    **{(f"layers.{kind}", key): value
       for kind in ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                    "SeparableConv1D", "SeparableConv2D")
       for key, value in (("strides", 1), ("padding", "valid"), ("dilation_rate", 1),
                          ("use_bias", True), ("activation", None))},
    **{(f"layers.{kind}{rank}D", key): value
       for kind in ("MaxPooling", "AveragePooling") for rank in (1, 2, 3)
       for key, value in (("strides", None), ("padding", "valid"))},
    ("layers.BatchNormalization", "momentum"): 0.99,
    ("layers.BatchNormalization", "epsilon"): 1e-3,
    ("layers.Dense", "activation"): None,
    ("layers.Dense", "use_bias"): True,
}


@dataclass
class Unit:
    """One statement group in a function: a spec layer (its helper layers included) or a call
    of another block's function."""
    symbol: str  # its local name, the path under the function's container
    member: Union[Node, Container]


def units(container: Container) -> list[Unit]:
    """The members a block's function is written from: nodes and nested block calls, through
    any groups and iterations in between. Their symbols (local variables) are their paths when
    those are safe names; others get a ``_`` added until no other symbol has it."""
    found = list(_units(container, ""))
    taken = set(RESERVED) | {path for path, _ in found if _safe(path)}
    result = []
    for path, member in found:
        symbol = path
        if not _safe(path):
            symbol = identifier(path + "_", taken)
            taken.add(symbol)
        result.append(Unit(symbol, member))
    return result


def _units(container: Container, prefix: str) -> Iterator[tuple[str, Union[Node, Container]]]:
    for member in container.members:
        path = prefix + container.raw_name(member)
        if isinstance(member, Container) and member.block is None:
            yield from _units(member, path + "_")
        else:
            yield path, member


def _safe(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and \
        not keyword.issoftkeyword(name) and name not in RESERVED


class KerasLayout:
    def __init__(self, facts: Facts, emitted: dict[str, Emitted], root: Container):
        self.facts, self.emitted, self.root = facts, emitted, root
        self.functions: list[tuple[str, Template, Container]] = []
        self.function_names: set[str] = set()
        self._placed: dict[int, tuple[str, Template, int]] = {}
        groups: dict[str, list[Container]] = {}
        for container in root.containers():
            if container.block is not None:
                groups.setdefault(container.block, []).append(container)
        for block, containers in sorted(groups.items(), key=lambda kv: max(
                height(c) for c in kv[1])):
            self._plan(block, containers)

    def _plan(self, block: str, containers: list[Container]) -> None:
        instances = [self.instance(c) for c in containers]
        owner = {id(inst): c for inst, c in zip(instances, containers)}
        for template in unify(instances, DEFAULTS):
            name = numbered(identifier(block.lower(), RESERVED), self.function_names)
            self.function_names.add(name)
            full = template.instances[full_instance(template)]
            self.functions.append((name, template, owner[id(full)]))
            for index, inst in enumerate(template.instances):
                self._placed[id(owner[id(inst)])] = (name, template, index)

    def instance(self, container: Container) -> Instance:
        local = {name: f"in{i}" for i, name in enumerate(container.inputs)}
        ctors, steps = {}, []
        for unit in units(container):
            member = unit.member
            ctors[unit.symbol] = self._ctor(member)
            refs = tuple(local[name] for name in member.inputs)
            steps.append(Step(unit.symbol, self._shape_key(member), refs))
            local[member.name if isinstance(member, Node) else member.output] = unit.symbol
        return Instance(ctors, steps, local.get(container.output, "in0"), dict(container.params))

    def _ctor(self, member: Union[Node, Container]) -> str:
        """A node's layers as one tuple (so instances align layer by layer); a call as the
        call of its function, without inputs and name."""
        if isinstance(member, Container):
            name, template, index = self._placed[id(member)]
            values = template.arguments(index)
            args = ", ".join(f"{k}={literal(values[k])}" for k in param_order(template))
            return f"{name}({args})"
        e = self.emitted[member.name]
        return "(" + ", ".join([c for _, c in e.before] + [e.layer] +
                               [c for _, c in e.after]) + ",)"

    def _shape_key(self, member: Union[Node, Container]) -> str:
        """What must match for two instances to share a statement: the helper layers' roles."""
        if isinstance(member, Container):
            return "call"
        e = self.emitted[member.name]
        roles = "|".join([s for s, _ in e.before] + ["layer"] + [s for s, _ in e.after])
        return f"{roles}@{e.arguments}" if e.arguments else roles

    def function_lines(self, name: str, template: Template, container: Container) -> list[str]:
        params = param_order(template)
        inputs = _input_names(template)
        signature = ", ".join(inputs + params + ["name"])
        lines = [f"def {name}({signature}):"]
        lines += self.statements(template, container, f'f"{{name}}_', inputs, "    ")
        return lines

    def statements(self, template: Template, container: Container, name_prefix: str,
                   inputs: list[str], indent: str) -> list[str]:
        """The function body: one statement per unit; ``name_prefix`` starts each layer's
        name (an f-string for a function, the literal prefix at the top level)."""
        named = _variables(template, inputs)

        def variable(symbol: str) -> str:  # never a function's name: it would be shadowed
            result = named(symbol)
            return result + "_" if result in self.function_names else result

        by_symbol = {u.symbol: u for u in units(container)}
        lines = []
        for step in template.steps:
            refs = [variable(r) for r in step.refs]
            current = refs[0] if len(refs) == 1 else "[" + ", ".join(refs) + "]"
            unit = by_symbol[step.attr]
            target = variable(step.attr)
            flag = template.optional.get(step.attr)
            if isinstance(unit.member, Container):
                call = template.ctors[step.attr]
                local = _relative(unit.member.frame.prefix, container)
                expr = f"{call[:-1]}{', ' if not call.endswith('()') else ''}" \
                    f"name={_name_text(name_prefix, local)})"
                expr = expr.replace("(", f"({current}, ", 1)
                lines.append(_conditional(indent, target, expr, flag, refs))
                continue
            shape_key, _, arguments = step.call.partition("@")
            roles = shape_key.split("|")
            layers_ = [ast.unparse(e) for e in ast.parse(template.ctors[step.attr],
                                                         mode="eval").body.elts]
            local = _relative(unit.member.name, container)
            names = _layer_names(local, roles)
            for i, (ctor, layer_name) in enumerate(zip(layers_, names)):
                with_name = ctor[:-1] + (", " if not ctor.endswith("()") else "") + \
                    f"name={_name_text(name_prefix, layer_name)})"
                given = arguments.format(*refs) if arguments and i == 0 else current
                expr = f"{with_name}({given})"
                lines.append(_conditional(indent, target, expr, flag,
                                          refs if i == 0 else [target]))
                current = target
        lines.append(f"{indent}return {variable(template.output)}")
        return lines


def _relative(full: str, container: Container) -> str:
    prefix = container.frame.prefix if container.frame is not None and not container.flat \
        else ""
    return full[len(prefix) + 1:] if prefix else full


def _layer_names(local: str, roles: list[str]) -> list[str]:
    """The spec's name goes to the layer that produces the spec layer's output: the last one
    (after "layer" come Permutes that restore Keras' order; the spec layer is then "core")."""
    layer_at = roles.index("layer")
    names = [f"{local}_{role}" for role in roles]
    if layer_at == len(roles) - 1:
        names[layer_at] = local
    else:
        names[layer_at] = f"{local}_core"
        names[-1] = local
    return names


def _name_text(prefix: str, local: str) -> str:
    if prefix.startswith('f"'):
        return f'{prefix}{local}"'
    return repr(prefix + local)


def _conditional(indent: str, target: str, expr: str, flag, refs: list[str]) -> str:
    if flag:
        return f"{indent}{target} = {expr} if {flag} else {refs[0]}"
    return f"{indent}{target} = {expr}"


def _input_names(template: Template) -> list[str]:
    """``x`` for an input only the first statement reads (it then chains), else ``inputs``."""
    attrs = {s.attr for s in template.steps}
    count = len({r for step in template.steps for r in step.refs if r not in attrs})
    if count > 1:
        return [f"inputs{i}" for i in range(count)]
    readers = [i for i, step in enumerate(template.steps) if "in0" in step.refs]
    return ["x"] if readers == [0] and template.output != "in0" else ["inputs"]


def _variables(template: Template, inputs: list[str]):
    position = {step.attr: i for i, step in enumerate(template.steps)}
    users: dict[str, list[int]] = {}
    for i, step in enumerate(template.steps):
        for ref in step.refs:
            users.setdefault(ref, []).append(i)

    def variable(symbol: str) -> str:
        if symbol not in position:  # an input
            return inputs[int(symbol[2:])] if len(inputs) > 1 else inputs[0]
        after = position[symbol] + 1
        chained = users.get(symbol) == [after] and symbol != template.output
        return "x" if chained or symbol == template.output else symbol

    return variable
