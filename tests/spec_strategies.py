"""A hypothesis strategy for random *valid* specs, shared by the backend tests.

It grows a graph layer by layer, drawing each layer's arguments for the shape it will receive
and keeping only layers whose shape rule accepts that shape, so every draw is valid. It mixes
every layer type of the language, both layouts, 1-D, 2-D and 3-D inputs, explicit and asymmetric
padding, ceil rounding, branches joined by Add/Multiply/Concatenate, parameterised blocks and
``repeat``. Shapes are tracked in the canonical layout (channels last, no batch).
"""

from __future__ import annotations

from hypothesis import strategies as st
from pydantic import ValidationError

from archspec.errors import ShapeError
from archspec.ops.base import layer_types, product

ACTIVATIONS = [None, "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "gelu",
               "silu", "swish", "softplus"]
INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal", "zeros", "ones"]
MAX_ELEMENTS = 4000  # keeps every tensor small, so 200 examples run in seconds

# Layer type → the function that draws it; test_completeness checks every type has one.
STRATEGIES: dict = {}


def draws(*types):
    def register(func):
        for t in types:
            STRATEGIES[t] = func
        return func
    return register


def _padding(draw, rank, explicit_ok=True):
    options = ["valid", "same"]
    if explicit_ok:
        options += ["int", "pairs"]
    kind = draw(st.sampled_from(options))
    if kind == "int":
        return draw(st.integers(0, 2))
    if kind == "pairs":
        return [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(rank)]
    return kind


def _window_args(draw, rank, shape, explicit_ok=True):
    args = {"kernel_size": draw(st.integers(1, 4)), "padding": _padding(draw, rank, explicit_ok)}
    stride = draw(st.integers(1, 3))
    if stride > 1:
        args["strides"] = stride
    elif draw(st.booleans()):
        args["dilation_rate"] = 2
    return args


@draws("Conv1D", "Conv2D", "Conv3D")
def _conv(draw, rank, shape, cf):
    args = _window_args(draw, rank, shape)
    args["filters"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if shape[-1] % g == 0]))
        args["groups"] = groups
        args["filters"] = groups * draw(st.integers(1, 3))
    args["use_bias"] = draw(st.booleans())
    args["activation"] = draw(st.sampled_from(ACTIVATIONS))
    args["kernel_initializer"] = draw(st.sampled_from(INITIALIZERS))
    if draw(st.integers(0, 5)) == 0:
        args["kernel_regularizer"] = {"l2": 1e-4}
        args["kernel_constraint"] = {"max_norm": 2.0, "axis": [0, 1, 2][:rank + 1]}
    return f"Conv{rank}D", args


