"""``load``: spec text or file → validated ``Spec`` document, with ``extends`` resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from ..errors import Diagnostic, Location, SpecError
from .diagnose import from_validation_error
from .model import Spec
from .source import SourceMap, parse, read_text

MAX_EXTENDS = 8
MERGED_SECTIONS = ("params", "defaults", "blocks")


def load(source: str | Path, params: Mapping[str, Any] | None = None) -> Spec:
    """Load a spec from a path, ``"-"`` (stdin) or YAML/JSON text; ``params`` overrides spec
    parameters as ``--set`` does. Raises ``SpecError`` listing every problem found."""
    text, file = read_text(source)
    data, smap = parse(text, file)
    base_dir = Path(file).parent if file not in ("<string>", "<stdin>") else Path.cwd()
    data, smap = _resolve_extends(data, smap, base_dir, [file])
    spec = validate_document(data, smap)
    return spec.with_params(**params) if params else spec


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


def _resolve_extends(data: Any, smap: SourceMap, base_dir: Path,
                     chain: list[str]) -> tuple[Any, SourceMap]:
    """A thin file ``extends: family.yaml`` and overrides top-level keys; params, defaults and
    blocks merge key by key, so a variant states only what differs."""
    if not isinstance(data, dict) or "extends" not in data:
        return data, smap
    target = data.pop("extends")
    where = smap.locate(("extends",))
    if not isinstance(target, str):
        raise SpecError([Diagnostic("'extends' must be a file path", path="extends",
                                    location=where, received=target)])
    path = (base_dir / target).resolve()
    if str(path) in chain:
        raise SpecError([Diagnostic(f"'extends' forms a cycle: {' -> '.join(chain + [str(path)])}",
                                    path="extends", location=where)])
    if len(chain) > MAX_EXTENDS:
        raise SpecError([Diagnostic(f"more than {MAX_EXTENDS} levels of 'extends'",
                                    path="extends", location=where)])
    if not path.is_file():
        raise SpecError([Diagnostic(f"'extends' names a file that does not exist: {target}",
                                    path="extends", location=where,
                                    hint="paths are relative to the file that extends")])
    base_text, base_file = read_text(path)
    base_data, base_map = parse(base_text, base_file)
    base_data, base_map = _resolve_extends(base_data, base_map, path.parent, chain + [str(path)])
    if not isinstance(base_data, dict):
        raise SpecError([Diagnostic("the extended file is not a spec mapping",
                                    location=Location(base_file))])
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
