"""Layer types, one module per family. Importing the package registers every family, so that
``base.layer_types()`` is complete without the base importing the families above it."""

from . import (  # noqa: F401  (registers the types)
    activation, attention, conv, core, merge, pool, sequence, utility)
from .base import layer_types

__all__ = ["layer_types"]
