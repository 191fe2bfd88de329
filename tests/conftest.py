import sys
from pathlib import Path

import pytest

# Shared test helpers (spec_strategies, torch_helpers) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture
def spec_dir() -> Path:
    return SPECS
