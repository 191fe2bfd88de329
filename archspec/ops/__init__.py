"""Layer types, one module per family. Importing the package registers every family, so that
``base.layer_types()`` is complete without the base importing the families above it, and the
plugin loader, which ``layer_types()`` runs on first use (ops/plugins.py)."""

from . import (  # noqa: F401  (registers the types)
    activation, attention, conv, core, merge, pool, sequence, utility)
from . import plugins  # noqa: F401,E402  (after the families: a plugin may not take their names)
from .base import layer_types

__all__ = ["layer_types"]
