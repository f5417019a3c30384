"""The README's way in: the command line run from the repository root, as nox does it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recording.conftest import REPO

pytestmark = pytest.mark.slow


def run_from_root(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    cmd = [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp_path / "reports"), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_run_from_the_repository_root_starts_cleanly(tmp_path: Path) -> None:
    result = run_from_root(tmp_path, "--deviation", "thanx-pending-revocable", "-k", "pending")
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert result.returncode == 1, out[-3000:]
    assert "THANX-REVOKE-PENDING-422" in out


def test_an_unknown_deviation_is_a_usage_error(tmp_path: Path) -> None:
    result = run_from_root(tmp_path, "--deviation", "bogus", "-k", "pending")
    out = result.stdout + result.stderr
    assert result.returncode == 2, out[-3000:]
    assert "unknown deviation 'bogus'; choose from" in out
    assert "Traceback" not in out
