import importlib.util
import os
import sys
from pathlib import Path

# triton (which torchvision imports) crashes the process when it loads after TensorFlow: load
# it first wherever it is installed (the torchvision environment of .ci/torchvision.sh).
if importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401

import pytest

# Shared test helpers (spec_strategies, torch_helpers) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_policy import (  # noqa: E402,F401 - hooks pytest finds here by name
    pytest_configure,
    pytest_runtest_makereport,
)

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

# torchvision's wheels need another torch than constraints.txt pins; its tests run in the
# environment .ci/torchvision.sh builds. Elsewhere they are left out, unless required (then a
# missing torchvision fails them).
HAVE_TORCHVISION = importlib.util.find_spec("torchvision") is not None
collect_ignore = [] if HAVE_TORCHVISION or os.environ.get("ARCHSPEC_REQUIRE_REFERENCES") == "1" \
    else ["test_torchvision.py"]


def pytest_report_header(config) -> str | None:
    if "test_torchvision.py" in collect_ignore:
        return ("torchvision is not installed: tests/test_torchvision.py is not collected "
                "(.ci/torchvision.sh runs it in .venv-tv)")
    return None


@pytest.fixture
def spec_dir() -> Path:
    return SPECS
