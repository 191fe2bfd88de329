"""Fuzz cases: a zoo spec, mutated as a tree and/or as text, and the way archspec receives it
(a file, text, a mapping, a command line).

``make_case(seed, index)`` is a pure function of its arguments, so a finding is reproduced by
its (seed, index) alone. A case is a JSON-ready dict; ``fuzz_worker`` runs it. Nothing here
imports archspec.
"""

from __future__ import annotations

import base64
import json
import random
from functools import lru_cache
from pathlib import Path

import yaml

from fuzz_mutate import mutate, replace_raw
from fuzz_values import RAW_TOKENS, SPECIAL_NAMES, hostile_expression, hostile_scalar

ROOT = Path(__file__).resolve().parent.parent
ZOO_DIR = ROOT / "specs"

# Files every case directory holds besides the zoo, for `extends` to point at.
SUPPORT_FILES = {
    "base_list.yaml": "- name\n- layers\n",
    "base_bad.yaml": "name: [unclosed\n",
    "base_huge.yaml": "name: base\nparams: {depth: " + "9" * 5000 + "}\n",
    "cyc_a.yaml": "extends: cyc_b.yaml\nname: a\n",
    "cyc_b.yaml": "extends: cyc_a.yaml\nname: b\n",
    **{f"chain{i}.yaml": f"extends: chain{i + 1}.yaml\n" for i in range(12)},
    "chain12.yaml": "extends: mnist_cnn.yaml\n",
}

ROUTES = [("api-path", 30), ("api-text", 18), ("generate", 10), ("api-mapping", 5),
          ("api-oddpath", 4), ("cli", 31), ("cli-subproc", 2)]

ODD_PATHS = ["/dev/zero", "/dev/urandom", "/dev/null", "/dev/full", "/proc/self/mem", ".", "",
             "/", "missing.yaml", "nodir/missing.yaml", "x" * 300 + ".yaml", "a\x00b.yaml",
             "loop.yaml", "dir.yaml", "fifo.yaml", "{x}.yaml", "a\nb.yaml", "-", "~/x.yaml",
             "specs/../case.yaml", "\udcffbad.yaml", "case.yaml\n", " case.yaml", "--",
             "-h"]


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@lru_cache(maxsize=None)
def zoo() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(ZOO_DIR.glob("*.yaml"))}


@lru_cache(maxsize=None)
def _zoo_tree_json(name: str) -> str:
    return json.dumps(yaml.load(zoo()[name], Loader=_SafeLoader))


def render(tree, rng: random.Random, as_json: bool) -> str:
    markers: list[str] = []
    plain = replace_raw(tree, markers)
    if as_json:
        text = json.dumps(plain, indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5)
        quoted = ['"ZZRAW{}ZZ"']
    else:
        style = dict(sort_keys=False, allow_unicode=rng.random() < 0.5,
                     default_flow_style=rng.choice([False, None, True]),
                     width=rng.choice([80, 10**6]))
        try:
            text = yaml.dump(plain, Dumper=_SafeDumper, **style)
        except UnicodeEncodeError:  # libyaml's emitter refuses lone surrogates
            text = yaml.dump(plain, Dumper=yaml.SafeDumper, **style)
        quoted = ["'ZZRAW{}ZZ'", '"ZZRAW{}ZZ"', "ZZRAW{}ZZ"]
    for i, raw in enumerate(markers):
        for pattern in quoted:
            text = text.replace(pattern.format(i), raw)
    return text


def _nest(n: int) -> str:
    return "[" * n + "]" * n


