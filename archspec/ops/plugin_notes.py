"""What a spec's diagnostics say about plugins (ops/plugins.py): the hint of an unknown layer
type, the warning where a spec uses a name some plugin was refused, and the error for a package
a spec lists under ``plugins:`` that provides no loaded plugin."""

from __future__ import annotations

import os
from typing import Optional

from . import base
from .plugins import DISABLE, FAILED, GROUP, LOADED, REFUSED, holder_of, normalize


def refused_names() -> frozenset[str]:
    return frozenset(r.name for r in REFUSED)


def refusal_warning(name: str) -> Optional[str]:
    """For a type a spec uses that some plugin also claimed: which one the spec gets."""
    holder = base.REGISTRY.get(name)
    refusals = [r.message for r in REFUSED if r.name == name]
    if holder is None or not refusals:
        return None
    return f"'{name}' here is {holder_of(name, holder)}; {'; '.join(refusals)}"


def unknown_type_hint(name: str, declared: tuple[str, ...] = ()) -> Optional[str]:
    """What the plugins know of an unknown layer type: a plugin's type of that name was
    refused, or a plugin the spec lists is not loaded. None if neither (a did-you-mean comes
    next, then ``no_such_type_hint``)."""
    refused = [r.message for r in REFUSED if r.name == name]
    if refused:
        return "; ".join(refused)
    loaded = {normalize(s.package) for s in LOADED}
    missing = [p for p in declared if normalize(p) not in loaded]
    if missing:
        why = f"{DISABLE} is set" if os.environ.get(DISABLE) else \
            f"pip install {' '.join(missing)}"
        return (f"it may come from {_packages(missing)}, which this spec lists under "
                f"`plugins:` and which {'is' if len(missing) == 1 else 'are'} not loaded "
                f"({why})")
    return None


def no_such_type_hint(name: str) -> str:
    """The last word on an unknown type: a plugin that failed to load may have had it;
    otherwise it may come from a plugin package not installed."""
    if FAILED:
        return "; ".join(f.message for f in FAILED) + " (its types are missing)"
    return (f"no built-in type has this name and no installed plugin provides it; if "
            f"'{name}' comes from a plugin package, install it (pip install PACKAGE) and list "
            f"it under `plugins:` in the spec ('archspec schema' lists every type, 'archspec "
            f"plugins' the installed plugins)")


def _packages(names: list[str]) -> str:
    quoted = ", ".join(f"'{n}'" for n in names)
    return f"the plugin package{'s' if len(names) > 1 else ''} {quoted}"


def missing_plugins(declared: list[str]) -> list[tuple[int, str, str]]:
    """For each package a spec lists under ``plugins:`` that provides no loaded entry point:
    (its index, the message, the hint)."""
    base.layer_types()
    loaded = {normalize(s.package) for s in LOADED}
    failed = {normalize(f.source.package): f for f in FAILED}
    out = []
    for index, package in enumerate(declared):
        key = normalize(package)
        if key in loaded:
            continue
        needs = f"this spec needs the plugin package '{package}'"
        if os.environ.get(DISABLE):
            out.append((index, f"{needs}, and plugins are disabled ({DISABLE} is set)",
                        f"unset {DISABLE}"))
        elif key in failed:
            out.append((index, f"{needs}, which failed to load: {failed[key].error}",
                        "fix or reinstall it; 'archspec plugins' shows every plugin's state"))
        elif _installed(package):
            out.append((index, f"{needs}; it is installed but has no '{GROUP}' entry point",
                        "is it an archspec plugin? its pyproject.toml should name a module "
                        f"under [project.entry-points.\"{GROUP}\"]"))
        else:
            out.append((index, f"{needs}, which is not installed", f"pip install {package}"))
    return out


def _installed(package: str) -> bool:
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        distribution(package)
    except PackageNotFoundError:
        return False
    return True

