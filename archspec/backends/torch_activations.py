"""PyTorch emitters for the activation and merge families (the convolution, pooling and core
ones are in torch_codegen, whose registry these join when the backends package loads).

Nothing here imports a framework.
"""

from __future__ import annotations

from ..ops.base import product
from .common import call, literal
from .torch_codegen import _ACTIVATION_MODULES, Context, Emitted, emits, torch_dim, torch_shape


# --- activations -------------------------------------------------------------------------------

def _inplace(ctx: Context) -> bool:
    return ctx.layer.runs_in_place and ctx.may_overwrite_input()


@emits("ReLU")
def _relu(ctx: Context) -> Emitted:
    layer = ctx.layer
    inplace = {"inplace": True} if _inplace(ctx) else {}
    if layer.threshold == 0 and layer.negative_slope == 0:
        if layer.max_value is None:
            return Emitted(call("nn.ReLU", **inplace))
        if layer.max_value == 6:
            return Emitted(call("nn.ReLU6", **inplace))
        return Emitted(call("nn.Hardtanh", 0.0, literal(float(layer.max_value)), **inplace))
    if layer.threshold == 0 and layer.max_value is None:
        return Emitted(call("nn.LeakyReLU", literal(layer.negative_slope), **inplace))
    return Emitted(call("KerasReLU", max_value=literal(layer.max_value),
                        negative_slope=literal(layer.negative_slope),
                        threshold=literal(layer.threshold)), helpers=("KerasReLU",))


@emits("LeakyReLU")
def _leaky_relu(ctx: Context) -> Emitted:
    inplace = {"inplace": True} if _inplace(ctx) else {}
    return Emitted(call("nn.LeakyReLU", literal(ctx.layer.negative_slope), **inplace))


@emits("ELU")
def _elu(ctx: Context) -> Emitted:
    alpha = ctx.layer.alpha
    return Emitted("nn.ELU()" if alpha == 1.0 else call("nn.ELU", literal(alpha)))


@emits("Sigmoid", "Tanh", "SiLU")
def _simple(ctx: Context) -> Emitted:
    return Emitted(f"nn.{ctx.node.type}()")


@emits("HardSigmoid", "HardSwish")
def _hard(ctx: Context) -> Emitted:
    return Emitted({"HardSigmoid": "nn.Hardsigmoid()", "HardSwish": "nn.Hardswish()"}[
        ctx.node.type])


@emits("GELU")
def _gelu(ctx: Context) -> Emitted:
    return Emitted("nn.GELU(approximate='tanh')" if ctx.layer.approximate else "nn.GELU()")


@emits("Activation")
def _activation(ctx: Context) -> Emitted:
    return Emitted(_ACTIVATION_MODULES[ctx.layer.activation])


@emits("Softmax")
def _softmax(ctx: Context) -> Emitted:
    return Emitted(call("nn.Softmax", dim=torch_dim(ctx.resolved["axis"], len(ctx.in_shape))))


@emits("PReLU")
def _prelu(ctx: Context) -> Emitted:
    """torch's own PReLU where the slope is shared over every spatial axis (one per channel,
    or one in all); otherwise the KerasPReLU helper, with a slope per position."""
    alpha = ctx.resolved["alpha_shape"]
    if all(n == 1 for n in alpha[:-1]):
        out = Emitted("nn.PReLU()" if alpha[-1] == 1 else call("nn.PReLU", alpha[-1]))
    else:
        out = Emitted(call("KerasPReLU", shape=literal(torch_shape(alpha))), helpers=("KerasPReLU",))
    out.weights.append(("weight", ctx.layer.alpha_initializer, *_keras_fans(alpha)))
    return out


def _keras_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras' fans of a weight of this (Keras) shape, for a weight that is not a kernel."""
    if len(shape) < 3:
        return (shape[0], shape[-1]) if shape else (1, 1)
    field = product(shape[:-2])
    return shape[-2] * field, shape[-1] * field


# --- merges ------------------------------------------------------------------------------------

@emits("Add")
def _add(ctx: Context) -> Emitted:
    count = len(ctx.node.inputs)
    # Only an operand of the result's shape can hold the sum (the others broadcast).
    shapes = ctx.node.meta["input_shapes"]
    writable = [i for i in range(count)
                if ctx.may_overwrite_input(i) and shapes[i] == ctx.out_shape]
    if not writable or (writable[0] and count > 2):
        return Emitted("Add()", helpers=("Add",))
    # Sum into a tensor nobody else reads; two-operand addition is commutative, bit for bit.
    # Of two such, the last: the main branch of a residual block, whether or not its
    # shortcut is projected (so both kinds of block share one forward, as torchvision's do).
    target = writable[-1] if count == 2 else 0
    order = (target,) + tuple(i for i in range(count) if i != target)
    return Emitted("Add(inplace=True)", helpers=("Add",),
                   input_order=order if order[0] else None)


@emits("Multiply")
def _multiply(ctx: Context) -> Emitted:
    return Emitted("Multiply()", helpers=("Multiply",))


@emits("Concatenate")
def _concatenate(ctx: Context) -> Emitted:
    dim = torch_dim(ctx.resolved["axis"], len(ctx.in_shape))
    return Emitted(call("Concatenate", dim=dim), helpers=("Concatenate",))
