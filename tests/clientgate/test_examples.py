"""The example client passes with a clean verdict and a coverage table; the wrong client fails once per broken rule."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.clientgate.conftest import load, run_session

WRONG_RULES = ["JUSPAY-FORM-ENCODED", "JUSPAY-STATUS-BEFORE-RESEND", "REWARDS-TXNID-INTEGER", "THANX-ACCEPT-VERSION"]


def test_the_example_client_passes_with_a_clean_verdict_and_a_coverage_table(example: Path) -> None:
    result = run_session(example / "revoke_client", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 passed" in result.stdout
    assert "no breach" in result.stdout
    assert "verdict: PASSED" in result.stdout
    assert "202, then polled until revoked" in result.stdout
    assert "coverage:" in result.stdout
    verdict = load(example / "revoke_client" / "clientgate-verdict.json")
    assert verdict["passed"] is True
    assert verdict["breaches"] == []
    rows = {row["key"]: row for row in verdict["coverage"]["rows"]}
    for key in ("thanx:polled-revoked", "rewards:1018-retried", "juspay:lost-answer", "any:429-waited"):
        assert (rows[key]["produced"] >= 1, rows[key]["handled"] >= 1, rows[key]["mishandled"]) == (True, True, 0), key
    for key in ("juspay:gateway-failure", "juspay:gateway-failure-implicit", "badges:814", "points:902"):
        assert rows[key]["produced"] >= 1, key
    junit = ET.parse(example / "revoke_client" / "clientgate-verdict.xml").getroot()
    assert junit.get("failures") == "0"
    assert len(junit.findall("testcase")) == len(verdict["judged_rules"]) + 1


def test_the_wrong_client_fails_the_session_naming_each_broken_rule(example: Path) -> None:
    result = run_session(example / "wrong_client")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "4 passed" in result.stdout  # its own tests pass: only the gate fails the session
    for rule in WRONG_RULES:
        assert f"\n{rule} (" in result.stdout, rule
    verdict = load(example / "wrong_client" / "clientgate-verdict.json")
    assert verdict["passed"] is False
    assert verdict["exit_code"] == 1
    assert [b["rule_id"] for b in verdict["breaches"]] == WRONG_RULES
    assert all(b["quote"] and b["source"] and b["request"]["curl"].startswith("curl") for b in verdict["breaches"])
    blob = (example / "wrong_client" / "clientgate-verdict.json").read_text()
    assert "conformance_juspay_key" not in blob
    assert "conformance-thanx-token" not in blob
    failures = [
        c.get("name")
        for c in ET.parse(example / "wrong_client" / "clientgate-verdict.xml").iter("testcase")
        if c.find("failure") is not None
    ]
    assert sorted(failures) == WRONG_RULES


@pytest.mark.slow
def test_two_workers_give_the_verdict_of_one(example: Path) -> None:
    serial = run_session(example / "revoke_client", "tests", "--clientgate-verdict", "serial.json")
    parallel = run_session(example / "revoke_client", "tests", "-n", "2", "--clientgate-verdict", "parallel.json")
    assert (serial.returncode, parallel.returncode) == (0, 0), parallel.stdout + parallel.stderr
    one, two = load(example / "revoke_client" / "serial.json"), load(example / "revoke_client" / "parallel.json")
    assert two["requests"] == one["requests"]
    assert [(r["key"], r["produced"], r["handled"]) for r in two["coverage"]["rows"]] == [
        (r["key"], r["produced"], r["handled"]) for r in one["coverage"]["rows"]
    ]
    wrong = run_session(example / "wrong_client", "-n", "2")
    assert wrong.returncode == 1
    assert [b["rule_id"] for b in load(example / "wrong_client" / "clientgate-verdict.json")["breaches"]] == WRONG_RULES


def test_min_coverage_fails_a_clean_session_below_it(example: Path) -> None:
    result = run_session(example / "revoke_client", "tests", "--clientgate-min-coverage", "90")
    assert result.returncode == 1
    assert "below --min-coverage 90.0%" in result.stdout
    assert load(example / "revoke_client" / "clientgate-verdict.json")["coverage_ok"] is False
