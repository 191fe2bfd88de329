"""Tests marked ``reference`` reproduce a reference implementation (keras.applications,
torchvision). Where references are required — ARCHSPEC_REQUIRE_REFERENCES=1, which
.ci/torchvision.sh sets, or CI=true — such a test that skips fails instead, so a missing
package or a broken environment cannot pass CI silently. Elsewhere a skip stays a skip.

tests/conftest.py imports these hooks; tests/test_reference.py runs them in a pytest of their
own.
"""

from __future__ import annotations

import os

import pytest


def references_required() -> bool:
    return os.environ.get("ARCHSPEC_REQUIRE_REFERENCES") == "1" or os.environ.get("CI") == "true"


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "reference: reproduces a reference implementation; a skip fails where "
                   "ARCHSPEC_REQUIRE_REFERENCES=1 or CI=true")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and references_required() and not hasattr(report, "wasxfail")
            and item.get_closest_marker("reference") is not None):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"reference test skipped where references are required "
                       f"(ARCHSPEC_REQUIRE_REFERENCES=1 or CI=true): {reason}")
