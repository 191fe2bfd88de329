"""Hostile values for the fuzzer: scalars, raw YAML tokens, ``${...}`` expressions, key names.

Written from the spec language's documentation, not from archspec's code, so the fuzzer does
not share the blind spots of what it tests. Everything is drawn through a ``random.Random`` so
that one (seed, case) pair always gives the same case.
"""

from __future__ import annotations

import random

LAYER_TYPES = [
    "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten", "Reshape", "Dense", "Dropout",
    "BatchNormalization", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "GELU",
    "SiLU", "Activation", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D", "UpSampling2D",
    "Add", "Multiply", "Concatenate",
]
ARGUMENTS = [
    "filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "use_bias",
    "activation", "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "kernel_constraint", "depth_multiplier", "output_padding", "pool_size", "rounding",
    "count_include_pad", "keepdims", "target_shape", "units", "rate", "momentum", "epsilon",
    "center", "scale", "max_value", "negative_slope", "threshold", "alpha", "approximate",
    "axis", "size", "interpolation", "cropping", "name", "inputs", "when",
]
# Names a Python implementation might trip over: dunders, pydantic and torch internals,
# things that look like paths or indexing.
SPECIAL_NAMES = [
    "self", "x[0]", "layers[0]", "a.b", "__class__", "__dict__", "__init__", "__proto__",
    "__getattr__", "__builtins__", "_modules", "_parameters", "_buffers", "forward",
    "training", "state_dict", "model_config", "model_fields", "model_dump", "_source",
    "constructor", "input", "output", "inputs", "None", "True", "lambda", "class", "def",
    "import", "", " ", "1", "0x1", "-", "..", "../x", "/etc/passwd", "a\nb", "a b", "ñame",
    "名前", "a" * 300, "\u202ename", "na\u200bme", "Name", "NAME", "name\x00", "$x", "${x}",
    "repeat", "group", "block", "extends", "params", "defaults", "blocks",
]
EXPR_NAMES = ["depth", "width", "classes", "s", "b", "i", "filters", "x", "input", "self",
              "__builtins__", "__import__", "True", "None", "undefined_name"]


def hostile_int(rng: random.Random) -> int:
    return rng.choice([0, -1, 1, 2, 3, -2**31, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63,
                       -2**63, 2**64, 10**18, 10**30, 10**38, 2**127, 2**128, 10**60,
                       10**100, 10**300, rng.randint(-10**6, 10**6), rng.randint(1, 8)])


def hostile_float(rng: random.Random) -> float:
    return rng.choice([float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 5e-324,
                       -0.0, 0.0, 0.5, 1.5, 2.0, 1e-300, 3.0000000001, 1e16, -1e-5])


def hostile_string(rng: random.Random) -> str:
    return rng.choice([
        "", " ", "x" * rng.choice([1000, 100_000]), "ñ名🙂", "\u202e\u200b", "\x01\x1b[31m",
        "\x00", "a\x00b", "line\nbreak", "tab\there", "\r", "\ud800" if rng.random() < 0.3 else "\U0010ffff",
        "same", "valid", "causal", "relu", "softmax", "linear", "channels_first", "ceil",
        "floor", "bilinear", "1e3", "0x10", "3", "-3", "true", "null", "[]", "{}", "${",
        "}", "$", "${}", "${ }", "$${x}", "{{x}}", "%s%s%s", "%(x)s", "%n", "{0}", "{x}",
        "{.__class__}", rng.choice(SPECIAL_NAMES), rng.choice(LAYER_TYPES),
        rng.choice(LAYER_TYPES).lower(),
    ])


def hostile_expression(rng: random.Random) -> str:
    """A ``${...}`` string: a fixed hostile classic, or a random expression tree."""
    if rng.random() < 0.6:
        return "${" + rng.choice(CLASSIC_EXPRESSIONS) + "}"
    return "${" + random_expression(rng, rng.randint(1, 6)) + "}"


