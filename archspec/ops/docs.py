"""What ``help(archspec.Conv2D)`` shows: the layer's own summary, its arguments with their
Keras meanings and defaults, and a Keras-ordered signature — not pydantic's BaseModel method
listing. The argument table also gives error messages their examples of an accepted form.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

# Argument → (meaning, an accepted value as written in a spec). A class may override a meaning
# in ``argument_docs`` where its use of a name differs (ZeroPadding2D's padding).
ARGUMENTS: dict[str, tuple[str, str | None]] = {
    "filters": ("number of output channels", "32"),
    "units": ("number of output features", "10"),
    "kernel_size": ("window size: one int, or one per spatial dimension", "3"),
    "strides": ("step of the window: one int, or one per spatial dimension", "2"),
    "padding": ("'valid' (none), 'same' (Keras/TensorFlow: output = ceil(n / stride), an odd "
                "pixel after), an int (symmetric, as torch's padding=1), one int per dimension, "
                "or [before, after] pairs", "same"),
    "dilation_rate": ("spacing between kernel taps (atrous convolution)", "2"),
    "groups": ("split input and output channels into this many independent groups", "2"),
    "depth_multiplier": ("output channels per input channel of the depthwise step", "1"),
    "use_bias": ("add a learned bias", "false"),
    "activation": ("applied to the output: linear, relu, relu6, sigmoid, tanh, softmax, elu, "
                   "gelu, silu, swish, softplus", "relu"),
    "kernel_initializer": ("Keras initializer name; torch models are initialized the same way, "
                           "with Keras' fans", "he_normal"),
    "depthwise_initializer": ("Keras initializer name of the depthwise kernel", "he_normal"),
    "pointwise_initializer": ("Keras initializer name of the 1x1 kernel", "he_normal"),
    "bias_initializer": ("Keras initializer name of the bias", "zeros"),
    "kernel_regularizer": ("L1/L2 penalty on the kernel, added to the loss as Keras does "
                           "(torch: model.regularization_loss())", "{l2: 0.001}"),
    "depthwise_regularizer": ("L1/L2 penalty on the depthwise kernel", "{l2: 0.001}"),
    "kernel_constraint": ("max-norm constraint, applied after each update (torch: "
                          "model.apply_constraints())", "{max_norm: 3}"),
    "depthwise_constraint": ("max-norm constraint on the depthwise kernel", "{max_norm: 3}"),
    "output_padding": ("extra rows/columns on one side of the output, to pick among the output "
                       "sizes a stride allows", "1"),
    "pool_size": ("window size: one int, or one per spatial dimension", "2"),
    "rounding": ("floor, or ceil to keep a last partial window (torch's ceil_mode)", "ceil"),
    "count_include_pad": ("whether padded cells count in the mean (false: Keras' meaning)",
                          "false"),
    "keepdims": ("keep the spatial dimensions, with size 1", "true"),
    "target_shape": ("the new shape in the spec's layout, without the batch; one entry may be "
                     "-1", "[7, 7, 64]"),
    "rate": ("fraction of inputs zeroed during training", "0.5"),
    "momentum": ("weight of the old moving average (Keras' meaning; torch's momentum is "
                 "1 - this)", "0.99"),
    "epsilon": ("added to the variance before the square root", "0.001"),
    "center": ("learn a shift (beta)", "true"),
    "scale": ("learn a scale (gamma)", "true"),
    "size": ("upsampling factor: one int, or one per spatial dimension", "2"),
    "interpolation": ("nearest or bilinear", "nearest"),
    "max_value": ("cap on the output (6 gives ReLU6)", "6"),
    "negative_slope": ("slope below the threshold", "0.01"),
    "threshold": ("values below it are zeroed (or scaled by negative_slope)", "0"),
    "alpha": ("scale of the negative part", "1.0"),
    "approximate": ("tanh approximation instead of the exact erf form", "false"),
    "axis": ("axis in Keras' counting (the batch is 0; -1 is the last), in the spec's layout",
             "-1"),
}
STRUCTURAL = ("name", "inputs")


def examples() -> dict[str, str]:
    return {name: example for name, (_, example) in ARGUMENTS.items() if example}


def fields_in_order(cls: type[BaseModel]) -> list[str]:
    """Positional arguments first, in Keras' order, then the rest as declared; a layer's
    ``name`` and ``inputs`` (Keras' ``**kwargs``) last; the type tag never."""
    positional = list(getattr(cls, "positional", ()))
    last = [f for f in STRUCTURAL if f in getattr(cls, "structural", ())]
    rest = [f for f in cls.model_fields if f not in positional and f not in last
            and f != "type"]
    return positional + rest + last


def signature(cls: type[BaseModel]) -> inspect.Signature:
    positional = set(getattr(cls, "positional", ()))
    params = []
    for name in fields_in_order(cls):
        field = cls.model_fields[name]
        kind = (inspect.Parameter.POSITIONAL_OR_KEYWORD if name in positional
                else inspect.Parameter.KEYWORD_ONLY)
        default = inspect.Parameter.empty if field.is_required() else _default(field)
        params.append(inspect.Parameter(name, kind, default=default))
    return inspect.Signature(params)


def _default(field: Any) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    return field.default_factory() if field.default_factory is not None else None


def layer_doc(cls: type[BaseModel], summary: str) -> str:
    """The docstring of a layer type: its summary, then one line per argument."""
    own = getattr(cls, "argument_docs", {})
    lines = [inspect.cleandoc(summary), "", "Arguments (Keras' names and meanings):"]
    for name in fields_in_order(cls):
        if name in STRUCTURAL:
            continue
        field = cls.model_fields[name]
        meaning = own.get(name) or ARGUMENTS.get(name, ("", None))[0]
        default = "required" if field.is_required() else f"default {_default(field)!r}"
        lines += textwrap.wrap(f"{name}: {meaning} ({default})", 88, initial_indent="  ",
                               subsequent_indent="      ")
    lines.append("  name, inputs: the layer's name, and the layers it reads (default: the one "
                 "before)")
    return "\n".join(lines)


def summary_of(cls: type) -> str:
    """The nearest docstring written in archspec for this class or a family base — or, for a
    plugin's type (ops/plugins.py), the class's own."""
    for klass in cls.__mro__:
        doc = vars(klass).get("__doc__")
        if doc and (klass.__module__.startswith("archspec.ops.") or klass is cls and
                    not klass.__module__.startswith("archspec.")) and klass.__name__ != "Layer":
            return doc
    return cls.__name__


# The metaclass of archspec's models: ``dir()`` (and so ``help()``) lists what archspec defines,
# not pydantic's machinery; the signature is the Keras-style one above; a layer's docstring is
# composed when first read. (A property named __doc__ replaces the class body's docstring, so
# this is a comment.)
class Documented(type(BaseModel)):  # type: ignore[misc]

    def __dir__(cls) -> list[str]:
        names = set()
        for klass in cls.__mro__:
            if not klass.__module__.startswith("archspec."):
                continue
            for name, value in vars(klass).items():
                if name.startswith(("_", "model_")):
                    continue
                if callable(value) or isinstance(value, (property, classmethod, staticmethod)):
                    names.add(name)
        return sorted(names)

    @property
    def __doc__(cls) -> str | None:  # type: ignore[override]
        compose = getattr(cls, "_compose_doc", None)
        return compose() if compose is not None else vars(cls).get("__doc__")

    @property
    def __signature__(cls) -> inspect.Signature:
        return signature(cls)

    @__signature__.setter
    def __signature__(cls, value: Any) -> None:
        # pydantic assigns its own signature once a deferred model is built; ours stands.
        pass
