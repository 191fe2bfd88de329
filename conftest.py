"""Doctests in archspec/ run with the tests (pyproject's testpaths). The runtime modules are
copied into generated files and hold no doctests; collecting them would import torch and Keras
even in the framework-free loop."""

import importlib.util

collect_ignore_glob = [
    "archspec/backends/*_runtime.py",
    # helpers the tests import by name; they import frameworks at the top and hold no doctests
    "tests/*_helpers.py", "tests/*_worker.py", "tests/course_models.py",
]
if importlib.util.find_spec("numpy") is None:
    collect_ignore_glob += ["archspec/weights.py", "archspec/verification.py", "archspec/reference.py",
                            "archspec/reference_check.py"]
