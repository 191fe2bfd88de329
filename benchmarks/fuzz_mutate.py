"""Mutations of parsed spec trees (the zoo's YAML as plain dicts and lists).

Each mutation takes (tree, rng) and changes the tree in place; the names say what a spec
author, or an attacker, could write. Nothing here imports archspec: the fuzzer's idea of the
language comes from docs/spec-language.md, so it is not blind where archspec is.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Callable

from fuzz_values import (ARGUMENTS, LAYER_TYPES, SPECIAL_NAMES, RawToken, hostile_expression,
                         hostile_int, hostile_scalar, hostile_string, typo)

Tree = Any


def walk(tree: Tree, path: tuple = ()):
    """Every (parent, key, value) below the root, parents before children."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) \
        if isinstance(tree, list) else ()
    for key, value in list(items):
        yield tree, key, value
        yield from walk(value, path + (key,))


def layer_lists(tree: Tree) -> list[list]:
    found = [v for p, k, v in walk(tree) if k == "layers" and isinstance(v, list)]
    if not found and isinstance(tree, dict) and not isinstance(tree.get("layers"), list):
        tree["layers"] = found = []
        return [found]
    return found


def layer_bodies(tree: Tree) -> list[dict]:
    """Argument mappings of single-type items: the body of ``- Conv2D: {...}``."""
    bodies = []
    for items in layer_lists(tree):
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                body = next(iter(item.values()))
                if isinstance(body, dict):
                    bodies.append(body)
    return bodies


def _pick(rng: random.Random, options: list):
    return rng.choice(options) if options else None


def replace_leaf(tree, rng):
    leaves = [(p, k) for p, k, v in walk(tree) if not isinstance(v, (dict, list))]
    where = _pick(rng, leaves)
    if where:
        where[0][where[1]] = hostile_scalar(rng)


def replace_node(tree, rng):
    where = _pick(rng, [(p, k) for p, k, _ in walk(tree)])
    if where:
        where[0][where[1]] = hostile_scalar(rng)


def delete_node(tree, rng):
    where = _pick(rng, [(p, k) for p, k, _ in walk(tree)])
    if where:
        del where[0][where[1]]


def rename_key(tree, rng):
    where = _pick(rng, [(p, k) for p, k, _ in walk(tree) if isinstance(p, dict)])
    if where:
        parent, key = where
        parent[typo(rng, str(key))] = parent.pop(key)


def copy_key(tree, rng):
    """The same value under a second, near-identical key (``filters`` and ``Filters``)."""
    where = _pick(rng, [(p, k) for p, k, _ in walk(tree) if isinstance(p, dict)])
    if where:
        parent, key = where
        parent[typo(rng, str(key))] = copy.deepcopy(parent[key])


def shuffle_layers(tree, rng):
    rng.shuffle(_pick(rng, layer_lists(tree)) or [])


def duplicate_layers(tree, rng):
    items = _pick(rng, layer_lists(tree))
    if items:
        for _ in range(rng.randint(1, 3)):
            items.insert(rng.randrange(len(items) + 1), copy.deepcopy(rng.choice(items)))


def grow_layers(tree, rng):
    """Hundreds to thousands of layers: legal, and must stay fast."""
    items = _pick(rng, layer_lists(tree))
    if items:
        items.extend(copy.deepcopy(items) * rng.choice([10, 50, 200]))
        del items[1000:]


def random_layer(rng) -> Any:
    kind = rng.choice(LAYER_TYPES + [typo(rng, rng.choice(LAYER_TYPES)), "repeat", "group",
                                     rng.choice(SPECIAL_NAMES)])
    form = rng.randrange(5)
    if form == 0:
        return kind
    if form == 1:
        return {kind: [hostile_int(rng) for _ in range(rng.randint(0, 4))]}
    if form == 2:
        return {kind: hostile_scalar(rng)}
    args = {rng.choice(ARGUMENTS): rng.choice([hostile_scalar(rng), rng.randint(1, 8), "same"])
            for _ in range(rng.randint(1, 4))}
    return {kind: args}


def insert_layer(tree, rng):
    items = _pick(rng, layer_lists(tree))
    if items is not None:
        items.insert(rng.randrange(len(items) + 1), random_layer(rng))


