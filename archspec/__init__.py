"""archspec: describe a neural network once, as a YAML/JSON spec; validate it, infer its shapes
and costs without any framework, and compile it to PyTorch or Keras."""

from .api import analyze, check
from .errors import Diagnostic, SpecError
from .ops.activation import ELU, GELU, Activation, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .ops.conv import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, DepthwiseConv1D,
                       DepthwiseConv2D, SeparableConv1D, SeparableConv2D)
from .ops.core import (BatchNormalization, Dense, Dropout, Flatten, Reshape, UpSampling1D,
                       UpSampling2D, ZeroPadding1D, ZeroPadding2D)
from .ops.merge import Add, Concatenate, Multiply
from .ops.pool import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                       GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                       MaxPooling1D, MaxPooling2D)
from .spec.load import load
from .spec.model import BlockDef, InputSpec, Spec, call, repeat

__version__ = "0.1.0"


def compile(spec, backend: str = "torch", params=None):  # noqa: A001 - the product's verb
    """Compile a spec to an in-memory model: ``backend="torch"`` gives an ``nn.Module``."""
    from .backends import get_backend
    return get_backend(backend).build(analyze(spec, params))


def generate(spec, backend: str = "torch", params=None) -> str:
    """The generated, standalone Python source for a backend."""
    from .backends import get_backend
    return get_backend(backend).generate(analyze(spec, params))
