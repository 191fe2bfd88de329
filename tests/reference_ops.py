"""Reference implementations of the spec's meaning, written out loop by loop, for checking
both backends' numbers on small inputs."""

import itertools

import numpy as np


def pool_reference(x, pool, strides, pads, out, kind, include_pad):
    """Spec meaning, written out: windows over the padded input; -inf/0 in the padding;
    a cell counts in the mean if it is input (or padding, with count_include_pad).
    ``x`` is (N, C, *spatial), any number of spatial dims."""
    spatial = x.shape[2:]
    result = np.zeros(x.shape[:2] + tuple(out))
    for index in itertools.product(*(range(o) for o in out)):
        # Per dim, the window's cells that lie in the padded input, and those in the input.
        reach = [[p for p in range(i * s - before, i * s - before + k) if -before <= p < n + after]
                 for i, s, k, (before, after), n in zip(index, strides, pool, pads, spatial)]
        inside = list(itertools.product(*([p for p in r if 0 <= p < n]
                                          for r, n in zip(reach, spatial))))
        values = np.stack([x[(slice(None), slice(None)) + cell] for cell in inside], -1) \
            if inside else None
        at = (slice(None), slice(None)) + index
        if kind == "max":
            result[at] = values.max(-1) if inside else -np.inf
        else:
            count = int(np.prod([len(r) for r in reach])) if include_pad else len(inside)
            result[at] = (values.sum(-1) if inside else 0) / count
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
    ("MaxPooling3D", {"pool_size": 3, "strides": 2, "padding": "same"}, [5, 8, 7, 2]),
    ("MaxPooling3D", {"pool_size": [1, 3, 2], "strides": 2, "rounding": "ceil",
                      "padding": [[0, 0], [1, 1], [1, 0]]}, [4, 7, 6, 1]),
    ("AveragePooling3D", {"pool_size": 3, "strides": 2, "padding": "same"}, [6, 5, 8, 2]),
    ("AveragePooling3D", {"pool_size": 3, "strides": 1, "padding": 1,
                          "count_include_pad": True}, [3, 4, 5, 1]),
    ("AveragePooling3D", {"pool_size": 2, "strides": 2, "padding": [[1, 0], [0, 1], [0, 0]],
                          "rounding": "ceil"}, [4, 5, 5, 1]),
]
