"""``archspec import`` in Python: read a model, fold it into a spec, write the spec and, if
asked, the model's weights for the spec's compiled model.

Sources: a Keras model or ``nn.Module`` object, a ``.keras`` file, ``keras.applications.<Name>``
or ``module:callable`` returning an ``nn.Module`` (read by ``archspec.importing.fx``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from .flat import FlatModel
from .fold import Folded, fold
from .spec_yaml import to_yaml

_CALLABLE = re.compile(r"\A[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z")


@dataclass
class Imported:
    source: str
    flat: FlatModel
    folded: Folded
    text: str  # the spec as YAML

    @property
    def document(self) -> dict:
        return self.folded.document

    @property
    def notes(self) -> list[str]:
        return list(self.flat.notes) + self.folded.notes

    def exchange(self, graph=None) -> dict[str, dict[str, Any]]:
        """The model's weights by the spec's layer names, in Keras' layout (what
        ``archspec.weights.set_weights`` takes). ``graph``: the analysed spec, where known."""
        renames = self.folded.renames
        weighted = [layer for layer in self.flat.layers if layer.weights]
        if not weighted and any(layer.weights is None for layer in self.flat.layers):
            raise ValueError("the model was read without its weights (weights=True)")
        if self.flat.framework == "keras":
            return {renames.get(x.name, x.name): dict(x.weights) for x in weighted}
        from ..weights import torch_to_keras_array
        graph = graph if graph is not None else self.graph()
        out = {}
        for layer in weighted:
            node = graph[renames.get(layer.name, layer.name)]
            out[node.name] = {key: torch_to_keras_array(key, value, node, graph)
                              for key, value in layer.weights.items()}
        return out

    def graph(self):
        from ..analysis import analyze
        return analyze(self.document)


def import_model(source: Any, input_shape: Optional[tuple[int, ...]] = None,
                 weights: bool = False) -> Imported:
    """Read ``source`` and fold it. Raises UnsupportedModel (a SpecError) listing every layer
    archspec cannot express, ValueError for a source that cannot be read."""
    flat, label = _read(source, input_shape, weights)
    folded = fold(flat)
    comments = [f"Imported by `archspec import` from {label}."]
    comments += [f"note: {n}" for n in _summarised(flat.notes + folded.notes)]
    text = to_yaml(folded.document, comments)
    _check_text(text, folded.document)
    return Imported(label, flat, folded, text)


def _read(source: Any, input_shape, weights: bool) -> tuple[FlatModel, str]:
    if not isinstance(source, str):
        return _read_object(source, input_shape, weights)
    if _CALLABLE.match(source) and not source.endswith(".keras"):
        from .fx import load_callable, read_torch
        if input_shape is None:
            raise ValueError("a torch model needs --input, its input shape without the batch "
                             "(channels first, e.g. 3,224,224)")
        return read_torch(load_callable(source), tuple(input_shape), weights=weights), source
    from .keras_reader import load_keras, read_keras
    if not (source.endswith(".keras") or source.startswith("keras.applications.")):
        raise ValueError(f"{source!r} is not a .keras file, keras.applications.<Name> or "
                         f"module:callable")
    model = load_keras(source, input_shape)
    return read_keras(model, source, input_shape, weights=weights), source


def _read_object(model: Any, input_shape, weights: bool) -> tuple[FlatModel, str]:
    from ..weights import framework_of
    framework = framework_of(model)
    if framework == "keras":
        label = f"Keras model '{model.name}'"
        from .keras_reader import read_keras
        return read_keras(model, label, input_shape, weights=weights), label
    from .fx import read_torch
    if input_shape is None:
        raise ValueError("a torch model needs input_shape, without the batch (channels first)")
    label = f"torch module {type(model).__module__}.{type(model).__qualname__}"
    return read_torch(model, tuple(input_shape), weights=weights), label


def _summarised(notes: list[str]) -> list[str]:
    """Notes that repeat for many layers once, with a count."""
    by_text: dict[str, list[str]] = {}
    for note in notes:
        layer, sep, text = note.partition(": ")
        key = text if sep else note
        by_text.setdefault(key, []).append(layer if sep else "")
    out = []
    for text, layers in by_text.items():
        named = [layer for layer in layers if layer]
        if len(named) > 1:
            out.append(f"{named[0]} and {len(named) - 1} more: {text}")
        else:
            out.append(f"{named[0]}: {text}" if named else text)
    return out


def _check_text(text: str, document: dict) -> None:
    import yaml
    if yaml.safe_load(text) != document:  # the writer is ours: a mismatch is our bug
        raise RuntimeError("the spec's YAML does not read back as the spec; please report it")


def save_weights(imported: Imported, path: str) -> str:
    """Build the spec's model in the framework ``path`` names (``.pt``/``.pth``: torch,
    ``.weights.h5``: Keras), give it the imported weights and save them. Returns the
    framework."""
    from ..analysis import analyze
    from ..backends import build
    from ..weights import save_file, set_weights
    if path.endswith((".pt", ".pth")):
        backend = "torch"
    elif path.endswith(".weights.h5"):
        backend = "keras"
    else:
        raise ValueError(f"--weights names a torch file (.pt) or Keras weights (.weights.h5), "
                         f"not {path}")
    graph = analyze(imported.document)
    model = build(graph, backend)
    set_weights(model, graph, imported.exchange(graph))
    save_file(model, path)
    return backend
