"""Small helpers shared by the backend tests."""

from __future__ import annotations

import ast

import yaml

import archspec


def one_layer_spec(layer, input_shape, layout="channels_last") -> archspec.Spec:
    """A spec of one layer on an input of ``input_shape``, read from YAML text."""
    return archspec.loads(yaml.safe_dump({"archspec": 1, "name": "case",
                                          "input": {"shape": list(input_shape), "layout": layout},
                                          "layers": [layer]}))


def imported_modules(source: str) -> set[str]:
    """Top-level packages a piece of source imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names