def swap_type(tree, rng):
    items = _pick(rng, layer_lists(tree))
    indices = [i for i, item in enumerate(items or []) if isinstance(item, dict) and len(item) == 1]
    if indices:
        i = rng.choice(indices)
        (old, body), = items[i].items()
        blocks = tree.get("blocks") if isinstance(tree, dict) else None
        new = rng.choice(LAYER_TYPES + [typo(rng, str(old)), "repeat", "group", str(old).lower(),
                                        rng.choice(SPECIAL_NAMES)]
                         + list(blocks if isinstance(blocks, dict) else []))
        items[i] = {new: body}


def bogus_inputs(tree, rng):
    body = _pick(rng, layer_bodies(tree))
    if body is not None:
        names = [str(b.get("name")) for b in layer_bodies(tree) if "name" in b] or ["x"]
        body["inputs"] = rng.choice([
            "missing", [], [[]], ["input", "input"], rng.choice(names), [rng.choice(names)] * 3,
            body.get("name", "self_ref"), 5, None, {"a": 1}, ["input"] * 1000,
            [rng.choice(SPECIAL_NAMES)], "input", hostile_expression(rng), [None],
            ["input", rng.choice(names)]])


def set_when(tree, rng):
    body = _pick(rng, layer_bodies(tree))
    if body is not None:
        body["when"] = rng.choice([True, False, 0, 1, None, "yes", "false", [], {},
                                   "${depth}", "${undefined}", "${1/0}", "${[]}",
                                   hostile_expression(rng), hostile_scalar(rng)])


def nested_repeat(tree, rng):
    """Repeats inside repeats: the product of the counts is the number of layers."""
    items = _pick(rng, layer_lists(tree))
    if items is None:
        return
    inner = copy.deepcopy(items[-3:]) or ["Flatten"]
    for level in range(rng.randint(1, 8)):
        body = {"times": rng.choice([0, 1, 2, 3, 10, 100, 1000, 10**6, 10**18, -1, 2.5, "3",
                                     "${10 ** 6}", "${depth}", None, [], hostile_scalar(rng)]),
                "layers": inner}
        if rng.random() < 0.6:
            body["index"] = rng.choice(["i", "j", "s", "input", "depth", "__class__", "",
                                        f"i{level}", "name", 5])
        if rng.random() < 0.3:
            body["name"] = rng.choice(["", "r", "layer", None, 5, "a b"])
        if rng.random() < 0.2:
            body["start"] = rng.choice([0, -1, 10**30, 2.5, "x"])
        inner = [{"repeat": body}]
    items.insert(rng.randrange(len(items) + 1), inner[0])


def block_recursion(tree, rng):
    """Blocks that call themselves, each other, or fan out exponentially."""
    blocks = tree.setdefault("blocks", {}) if isinstance(tree, dict) else {}
    if not isinstance(blocks, dict):
        return
    kind, depth = rng.randrange(4), rng.choice([2, 3, 10, 30, 200, 2000])
    if kind == 0:
        blocks["rec"] = {"layers": ["ReLU", {"rec": {}}]}
    elif kind == 1:
        blocks["ping"] = {"layers": [{"pong": {}}]}
        blocks["pong"] = {"layers": [{"ping": {}}]}
    elif kind == 2:  # b0 calls b1 twice, b1 calls b2 twice, ...: 2**depth layers
        for i in range(min(depth, 60)):
            blocks[f"b{i}"] = {"layers": [{f"b{i + 1}": {}}, {f"b{i + 1}": {}}]}
        blocks[f"b{min(depth, 60)}"] = {"layers": ["ReLU"]}
    else:  # a long chain of blocks, each calling the next once
        for i in range(depth):
            blocks[f"c{i}"] = {"layers": [{f"c{i + 1}": {}}]}
        blocks[f"c{depth}"] = {"layers": ["ReLU"]}
    first = {0: "rec", 1: "ping", 2: "b0", 3: "c0"}[kind]
    items = _pick(rng, layer_lists(tree))
    if items is not None:
        items.insert(rng.randrange(len(items) + 1), {first: {}})


