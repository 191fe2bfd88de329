"""From the container tree to PyTorch classes: which containers share a class, what each
instance passes to it, and the text of ``__init__`` and ``forward``.

Nothing here imports a framework.
"""

from __future__ import annotations

import ast
from typing import Union

from ..ir.graph import Node
from .common import Facts, class_name, literal
from .structure import Container, height
from .torch_codegen import HELPERS, MODULE_ATTRIBUTES, Emitted
from .unify import Instance, Step, Template, numbered, param_order, unify

LINE_LENGTH = 99
LOOP = "for"  # the call of an nn.ModuleList: forward_lines writes the loop

# Values the emitters leave out because they are torch's defaults: an instance that leaves one
# out unifies with one that gives it.
DEFAULTS = {
    **{(f"nn.{kind}{rank}d", key): value
       for kind in ("Conv", "ConvTranspose") for rank in (1, 2, 3)
       for key, value in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1),
                          ("bias", True), ("output_padding", 0))},
    **{(f"nn.{kind}{rank}d", key): value
       for kind in ("MaxPool", "AvgPool") for rank in (1, 2, 3)
       for key, value in (("stride", None), ("padding", 0), ("ceil_mode", False),
                          ("count_include_pad", True))},
    **{(f"nn.BatchNorm{rank}d", key): value for rank in (1, 2, 3)
       for key, value in (("eps", 1e-5), ("momentum", 0.1), ("affine", True))},
    **{(f"nn.{act}", "inplace"): False for act in ("ReLU", "ReLU6", "LeakyReLU", "Hardtanh")},
    ("nn.Linear", "bias"): True,
    ("Add", "inplace"): False,
}


def chains(emitted: dict[str, Emitted]):
    """Whether a layer can sit in an nn.Sequential: its forward is its module's call — or,
    for the last one, wraps it (the wrapping then goes around the Sequential)."""
    def check(node: Node, last: bool) -> bool:
        e = emitted[node.name]
        if e.input_order:
            return False
        return e.call == "{m}({x})" or (last and e.call.count("{m}({x})") == 1)
    return check


class Layout:
    """Classes for the containers that are not plain chains, grouped by block (or by name for
    iterations and groups) and by height, so that a class is planned after the classes it
    contains; instances that do not unify become numbered variants."""

    def __init__(self, facts: Facts, emitted: dict[str, Emitted], root: Container):
        self.facts, self.emitted, self.root = facts, emitted, root
        self.classes: list[tuple[str, Template]] = []
        self.class_names: set[str] = set()
        self._placed: dict[int, tuple[str, Template, int]] = {}
        # A block's instances differ in height only by optional containers, and a block
        # never contains itself; other containers are grouped by name within one height.
        groups: dict[tuple, list[Container]] = {}
        for container in root.containers():
            if not container.sequential and container.loop_inputs is None:
                key = ("block", container.block) if container.block else \
                    (height(container), _base(container.name))
                groups.setdefault(key, []).append(container)
        for key, containers in sorted(groups.items(),
                                      key=lambda kv: max(height(c) for c in kv[1])):
            self._plan(key[1], containers)
        (self.root_template,) = unify([self._instance(root)], DEFAULTS)

    def _plan(self, base: str, containers: list[Container]) -> None:
        instances = [self._instance(c) for c in containers]
        owner = {id(inst): c for inst, c in zip(instances, containers)}
        for template in unify(instances, DEFAULTS):
            name = numbered(class_name(base, MODULE_ATTRIBUTES | HELPERS),
                            self.class_names | MODULE_ATTRIBUTES | HELPERS)
            self.class_names.add(name)
            self.classes.append((name, template))
            for index, inst in enumerate(template.instances):
                self._placed[id(owner[id(inst)])] = (name, template, index)

    def _instance(self, container: Container) -> Instance:
        local = {name: f"in{i}" for i, name in enumerate(container.inputs)}
        ctors, steps = {}, []
        for member in container.members:
            attr = container.attr(member)
            ctors[attr] = self.ctor(member)
            reads = member.inputs
            if isinstance(member, Container) and member.loop_inputs is not None:
                reads = member.loop_inputs
            key = member.name if isinstance(member, Node) else member.output
            refs = tuple(f"in{container.slots[(key, i)]}" if (key, i) in container.slots
                         else local[name] for i, name in enumerate(reads))
            call = self._container_call(member)
            if isinstance(member, Node):
                e = self.emitted[member.name]
                call = e.call
                if e.input_order:
                    refs = tuple(refs[i] for i in e.input_order)
            steps.append(Step(attr, call, refs))
            local[member.name if isinstance(member, Node) else member.output] = attr
        candidates = {"in_channels": self._channels(container)}
        candidates.update(container.params)
        return Instance(ctors, steps, local.get(container.output, "in0"), candidates)

    def _container_call(self, member: Union[Node, Container]) -> str:
        """An nn.Sequential ending in a layer whose forward wraps its module (an inline
        softmax) is called with that wrapping: ``F.softmax(self.classifier(x), dim=1)``."""
        if isinstance(member, Container) and member.sequential and \
                isinstance(member.members[-1], Node):
            return self.emitted[member.members[-1].name].call
        if isinstance(member, Container) and member.loop_inputs is not None:
            return LOOP
        return "{m}({x})"

    def _channels(self, container: Container):
        if not container.inputs:
            return None
        shape = self.facts.graph[container.inputs[0]].meta.get("shape")
        return shape[-1] if shape else None

    def ctor(self, member: Union[Node, Container]) -> str:
        if isinstance(member, Node):
            return self.emitted[member.name].module
        if member.sequential:
            return "nn.Sequential(" + ", ".join(self.ctor(m) for m in member.members) + ")"
        if member.loop_inputs is not None:
            return "nn.ModuleList([" + ", ".join(self.ctor(m) for m in member.members) + "])"
        name, template, index = self._placed[id(member)]
        values = template.arguments(index)
        order = param_order(template)
        parts = [literal(values[order[0]])] if order else []
        parts += [f"{key}={literal(values[key])}" for key in order[1:]]
        return f"{name}({', '.join(parts)})"

    def class_lines(self, name: str, template: Template) -> list[str]:
        params = param_order(template)
        signature = "".join(f", {p}" for p in params)
        lines = [f"class {name}(nn.Module):", f"    def __init__(self{signature}):",
                 "        super().__init__()"]
        for attr in template.members:
            ctor = template.ctors[attr]
            flag = template.optional.get(attr)
            lines += assignment(f"        self.{attr} = ", ctor, "        ",
                                f" if {flag} else None" if flag else "")
        inputs = len({r for step in template.steps for r in step.refs if r.startswith("in")})
        return lines + [""] + forward_lines(template, max(inputs, 1))


