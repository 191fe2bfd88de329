"""Run generated source as a real module: registered with ``linecache`` (tracebacks, inspect,
torch.compile and Keras' serialization can read it) and in ``sys.modules`` (pickle, Keras'
registered classes and spawned workers can find it)."""

from __future__ import annotations

import hashlib
import linecache
import sys
import types


def load_module(source: str, name: str, backend: str) -> types.ModuleType:
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    module_name = f"archspec_generated_{backend}_{digest}"
    cached = sys.modules.get(module_name)
    if cached is not None:
        return cached
    filename = f"<archspec {backend} model {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(module_name)
    module.__file__ = filename
    code = compile(source, filename, "exec")
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - our own generated source, never user text
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
