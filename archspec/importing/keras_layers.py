"""Keras layers → archspec layer types and arguments: the Keras reader's table.

A Keras layer class named like an archspec type maps to it argument by argument (archspec
takes Keras' names); the classes that need more (an ``Activation`` by name, a ``Dropout`` with
one draw per sample, the helper layers archspec's own Keras code defines) have a converter
each. Arguments that only shape training from scratch (initializers, regularizers and
constraints archspec has no form for) are left out with a note; anything that would change
what the layer computes and has no archspec form makes the layer unsupported. Nothing here
imports Keras: converters read ``get_config()`` and, where Keras keeps a value only as a
weight (an adapted ``Normalization``'s statistics), the layer's variables.
"""

from __future__ import annotations

from typing import Any, Callable, get_args

from ..ops.base import ActivationName, InitializerName, layer_types
from .arguments import Unsupported

Config = dict[str, Any]


# Keras initializer classes by the names archspec's arguments take.
_INITIALIZERS = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
                 "HeUniform": "he_uniform", "HeNormal": "he_normal",
                 "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
                 "Zeros": "zeros", "Ones": "ones", "RandomUniform": "uniform"}
# Keras activation names with a type of their own in archspec (an Activation layer of these
# becomes that type); the rest of ActivationName stays an Activation.
_ACTIVATION_TYPES = {"hard_sigmoid": ("HardSigmoid", {}), "hard_silu": ("HardSwish", {}),
                     "hard_swish": ("HardSwish", {}), "sigmoid": ("Sigmoid", {}),
                     "tanh": ("Tanh", {}), "silu": ("SiLU", {}), "swish": ("SiLU", {}),
                     "gelu": ("GELU", {}),  # Keras' gelu is the exact one, as GELU's default
                     "leaky_relu": ("LeakyReLU", {"negative_slope": 0.2})}
_ACTIVATIONS = frozenset(get_args(ActivationName))
# Config entries that say nothing about what the layer computes.
_IGNORED = frozenset({"name", "trainable", "dtype", "seed", "autocast", "input_dim_is_none",
                      "quantization_config", "lora_rank", "lora_alpha",
                      "renorm_momentum"})  # used only with renorm, which is refused
# Entries archspec has no argument for, harmless at these values.
_NEUTRAL: dict[str, tuple] = {
    "data_format": ("channels_last", None), "bias_regularizer": (None,),
    "activity_regularizer": (None,), "bias_constraint": (None,), "synchronized": (False,),
    "renorm": (False,), "renorm_clipping": (None,), "rms_scaling": (False,),
    "invert": (False,), "mask_zero": (False,), "attention_axes": (None,),
    "use_gate": (False,), "sliding_window": (None,), "noise_shape": (None,),
    "sparse": (False,), "input_length": (None,), "embeddings_regularizer": (None,),
    "embeddings_constraint": (None,), "flash_attention": (None,), "alpha_regularizer": (None,),
    "alpha_constraint": (None,), "pointwise_regularizer": (None,), "pointwise_constraint": (None,),
    "depthwise_regularizer": (None,), "depthwise_constraint": (None,)}
_TRAINING_ONLY = ("_initializer", "_regularizer", "_constraint")


def _class_name(value: Any) -> str | None:
    return value.get("class_name") if isinstance(value, dict) else None


def _initializer(key: str, value: Any, notes: list[str]) -> str | None:
    name = _INITIALIZERS.get(_class_name(value) or "", value if isinstance(value, str) else None)
    config = value.get("config", {}) if isinstance(value, dict) else {}
    plain = all(v is None for k, v in config.items()) if name != "uniform" else (
        config.get("minval") == -0.05 and config.get("maxval") == 0.05)
    # "uniform" (from -0.05 to 0.05) is Embedding's default, and archspec's name only there
    known = get_args(InitializerName) + (("uniform",) if key == "embeddings_initializer" else ())
    if name in known and plain:
        return name
    notes.append(f"{key} {_class_name(value) or value} {config or ''} has no archspec form and "
                 f"is left at archspec's default (it only matters when training from scratch)")
    return None


def _regularizer(key: str, value: Any, notes: list[str]) -> dict | None:
    kind, config = _class_name(value), (value or {}).get("config", {})
    if kind in ("L1", "L2", "L1L2"):
        return {k: float(config[k]) for k in ("l1", "l2") if config.get(k)}
    notes.append(f"{key} {kind} has no archspec form and is left out")
    return None


def _constraint(key: str, value: Any, notes: list[str]) -> dict | None:
    if _class_name(value) == "MaxNorm":
        config = value["config"]
        return {"max_norm": float(config["max_value"]), "axis": config.get("axis", 0)}
    notes.append(f"{key} {_class_name(value)} has no archspec form and is left out")
    return None


def _activation(value: Any) -> str | None:
    if value in (None, "linear"):
        return None
    if value not in _ACTIVATIONS:
        raise Unsupported(f"activation {value!r} has no archspec form (archspec's: "
                          f"{', '.join(sorted(_ACTIVATIONS))})")
    return value


