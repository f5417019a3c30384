"""Project-level pytest configuration: the conformance plugin for the suite, pytester for the project's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["conformance.pytest_plugin", "pytester"]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No CONFORMANCE_* setting of the caller's shell reaches a test, and any run a test starts writes its
    reports to a temporary directory, never over the last real run's in reports/."""
    import os

    for name in [n for n in os.environ if n.startswith("CONFORMANCE_")]:
        monkeypatch.delenv(name)
    report_dir = tmp_path_factory.mktemp("reports")
    monkeypatch.setenv("CONFORMANCE_REPORT_DIR", str(report_dir))
    return report_dir
