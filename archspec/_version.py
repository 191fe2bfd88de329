"""The package version, where generated files and the facade both read it."""

__version__ = "0.1.0"
