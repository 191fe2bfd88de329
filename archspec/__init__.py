"""archspec: describe a neural network once, as a YAML/JSON spec; validate it, infer its shapes
and costs without any framework, and compile it to PyTorch or Keras.

Names are imported on first use (PEP 562), so ``archspec.cli`` can configure pydantic before
any model class exists, and ``import archspec`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__ as __version__  # "as" marks a re-export for linters

_EXPORTS = {
    "archspec.api": ["analyze", "check", "compile", "generate"],
    "archspec.errors": ["ArgumentError", "Diagnostic", "SpecError", "UnsupportedError"],
    "archspec.weights": ["get_weights", "set_weights", "transfer_weights"],
    "archspec.verification": ["verify"],
    "archspec.reference": ["load_reference_weights"],
    "archspec.spec.load": ["load", "loads"],
    "archspec.spec.model": ["BlockDef", "InputSpec", "Spec", "call", "group", "repeat"],
    "archspec.ops.activation": ["ELU", "GELU", "Activation", "HardSigmoid", "HardSwish",
                                "LeakyReLU", "PReLU", "ReLU", "Sigmoid", "SiLU", "Softmax",
                                "Tanh"],
    "archspec.ops.conv": ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D",
                          "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                          "SeparableConv2D"],
    "archspec.ops.core": ["BatchNormalization", "Dense", "Dropout", "Flatten", "Reshape",
                          "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D"],
    "archspec.ops.merge": ["Add", "Concatenate", "Multiply"],
    "archspec.ops.attention": ["LayerNormalization", "MultiHeadAttention"],
    "archspec.ops.sequence": ["ClassToken", "Embedding", "PositionEmbedding", "Take"],
    "archspec.ops.utility": ["LayerScale", "Normalization", "Permute", "Rescaling",
                             "StochasticDepth"],
    "archspec.ops.pool": ["AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
                          "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                          "MaxPooling1D", "MaxPooling2D", "AveragePooling3D", "MaxPooling3D",
                          "GlobalAveragePooling3D", "GlobalMaxPooling3D"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'archspec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
