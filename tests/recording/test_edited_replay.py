"""An edited recorded response yields its finding and nothing else: the interactions the failed test
never reached are not reported as a second error."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow
# A revoke then read-backs: editing the revoke's answer stops the test before its last interactions.
TEST = "test_revoking_a_completed_job_is_accepted_and_starts_revoking"


def test_an_edited_response_gives_its_finding_and_nothing_else(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    recorded = run_conformance(tmp_path, "--target", "record", "--cassette-dir", str(cassettes), "-k", TEST)
    assert recorded.returncode == 0, recorded.stdout[-3000:]
    (cassette,) = (cassettes / "reference").rglob("*.yaml")
    text = cassette.read_text()
    assert text.count('"state":"revoking"') >= 1
    cassette.write_text(text.replace('"state":"revoking"', '"state":"processing"', 1))

    result = run_conformance(tmp_path, "--target", "replay", "--cassette-dir", str(cassettes), "-k", TEST)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "never requested" not in result.stdout
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    violated = [row["rule_id"] for row in matrix["rows"] if row["verdict"] == "violated"]
    assert violated == ["THANX-202-STATE-REVOKING"]
    suite = ET.parse(tmp_path / "reports" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("1", "0"), "one finding, and no teardown error"
