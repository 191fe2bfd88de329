"""What both code generators share: safe identifiers, literals, the header every generated
file carries, copying helper definitions out of a runtime file, and the graph facts that decide
how a layer is emitted (who consumes a tensor, whether a Flatten's order is free).

Nothing here imports a framework.
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .._version import __version__
from ..errors import Diagnostic, UnsupportedError
from ..ir.graph import Graph, Node
from ..ir.logits import LOGITS_OF, SQUASHING, output_activation
from ..ops.plugins import attach_table

_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")


class Unsupported(Exception):
    """Raised by an emitter; collected into one UnsupportedError naming every layer."""


def identifier(text: str, reserved: Iterable[str] = ()) -> str:
    """A Python identifier derived from ``text`` that cannot be a keyword, a reserved name or
    anything but letters, digits and underscores — spec text never reaches source unchecked."""
    name = _NOT_IDENTIFIER.sub("_", text) or "_"
    if name[0].isdigit():
        name = "_" + name
    while keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in reserved:
        name += "_"
    return name


def class_name(spec_name: str, reserved: Iterable[str] = ()) -> str:
    """``mobilenet_v2`` → ``MobilenetV2``; ``resnet-50`` → ``Resnet50``."""
    parts = [p for p in _NOT_IDENTIFIER.sub("_", spec_name).split("_") if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
    return identifier(name, reserved)


def literal(value: Any) -> str:
    """Source text for a number, bool, None, string or (nested) tuple; lists become tuples and
    floats print as the shortest text that round-trips. Validation keeps NaN and infinities
    out of layers; should one arrive, an infinity is spelled as code that means it (``repr``
    would give the undefined name ``inf``) and NaN is refused."""
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            raise ValueError("no literal for NaN")
        return 'float("inf")' if value > 0 else '-float("inf")'
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def short(values: tuple[int, ...]) -> str:
    """``(3, 3)`` → ``3``: torch and Keras accept one int for equal entries."""
    return literal(values[0]) if len(set(values)) == 1 else literal(values)


def call(func: str, *args: Any, **kwargs: Any) -> str:
    """``func(args..., key=value...)`` with already-formatted argument text."""
    parts = [str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
    return f"{func}({', '.join(parts)})"


LINE_LENGTH = 99


def fit(line: str) -> str:
    """Break a statement longer than LINE_LENGTH after the last "(" that still fits on the
    first line (so ``layer(...)(inputs)`` breaks before its inputs), continuing 4 spaces
    deeper; generated text has no spaces inside string literals, so any space is a safe
    break inside the parentheses."""
    if len(line) <= LINE_LENGTH or "(" not in line or "\n" in line:
        return line
    opens = [i + 1 for i, c in enumerate(line) if c == "(" and i < LINE_LENGTH]
    cut = opens[-1] if opens else line.index("(") + 1
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    rest = textwrap.wrap(line[cut:], LINE_LENGTH - len(indent), break_long_words=False,
                         break_on_hyphens=False)
    return line[:cut] + "\n" + "\n".join(indent + part for part in rest)


@dataclass
class Facts:
    """Graph facts the emitters consult, computed once per compilation."""
    graph: Graph
    live: list[Node]
    consumers: dict[str, list[str]]

    @classmethod
    def of(cls, graph: Graph) -> "Facts":
        live = graph.live()
        consumers: dict[str, list[str]] = {n.name: [] for n in graph.nodes}
        for node in live:
            for name in node.inputs:
                consumers[name].append(node.name)
        return cls(graph, live, consumers)

    def node(self, name: str) -> Node:
        return self.graph[name]

    def flatten_order_free(self, node: Node) -> bool:
        """A Flatten whose every consumer is a Dense may use the framework's own element order:
        the Dense weights absorb the difference (weight transfer permutes their rows)."""
        users = self.consumers[node.name]
        return bool(users) and all(self.node(u).type == "Dense" for u in users)

    def sole_consumer(self, name: str) -> bool:
        return len(self.consumers[name]) == 1


def totals(facts: Facts) -> dict[str, int]:
    live = facts.live
    return {"trainable": sum(n.meta["trainable"] for n in live),
            "non_trainable": sum(n.meta["non_trainable"] for n in live),
            "macs": sum(n.meta["macs"] for n in live)}


def header(facts: Facts, backend: str, input_shape: tuple[int, ...],
           output_shape: tuple[int, ...], layout: str, non_trainable_what: str) -> list[str]:
    """Docstring lines describing a generated model. Deterministic: the spec's file name, never
    a path, a date or a user name. Spec text is quoted with repr-safe characters only."""
    graph = facts.graph
    count = totals(facts)
    source = Path(graph.source).name if graph.source else "<spec>"
    lines = [f"{_doc_text(graph.name)}: {_doc_text(graph.description)}" if graph.description
             else _doc_text(graph.name), "",
             f"Generated by archspec {__version__} ({backend} backend) from "
             f"{_doc_text(source)}; edit the spec and recompile rather than this file."]
    if graph.reference:
        lines.append(f"Reproduces: {_doc_text(graph.reference)}.")
    lines += [
        f"Input: (N, {', '.join(map(str, input_shape))}), {layout}. "
        f"Output: (N, {', '.join(map(str, output_shape))}).",
        f"Parameters: {count['trainable']:,} trainable, {count['non_trainable']:,} "
        f"non-trainable ({non_trainable_what}).",
        f"MACs per sample: {count['macs']:,} (FLOPs = 2 x MACs).",
    ]
    note = output_note(graph, backend)
    if note:
        lines += ["", note]
    return [wrapped for line in lines
            for wrapped in (textwrap.wrap(line, 92, subsequent_indent="  ") or [""])]


# (probabilities, logits) → the losses that go with them, per backend.
_LOSSES = {
    ("torch", "softmax"): ("nn.NLLLoss() on torch.log(output)", "nn.CrossEntropyLoss()"),
    ("torch", "sigmoid"): ("nn.BCELoss()", "nn.BCEWithLogitsLoss()"),
    ("keras", "softmax"): ("keras.losses.SparseCategoricalCrossentropy()",
                           "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"),
    ("keras", "sigmoid"): ("keras.losses.BinaryCrossentropy()",
                           "keras.losses.BinaryCrossentropy(from_logits=True)"),
}


def output_note(graph: Graph, backend: str) -> str | None:
    """What the output is and which loss goes with it, when it ends in softmax or sigmoid (a
    PyTorch loop that applies CrossEntropyLoss to probabilities trains badly and silently)."""
    out = graph[graph.output]
    dropped = out.meta.get(LOGITS_OF)
    if dropped:
        return (f"Returns logits: the spec's final {dropped} is left out (compiled with "
                f"logits=True / --logits). Train with {_LOSSES[backend, dropped][1]}; "
                f"{dropped} of the output gives the spec's probabilities.")
    activation = output_activation(out)
    if activation not in SQUASHING:
        return None
    probabilities, logits = _LOSSES[backend, activation]
    return (f"The output ends in {activation}: it is probabilities, not logits. Train with "
            f"{probabilities}, or compile with logits=True (--logits) for a model that "
            f"returns logits and use {logits}.")


def _doc_text(text: str) -> str:
    """Spec text inside a docstring: no quotes, backslashes or control characters."""
    return re.sub(r'[\\"\x00-\x1f\x7f]', "?", str(text)).replace("'''", "???")


def docstring(lines: list[str], indent: str = "") -> str:
    body = "\n".join((indent + line) if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'


@functools.lru_cache(maxsize=None)
def _runtime_definitions(path: str) -> tuple[dict[str, str], dict[str, set[str]], list[str]]:
    """Top-level definitions of a runtime helper file: name → source, name → names it uses,
    and the file order."""
    text = Path(path).read_text()
    tree = ast.parse(text)
    sources, uses, order = {}, {}, []
    for item in tree.body:
        if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
            name = item.name
        elif isinstance(item, ast.Assign) and len(item.targets) == 1 \
                and isinstance(item.targets[0], ast.Name):
            name = item.targets[0].id
        else:
            continue
        start = item.decorator_list[0].lineno if getattr(item, "decorator_list", None) \
            else item.lineno
        segment = "\n".join(text.splitlines()[start - 1:item.end_lineno])
        sources[name] = segment
        uses[name] = {n.id for n in ast.walk(item) if isinstance(n, ast.Name)}
        order.append(name)
    return sources, uses, order


def helper_source(paths: Path | tuple[Path, ...], names: Iterable[str]) -> str:
    """The definitions ``names`` need from a runtime file (or several, read as one, in
    order), dependencies included, in file order, separated as PEP 8 asks."""
    sources, uses, order = {}, {}, []
    for path in (paths,) if isinstance(paths, Path) else paths:
        more_sources, more_uses, more_order = _runtime_definitions(str(path))
        sources.update(more_sources)
        uses.update(more_uses)
        order += more_order
    wanted, stack = set(), list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        wanted.add(name)
        stack.extend(u for u in uses[name] if u in sources and u not in wanted)
    return "\n\n\n".join(sources[n] for n in order if n in wanted)


def raise_unsupported(problems: list[tuple[Node, str]], backend: str) -> None:
    if problems:
        raise UnsupportedError([Diagnostic(
            f"{node.type} '{node.name}' is not supported by the {backend} backend: {why}",
            path=node.path, location=node.location, via=node.via) for node, why in problems])


@dataclass
class LayerContext:
    """What an emitter sees: the graph facts and the node it emits."""
    facts: Facts
    node: Node

    @property
    def layer(self):
        return self.node.layer

    @property
    def resolved(self) -> dict:
        return self.node.meta["resolved"]

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.node.meta["input_shapes"][0]

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.node.meta["shape"]


def emitter_registry(backend: str | None = None) -> tuple[dict[str, Callable], Callable]:
    """A backend's table of emitters by layer type, and the decorator that fills it. A type
    registered twice is an error: the later emitter would silently replace the earlier. Naming
    the ``backend`` attaches the table to the plugins' (ops/plugins.py): their emitters join it."""
    table: dict[str, Callable] = {}
    if backend is not None:
        attach_table(backend, table)

    def emits(*types: str):
        def register(func: Callable) -> Callable:
            for t in types:
                if t in table:
                    raise ValueError(f"an emitter for {t!r} is registered twice "
                                     f"({table[t].__name__} and {func.__name__})")
                table[t] = func
            return func
        return register

    return table, emits