CLASSIC_EXPRESSIONS = [
    # sizes: strings, lists, nested repetition, ranges, sums
    "'a' * 100000", "'a' * 100000 * 100000", "[0] * 100000 * 100000",
    "[[0] * 100000] * 100000", "[range(100000)] * 100000", "range(100000) * 100000",
    "len(range(100000) * 100000)", "sum([[1] * 100000] * 100000, [])",
    "sum([range(100000)] * 1000, [])", "sum(range(100000))", "range(-100000, 100000)",
    "range(0, 10**30, 10**29)", "'x' * 10**9", "10**9 * 'x'", "[1] * -1",
    "{1: [range(100000)] * 100000}", "'ab' in 'b' * 100000", "max(range(100000))",
    "str(1)", "len('x' * 99999 + 'y' * 99999)",
    # powers and numbers
    "9 ** 9 ** 9", "2 ** 64 ** 64", "(10 ** 38) ** 2", "10 ** 38 * 10 ** 38", "2 ** -1074",
    "10 ** -64", "2.0 ** 100000", "(-8) ** 0.5", "(-1) ** 0.5", "1e308 * 10", "-1e308 * 10",
    "int(1e308 * 10)", "int(float('nan'))", "float('nan')", "float('inf')", "float('1e999')",
    "ceil(1e308)", "floor(-1e308)", "round(1e308, -400)", "round(2 ** 127, -10 ** 9)",
    "round(1.5, 10 ** 30)", "int('9' * 400)", "int('9' * 400) ** 2",
    "int('9' * 400) * int('9' * 400)", "make_divisible(1e308)", "make_divisible(float('inf'))",
    "make_divisible(5, 0)", "make_divisible(-1e308, 3)", "make_divisible(10 ** 38, 10 ** -30)",
    "sqrt(-1)", "sqrt(1e308) ** 2", "1 // 0", "1 % 0", "1.0 / 0", "abs(-2 ** 127)",
    "2 ** 127 + 2 ** 127", "-(2 ** 128)", "int(10 ** 38 * 1.5)", "7 % -0.0", "min(2 ** 200)",
    # %-formatting
    "'%s' % 1", "'%0999999999d' % 1", "'%0100000000d' % 1", "'%.999999999f' % 1.0",
    "'%*d' % [5, 1]", "'%(a)s' % {}", "'%c' % 1114112", "'%s' * 100000 % 1",
    "'%d' % 'x'", "('%s' * 10000) % ([1] * 10000)",
    # nesting
    "(" * 150 + "1" + ")" * 150, "[" * 150 + "]" * 150, "-" * 400 + "1", "not " * 120 + "1",
    "{" * 100 + "}" * 100, "1" + " + 1" * 120, "((((((((((((((((((((1))))))))))))))))))))" * 2,
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "sum(sum(sum(sum([[[[1] * 1000] * 100] * 100] * 10, []), []), []), [])",
    # names, attributes, calls that must not exist
    "undefined_name", "__builtins__", "__import__('os')", "().__class__",
    "''.__class__.__mro__[1].__subclasses__()", "depth.__class__", "[].append(1)",
    "len.__self__", "(lambda: 1)()", "[x for x in range(10)]", "{x: 1 for x in 'ab'}",
    "open('/etc/passwd')", "exec('1')", "globals()", "f'{depth}'", "depth[0]", "b'x'",
    "1j", "...", "None()", "max(key=len)", "print(1)", "depth := 3", "*depth",
    "depth if depth else", "", " ", "\n", "1;2", "# comment", "'\\x00'", "'\\ud800'",
    "{[]: 1}", "{}[[]]", "[1, 2][10 ** 30]", "[1, 2][-3]", "'abc'[1.5]", "depth < 'a'",
    "True + True", "len(5)", "min()", "max([])", "range()", "range(1, 2, 0)", "range(1.5)",
    "float('x')", "int('0x10')", "round('x')", "abs('x')", "sum(['a', 'b'])", "sum([[], 1])",
    "'${depth}'", "'${' + '9 ** 9 ** 9' + '}'",
]


