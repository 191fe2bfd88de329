"""What every layer type shares: the pydantic base class, the registry, the result of a shape
rule, and the argument types used by several families (tuples, padding, initializers...).

Shapes here never include the batch dimension and are always channels-last ("canonical"):
(H, W, C) for 2-D layers, (L, C) for 1-D, (features,) after Flatten. The spec's own layout is
converted at the edges (loading the input shape, reporting shapes, axis arguments).

Each layer class also declares what the consumers outside ``ops`` need to know about it, so a
layer type lives in one place (weight exchange, ``verify``, reference loading and the torch
backend read these instead of lists of type names):

- ``kind``: one of ``KINDS`` — "conv", "dense", "norm", "pool" (windowed and global pooling),
  "merge" (several inputs, one output), "activation" (element-wise or softmax), "reshape"
  (Flatten, Reshape), "regularization" (Dropout), "padding" (ZeroPadding), "resample"
  (UpSampling), "attention" (MultiHeadAttention), "embedding" (learned tables: Embedding,
  ClassToken, PositionEmbedding). Reference loading pairs layers only of one kind.
- ``overwritable_output``: an in-place op that reads this layer's output alone may overwrite
  it — true where the layer's backward pass does not need its own output (convolutions, Dense,
  BatchNorm, Add: the facts torchvision's ResNet relies on). ``runs_in_place``: the layer
  itself may be computed in place on its input (ReLU, LeakyReLU, Add).
- ``slots``: its weights (``WeightSlot``), with their Keras name, the torch attribute holding
  them and the layout conversion between the two; ``weight_slots()`` keeps those this instance
  has (``when`` names the boolean argument a slot depends on), ``weight_shapes()`` gives their
  Keras shapes. A type with parameters must declare them: weight exchange refuses a layer with
  parameters and no slots, and tests/test_completeness.py checks the sizes add up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ArgumentError, Diagnostic, ShapeError, caller_location
from ..limits import MAX_DIM
from .docs import Documented, examples, layer_doc, summary_of

Shape = tuple[int, ...]

REGISTRY: dict[str, type["Layer"]] = {}
_DOCS: dict[type, str] = {}

ActivationName = Literal[
    "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "gelu", "silu", "swish",
    "softplus"]
InitializerName = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "zeros", "ones"]


class Regularizer(BaseModel):
    """Adds ``l1 * sum(|w|) + l2 * sum(w**2)`` to the training loss (Keras' meaning)."""
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,
                              allow_inf_nan=False)
    l1: float = Field(0.0, ge=0)
    l2: float = Field(0.0, ge=0)


class MaxNorm(BaseModel):
    """After each update, rescale weights whose norm along ``axis`` (in Keras' kernel layout,
    e.g. (kh, kw, in, out) for Conv2D) exceeds ``max_norm``."""
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,
                              allow_inf_nan=False)
    max_norm: float = Field(gt=0)
    axis: Union[int, tuple[int, ...]] = 0


@dataclass
class Window:
    """How a layer moves over space, for receptive-field arithmetic: an (effective) kernel
    extent and stride per spatial dim; ``upsample`` divides the stride instead; ``order``
    (Permute) moves the spatial dims: output dim i is input dim ``order[i]``."""
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    upsample: bool = False
    order: Optional[tuple[int, ...]] = None


KINDS = frozenset({"conv", "dense", "norm", "pool", "merge", "activation", "reshape",
                   "regularization", "padding", "resample", "attention", "embedding"})


@dataclass(frozen=True)
class WeightSlot:
    """One weight of a layer. ``keras``: its Keras name (the exchange dict's key); ``torch``:
    the attribute path of the tensor in the layer's torch module; ``layout``: the conversion
    between them, one of ``weights.LAYOUTS`` (conv, depthwise, dense, vector, per_position,
    per_channel, heads_in/heads_bias/heads_out for attention's per-head weights, batched for a
    torch parameter with a leading 1);
    ``trainable``: false for statistics
    (BatchNorm's moving mean and variance); ``when``: the boolean argument that must be true
    for the layer to have it (use_bias, center, scale); ``verify_range``: where ``verify`` draws
    the slot's values, for a weight whose initial value would hide a mix-up (BatchNorm's mean
    0 and variance 1, PReLU's zero slope). ``torch`` may be "": the layer's torch attribute is
    the weight itself (a bare nn.Parameter, as ViT's ``class_token``). ``part``: (i, n) where
    the torch tensor packs n weights of equal size along its first dim and this is the i-th
    (nn.MultiheadAttention's ``in_proj_weight`` holds query, key and value)."""
    keras: str
    torch: str
    layout: str
    trainable: bool = True
    when: Optional[str] = None
    verify_range: Optional[tuple[float, float]] = None
    part: Optional[tuple[int, int]] = None


