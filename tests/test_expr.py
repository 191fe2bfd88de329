import pytest

from archspec.expr import ExprError, evaluate, make_divisible, substitute


@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", 7), ("2 ** 10", 1024), ("7 // 2", 3), ("max(3, f) - min(1, 2)", 4),
    ("'a' if f > 2 else 'b'", "a"), ("[1, 2, 3][f - 4]", 2), ("{18: 2, 50: 3}[18]", 2),
    ("not f == 5", False), ("f > 1 and f < 10", True), ("ceil(7 / 2)", 4),
    ("make_divisible(32 * 0.75, 8)", 24), ("len([1, 2])", 2), ("range(3)", [0, 1, 2]),
])
def test_evaluate(text, value):
    assert evaluate(text, {"f": 5}) == value


@pytest.mark.parametrize("text,words", [
    ("__import__('os')", "unknown function"), ("f.__class__", "'Attribute' is not allowed"),
    ("(lambda: 1)()", "only calls"), ("[x for x in range(3)]", "'ListComp' is not allowed"),
    ("9 ** 9 ** 9", "power too large"), ("'a' * 10**9", "too large"),
    ("open('/etc/passwd')", "unknown function"), ("g + 1", "unknown parameter 'g'"),
    ("1 +", "invalid expression syntax"), ("1 / 0", "ZeroDivisionError"),
    ("x" * 600, "longer than"), ("range(10**9)", "range too large"),
    ("(" * 240 + "1" + ")" * 240, "nested"),
])
def test_rejected(text, words):
    with pytest.raises(ExprError) as info:
        evaluate(text, {"f": 1})
    assert words in str(info.value)


def test_substitute_walks_structures():
    assert substitute({"a": ["${n}", "plain"], "b": "${n * 2}"}, {"n": 3}) == {"a": [3, "plain"], "b": 6}


def test_make_divisible_matches_mobilenet():
    assert [make_divisible(c, 8) for c in (32, 16, 24, 1280)] == [32, 16, 24, 1280]
    assert make_divisible(32 * 0.35, 8) == 16