def random_expression(rng: random.Random, depth: int) -> str:
    if depth <= 0:
        return rng.choice([
            str(hostile_int(rng)), repr(hostile_float(rng)).replace("nan", "1e999"),
            rng.choice(EXPR_NAMES), repr(rng.choice(["", "a", "same", "x" * 50])),
            "[1, 2, 3]", "range(5)", "{1: 2}", "True", "None"])
    kind = rng.randrange(6)
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    if kind == 0:
        op = rng.choice(["+", "-", "*", "/", "//", "%", "**", "<", "==", "in", "and", "or"])
        return f"({a} {op} {b})"
    if kind == 1:
        fn = rng.choice(["min", "max", "abs", "int", "float", "round", "ceil", "floor", "sqrt",
                         "len", "sum", "range", "make_divisible", "undefined_fn"])
        return f"{fn}({a}, {b})" if rng.random() < 0.5 else f"{fn}({a})"
    if kind == 2:
        return f"({a} if {b} else {random_expression(rng, depth - 1)})"
    if kind == 3:
        return f"[{a}, {b}][{rng.choice(['0', '1', '-1', '2', b])}]"
    if kind == 4:
        return f"{{{a}: {b}}}[{a}]"
    return f"{rng.choice(['-', 'not ', '+'])}{a}"


RAW_TOKENS = [
    # integers and floats past any sane bound, and YAML 1.1's odd numerals
    "9" * 5000, "-" + "9" * 5000, "0x" + "f" * 4000, "0o" + "7" * 3000, "0b" + "1" * 10000,
    "1" + "_0" * 3000, "190:20:30", "1:" * 300 + "0", "1e" + "9" * 400, "." + "5" * 5000,
    "9" * 5000 + ".0", "0." + "0" * 5000 + "1", "9" * 65, "9" * 64, "1" + "0" * 63,
    "0x" + "f" * 60, ".inf", "-.inf", ".nan", ".NaN", "~", "Null", "yes", "no", "on", "off",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<",
    # tags: python objects, binary, sets, and core tags on the wrong text
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!timestamp 2001-12-14", "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1]", "!!str 5",
    "!!int '5'", "!!int 'abc'", "!!int '0x'", "!!int '" + "9" * 5000 + "'", "!!float 'x'",
    "!!float '" + "9" * 5000 + "'", "!!bool 'maybe'", "!!null 'x'", "!!map [1]", "!!seq {}",
    "!local x", "! x", "!<tag:yaml.org,2002:int> '12'", "!<!> x",
    # aliases and anchors
    "*undefined", "&a [*a]", "&a {k: *a}", "&a [1, [2, *a]]", "&x 3",
    # escapes inside double quotes
    '"\\ud800"', '"\\udfff\\ud800"', '"\\0"', '"\\x00\\x1b"', '"\\U0010ffff"', '"\\uFFFE"',
    '"\\N\\_\\L\\P"', "'" + "x" * 200_000 + "'",
]


def hostile_scalar(rng: random.Random):
    """A plain Python value (the tree stays dumpable) or a RawToken placed in the text."""
    kind = rng.randrange(10)
    if kind <= 1:
        return hostile_int(rng)
    if kind == 2:
        return hostile_float(rng)
    if kind == 3:
        return hostile_string(rng)
    if kind == 4:
        return rng.choice([None, True, False, [], {}, [None], [[]], {"": None}])
    if kind == 5:
        if rng.random() < 0.3:  # long lists stay cheap to render: ints only
            return [hostile_int(rng)] * rng.choice([4, 65, 1000])
        return [hostile_scalar(rng) for _ in range(rng.randint(1, 3))]
    if kind == 6:
        return {rng.choice(SPECIAL_NAMES + ARGUMENTS): hostile_scalar(rng)
                for _ in range(rng.randint(1, 3))}
    if kind in (7, 8):
        return hostile_expression(rng)
    return RawToken(rng.choice(RAW_TOKENS))


class RawToken:
    """Text put verbatim into the rendered YAML/JSON where a marker scalar was dumped."""

    def __init__(self, text: str):
        self.text = text


def typo(rng: random.Random, word: str) -> str:
    if not word:
        return rng.choice(SPECIAL_NAMES)
    i = rng.randrange(len(word))
    kind = rng.randrange(5)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1 and len(word) > 1:
        j = min(i + 1, len(word) - 1)
        chars = list(word)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    if kind == 2:
        return word.upper() if rng.random() < 0.5 else word.lower()
    if kind == 3:
        return word + rng.choice(["s", "_", " ", "\t", "\u00a0", "ß"])
    return rng.choice(SPECIAL_NAMES)
