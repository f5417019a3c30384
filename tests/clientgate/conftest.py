from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Once the package is installed its entry point loads the plugin; naming it again would register it twice.
INSTALLED = any(ep.name == "conformance_clientgate" for ep in entry_points(group="pytest11"))
PLUGIN = [*([] if INSTALLED else ["-p", "conformance.clientgate.plugin"]), "-p", "no:cacheprovider"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CONFORMANCE_CLIENTGATE_URL": ""}


def run_session(where: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """A client's own pytest session, in a fresh process, with the gate's plugin loaded as its entry point would."""
    command = [sys.executable, "-m", "pytest", *PLUGIN, "-q", "-p", "no:randomly", *args]
    return subprocess.run(command, cwd=where, env=env(), capture_output=True, text=True, timeout=timeout, check=False)


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of examples/, so sessions write their verdicts in a scratch directory."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.xml"))
    return target