def _base(name: str) -> str:
    return name.rstrip("0123456789_") or "Stage"


def assignment(prefix: str, ctor: str, indent: str, suffix: str = "") -> list[str]:
    """``self.x = ctor``, with a long nn.Sequential written one module per line (nested ones
    too, each as deep as it is nested)."""
    line = prefix + ctor + suffix
    if len(line) <= LINE_LENGTH or not ctor.startswith(("nn.Sequential(", "nn.ModuleList(")):
        return [line]
    lines = _sequential_lines(ast.parse(ctor, mode="eval").body, indent)
    lines[0] = prefix + lines[0].lstrip()
    lines[-1] += suffix
    return lines


def _sequential_lines(node: ast.expr, indent: str) -> list[str]:
    text = ast.unparse(node)
    container = ast.unparse(node.func) if isinstance(node, ast.Call) else ""
    if len(indent) + len(text) + 1 <= LINE_LENGTH or \
            container not in ("nn.Sequential", "nn.ModuleList"):
        return [indent + text]
    listed = container == "nn.ModuleList"
    lines = [indent + container + ("([" if listed else "(")]
    for arg in node.args[0].elts if listed else node.args:
        inner = _sequential_lines(arg, indent + "    ")
        inner[-1] += ","
        lines += inner
    return lines + [indent + ("])" if listed else ")")]


def forward_lines(template: Template, inputs: int) -> list[str]:
    """One line per member. A value read only by the next line lives in ``x``; one read
    elsewhere (a branch point) keeps its member's name."""
    steps = template.steps
    position = {step.attr: i for i, step in enumerate(steps)}
    users: dict[str, list[int]] = {}
    for i, step in enumerate(steps):
        for ref in step.refs:
            users.setdefault(ref, []).append(i)

    def variable(symbol: str) -> str:
        after = position[symbol] + 1 if symbol in position else 0
        chained = users.get(symbol) == [after] and symbol != template.output
        if symbol.startswith("in") and symbol not in position:
            if inputs == 1:
                return "x" if chained else "inputs"
            return f"inputs{symbol[2:]}"
        return "x" if chained or symbol == template.output else symbol

    args = ["x" if inputs == 1 and variable("in0") == "x" else
            ("inputs" if inputs == 1 else f"inputs{i}") for i in range(inputs)]
    lines = [f"    def forward(self, {', '.join(args)}):"]
    for step in steps:
        refs = [variable(r) for r in step.refs]
        if step.call == LOOP:
            lines += _loop_lines(step, refs, variable(step.attr), set(template.members))
            continue
        expr = step.call.format(m=f"self.{step.attr}", x=", ".join(refs))
        if step.attr in template.optional:
            expr = f"{expr} if self.{step.attr} is not None else {refs[0]}"
        lines.append(f"        {variable(step.attr)} = {expr}")
    lines.append(f"        return {variable(template.output)}")
    return lines


def _loop_lines(step: Step, refs: list[str], out: str, taken: set[str]) -> list[str]:
    """``for block in self.blocks: x = block(x, context)``: each module of an nn.ModuleList
    takes the one before's output and the same extra inputs."""
    item = step.attr[:-1] if step.attr.endswith("s") and len(step.attr) > 2 else "module"
    if item in taken or item in refs or item in (out, "x", "inputs") or item.startswith("in"):
        item = "module"
    lines = [f"        {out} = {refs[0]}"] if out != refs[0] else []
    return lines + [f"        for {item} in self.{step.attr}:",
                    f"            {out} = {item}({', '.join([out, *refs[1:]])})"]