def _lol(levels: int) -> str:
    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def text_mutation(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    kind = rng.randrange(16)
    pos = rng.randrange(len(data) + 1)
    if kind == 0:
        chunk = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            if chunk:
                chunk[rng.randrange(len(chunk))] ^= 1 << rng.randrange(8)
        return bytes(chunk), "byte_flip"
    if kind == 1:
        return data[:pos], "truncate"
    if kind == 2:
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = b"\t" + lines[i].lstrip(b" ") if rng.random() < 0.7 else lines[i] + b"\t"
        return b"\n".join(lines), "tab"
    if kind == 3:
        return data[:pos] + b"\x00" + data[pos:], "nul"
    if kind == 4:
        bad = rng.choice([b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                          b"\xe2\x82", b"\x80"])
        return data[:pos] + bad + data[pos:], "invalid_utf8"
    if kind == 5:
        return (b"\xef\xbb\xbf" + data if rng.random() < 0.5
                else data[:pos] + b"\xef\xbb\xbf" + data[pos:]), "bom"
    if kind == 6:
        ending = rng.choice([b"\r\n", b"\r", b"\xc2\x85", b"\xe2\x80\xa8"])
        return data.replace(b"\n", ending), "line_endings"
    if kind == 7:
        n = rng.choice([63, 64, 65, 200, 1000, 100_000])
        nest = _nest(n) if rng.random() < 0.6 else "".join(
            " " * k + "a:\n" for k in range(n if n <= 2000 else 2000)) + " " * 2001 + "b: 1"
        return data + f"\nzz: {nest}\n".encode() if nest.startswith("[") else \
            data + b"\nzz:\n" + nest.encode() + b"\n", "deep_nesting"
    if kind == 8:
        bomb = _lol(rng.choice([3, 5, 6, 9])) if rng.random() < 0.8 else "loop: &r [*r]\n"
        return data + b"\n" + bomb.encode(), "alias_bomb"
    if kind == 9:
        lines = data.split(b"\n")
        keyed = [i for i, line in enumerate(lines) if b": " in line]
        if keyed:
            i = rng.choice(keyed)
            lines.insert(i + 1, lines[i])
        return b"\n".join(lines), "duplicate_key"
    if kind == 10:
        head = rng.choice([b"%YAML 1.1\n---\n", b"%YAML 9.9\n---\n", b"--- !!map\n",
                           b"%TAG !p! tag:yaml.org,2002:python/\n---\n", b"--- |\n"])
        tail = rng.choice([b"", b"\n---\nname: second\n", b"\n...\n", b"\n--- *undefined\n"])
        return head + data + tail, "documents"
    if kind == 11:
        extra = rng.choice([b"? [a, b]\n: 1\n", b"? {a: 1}\n: 2\n", b"&k name: x\n",
                            b"<<: {name: x}\n", b"!!python/name:os.system : 1\n",
                            b"1: one\n", b"null: x\n", b"? !!binary aGk=\n: 3\n"])
        return data + b"\n" + extra, "odd_key"
    if kind == 12:
        return data + b"\nzz: " + b"x" * rng.choice([10**5, 10**6]) + b"\n", "long_line"
    if kind == 13:
        edit = rng.choice([(b"}", b",}"), (b"]", b",]"), (b"\n", b"\n// comment\n"),
                           (b"1", b"NaN"), (b"1", b"Infinity"), (b'"', b"'"),
                           (b'"name"', b'"\\ud800"'), (b'": ', b'": "\\udfff", "x": ')])
        return data.replace(edit[0], edit[1], 1), "json_breakage"
    if kind == 14:
        return rng.choice([b"", b" ", b"\n\n", b"# only a comment\n", b"---\n", b"~\n",
                           b"[]\n", b"42\n", b"\x00", b"\xef\xbb\xbf"]), "degenerate"
    raw = rng.choice(RAW_TOKENS).encode("utf-8", "surrogatepass")
    return data[:pos] + raw + data[pos:], "raw_token"


def _set_value(rng: random.Random, params: list[str]) -> str:
    key = rng.choice(params + [rng.choice(SPECIAL_NAMES), "depth", ""]) \
        if rng.random() < 0.85 else rng.choice(["", "=", "noequals", "a=b=c", "=1"])
    value = rng.choice([
        _nest(rng.choice([15, 16, 17, 100, 5000])), "&a [*a]", "&a {k: *a}", "[" + ", ".join(
            f"&a{i} [" + ", ".join([f"*a{i - 1}" if i else "1"] * 10) + "]" for i in range(8)) + "]",
        "9" * 5000, "1e999", ".nan", "-.inf", "0x" + "f" * 4000, "190:20:30",
        "!!python/object/apply:os.system [true]", "!!binary aGk=", "2001-12-14", "!!set {a}",
        "x" * 20_000, "[1, 2", "{a: *b}", "", " ", "null", "[]", "{}", "ñ名", "\x00",
        hostile_expression(rng), str(rng.choice([0, -1, 18, 50, 101, 152, 10**6])), "3.5",
        "[3, 4, 6, 3]", "\n", "a\nb: c", "*x", "&x"])
    return f"{key}={value}" if "=" not in key else key + value


def _cli_argv(rng: random.Random, target: str, params: list[str]) -> list[str]:
    kind = rng.choices(["check", "compile", "schema", "verify", "convert", "junk"],
                       [65, 25, 2, 2, 2, 4])[0]
    sets = []
    if rng.random() < 0.3:
        for _ in range(rng.randint(1, 3)):
            sets += ["--set", _set_value(rng, params)]
    if kind == "check":
        specs = [target] + ([target, rng.choice(ODD_PATHS)] if rng.random() < 0.1 else [])
        flags = [f for f, p in (("--json", 0.4), ("--strict", 0.2), ("--all", 0.1))
                 if rng.random() < p]
        return ["check", *specs, *flags, *sets]
    if kind == "compile":
        argv = ["compile", target, "--backend",
                rng.choices(["torch", "keras", "jax", ""], [48, 48, 2, 2])[0]]
        if rng.random() < 0.5:
            argv += ["-o", rng.choice(["out.py"] * 6 + [".", "nodir/out.py", "/dev/full",
                                                        "/dev/null", "x" * 300 + ".py",
                                                        "out\n.py", "case.yaml"])]
        if rng.random() < 0.05:
            argv += ["--save", rng.choice(["m.h5", "m.keras"])]
            argv[3] = "torch" if argv[-1] == "m.keras" else argv[3]
        return argv + sets
    if kind == "verify":
        return ["verify", rng.choice(["missing.yaml", "base_bad.yaml", "", "."])]
    if kind == "convert":
        return ["convert", target, "--from", rng.choice(["jax", "", "onnx"]), "a.h5", "--to",
                "torch", "b.pt"]
    if kind == "schema":
        return ["schema"] + rng.choice([[], ["extra"], ["--json"]])
    return rng.choice([["--version"], ["nope"], ["check"], ["check", "--bogus", target],
                       ["--help"], [], ["check", "--set"], ["compile", target]])


def _api_params(rng: random.Random, params: list[str]):
    if rng.random() > 0.15:
        return None
    keys = params + [rng.choice(SPECIAL_NAMES)] if params else [rng.choice(SPECIAL_NAMES)]
    values = {rng.choice(keys): rng.choice([hostile_scalar(rng), hostile_expression(rng), 101, 18])
              for _ in range(rng.randint(1, 2))}
    return _plain(values)


def _plain(value):
    """JSON-ready: a raw token becomes its text (a mapping has no YAML to put it in)."""
    markers: list[str] = []
    value = replace_raw(value, markers)
    text = json.dumps(value)
    for i, raw in enumerate(markers):
        text = text.replace(f'"ZZRAW{i}ZZ"', json.dumps(raw))
    return json.loads(text)


def _spec_bytes(rng: random.Random, case: dict) -> tuple[bytes, object, bool]:
    name = rng.choice(sorted(zoo()))
    original = zoo()[name]
    tree = json.loads(_zoo_tree_json(name))  # a fresh copy, faster than deepcopy
    count = rng.choices([0, 1, 2, 3, 4, 6], [10, 35, 25, 15, 10, 5])[0]
    case["ops"] = [f"zoo:{name}"] + mutate(tree, rng, count)
    as_json = rng.random() < 0.15
    text = original if count == 0 and not as_json else render(tree, rng, as_json)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < (0.3 if count else 0.8):
        for _ in range(rng.randint(1, 3)):
            data, op = text_mutation(data, rng)
            case["ops"].append(op)
    return data[:3_000_000], tree, as_json


def _store(case: dict, name: str, data: bytes) -> None:
    try:
        case.setdefault("files", {})[name] = data.decode("utf-8")
    except UnicodeDecodeError:
        case.setdefault("bfiles", {})[name] = base64.b64encode(data).decode("ascii")


def _odd_target(rng: random.Random, case: dict, data: bytes) -> str:
    path = rng.choice(ODD_PATHS)
    if path in ("{x}.yaml", "a\nb.yaml"):
        _store(case, path, data)
    elif path == "fifo.yaml":
        case["fifos"] = {path: data.decode("utf-8", "replace")}
    elif path == "dir.yaml":
        case["dirs"] = [path]
    elif path == "loop.yaml":
        case["symlinks"] = {"loop.yaml": "loop.yaml"}
    elif path == "-":
        case["stdin_b64"] = base64.b64encode(data).decode("ascii")
    case["locatable"] = path in ("{x}.yaml", "a\nb.yaml")
    return path


def make_case(seed: int, index: int) -> dict:
    rng = random.Random(f"{seed}:{index}")
    case: dict = {"id": index, "seed": seed,
                  "route": rng.choices([r for r, _ in ROUTES], [w for _, w in ROUTES])[0]}
    data, tree, as_json = _spec_bytes(rng, case)
    params = list(tree["params"]) if isinstance(tree, dict) and \
        isinstance(tree.get("params"), dict) else []
    params = [str(p) for p in params]
    case["locatable"] = True
    route = case["route"]
    if route == "api-text":
        case["text_b64"] = base64.b64encode(data).decode("ascii")
        case["decode"] = rng.choice(["bytes", "surrogateescape", "replace"])
    elif route == "api-mapping":
        case["tree"] = _plain(tree)
        case["locatable"] = False  # a mapping has no lines
    elif route == "api-oddpath":
        case["target"] = _odd_target(rng, case, data)
    else:
        target = "case.json" if as_json and rng.random() < 0.6 else "case.yaml"
        _store(case, target, data)
        case["target"] = target
        if route in ("cli", "cli-subproc"):
            if rng.random() < 0.25:
                target = _odd_target(rng, case, data)
            elif rng.random() < 0.08:
                target = "-"
                case["stdin_b64"] = base64.b64encode(data).decode("ascii")
            case["argv"] = _cli_argv(rng, target, params)
            if case["argv"][:1] == ["check"]:  # the budget is per spec checked
                specs = 0
                for arg in case["argv"][1:]:
                    if arg.startswith("--"):
                        break
                    specs += 1
                case["units"] = max(1, specs)
            if route == "cli-subproc":  # exec cannot pass a NUL; the in-process route does
                case["argv"] = [a.replace("\x00", "0") for a in case["argv"]]
            case["target"] = target
    if route.startswith("api") or route == "generate":
        case["params"] = _api_params(rng, params)
        if case["params"] is not None:
            case["locatable"] = False  # an override's value has no place in the file
    case["backend"] = rng.choice(["torch", "keras"])
    case["compile"] = route in ("api-path", "api-text") and rng.random() < 0.08
    return case


def case_size(case: dict) -> int:
    """What 'smallest reproducer' compares: every byte the case hands archspec."""
    parts = [case.get("text_b64", ""), json.dumps(case.get("tree")), *case.get("argv", []),
             case.get("stdin_b64", ""), json.dumps(case.get("params"))]
    parts += list(case.get("files", {}).values()) + list(case.get("bfiles", {}).values())
    return sum(len(p) for p in parts)
