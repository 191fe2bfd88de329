"""``archspec import`` from PyTorch: an ``nn.Module`` traced with torch.fx becomes a
``FlatModel`` in archspec's vocabulary (``fx_ops`` and ``fx_modules`` say what each node
becomes).

The trace is of the model in eval mode — the inference graph, which is what a spec describes
(GoogLeNet's auxiliary heads run only in training) — with standard torch.nn modules kept as
leaves, and shapes propagated through it at the given input size: a reshape is read from its
shapes, and an adaptive pooling that is the identity at this size is left out, so the spec
reproduces the model at that size. The spec is channels-first, as torch's tensors are.

Anything archspec cannot express is collected, node by node, into one ``UnsupportedModel``
error (a SpecError): each diagnostic names the fx op, its target, the module it sits in and
the source line that made it. Nothing is dropped silently; only identities (``nn.Identity``,
``contiguous``, a one-tensor ``cat``) are left out, their readers rewired to their input.
"""

from __future__ import annotations

import contextlib
import io
import keyword
import math
import operator
import re
from typing import Any

from ..errors import Diagnostic, Location
from ..ops.base import layer_types
from ..spec.model import IDENTIFIER
from . import fx_modules
from .flat import FlatLayer, FlatModel, UnsupportedModel
from .fx_load import load_callable
from .fx_ops import Call, Mapped, Unsupported, shape_of
from .fx_patterns import channel_affines
from .fx_where import class_name, diagnostic, scope_of, target_name, trace_failure

__all__ = ["load_callable", "read_torch"]

_INITIALIZED = {"Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "Dense",
                "PReLU"}
_INITIALIZERS = ("initial weights: the spec's layers start from Keras' initializers, not torch's "
                 "(kaiming_uniform, PReLU's 0.25), which have no Keras name; the imported "
                 "weights are the model's")
# Per sample: 2**24 is a 2,300 x 2,300 RGB image; shapes do not depend on the size anyway.
MAX_INPUT_ELEMENTS = 2 ** 24
BATCH = 3  # shapes are propagated at this batch size: a reshape that moves it mixes samples


def read_torch(module: Any, input_shape: tuple[int, ...], weights: bool = False,
               name: str | None = None) -> FlatModel:
    """``module`` as archspec layers, for inputs of ``input_shape`` (channels first, without
    the batch: (C, H, W)). With ``weights``, each layer carries its tensors as numpy arrays by
    archspec weight name, in torch's layout (convert with ``weights.torch_to_keras_array``).
    Raises ``UnsupportedModel`` listing every node archspec cannot express."""
    input_shape = tuple(input_shape)
    if not input_shape or any(not isinstance(n, int) or isinstance(n, bool) or n < 1
                              for n in input_shape):
        raise ValueError(f"input shape must be positive integers (channels first, without "
                         f"the batch), got {list(input_shape)}")
    gm = _traced(module, input_shape)
    reader = _Reader(gm, weights)
    reader.run()
    cls = type(module)
    if any(layer.type in _INITIALIZED for layer in reader.layers.values()):
        reader.notes.append(_INITIALIZERS)
    return FlatModel(name=name or _model_name(cls.__name__), input_shape=input_shape,
                     channels_first=True, layers=list(reader.layers.values()),
                     output=reader.output,
                     description=f"imported from {cls.__module__}.{cls.__qualname__}",
                     framework="torch", notes=reader.notes)


def _model_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text)[:64] or "model"


# --- tracing -------------------------------------------------------------------------------------

def _tracer_class():
    from torch import fx

    keys = fx_modules.module_keys()

    class Tracer(fx.Tracer):
        """Keeps torch.nn's modules as leaves, and subclasses of the ones archspec maps that
        keep their forward (a ``class MyConv(nn.Conv2d)`` with new defaults): traced, they
        would show as ``F.conv2d`` on bare parameters, which a spec cannot say."""

        def is_leaf_module(self, m, qualname: str) -> bool:
            return super().is_leaf_module(m, qualname) or standard_type(m, keys) is not None

    return Tracer


def standard_type(m: Any, keys: dict) -> type | None:
    """The torch.nn type archspec maps that ``m`` is, forward included; None otherwise."""
    for cls in type(m).__mro__:
        if cls in keys:
            return cls if type(m).forward is cls.forward else None
    return None