@draws("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(draw, rank, shape, cf):
    args = _window_args(draw, rank, shape)
    args["depth_multiplier"] = draw(st.integers(1, 2))
    args["use_bias"] = draw(st.booleans())
    args["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if draw(st.integers(0, 5)) == 0:
        args["depthwise_constraint"] = {"max_norm": 1.5, "axis": rank}
    return f"DepthwiseConv{rank}D", args


@draws("SeparableConv1D", "SeparableConv2D")
def _separable(draw, rank, shape, cf):
    args = _window_args(draw, rank, shape)
    args.update(filters=draw(st.integers(1, 8)), depth_multiplier=draw(st.integers(1, 2)),
                use_bias=draw(st.booleans()))
    return f"SeparableConv{rank}D", args


@draws("Conv1DTranspose", "Conv2DTranspose")
def _transpose(draw, rank, shape, cf):
    stride = draw(st.integers(1, 3))
    args = {"filters": draw(st.integers(1, 6)), "kernel_size": draw(st.integers(1, 4)),
            "padding": draw(st.sampled_from(["valid", "same"])), "strides": stride,
            "use_bias": draw(st.booleans())}
    if stride == 1 and draw(st.booleans()):
        args["dilation_rate"] = 2
    if draw(st.booleans()):
        limit = max(stride, args.get("dilation_rate", 1))
        args["output_padding"] = draw(st.integers(0, limit - 1))
    return f"Conv{rank}DTranspose", args


@draws("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
       "AveragePooling3D")
def _pool(draw, rank, shape, cf):
    kind = draw(st.sampled_from(["Max", "Average"]))
    args = {"pool_size": draw(st.integers(1, 3)), "padding": _padding(draw, rank),
            "rounding": draw(st.sampled_from(["floor", "ceil"]))}
    if draw(st.booleans()):
        args["strides"] = draw(st.integers(1, 3))
    if kind == "Average":
        args["count_include_pad"] = draw(st.booleans())
    return f"{kind}Pooling{rank}D", args


@draws("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
       "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _global_pool(draw, rank, shape, cf):
    kind = draw(st.sampled_from(["Average", "Max"]))
    return f"Global{kind}Pooling{rank}D", {"keepdims": draw(st.booleans())}


@draws("ZeroPadding1D", "ZeroPadding2D")
def _zero_padding(draw, rank, shape, cf):
    pad = _padding(draw, rank)
    return f"ZeroPadding{rank}D", {"padding": pad if not isinstance(pad, str) else 1}


@draws("UpSampling1D", "UpSampling2D")
def _upsampling(draw, rank, shape, cf):
    args = {"size": draw(st.integers(1, 3))}
    if rank == 2:
        args["interpolation"] = draw(st.sampled_from(["nearest", "bilinear"]))
    return f"UpSampling{rank}D", args


@draws("Dense")
def _dense(draw, rank, shape, cf):
    return "Dense", {"units": draw(st.integers(1, 8)), "use_bias": draw(st.booleans()),
                     "activation": draw(st.sampled_from(ACTIVATIONS)),
                     "bias_initializer": draw(st.sampled_from(["zeros", "ones", "he_normal"]))}


@draws("BatchNormalization")
def _batch_norm(draw, rank, shape, cf):
    return "BatchNormalization", {"momentum": draw(st.sampled_from([0.99, 0.9, 0.5])),
                                  "epsilon": draw(st.sampled_from([1e-3, 1e-5])),
                                  "center": draw(st.booleans()), "scale": draw(st.booleans())}


def _spec_axis(axis: int, rank: int, cf: bool) -> int:
    """Canonical index → the spec's Keras-style axis (batch = 0)."""
    if cf and rank > 1:
        return 1 if axis == rank - 1 else axis + 2
    return axis + 1


@draws("ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU", "Activation",
       "Softmax", "Dropout")
def _activation(draw, rank, shape, cf):
    kind = draw(st.sampled_from(["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU",
                                 "Activation", "Softmax", "Dropout"]))
    if kind == "ReLU":
        args = {}
        if draw(st.booleans()):
            args["max_value"] = draw(st.sampled_from([6.0, 1.5]))
        if draw(st.booleans()):
            args["negative_slope"] = 0.1
        if draw(st.booleans()):
            args["threshold"] = 0.25
        return kind, args
    if kind == "LeakyReLU":
        return kind, {"negative_slope": draw(st.sampled_from([0.01, 0.3]))}
    if kind == "ELU":
        return kind, {"alpha": draw(st.sampled_from([1.0, 0.5]))}
    if kind == "GELU":
        return kind, {"approximate": draw(st.booleans())}
    if kind == "Activation":
        return kind, {"activation": draw(st.sampled_from(ACTIVATIONS[1:]))}
    if kind == "Softmax":
        return kind, {"axis": _spec_axis(draw(st.integers(0, len(shape) - 1)), len(shape), cf)}
    if kind == "Dropout":
        return kind, {"rate": draw(st.sampled_from([0.0, 0.25]))}
    return kind, {}


@draws("PReLU")
def _prelu(draw, rank, shape, cf):
    args = {}
    if draw(st.booleans()):
        args["alpha_initializer"] = draw(st.sampled_from(INITIALIZERS))
    shared = [axis for axis in range(1, rank + 2) if draw(st.booleans())]
    if shared:
        args["shared_axes"] = shared
    return "PReLU", args


@draws("Reshape")
def _reshape(draw, rank, shape, cf):
    size = product(shape)
    choices = [[-1]]
    for c in (1, 2, 3, 4):
        if size % c == 0 and size // c >= 1:
            choices.append([size // c, c] if not cf else [c, size // c])
            if size % (2 * c) == 0:
                choices.append([2, size // (2 * c), c] if not cf else [c, 2, size // (2 * c)])
    return "Reshape", {"target_shape": draw(st.sampled_from(choices))}


@draws("HardSigmoid", "HardSwish", "Rescaling", "Normalization", "LayerScale", "Permute",
       "StochasticDepth")
def _utility(draw, rank, shape, cf):
    kind = draw(st.sampled_from(["HardSigmoid", "HardSwish", "Rescaling", "Normalization",
                                 "LayerScale", "Permute", "StochasticDepth"]))
    if kind == "Rescaling":  # lists: one value per channel (the canonical last axis)
        scale = [draw(st.sampled_from([0.5, 2.0, -1.5])) for _ in range(shape[-1])] \
            if draw(st.booleans()) else draw(st.sampled_from([1 / 255, 2.0]))
        return kind, {"scale": scale, "offset": draw(st.sampled_from([0.0, 0.25, -1.0]))}
    if kind == "Normalization":
        axis = draw(st.integers(0, len(shape) - 1))
        args = {"axis": _spec_axis(axis, len(shape), cf)}
        if draw(st.booleans()):
            args["mean"] = [draw(st.sampled_from([-0.5, 0.0, 1.0])) for _ in range(shape[axis])]
            args["variance"] = [draw(st.sampled_from([0.25, 1.0, 4.0])) for _ in args["mean"]]
        else:
            args.update(mean=draw(st.sampled_from([0.0, 0.5])), variance=4.0)
        return kind, args
    if kind == "LayerScale":
        return kind, {"init_values": draw(st.sampled_from([1e-6, 0.5]))}
    if kind == "Permute":
        return kind, {"dims": list(draw(st.permutations(range(1, len(shape) + 1))))}
    if kind == "StochasticDepth":
        return kind, {"rate": draw(st.sampled_from([0.0, 0.25]))}
    return kind, {}


@draws("LayerNormalization")
def _layer_norm(draw, rank, shape, cf):
    args = {"epsilon": draw(st.sampled_from([1e-3, 1e-6])), "center": draw(st.booleans()),
            "scale": draw(st.booleans())}
    if draw(st.integers(0, 2)):  # mostly the channels, as transformers and ConvNeXt do
        axes = [len(shape) - 1]
    else:
        axes = sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1, max_size=2)))
    spec_axes = [_spec_axis(a, len(shape), cf) for a in axes]
    args["axis"] = spec_axes[0] if len(spec_axes) == 1 else spec_axes
    return "LayerNormalization", args


@draws("MultiHeadAttention", "ClassToken", "PositionEmbedding", "Take")
def _sequence(draw, rank, shape, cf):
    """On a sequence (length, features) any of them; on a map only Take."""
    kinds = ["MultiHeadAttention", "MultiHeadAttention", "ClassToken", "PositionEmbedding",
             "Take"] if len(shape) == 2 else ["Take"]
    kind = draw(st.sampled_from(kinds))
    if kind == "Take":
        axis = draw(st.integers(0, len(shape) - 1))
        return kind, {"index": draw(st.integers(-shape[axis], shape[axis] - 1)),
                      "axis": _spec_axis(axis, len(shape), cf)}
    if kind != "MultiHeadAttention":
        return kind, {"initializer": draw(st.sampled_from(INITIALIZERS))}
    heads = draw(st.integers(1, 3))
    args = {"num_heads": heads, "use_bias": draw(st.booleans())}
    if shape[-1] % heads == 0 and draw(st.booleans()):  # torch's own nn.MultiheadAttention
        args["key_dim"] = shape[-1] // heads
    else:
        args["key_dim"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            args["value_dim"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            args["output_shape"] = draw(st.integers(1, 6))
    if draw(st.integers(0, 3)) == 0:
        args["dropout"] = 0.25
    return kind, args


@draws("Embedding")
def _embedding(draw):
    """Only on the model's input, whose values the tests then draw as indices."""
    return "Embedding", {"input_dim": draw(st.integers(1, 12)),
                         "output_dim": draw(st.integers(1, 6)),
                         "embeddings_initializer": draw(st.sampled_from(
                             ["uniform", "glorot_uniform", "he_normal"]))}


SPATIAL = [_conv, _conv, _depthwise, _separable, _transpose, _pool, _pool, _global_pool,
           _zero_padding, _upsampling, _batch_norm, _activation, _reshape, _dense, _prelu,
           _utility, _layer_norm, _sequence, _sequence]
FLAT = [_dense, _dense, _batch_norm, _activation, _reshape, _prelu, _utility, _layer_norm]
FLATTEN = "Flatten"


def _try(type_name, args, inputs, cf):
    """The canonical output shape, or None if the shape rule (or validation) refuses, or the
    family has no layer of this rank (makers name ``DepthwiseConv{rank}D`` for any rank)."""
    if type_name not in layer_types():
        return None
    try:
        layer = layer_types()[type_name].model_validate(args)
        shape = layer.infer(inputs, cf).shape
    except (ShapeError, ValidationError, ValueError):
        return None
    return shape if 0 < product(shape) <= MAX_ELEMENTS else None


def _spec_shape(shape, cf):
    return list(shape) if not cf or len(shape) < 2 else [shape[-1]] + list(shape[:-1])


@st.composite
def specs(draw, max_layers: int = 9):
    """A spec document (a dict) and its expected live output shape (canonical)."""
    cf = draw(st.booleans())
    rank = draw(st.sampled_from([0, 1, 2, 2, 3]))
    spatial = tuple(draw(st.integers(3, 6 if rank == 3 else 10)) for _ in range(rank))
    shape = spatial + (draw(st.integers(1, 5)),)
    tensors = [("input", shape)]  # (name, canonical shape); names are referenceable
    layers, blocks, counter = [], {}, 0

    def add(type_name, args, inputs):
        nonlocal counter
        shapes = [dict(tensors)[i] for i in inputs]
        out = _try(type_name, args, shapes, cf)
        if out is None:
            return False
        counter += 1
        name = f"l{counter}"
        entry = dict(args, name=name)
        if inputs != [tensors[-1][0]]:
            entry["inputs"] = inputs
        layers.append({type_name: entry})
        tensors.append((name, out))
        return True

    if rank == 0 and draw(st.integers(0, 3)) == 0:
        add(*_embedding(draw), ["input"])  # the input then holds indices
    for _ in range(draw(st.integers(2, max_layers))):
        named = [t for t in tensors if not t[0].startswith("__")] or tensors[-1:]
        source = tensors[-1] if draw(st.integers(0, 3)) else draw(st.sampled_from(named))
        name, current = source
        move = draw(st.sampled_from(["layer", "layer", "layer", "merge", "block"]))
        if move == "merge" and name.startswith("__"):
            move = "layer"  # a block's output has no name to list in inputs
        spatial_rank = len(current) - 1
        if move == "merge":
            _merge(draw, add, tensors, source, cf)
            continue
        if move == "block" and spatial_rank and name == tensors[-1][0]:
            _block(draw, layers, blocks, tensors, spatial_rank, cf)
            continue
        if spatial_rank:
            maker = draw(st.sampled_from(SPATIAL + [FLATTEN]))
        else:
            maker = draw(st.sampled_from(FLAT))
        if maker == FLATTEN:
            add("Flatten", {}, [name])
            continue
        type_name, args = maker(draw, spatial_rank, current, cf)
        add(type_name, args, [name])
    input_spec = {"shape": _spec_shape(shape, cf)}
    if cf:
        input_spec["layout"] = "channels_first"
    doc = {"archspec": 1, "name": "random", "input": input_spec, "layers": layers or ["Flatten"]}
    if blocks:
        doc["blocks"] = blocks
    return doc


STRATEGIES["Flatten"] = specs  # drawn by the graph grower itself


@draws("Add", "Multiply", "Concatenate")
def _merge(draw, add, tensors, source, cf):
    """Join ``source`` with a partner of a compatible shape, making one with a 1x1 convolution
    (or a Dense) when no tensor fits."""
    name, shape = source
    kind = draw(st.sampled_from(["Add", "Multiply", "Concatenate"]))
    rank = len(shape) - 1
    if kind == "Concatenate":
        partners = [n for n, s in tensors if len(s) == len(shape) and s[:-1] == shape[:-1]
                    and n != name and not n.startswith("__")]
    elif rank and draw(st.integers(0, 3)) == 0:  # a gate of shape (1, 1, C): it broadcasts
        if not add(f"GlobalAveragePooling{rank}D", {"keepdims": True}, [name]):
            return
        gate = tensors[-1][0]
        inputs = [gate, name] if draw(st.booleans()) else [name, gate]
        add(kind, {}, inputs)
        return
    else:
        partners = [n for n, s in tensors if s == shape and n != name and not n.startswith("__")]
    if not partners:
        channels = draw(st.integers(1, 4)) if kind == "Concatenate" else shape[-1]
        made = (add(f"Conv{rank}D", {"filters": channels, "kernel_size": 1}, [name]) if rank
                else add("Dense", {"units": channels}, [name]))
        if not made:
            return
        partners = [tensors[-1][0]]
    inputs = [name, draw(st.sampled_from(partners))]
    args = {}
    if kind == "Concatenate":
        args["axis"] = _spec_axis(len(shape) - 1, len(shape), cf)
    add(kind, args, inputs)


def _block(draw, layers, blocks, tensors, rank, cf):
    """A call of a parameterised block (conv → BN → ReLU), sometimes repeated."""
    block = f"unit{rank}d"
    blocks[block] = {"params": ["width", "stride"], "layers": [
        {f"Conv{rank}D": {"filters": "${width}", "kernel_size": 3, "strides": "${stride}",
                          "padding": "same", "use_bias": False}},
        {"BatchNormalization": {"momentum": 0.9}},
        "ReLU"]}
    width, stride = draw(st.integers(1, 6)), draw(st.integers(1, 2))
    times = draw(st.integers(1, 2))
    shape = tensors[-1][1]
    for _ in range(times):
        shape = tuple(-(-n // stride) for n in shape[:-1]) + (width,)
    call = {block: {"width": width, "stride": stride}}
    layers.append({"repeat": {"times": times, "layers": [call]}} if times > 1 else call)
    # Block outputs are reached only by the next layer (their names carry prefixes).
    tensors.append((f"__block{len(layers)}", shape))
