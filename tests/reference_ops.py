"""Reference implementations of the spec's meaning, written out loop by loop, for checking
both backends' numbers on small inputs."""

import numpy as np


def pool_reference(x, pool, strides, pads, out, kind, include_pad):
    """Spec meaning, written out: windows over the padded input; -inf/0 in the padding;
    a cell counts in the mean if it is input (or padding, with count_include_pad)."""
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = pads
    result = np.zeros((n, c) + tuple(out))
    for i in range(out[0]):
        for j in range(out[1]):
            r0, c0 = i * strides[0] - pt, j * strides[1] - pl
            rows = [r for r in range(r0, r0 + pool[0]) if -pt <= r < h + pb]
            cols = [q for q in range(c0, c0 + pool[1]) if -pl <= q < w + pr]
            inside = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
            values = np.stack([x[:, :, r, q] for r, q in inside], -1) if inside else None
            if kind == "max":
                result[:, :, i, j] = values.max(-1) if inside else -np.inf
            else:
                count = len(rows) * len(cols) if include_pad else len(inside)
                result[:, :, i, j] = (values.sum(-1) if inside else 0) / count
    return result


# Pooling cases where torch's and Keras' own layers mean something else than the spec.
POOLS = [
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [8, 7, 2]),
    ("MaxPooling2D", {"pool_size": 2, "strides": 2, "padding": [[0, 1], [1, 0]]}, [7, 7, 1]),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "rounding": "ceil"}, [8, 8, 1]),
    ("MaxPooling2D", {"pool_size": 3, "padding": 2}, [5, 5, 1]),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [8, 7, 2]),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": 1,
                          "count_include_pad": True}, [5, 5, 1]),
    ("AveragePooling2D", {"pool_size": 2, "strides": 2, "padding": [[1, 0], [0, 1]],
                          "count_include_pad": True}, [5, 6, 1]),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": 1, "rounding": "ceil"},
     [8, 8, 1]),
    ("AveragePooling2D", {"pool_size": 3, "strides": 3, "padding": [[0, 2], [2, 0]],
                          "rounding": "ceil"}, [7, 7, 1]),
]