def bias_slot(torch: str = "bias") -> WeightSlot:
    return WeightSlot("bias", torch, "vector", when="use_bias")


GLOBAL = "global"  # the layer sees its whole input (Flatten, global pooling, Dense on vectors)


@dataclass
class Inferred:
    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    window: Window | str | None = None  # None: element-wise, receptive field unchanged
    resolved: dict[str, Any] = field(default_factory=dict)  # backend-facing resolved args
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (message, hint)


class Layer(BaseModel, metaclass=Documented):
    """Base of every layer type. Subclasses declare ``type`` as a Literal tag, their fields
    with Keras' names and defaults, ``positional`` — Keras' leading positional arguments, up to
    the first one archspec does not take (``Conv2D(32, 3, 2, "same")``) — and ``infer``, the
    shape rule and costs. Their docstring is the summary ``help()`` shows above the generated
    list of arguments."""

    # Floats must be finite unless a field says otherwise: an infinite epsilon or a NaN
    # threshold has no meaning, and would reach generated code as the bare name `inf`.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,
                              validate_default=True, allow_inf_nan=False)
    positional: ClassVar[tuple[str, ...]] = ()
    field_examples: ClassVar[dict[str, str]] = examples()  # shown when a value's type is wrong
    why_required: ClassVar[dict[str, str]] = {}  # hints for arguments Keras would default
    argument_docs: ClassVar[dict[str, str]] = {}  # meanings that differ from ops.docs'
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[Optional[int]] = 1
    structural: ClassVar[frozenset[str]] = frozenset({"name", "inputs", "when"})
    # What other modules need to know about the type (see the module docstring).
    kind: ClassVar[str] = ""
    overwritable_output: ClassVar[bool] = False
    runs_in_place: ClassVar[bool] = False
    slots: ClassVar[tuple[WeightSlot, ...]] = ()

    name: Optional[str] = None
    inputs: Optional[list[str]] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        tag = cls.model_fields.get("type")
        if tag is None:
            return  # an abstract family base
        (type_name,) = tag.annotation.__args__
        if _staging is not None:
            _staging.append(cls)  # a plugin's: its loader decides whether it gets the name
            return
        if type_name in REGISTRY:
            held = REGISTRY[type_name]
            raise TypeError(f"layer type {type_name!r} registered twice ({held.__module__}."
                            f"{held.__qualname__} and {cls.__module__}.{cls.__qualname__})")
        REGISTRY[type_name] = cls

    @classmethod
    def _compose_doc(cls) -> str | None:
        """What ``cls.__doc__`` returns (composed on first use: ``check`` never needs it)."""
        if "type" not in cls.model_fields:
            return vars(cls).get("__doc__")  # a family base: its own docstring
        doc = _DOCS.get(cls)
        if doc is None:
            doc = _DOCS[cls] = layer_doc(cls, summary_of(cls))
        return doc

    def __init__(self, /, *args: Any, **kwargs: Any) -> None:
        """Python's way to write a layer item; mistakes raise ``ArgumentError``, with the
        message the same mistake gets in a spec file."""
        name = type(self).__name__
        if len(args) > len(self.positional):
            listed = ", ".join(self.positional) or "none"
            raise _argument_error(f"{name} takes at most {len(self.positional)} positional "
                                  f"arguments ({listed}), got {len(args)}",
                                  "pass the others by name, e.g. activation='relu'")
        for key, value in zip(self.positional, args):
            if key in kwargs:
                raise _argument_error(f"{name} got '{key}' twice (positionally and by name)")
            kwargs[key] = value
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:
            from .explain import arguments_error
            raise arguments_error(exc, type(self)) from None

    # Only Python calls come through here: pydantic's own validation (model_validate, what the
    # spec loader uses) keeps its ValidationError, which the loader locates in the file.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @property
    def type_name(self) -> str:
        return self.type  # type: ignore[attr-defined]

    def args(self) -> dict[str, Any]:
        """The arguments the spec wrote, without structural keys."""
        return self.model_dump(exclude_unset=True, exclude={"type", "name", "inputs"},
                               mode="json")

    def infer(self, inputs: list[Shape], channels_first: bool = False) -> Inferred:
        """The shape rule: canonical input shapes → output shape and costs. ``channels_first``
        tells layers whose arguments name axes how the spec counts them."""
        raise NotImplementedError

    def weight_slots(self, inputs: Optional[list[Shape]] = None) -> tuple[WeightSlot, ...]:
        """The declared slots this layer has, given its arguments (and, where the torch form
        depends on them, its input shapes: MultiHeadAttention's packed or separate weights)."""
        return tuple(s for s in self.slots if s.when is None or getattr(self, s.when))

    def weight_shapes(self, inputs: list[Shape], channels_first: bool = False
                      ) -> dict[str, Shape]:
        """Keras name → Keras shape of each of ``weight_slots()``, for these input shapes."""
        return {}

    def initial_weights(self) -> dict[str, Any]:
        """Weights whose start the spec gives (Normalization's mean): name → value."""
        return {}

    def index_bound(self) -> Optional[int]:
        """For a layer whose input holds integer indices (Embedding), how many there are:
        ``verify`` then draws the model's input from range(bound) instead of floats."""
        return None

    def fused_activation(self) -> Optional[str]:
        """The ``activation:`` argument applied after the layer's own computation (Conv,
        Dense), which torch applies in ``forward`` outside the layer's module; None if the
        type has none."""
        return None


