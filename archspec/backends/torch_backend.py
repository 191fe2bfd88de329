"""Assemble the PyTorch source of a model from the per-layer emitters, and load it.

The spec's structure becomes the module structure: a class per block (its instances unified,
see ``unify``), ``nn.Sequential`` for numbered chains (a repeat named ``""``, a named group of
unnamed items), and submodules named after the spec's names, so that state_dict keys read
``layer1.0.conv1.weight`` as torchvision's do. The in-memory model is built by executing exactly
the source that ``archspec compile`` writes, so what users read is what runs.
"""

from __future__ import annotations

from collections import Counter

from ..ir.graph import Graph
from ..ops.plugins import runtime_files
from .common import (
    Facts,
    Unsupported,
    class_name,
    docstring,
    emit_all,
    fit,
    header,
    header_split,
    helper_source,
    literal,
    source_file,
)
from .structure import assign_attributes, build_tree, module_paths
from .torch_codegen import (
    EMITTERS,
    HELPERS,
    MODULE_ATTRIBUTES,
    RUNTIME,
    Context,
    Emitted,
    safe_attributes,
    torch_shape,
)
from .torch_layout import Layout, assignment, chains, forward_lines
from .torch_sequence import PARAMETER
from .torch_sequence import RUNTIME as SEQUENCE_RUNTIME

BACKEND = "torch"
RUNTIMES = (RUNTIME, SEQUENCE_RUNTIME)
# Modules whose Keras fans the shape of their weight gives (init_like_keras_ computes them).
_LOOP_CLASSES = ("nn.Conv1d", "nn.Conv2d", "nn.Conv3d", "nn.ConvTranspose1d",
                 "nn.ConvTranspose2d", "nn.Linear")


def generate(graph: Graph, structured: bool = True) -> str:
    facts = Facts.of(graph)
    emitted = _emit_all(facts)
    root = build_tree(facts, structured, chains(emitted))
    assign_attributes(root, safe_attributes)
    layout = Layout(facts, emitted, root)
    model = class_name(graph.name, MODULE_ATTRIBUTES | HELPERS | layout.class_names)
    paths = module_paths(root)
    doc = header(facts, BACKEND, torch_shape(graph.input_shape),
                 torch_shape(graph[graph.output].meta["shape"]), "channels first",
                 "normalization statistics, stored as buffers")
    body = []
    for name, template in layout.classes:
        body += layout.class_lines(name, template) + ["", ""]
    split = header_split(doc)
    body += _model_class(model, doc[split:], graph, layout, emitted, paths)
    code = "\n".join(fit(line) for line in body).rstrip() + "\n"
    helpers = sorted({h for e in emitted.values() for h in e.helpers}
                     | _init_helpers(code) | ({"max_norm_"} if "max_norm_(" in code else set()))
    helper_code = helper_source(RUNTIMES + runtime_files(BACKEND), helpers) if helpers else ""
    return source_file(doc, code, helper_code, _imports)


def _imports(used: str) -> list[list[str]]:
    torch_imports = (["import torch"] if "torch." in used else []) + ["from torch import nn"]
    if "F." in used:
        torch_imports.append("from torch.nn import functional as F")
    return ([["import math"]] if "math." in used else []) + [torch_imports]


def attribute_names(graph: Graph) -> dict[str, str]:
    """Spec layer name → the dotted path of its submodule in the compiled model
    (``layer1.0.conv1``), for weight exchange and hooks."""
    facts = Facts.of(graph)
    return module_paths(_tree(facts, _emit_all(facts)))


def parameter_layers(graph: Graph) -> dict[str, tuple[str, str]]:
    """The layers held as a bare parameter of their container (no module a forward hook could
    watch), in graph order: name → (the parameter's dotted path, the forward call template)."""
    facts = Facts.of(graph)
    emitted = _emit_all(facts)
    paths = module_paths(_tree(facts, emitted))
    return {name: (paths[name], e.call) for name, e in emitted.items()
            if e.module.startswith(PARAMETER)}


def _tree(facts: Facts, emitted: dict[str, Emitted]):
    root = build_tree(facts, True, chains(emitted))
    assign_attributes(root, safe_attributes)
    return root


def _emit_all(facts: Facts) -> dict[str, Emitted]:
    def emit(node):
        emitter = EMITTERS.get(node.type)
        if emitter is None:
            raise Unsupported("no mapping exists")
        return emitter(Context(facts, node))
    return emit_all(facts, emit, BACKEND)


def _init_helpers(code: str) -> set[str]:
    return {h for h in ("keras_init_", "init_like_keras_") if h + "(" in code}