def _traced(module: Any, input_shape: tuple[int, ...]):
    import torch
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    modes = {m: m.training for m in module.modules()}
    module.eval()  # the inference graph; and shape propagation must not move BN statistics
    try:
        tracer = _tracer_class()()
        tracer.record_stack_traces = True
        try:
            graph = tracer.trace(module)
        except Exception as exc:  # torch.fx raises TraceError, TypeError, RuntimeError...
            raise trace_failure(module, exc) from exc
        gm = fx.GraphModule(tracer.root, graph, type(module).__name__)
        parameter = next(module.parameters(), None)
        dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() \
            else torch.float32
        size = math.prod(input_shape)
        if size > MAX_INPUT_ELEMENTS:  # the model runs once on it: bound the work first
            raise ValueError(f"--input {list(input_shape)} has {size:,} values per sample; "
                             f"import runs the model once to find its shapes and takes at most "
                             f"{MAX_INPUT_ELEMENTS:,} (the spec's input can be changed later)")
        x = torch.randn((BATCH, *input_shape), dtype=dtype,
                        device=parameter.device if parameter is not None else None)
        try:
            # ShapeProp prints the traceback of a failing node itself: not for our users.
            with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
                ShapeProp(gm).propagate(x)
        except Exception as exc:
            cause = exc.__cause__ or exc
            first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            raise ValueError(f"running {type(module).__name__} on an input of shape "
                             f"{[BATCH, *input_shape]} failed: {first}") from None
        return gm
    finally:
        for m, training in modes.items():
            m.training = training


# --- reading the graph ---------------------------------------------------------------------------