def bogus_extends(tree, rng):
    if isinstance(tree, dict):
        tree["extends"] = rng.choice([
            "case.yaml", "./case.yaml", "missing.yaml", "/etc/passwd", "/dev/zero", "/dev/null",
            "/proc/self/environ", ".", "..", "/", "../" * 50, "x" * 5000, "a\x00b.yaml", "",
            5, None, [], ["resnet.yaml"], {"a": 1}, "http://example.com/x.yaml", "~/x.yaml",
            "resnet.yaml", "base_list.yaml", "base_bad.yaml", "chain0.yaml", "cyc_a.yaml",
            "base_huge.yaml", "${x}.yaml", "resnet.yaml\n", "fifo_base.yaml"])


def mutate_params(tree, rng):
    if not isinstance(tree, dict):
        return
    params = tree.get("params")
    if not isinstance(params, dict) or rng.random() < 0.2:
        tree["params"] = rng.choice([{}, None, [], "depth", {"": 1}, {"__class__": 1},
                                     {"depth": hostile_scalar(rng)}, hostile_scalar(rng)])
        return
    key = rng.choice(list(params) + [rng.choice(SPECIAL_NAMES)])
    params[key] = rng.choice([hostile_scalar(rng), hostile_expression(rng)])


def inject_expression(tree, rng):
    leaves = [(p, k) for p, k, v in walk(tree) if not isinstance(v, (dict, list))]
    for _ in range(rng.randint(1, 3)):
        where = _pick(rng, leaves)
        if where:
            where[0][where[1]] = hostile_expression(rng)


def mutate_input(tree, rng):
    if isinstance(tree, dict):
        shape = rng.choice([[0], [-1], [], [10**9] * 3, [2**31] * 2 + [3], [1] * 64, [1] * 70,
                            [224, 224], [5], [3, 3, 3, 3], [1, 1, 1], [1e308], ["a"],
                            [2.5, 3], [hostile_int(rng)], [None], hostile_scalar(rng)])
        layout = rng.choice([None, "channels_first", "channels_last", "", "NCHW", 5])
        tree["input"] = rng.choice([shape, {"shape": shape}, {"shape": shape, "layout": layout},
                                    {"shape": shape, "extra": 1}, hostile_scalar(rng)])


def mutate_defaults(tree, rng):
    if isinstance(tree, dict):
        defaults = tree.setdefault("defaults", {})
        if not isinstance(defaults, dict):
            return
        kind = rng.choice(LAYER_TYPES + [rng.choice(SPECIAL_NAMES), "repeat", "group"])
        defaults[kind] = rng.choice([
            {rng.choice(ARGUMENTS): hostile_scalar(rng)}, {"inputs": "input"},
            {"name": "same_name"}, {"when": False}, {"when": "${undefined}"}, None, [],
            hostile_scalar(rng)])


def mutate_name(tree, rng):
    if isinstance(tree, dict):
        tree["name"] = rng.choice([hostile_string(rng), hostile_scalar(rng), "a" * 65, "x"])


MUTATIONS: list[tuple[Callable, int]] = [
    (replace_leaf, 14), (replace_node, 4), (delete_node, 5), (rename_key, 5), (copy_key, 2),
    (shuffle_layers, 3), (duplicate_layers, 3), (grow_layers, 1), (insert_layer, 5),
    (swap_type, 4), (bogus_inputs, 5), (set_when, 4), (nested_repeat, 4),
    (block_recursion, 3), (bogus_extends, 2), (mutate_params, 4), (inject_expression, 10),
    (mutate_input, 3), (mutate_defaults, 3), (mutate_name, 1),
]


def mutate(tree: Tree, rng: random.Random, count: int) -> list[str]:
    """Apply ``count`` weighted random mutations; their names, for the statistics."""
    functions, weights = zip(*MUTATIONS)
    names = []
    for function in rng.choices(functions, weights, k=count):
        try:
            function(tree, rng)
        except (TypeError, AttributeError, KeyError, IndexError):
            continue  # the tree no longer has the shape this mutation wants
        names.append(function.__name__)
    return names


def replace_raw(tree: Tree, markers: list[str]) -> Tree:
    """RawToken values → marker strings (the renderer swaps them for the raw text)."""
    if isinstance(tree, RawToken):
        markers.append(tree.text)
        return f"ZZRAW{len(markers) - 1}ZZ"
    if isinstance(tree, dict):
        return {k: replace_raw(v, markers) for k, v in tree.items()}
    if isinstance(tree, list):
        return [replace_raw(v, markers) for v in tree]
    return tree
