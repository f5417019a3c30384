"""The committed cassettes replay green offline: the suite's recorded evidence still holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.recording.conftest import REPO, run_conformance

pytestmark = pytest.mark.slow


def test_the_committed_cassettes_replay_green(tmp_path: Path) -> None:
    result = run_conformance(tmp_path, "--target", "replay", "--cassette-dir", str(REPO / "cassettes"))
    assert result.returncode == 0, (
        result.stdout[-4000:] + "\nIf the suite changed on purpose, re-record: python3 noxfile.py -s record"
    )
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    evidence = {e for row in matrix["rows"] for e in row["evidence"]}
    assert evidence
    assert all(e.startswith("replay:") for e in evidence)