def _argument(key: str, value: Any, notes: list[str]) -> Any:
    """A config value as archspec's argument of the same name (None: leave it out)."""
    if value is None:
        return None
    if key.endswith("_initializer") or key == "initializer":
        return _initializer(key, value, notes)
    if key.endswith("_regularizer"):
        return _regularizer(key, value, notes)
    if key.endswith("_constraint"):
        return _constraint(key, value, notes)
    if key == "activation":
        return _activation(value)
    return value


def generic(type_name: str, config: Config, notes: list[str]) -> tuple[str, dict]:
    """A Keras layer whose class is named like the archspec type and whose arguments are
    archspec's (Keras') names."""
    fields = layer_types()[type_name].model_fields
    args: dict[str, Any] = {}
    for key, value in config.items():
        if key in _IGNORED or key in ("type", "inputs", "when"):
            continue
        if key in fields:
            converted = _argument(key, value, notes)
            if converted is not None:
                args[key] = converted
        elif key in _NEUTRAL and value in _NEUTRAL[key]:
            continue
        elif key.endswith(_TRAINING_ONLY):
            if key.endswith("_initializer") or value is None:
                continue  # initializers of what archspec initializes its own way
            notes.append(f"{key} {_class_name(value) or value} has no archspec form and is "
                         f"left out (it only matters when training)")
        else:
            raise Unsupported(f"{key}={value!r} has no archspec form")
    return type_name, args


# --- converters for classes that need more than the generic mapping ---------------------------

