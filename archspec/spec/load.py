"""``load`` (a path, ``"-"`` or a mapping) and ``loads`` (spec text) → validated ``Spec``, with
``extends`` resolved.

``extends`` stays inside a root directory — by default the directory of the spec that starts
the chain (the working directory for text, stdin and mappings) — after symlinks are resolved;
it reads only regular files, and a chain has at most ``MAX_EXTENDS_DEPTH`` files below the
spec.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Union

from pydantic import ValidationError

from ..errors import Diagnostic, Location, SpecError
from ..limits import MAX_EXTENDS_DEPTH, MAX_EXTENDS_PATH_CHARS
from .diagnose import from_validation_error
from .marks import SourceMap
from .model import Spec
from .overrides import checked_params
from .reading import decode, display_name, read_file, read_source
from .source import from_mapping, parse

MERGED_SECTIONS = ("params", "defaults", "blocks")
Root = Union[str, "os.PathLike[str]", None]


def load(source: str | os.PathLike | Mapping[str, Any], params: Mapping[str, Any] | None = None,
         *, extends_root: Root = None) -> Spec:
    """Load a spec from a file path, ``"-"`` (standard input) or a mapping (a spec document as
    Python data). A string is always a path: spec text goes to ``loads``. ``params``
    overrides spec parameters as ``--set`` does; ``extends_root`` lets ``extends`` reach
    files under that directory instead of the spec's own. Raises ``SpecError`` listing every
    problem found."""
    if isinstance(source, Mapping):
        return _finish(*from_mapping(source, "<dict>"), Path.cwd(), params, extends_root)
    if not isinstance(source, (str, os.PathLike)):
        hint = "use archspec.loads(text) for spec text" if isinstance(source, bytes) else None
        raise SpecError([Diagnostic(f"a spec is a path, '-' or a mapping, not "
                                    f"{type(source).__name__}", location=Location("<api>"),
                                    hint=hint)])
    text, file = read_source(source)
    data, smap = parse(text, file)
    if isinstance(source, str) and source == "-":
        return _finish(data, smap, Path.cwd(), params, extends_root)
    return _finish(data, smap, Path(source).parent, params, extends_root, _resolved(source))


def loads(text: str | bytes, params: Mapping[str, Any] | None = None, *,
          file: str = "<string>", extends_root: Root = None) -> Spec:
    """Load a spec from YAML text (JSON when ``file`` ends in ``.json``; JSON is also valid
    YAML). ``file`` names the text in messages; relative ``extends`` paths start from the
    working directory."""
    if isinstance(text, bytes):
        text = decode(text, file)
    elif not isinstance(text, str):
        raise SpecError([Diagnostic(f"spec text must be str or bytes, not {type(text).__name__}",
                                    location=Location(file))])
    data, smap = parse(text, file)
    return _finish(data, smap, Path.cwd(), params, extends_root)


def _resolved(source: str | os.PathLike) -> str:
    try:
        return str(Path(source).resolve())
    except (OSError, RuntimeError):  # it was just read, so this is a race at most
        return display_name(source)


def _finish(data: Any, smap: SourceMap, base: Path, params: Mapping[str, Any] | None,
            extends_root: Root, start: str | None = None) -> Spec:
    if isinstance(data, dict) and "extends" in data:
        root = _root(Path(extends_root) if extends_root is not None else base)
        data, smap = _resolve_extends(data, smap, base, [start or smap.file], root)
    spec = validate_document(data, smap)
    return spec.with_params(**checked_params(params)) if params else spec


def _root(path: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise SpecError([Diagnostic(f"the extends root {display_name(path)} cannot be used: "
                                    f"{getattr(exc, 'strerror', None) or exc}",
                                    location=Location(display_name(path)))]) from None


def validate_document(data: Any, smap: SourceMap) -> Spec:
    if not isinstance(data, dict):
        raise SpecError([Diagnostic("a spec must be a mapping with 'name', 'input' and 'layers'",
                                    location=smap.locate(()), received=type(data).__name__)])
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(from_validation_error(exc, (), smap, Spec)) from None
    spec._source = smap
    return spec


def _resolve_extends(data: Any, smap: SourceMap, base_dir: Path, chain: list[str],
                     root: Path) -> tuple[Any, SourceMap]:
    """A thin file ``extends: family.yaml`` and overrides top-level keys; params, defaults and
    blocks merge key by key, so a variant states only what differs."""
    if not isinstance(data, dict) or "extends" not in data:
        return data, smap
    data = dict(data)
    target = data.pop("extends")
    path = _extends_target(target, base_dir, chain, root, smap.locate(("extends",)))
    base_file = display_name(path)
    base_data, base_map = parse(decode(read_file(path, base_file), base_file), base_file)
    base_data, base_map = _resolve_extends(base_data, base_map, path.parent,
                                           chain + [str(path)], root)
    if not isinstance(base_data, dict):
        kind = "empty" if base_data is None else f"a {type(base_data).__name__}"
        raise SpecError([Diagnostic(f"the file it names, {base_file}, is {kind}, not a spec "
                                    f"mapping", path="extends", location=smap.locate(("extends",)),
                                    hint="extend a spec file: a mapping with name, input and "
                                         "layers")])
    merged = dict(base_data)
    for key, value in data.items():
        if key in MERGED_SECTIONS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    # Paths under keys the child replaced wholesale must not point into the base file.
    base_marks = {p: loc for p, loc in base_map.marks.items()
                  if not p or p[0] not in data or p[0] in MERGED_SECTIONS}
    result = SourceMap(smap.file)
    result.marks = {**base_marks, **smap.marks}
    return merged, result


def _extends_target(target: Any, base_dir: Path, chain: list[str], root: Path,
                    where: Location) -> Path:
    """The resolved file ``extends`` names, or a located error saying why it cannot be used."""
    def problem(message: str, hint: str | None = None):
        shown = target if len(target) <= 80 else target[:77] + "..."
        raise SpecError([Diagnostic(message, path="extends", location=where, hint=hint,
                                    received=shown)])

    if not isinstance(target, str) or not target.strip():
        raise SpecError([Diagnostic("'extends' must be a file path", path="extends",
                                    location=where, received=target)])
    if len(target) > MAX_EXTENDS_PATH_CHARS:
        problem(f"'extends' is {len(target):,} characters long; the limit is "
                f"{MAX_EXTENDS_PATH_CHARS:,}")
    if "\x00" in target:
        problem("'extends' contains a NUL character")
    if len(chain) > MAX_EXTENDS_DEPTH:
        problem(f"more than {MAX_EXTENDS_DEPTH} levels of 'extends'",
                "flatten the chain: let a variant extend the family file directly")
    try:
        path = (base_dir / target).resolve(strict=True)
    except FileNotFoundError:
        problem(f"'extends' names a file that does not exist: {display_name(target)}",
                "paths are relative to the file that extends")
    except (OSError, RuntimeError, ValueError) as exc:  # ELOOP, ENAMETOOLONG, EACCES ...
        reason = getattr(exc, "strerror", None) or "a symlink loop"
        problem(f"'extends' cannot be followed: {reason}")
    if not path.is_relative_to(root):
        problem(f"'extends' leaves the directory {display_name(root)}",
                "extends reads files under the spec's own directory; to allow another, pass "
                "--extends-root DIR (Python: extends_root=DIR)")
    if not path.is_file():  # stat only: opening a FIFO would block
        problem("'extends' names something that is not a regular file",
                "name a .yaml or .json file")
    if str(path) in chain:
        problem(f"'extends' forms a cycle: {' -> '.join(chain + [str(path)])}")
    return path
