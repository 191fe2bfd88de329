"""Property tests: the closed-form output sizes agree with counting windows one by one."""

from hypothesis import given
from hypothesis import strategies as st

from archspec import shapes

sizes = st.integers(1, 64)
kernels = st.integers(1, 7)
strides = st.integers(1, 4)
dilations = st.integers(1, 3)
pads = st.integers(0, 3)


def count_windows(length, extent, stride, before, after):
    """Windows whose every cell lies within the padded input (floor rounding)."""
    return sum(1 for start in range(-before, length + after) if start + extent <= length + after
               and (start + before) % stride == 0)


@given(sizes, kernels, strides, dilations, pads, pads)
def test_conv_output_matches_window_count(length, k, s, d, before, after):
    extent = shapes.effective_kernel(k, d)
    if extent > length + before + after:
        return
    assert shapes.conv_output_length(length, k, s, (before, after), d) == \
        count_windows(length, extent, s, before, after)


@given(sizes, kernels, strides, dilations)
def test_same_padding_gives_ceil(length, k, s, d):
    before, after = shapes.same_padding(length, k, s, d)
    assert after - before in (0, 1)  # the odd pixel goes after, as in Keras
    assert shapes.conv_output_length(length, k, s, (before, after), d) == -(-length // s)


@given(sizes, kernels, strides, pads)
def test_ceil_pooling_keeps_windows_starting_inside(length, k, s, pad):
    # PyTorch's domain for ceil_mode: symmetric padding of at most half the window.
    before = after = min(pad, k // 2)
    if k > length + before + after:
        return
    out = shapes.pool_output_length(length, k, s, (before, after), ceil_mode=True)
    floor = shapes.pool_output_length(length, k, s, (before, after), ceil_mode=False)
    assert floor <= out <= floor + 1
    # PyTorch's rule: every window starts inside the input or the left padding.
    assert (out - 1) * s < length + before
    trailing = shapes.pool_trailing_pad(length, k, s, (before, after), out)
    assert (out - 1) * s + k <= length + before + trailing


@given(sizes, kernels, strides)
def test_transposed_same_inverts_strided_same_conv(length, k, s):
    out = shapes.transposed_output_length(length, k, s, "same")
    assert out == length * s
    assert shapes.conv_output_length(out, k, s, shapes.same_padding(out, k, s)) == length


@given(sizes, kernels, strides, st.sampled_from(["valid", "same"]))
def test_transposed_crop_is_consistent(length, k, s, padding):
    out = shapes.transposed_output_length(length, k, s, padding)
    before, after = shapes.transposed_crop(length, k, s, padding, out)
    assert before >= 0
    assert (length - 1) * s + k - before - after == out
