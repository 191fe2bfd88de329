"""Two kinds of container that differ only by layers a block can leave out with ``when``:
ResNet's first block of a stage has a projection shortcut the others lack. One block with a
flag reads better than two near copies, and ``when`` means exactly this: a left-out layer
stands for its input, so the layers after it read what it read."""

from __future__ import annotations

from typing import Optional

Family = tuple[tuple, frozenset]  # the signature it is an instance of, the layers it lacks


def families(signatures) -> dict[tuple, Family]:
    """For every signature, the block it calls: its own, or a larger one's that it is, less
    some layers ``when`` can leave out. A block takes at most one such smaller signature (one
    flag); larger bodies choose first."""
    order = sorted(set(signatures), key=lambda s: -len(s[1]))
    # Only signatures of one module class that begin or end with the same layer are compared
    # (a block does not lose both ends): that keeps this near linear in practice.
    buckets: dict[tuple, list[tuple]] = {}
    for signature in order:
        for end in _ends(signature):
            buckets.setdefault(end, []).append(signature)
    out: dict[tuple, Family] = {}
    for big in order:
        if big in out:
            continue
        out[big] = (big, frozenset())
        for small in sorted({s for end in _ends(big) for s in buckets[end]}, key=order.index):
            if small in out:
                continue
            left_out = optional_layers(big[1], small[1])
            if left_out:
                out[small] = (big, left_out)
                break
    return out


def _ends(signature: tuple) -> list[tuple]:
    return [(signature[0], "first", signature[1][0][:2]),
            (signature[0], "last", signature[1][-1][:2])]


def optional_layers(full: tuple, part: tuple) -> Optional[frozenset[str]]:
    """The layers ``full`` has and ``part`` lacks, if leaving them out of ``full`` with
    ``when`` gives ``part`` exactly: the same layers in the same order, each reading what it
    reads in ``part``. A left-out layer stands for its one input; a left-out merge (several
    inputs, MobileNetV2's residual Add) for the layer before it, and only the layer right after
    it may read it, as its one input, without naming it."""
    if len(part) >= len(full):
        return None
    kept = {local for local, _, _ in part}
    if [(n, t) for n, t, _ in full if n in kept] != [(n, t) for n, t, _ in part]:
        return None
    stands_for: dict[str, str] = {}
    for j, (local, _, inputs) in enumerate(full):
        if local in kept:
            continue
        if len(inputs) == 1:
            stands_for[local] = inputs[0]
            continue
        readers = [k for k, (_, _, ins) in enumerate(full) if local in ins]
        if any(k != j + 1 or full[k][2] != (local,) for k in readers):
            return None
        stands_for[local] = full[j - 1][0] if j else "input"

    def resolve(name: str) -> str:
        seen = 0
        while name in stands_for and seen <= len(stands_for):
            name, seen = stands_for[name], seen + 1
        return name
    reads = {local: inputs for local, _, inputs in part}
    for local, _, inputs in full:
        if local in kept and tuple(resolve(n) for n in inputs) != tuple(reads[local]):
            return None
    return frozenset(stands_for)