def _argument_error(message: str, hint: str | None = None) -> ArgumentError:
    return ArgumentError([Diagnostic(message, location=caller_location(), hint=hint)])


# Set by ops.plugins while a plugin's entry point loads: the classes defined meanwhile.
_staging: Optional[list[type[Layer]]] = None
# Run once, before the vocabulary is first read (ops.plugins' loader: the installed plugins).
_first_use: list[Callable[[], None]] = []
_first_use_lock = threading.RLock()


def layer_types() -> dict[str, type[Layer]]:
    """Every registered type by name: the built-in ones (``ops/__init__`` imports the
    families, and Python runs a package before any of its modules) and, from the first call
    on, those of the installed plugins (ops/plugins.py)."""
    if _first_use:
        with _first_use_lock:
            while _first_use:
                _first_use.pop(0)()  # popped first: a plugin that asks meanwhile gets no loop
    return REGISTRY


# --- argument helpers shared by the families -------------------------------------------------

def as_tuple(value: Any, rank: int, what: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank:
        return tuple(value)
    raise ValueError(f"{what} must be an integer or a list of {rank} integers")


def tuple_validator(*names: str):
    """A field validator that turns ``3`` into ``(3, 3)`` for the family's rank and checks
    every entry is a positive integer."""

    @field_validator(*names, mode="before")
    @classmethod
    def _check(cls, value: Any, info) -> Any:
        if value is None:
            return value
        result = as_tuple(value, cls.rank, info.field_name)
        if any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_DIM
               for v in result):
            raise ValueError(f"{info.field_name} entries must be integers from 1 to "
                             f"{MAX_DIM:,}")
        return result

    return _check


PaddingArg = Union[Literal["valid", "same"], int, tuple[int, ...], tuple[tuple[int, int], ...]]


def normalize_padding(value: Any, rank: int) -> Union[str, tuple[tuple[int, int], ...]]:
    """'valid' | 'same' | p | [p_h, p_w] | [[top, bottom], [left, right]] →
    'same' or ((before, after), ...) per spatial dim."""
    if value == "same":
        return "same"
    if value == "valid":
        return ((0, 0),) * rank
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = ((value, value),) * rank
    elif isinstance(value, (list, tuple)) and len(value) == rank:
        pairs = tuple((v, v) if isinstance(v, int) else v for v in value)
    else:
        raise ValueError(f"padding must be 'valid', 'same', an integer, a list of {rank} "
                         f"integers, or a list of {rank} [before, after] pairs")
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"each padding entry must be an integer or a [before, after] "
                             f"pair, got {pair!r}")
        if any(not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= MAX_DIM
               for p in pair):
            raise ValueError(f"padding amounts must be integers from 0 to {MAX_DIM:,}")
    return tuple(tuple(pair) for pair in pairs)


def require_rank(shape: Shape, rank: int, layer: str) -> None:
    if len(shape) != rank + 1:
        want = {1: "(length, channels)", 2: "(height, width, channels)",
                3: "(depth, height, width, channels)"}[rank]
        hint = None
        if len(shape) == 1:
            hint = f"{layer} needs a feature map; a Flatten or Dense before it removed the " \
                   f"spatial dimensions (add a Reshape, or move this layer earlier)"
        raise ShapeError(f"{layer} expects a {rank + 1}-D input {want}, got shape "
                         f"{list(shape)}", hint=hint)


def product(values) -> int:
    result = 1
    for v in values:
        result *= v
    return result