class _Reader:
    def __init__(self, gm, weights: bool):
        self.gm = gm
        self.want_weights = weights
        self.names: dict[Any, str] = {}  # fx node → the layer computing it ("input")
        self.layers: dict[str, FlatLayer] = {}
        self.problems: list[Diagnostic] = []
        self.failed: set[Any] = set()
        self.called: set[str] = set()  # modules with weights already called once
        self.tensors: dict[int, str] = {}  # id of a parameter or buffer → its module
        self.output: str | None = None
        self.notes: list[str] = []
        self.functions = fx_modules.function_keys()
        self.modules = fx_modules.module_keys()

    def run(self) -> None:
        self.replaced, self.absorbed = channel_affines(self.gm.graph, self.functions)
        for node in self.gm.graph.nodes:
            try:
                self.visit(node)
            except Unsupported as exc:
                self.failed.add(node)
                self.problems.append(diagnostic(node, exc, self.gm))
        if not self.problems and not self.layers:
            self.problems.append(Diagnostic("the model's output is its input: there is no "
                                            "layer to describe", location=Location("<torch.fx>")))
        if self.problems:
            raise UnsupportedModel(self.problems)

    def visit(self, node) -> None:
        if node.op == "placeholder":
            if "input" in self.names.values():
                raise Unsupported("a second input: archspec models take one input tensor")
            self.names[node] = "input"
        elif node.op == "output":
            self._output(node)
        elif node.op == "get_attr":
            raise Unsupported("reads a parameter or buffer of the model directly; archspec "
                              "layers own their weights",
                              hint="keep weights inside standard torch.nn modules")
        elif node in self.absorbed:
            return  # part of an idiom that a later node stands for (fx_patterns)
        elif node.target is operator.getitem and node.args[0] in self.failed \
                and shape_of(node.args[0]) is None:
            self.failed.add(node)  # a part of the tuple a reported node returned
        elif shape_of(node) is not None:
            self._tensor(node)
        elif isinstance(node.meta.get("tensor_meta"), (tuple, list)):
            raise Unsupported("returns several tensors; archspec layers return one")
        # else a Python value (x.size(0), a shape): reshapes read their own result's shape

    def _output(self, node) -> None:
        (value,) = node.args
        if isinstance(value, (tuple, list, dict)):
            raise Unsupported(f"the model returns {len(value)} values; an archspec model "
                              f"has one output")
        if value in self.failed:
            return
        if self.names.get(value, "input") == "input":
            raise Unsupported("the model's output is not a tensor computed from its input")
        self.output = self.names[value]

    def _tensor(self, node) -> None:
        module = self.gm.get_submodule(node.target) if node.op == "call_module" else None
        if node in self.replaced:
            mapped = self.replaced[node]
        else:
            key = self._key(node, module)
            mapped = fx_modules.HANDLERS[key](self._call(node, module, key))
        layer = self._layer(node, module, mapped) if mapped.type else None
        if mapped.note:
            self.notes.append(f"{node.name}: {mapped.note}")
        if any(i in self.failed for i in mapped.inputs):
            self.failed.add(node)  # its input was reported; this one is not at fault
        elif layer is None:
            self.names[node] = self.names[mapped.inputs[0]]
        elif not self._merged_into_pool(node, mapped):
            self._add(node, module, mapped, layer)

    def _key(self, node, module) -> str:
        if node.op == "call_module":
            cls = standard_type(module, self.modules)
            if cls is None:
                raise Unsupported("archspec has no layer for this module type")
            return self.modules[cls][0]
        if node.op == "call_method":
            key = fx_modules.METHODS.get(node.target.rstrip("_"))
        else:
            key = self.functions.get(node.target) \
                or fx_modules.NAMED_FUNCTIONS.get(target_name(node))
        if key is None:
            raise Unsupported("indexing or slicing a tensor has no archspec layer"
                              if node.target is operator.getitem
                              else "archspec has no layer for it")
        return key

    def _call(self, node, module, key: str) -> Call:
        if module is None:
            return Call(node, fx_modules.bind(key, node.args, node.kwargs))
        attrs = self.modules[standard_type(module, self.modules)][1]
        given = {a: getattr(module, a) for a in attrs if hasattr(module, a)}
        return Call(node, fx_modules.bind(key, node.args[:1], {**node.kwargs, **given}), module)

    def _merged_into_pool(self, node, mapped: Mapped) -> bool:
        """A Flatten right after a global pooling that keeps its dims (torch's
        AdaptiveAvgPool2d(1) then flatten) is the pooling without keepdims."""
        source = mapped.inputs[0]
        layer = self.layers.get(self.names.get(source, ""))
        if mapped.type != "Flatten" or layer is None or not layer.type.startswith("Global") \
                or not layer.args.get("keepdims") \
                or [u for u in source.users if shape_of(u) is not None] != [node]:
            return False
        del layer.args["keepdims"]
        self.names[node] = layer.name
        return True

    def _layer(self, node, module, mapped: Mapped):
        """The archspec layer, checked: its arguments, and weights of its own."""
        try:
            layer = layer_types()[mapped.type].model_validate(mapped.args)
        except ValueError as exc:  # pydantic's ValidationError
            raise Unsupported(f"archspec's {mapped.type} refuses {mapped.args}: "
                              f"{_first_error(exc)}") from None
        if module is not None:
            self._check_sharing(node, module)
        return layer

    def _add(self, node, module, mapped: Mapped, layer) -> None:
        weights = None
        if self.want_weights:  # a function's layer has none: {}, as asked
            weights = _weights(module, layer) if module is not None else {}
        scope = scope_of(node)
        name = self._name(node, scope)
        self.names[node] = name
        self.layers[name] = FlatLayer(name, mapped.type, mapped.args,
                                      [self.names[i] for i in mapped.inputs], scope, weights)

    def _check_sharing(self, node, module) -> None:
        tensors = list(module.parameters()) + list(module.buffers())
        if not tensors:
            return
        if node.target in self.called:
            raise Unsupported(f"module '{node.target}' is called a second time here: its "
                              f"weights would be shared, and archspec layers own theirs")
        self.called.add(node.target)
        for t in tensors:
            other = self.tensors.setdefault(id(t), node.target)
            if other != node.target:
                raise Unsupported(f"module '{node.target}' shares a weight with "
                                  f"'{other}'; archspec layers own theirs")

    def _name(self, node, scope: tuple[tuple[str, str], ...]) -> str:
        """The module path with '_' for '.' (``layer1_0_conv1``); for a function or method,
        the path of the module whose forward calls it and the op (``layer1_0_add``, where fx
        numbers ``add_3`` across the whole model), so that each instance of a module class
        names its layers alike. Made a valid, unique spec name: an identifier of at most 64
        characters, not a keyword, not "input"; a second use gets ``_1``, as in fx."""
        if node.op == "call_module":
            base = node.target
        else:
            op = re.sub(r"_\d+$", "", node.name)
            base = "_".join([own for own, _ in scope] + [op])
        name = re.sub(r"\W", "_", base.replace(".", "_"), flags=re.ASCII)
        if not IDENTIFIER.match(name[:64]) or keyword.iskeyword(name) or name == "input":
            name = "_" + name
        name, stem, n = name[:64], name[:58], 0
        while name in self.layers:
            n += 1
            name = f"{stem}_{n}"
        return name


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors) and errors():
        return errors()[0].get("msg", str(exc))
    return str(exc)


def _weights(module, layer) -> dict[str, Any]:
    out = {}
    for slot in layer.weight_slots():
        tensor = module
        for part in slot.torch.split("."):
            tensor = getattr(tensor, part, None)
        if tensor is None:
            raise Unsupported(f"{class_name(module)} has no {slot.torch} for archspec's "
                              f"{slot.keras}")
        out[slot.keras] = tensor.detach().cpu().numpy().copy()
    return out