def _model_class(name: str, doc: list[str], graph: Graph, layout: Layout,
                 emitted: dict[str, Emitted], paths: dict[str, str]) -> list[str]:
    template = layout.root_template
    lines = [f"class {name}(nn.Module):", docstring(doc, "    "), "",
             f"    input_shape = {literal(torch_shape(graph.input_shape))}", "",
             "    def __init__(self):", "        super().__init__()"]
    for attr in template.members:
        lines += assignment(f"        self.{attr} = ", template.ctors[attr], "        ")
    lines += ["        self.reset_parameters()", ""]
    lines += forward_lines(template, len(layout.root.inputs)) + [""]
    lines += _reset_parameters(graph, emitted, paths)
    lines += _regularization_loss(emitted, paths)
    lines += _apply_constraints(emitted, paths)
    return lines


def _ref(path: str) -> str:
    """Source for the submodule at a dotted path."""
    return f"self.{path}" if path.isidentifier() else f"self.get_submodule({path!r})"


def _weight_ref(path: str, weight: str) -> str:
    """Source for a layer's weight; ``weight`` "" is the layer's own bare parameter."""
    if weight:
        return f"{_ref(path)}.{weight}"
    return f"self.{path}" if path.isidentifier() else f"self.get_parameter({path!r})"


def _follows_rule(graph: Graph, node_name: str, e: Emitted) -> bool:
    """Whether init_like_keras_, which reads fans off the weight's shape, gives this layer
    its Keras initialization."""
    if e.module.split("(")[0] not in _LOOP_CLASSES:
        return False
    if any(attr not in ("weight", "bias") for attr, *_ in e.weights):
        return False
    layer = graph[node_name].layer
    grouped = getattr(layer, "groups", 1)
    return not (grouped > 1 and grouped == graph[node_name].meta["resolved"].get("in_channels"))


def _reset_parameters(graph: Graph, emitted: dict[str, Emitted],
                      paths: dict[str, str]) -> list[str]:
    schemes = {}
    for node_name, e in emitted.items():
        if e.weights and _follows_rule(graph, node_name, e):
            by_attr = {attr: scheme for attr, scheme, *_ in e.weights}
            schemes[node_name] = (by_attr["weight"], by_attr.get("bias", "zeros"))
    common = Counter(schemes.values()).most_common(1)
    lines = ["    def reset_parameters(self):",
             '        """Initialize weights as the spec says, with Keras\' initializers and fans;',
             '        BatchNorm starts at gamma = 1, beta = 0, mean = 0, variance = 1."""']
    if common:
        kernel, bias = common[0][0]
        classes = sorted({emitted[n].module.split("(")[0] for n, s in schemes.items()
                          if s == (kernel, bias)})
        args = (f", {kernel!r}" if kernel != "glorot_uniform" else "") + \
            (f", bias={bias!r}" if bias != "zeros" else "")
        lines += ["        for module in self.modules():",
                  f"            if isinstance(module, {_tuple(classes)}):",
                  f"                init_like_keras_(module{args})"]
    for node_name, e in emitted.items():
        if common and schemes.get(node_name) == common[0][0]:
            continue
        for weight, scheme, fan_in, fan_out in e.weights:
            lines.append(f"        keras_init_({_weight_ref(paths[node_name], weight)}, "
                         f"{scheme!r}, {fan_in}, {fan_out})")
    if len(lines) == 3:
        lines.append("        pass")
    return lines + [""]


def _tuple(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


def _regularization_loss(emitted: dict[str, Emitted], paths: dict[str, str]) -> list[str]:
    terms = []
    for name, e in emitted.items():
        for weight, l1, l2 in e.regularized:
            ref = f"{_ref(paths[name])}.{weight}"
            if l1:
                terms.append(f"{literal(l1)} * {ref}.abs().sum()")
            if l2:
                terms.append(f"{literal(l2)} * {ref}.square().sum()")
    if not terms:
        return []
    joined = "\n                + ".join(terms)
    return ["    def regularization_loss(self):",
            '        """The spec\'s L1/L2 kernel penalties, as Keras adds them to the loss:',
            '        train on ``loss + model.regularization_loss()``."""',
            f"        return ({joined})", ""]


def _apply_constraints(emitted: dict[str, Emitted], paths: dict[str, str]) -> list[str]:
    body = []
    for name, e in emitted.items():
        for weight, max_value, dims, grouped in e.constrained:
            extra = f", {literal(grouped)}" if grouped else ""
            body.append(f"        max_norm_({_ref(paths[name])}.{weight}, {literal(max_value)}, "
                        f"{literal(dims)}{extra})")
    if not body:
        return []
    return ["    def apply_constraints(self):",
            '        """The spec\'s max_norm constraints: call after every optimizer.step(), as',
            '        Keras applies them after each update."""'] + body + [""]


def build(source: str, graph: Graph):
    """Execute generated source and return an instance of its model class."""
    from .loader import load_module
    module = load_module(source, graph.name, BACKEND)
    cls = next(v for k, v in vars(module).items()
               if isinstance(v, type) and getattr(v, "__module__", None) == module.__name__
               and "input_shape" in vars(v))
    return cls()
