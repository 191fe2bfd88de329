"""``archspec import pkg.mod:build``: the user's callable that returns the nn.Module."""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

_CALLABLE = re.compile(r"\A(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
                       r":(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\Z")


def load_callable(reference: str) -> Any:
    """``"pkg.mod:build"`` → the ``nn.Module`` that ``pkg.mod.build()`` returns (or
    ``pkg.mod.model`` itself, when it is a module). User code, run by design; the working
    directory is searched first, as ``python -m`` does."""
    match = _CALLABLE.match(reference)
    if not match:
        raise ValueError(f"{reference!r} is not of the form module:callable (e.g. "
                         f"torchvision.models:resnet18 or mymodels:build)")
    mod_name, attr = match["module"], match["attr"]
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        if exc.name and mod_name.startswith(exc.name):
            raise ValueError(f"no module named {exc.name!r} (from {reference!r})") from None
        raise ValueError(f"importing {mod_name!r} failed: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module: its errors are theirs to fix
        raise ValueError(f"importing {mod_name!r} raised {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    return _module_from(module, mod_name, attr, reference)


def _module_from(module: Any, mod_name: str, attr: str, reference: str) -> Any:
    from torch import nn
    value = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ValueError(f"module {mod_name!r} has no attribute {attr!r}")
        value = getattr(value, part)
    if not isinstance(value, nn.Module):
        if not callable(value):
            raise ValueError(f"{reference!r} is neither an nn.Module nor callable")
        try:
            value = value()
        except Exception as exc:  # noqa: BLE001 - the user's code
            raise ValueError(f"{reference}() raised {type(exc).__name__}: {exc}") from None
    if not isinstance(value, nn.Module):
        raise ValueError(f"{reference!r} returned a {type(value).__name__}, not an "
                         f"nn.Module")
    return value