# --- the assembly both backends share ------------------------------------------------------------

def emit_all(facts: Facts, emit: Callable[[Node], Any], backend: str) -> dict[str, Any]:
    """Every live layer's emitted form; the layers a backend cannot express are reported
    together, each at its place in the spec."""
    emitted: dict[str, Any] = {}
    problems = []
    for node in facts.live:
        try:
            emitted[node.name] = emit(node)
        except Unsupported as exc:
            problems.append((node, str(exc)))
    raise_unsupported(problems, backend)
    return emitted


def header_split(doc: list[str]) -> int:
    """Where the header's file part (title, provenance) ends and the model's part (shapes,
    counts, loss) begins: the file's docstring and the model's share the text, once."""
    return next(i for i, line in enumerate(doc) if line.startswith(("Reproduces", "Input")))


def source_file(doc: list[str], code: str, helper_code: str,
                imports: Callable[[str], list[list[str]]]) -> str:
    """The generated file: its docstring, the import groups the code uses (spec text in the
    model's docstring does not count), the helpers it needs, then the code."""
    split = header_split(doc)
    used = helper_code + code.replace(docstring(doc[split:], "    "), "")
    parts = [docstring(doc[:split]), "", "\n\n".join("\n".join(g) for g in imports(used))]
    if helper_code:
        parts += ["", "", helper_code]
    return "\n".join(parts + ["", "", code])
