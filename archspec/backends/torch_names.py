"""Names in generated PyTorch code: what a submodule or variable must not be called, the
attribute each spec layer gets, and where a canonical axis lands in torch's layout.

Nothing here imports a framework.
"""

from __future__ import annotations

from keyword import iskeyword, issoftkeyword

from ..ops.plugins import attach_names
from .common import identifier

# Names a submodule or local variable must not take: nn.Module's public attributes (as of torch
# 2.13; tests/test_hostile_specs.py fails when a newer torch adds one), the generated class'
# methods, and the names the generated file imports, defines or calls. Every name starting with
# "_" is avoided too, which covers nn.Module's private state (_modules, _parameters, ...).
MODULE_ATTRIBUTES = frozenset("""
T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule
half ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters
parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict
to to_empty train training type xpu zero_grad
input_shape reset_parameters regularization_loss apply_constraints
x inputs self torch nn F math super float
""".split())
# A set, not a frozenset: the installed plugins' helper names join it (ops/plugins.py).
HELPERS = set("""keras_init_ init_like_keras_ max_norm_ trim_end ConvTranspose1dTrimmed ConvTranspose2dTrimmed
SeparableConv PaddedPool PositionwiseLinear SpecFlatten Reshape KerasReLU
PartialAffineBatchNorm Add Multiply Concatenate KerasPReLU Rescaling per_channel Normalization
Permute StochasticDepth AxisLayerNorm PackedAttention KerasAttention IndexEmbedding
Take""".split())
attach_names("torch", HELPERS, MODULE_ATTRIBUTES)

def torch_dim(canonical_axis: int, rank: int) -> int:
    """Index into a canonical (channels-last, no batch) shape → torch dim (batch first,
    channels at 1)."""
    return 1 if canonical_axis == rank - 1 else canonical_axis + 2


def torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Canonical (spatial..., C) → torch's (C, spatial...)."""
    return tuple(shape) if len(shape) < 2 else (shape[-1],) + tuple(shape[:-1])


def _safe_attribute(name: str) -> bool:
    return (name.isidentifier() and not name.startswith("_") and not iskeyword(name)
            and not issoftkeyword(name) and name not in MODULE_ATTRIBUTES
            and name not in HELPERS)


def safe_attributes(raw: list[str]) -> dict[str, str]:
    """A container's member names → attribute names: the name itself when safe. An unsafe
    one gets ``_`` appended (``eval_``, ``x_``; one starting with ``_`` is prefixed with ``m``
    first: ``m_modules``) until it is taken by nothing: not by a safe name (which all keep
    theirs, whatever their order), a reserved name, or an earlier renamed one. So the rule is
    collision-free and depends only on the spec. Numbers stay: they index an nn.Sequential."""
    taken = set(MODULE_ATTRIBUTES | HELPERS) | {n for n in raw if _safe_attribute(n)}
    names = {}
    for name in raw:
        if _safe_attribute(name) or name.isdigit():
            names[name] = name
            continue
        renamed = identifier("m" + name if name.startswith("_") else name + "_", taken)
        taken.add(renamed)
        names[name] = renamed
    return names