def _activation_layer(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    name = config.get("activation")
    if name in _ACTIVATION_TYPES:
        return _ACTIVATION_TYPES[name]
    name = _activation(name) or "linear"
    return "Activation", {"activation": name}


def _normalized_axis(config: Config, layer: Any, what: str) -> None:
    """BatchNormalization normalizes the channels: the last axis of a channels-last model."""
    axis = config.pop("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    rank = len(layer.input.shape) if _has_input(layer) else None
    if axis != -1 and axis != (rank - 1 if rank else None):
        raise Unsupported(f"{what} over axis {axis}: archspec normalizes the channels (the last "
                          f"axis)")


def _has_input(layer: Any) -> bool:
    try:
        return layer.input is not None
    except (AttributeError, ValueError):
        return False


def _batch_norm(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    _normalized_axis(config, layer, "BatchNormalization")
    return generic("BatchNormalization", config, notes)


def _layer_norm(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    axis = config.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        config["axis"] = axis[0] if len(axis) == 1 else list(axis)
    return generic("LayerNormalization", config, notes)


def _dropout(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    noise = config.pop("noise_shape", None)
    if noise is None:
        return generic("Dropout", config, notes)
    noise = tuple(noise)
    if noise[0] is None and len(noise) > 1 and all(n == 1 for n in noise[1:]):
        # One draw per sample: keras.applications' EfficientNet writes drop path this way.
        return "StochasticDepth", {"rate": config["rate"]}
    raise Unsupported(f"noise_shape {list(noise)}: archspec's dropouts draw per element or per "
                      f"sample")


def _pool(type_name: str) -> Callable:
    def convert(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
        if config.get("strides") is not None and tuple(config["strides"]) == tuple(
                config.get("pool_size") or ()):
            config.pop("strides")  # archspec's default: the pool size, as Keras'
        return generic(type_name, config, notes)
    return convert


def _normalization(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    axis = config.pop("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if isinstance(axis, (list, tuple)):
        raise Unsupported(f"statistics along several axes {list(axis)}: archspec's "
                          f"Normalization takes one axis")
    mean, variance = config.pop("mean", None), config.pop("variance", None)
    if mean is None or variance is None:
        # Adapted: the statistics are weights, not configuration.
        weights = {w.name: w for w in layer.weights}
        if "mean" not in weights or "variance" not in weights:
            raise Unsupported("its statistics are neither given nor adapted")
        mean, variance = (_floats(weights[k]) for k in ("mean", "variance"))
    else:
        notes.append(f"its statistics are constants in Keras (no weights); archspec keeps them "
                     f"as {2 * len(_as_list(mean)) + 1} non-trainable weights")
    config.update({"axis": axis, "mean": _as_list(mean), "variance": _as_list(variance)})
    return generic("Normalization", config, notes)


def _as_list(value: Any) -> Any:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        flat = _flatten(value)
        return flat[0] if len(flat) == 1 else flat
    return float(value)


def _flatten(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    return [float(value)]


def _floats(variable: Any) -> Any:
    from ..weights import keras_to_numpy
    return _as_list(keras_to_numpy(variable))


def _stochastic_depth(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    return "StochasticDepth", {"rate": config.get("drop_path_rate", config.get("rate", 0.0))}


def _layer_scale(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    return "LayerScale", {"init_values": config["init_values"]}


def _padded_pooling(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    """archspec's own helper for pooling Keras has no padding for (explicit, asymmetric or
    ceil-rounded windows)."""
    rank = len(config["pool_size"])
    kind = "MaxPooling" if config["kind"] == "max" else "AveragePooling"
    args = {"pool_size": list(config["pool_size"]), "strides": list(config["strides"]),
            "padding": [list(p) for p in config["pads"]]}
    if any(config["overhang"]):
        args["rounding"] = "ceil"
    if config.get("count_include_pad"):
        args["count_include_pad"] = True
    return f"{kind}{rank}D", args


def _archspec_normalization(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    return "Normalization", {"axis": config["axis"], "mean": config["mean"],
                             "variance": config["variance"]}


def _renamed(type_name: str) -> Callable:
    def convert(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
        return generic(type_name, config, notes)
    return convert


def _attention(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    """Keras' default attends over every axis between the batch and the features: for
    sequences (batch, length, features) that is axis 1, archspec's only form."""
    axes = config.pop("attention_axes", None)
    if axes is not None and tuple(axes) not in ((1,), (-2,)):
        raise Unsupported(f"attention over axes {list(axes)}: archspec attends over the "
                          f"positions of a sequence (axis 1)")
    if config.get("value_dim") == config.get("key_dim"):
        config.pop("value_dim", None)
    return generic("MultiHeadAttention", config, notes)


def _zero_padding(rank: int) -> Callable:
    def convert(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
        padding = config.pop("padding")
        if rank == 1 and isinstance(padding, (list, tuple)):
            padding = [list(padding)]  # Keras' (before, after) of the one axis
        config["padding"] = padding
        if rank == 3:
            # no archspec type: archspec's own Keras code pads a 3-D convolution this way,
            # and the reader merges it into that convolution
            return "ZeroPadding3D", {"padding": [list(p) for p in padding]}
        return generic(f"ZeroPadding{rank}D", config, notes)
    return convert


def _cropped_transpose(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
    raise Unsupported("archspec's cropped transposed convolution helper cannot be read back "
                      "yet; import the spec it was compiled from instead")


def _upsampling(type_name: str) -> Callable:
    def convert(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
        if config.get("interpolation") not in (None, "nearest", "bilinear"):
            raise Unsupported(f"interpolation {config['interpolation']!r}: archspec has "
                              f"nearest and bilinear")
        return generic(type_name, config, notes)
    return convert


def _conv(type_name: str) -> Callable:
    def convert(config: Config, notes: list[str], layer: Any) -> tuple[str, dict]:
        if config.get("padding") == "causal":
            raise Unsupported("padding 'causal' has no archspec form (pad with ZeroPadding1D "
                              "before a 'valid' convolution)")
        kernel = config.get("kernel_size")
        if config.get("padding") == "same" and kernel is not None and all(
                k == 1 for k in (kernel if isinstance(kernel, (list, tuple)) else [kernel])):
            config["padding"] = "valid"  # a 1x1 window never reaches padding
        return generic(type_name, config, notes)
    return convert


SPECIAL: dict[str, Callable[[Config, list, Any], tuple[str, dict]]] = {
    "Activation": _activation_layer,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Dropout": _dropout,
    "Normalization": _normalization,
    "StochasticDepth": _stochastic_depth,
    "LayerScale": _layer_scale,
    "MultiHeadAttention": _attention,
    **{f"{kind}{rank}D": _pool(f"{kind}{rank}D") for kind in ("MaxPooling", "AveragePooling")
       for rank in (1, 2, 3)},
    **{name: _conv(name) for name in ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D",
                                      "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")},
    "UpSampling1D": _upsampling("UpSampling1D"), "UpSampling2D": _upsampling("UpSampling2D"),
    **{f"ZeroPadding{rank}D": _zero_padding(rank) for rank in (1, 2, 3)},
}
# The helper layers of archspec's generated Keras code (registered as "archspec>Name").
ARCHSPEC_HELPERS: dict[str, Callable[[Config, list, Any], tuple[str, dict]]] = {
    "PaddedPooling": _padded_pooling, "GELU": _renamed("GELU"),
    "Normalization": _archspec_normalization, "LayerScale": _layer_scale,
    "ClassToken": _renamed("ClassToken"), "PositionEmbedding": _renamed("PositionEmbedding"),
    "Take": _renamed("Take"), "AxisLayerNormalization": _layer_norm,
    "ExplicitMultiHeadAttention": _attention,
    "CroppedConv1DTranspose": _cropped_transpose, "CroppedConv2DTranspose": _cropped_transpose,
}


def convert(class_name: str, config: Config, notes: list[str], layer: Any,
            helper: bool = False) -> tuple[str, dict]:
    """(archspec type, arguments as Keras gave them) for a Keras layer of ``class_name``
    (``helper``: one of archspec's own generated helper classes). Raises Unsupported."""
    config = dict(config)
    table = ARCHSPEC_HELPERS if helper else SPECIAL
    if class_name in table:
        return table[class_name](config, notes, layer)
    if not helper and class_name in layer_types():
        return generic(class_name, config, notes)
    raise Unsupported("no archspec layer type computes it")
