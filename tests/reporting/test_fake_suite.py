"""End to end on a small fake suite: the matrix, parallel workers, shards and their merge, Allure results."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.reporting.allure_bridge import CATEGORIES
from conformance.reporting.html import report_command
from tests.reporting.conftest import GOLDEN, matrix_of, normalise, run_fake


def test_matrix_of_a_run(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = run_fake(fake_suite, reports)
    result.assert_outcomes(passed=10, failed=1, skipped=1)
    matrix = matrix_of(reports)
    verdicts = {row["rule_id"]: row["verdict"] for row in matrix["rows"]}
    assert verdicts == {
        "BADGE-FAKE-PENDING": "verified",
        "BADGE-FAKE-ACTIVE": "verified",
        "POINTS-FAKE-AMOUNT": "verified",
        "POINTS-FAKE-UNTESTED": "untested",
        "REWARDS-FAKE-ECHO": "verified",
        "REWARDS-FAKE-SETUP": "skipped",
        "THANX-FAKE-202": "violated",
        "THANX-FAKE-ID-ECHO": "verified",
        "JUSPAY-FAKE-REVOKE": "verified",
        "JUSPAY-FAKE-ACTIVE-ONLY": "verified",
    }
    rows = {row["rule_id"]: row for row in matrix["rows"]}
    assert "precondition not available on this target" in rows["REWARDS-FAKE-SETUP"]["detail"]
    assert rows["POINTS-FAKE-UNTESTED"]["detail"] == "no test of this run is bound to this rule"
    assert rows["THANX-FAKE-202"]["received"] == "500"
    assert rows["THANX-FAKE-202"]["evidence"] == ["reference"]
    assert len(rows["JUSPAY-FAKE-REVOKE"]["tests"]) == 5
    assert matrix["totals"]["thanx"]["index"] == 1.0
    assert matrix["totals"]["thanx"]["score"] == 0.5
    assert matrix["totals"]["all"]["index"] == 0.8
    assert matrix["tests"]["defects"] == []
    assert [q["gap_id"] for q in matrix["undocumented"]] == ["POINTS-GAP-FAKE-STATUS", "THANX-GAP-FAKE-BODY"]
    assert [q["api"] for q in matrix["undocumented"]] == ["capillary-points", "thanx"]
    questions = (reports / "questions-for-vendor.md").read_text()
    assert "POINTS-GAP-FAKE-STATUS" in questions
    assert "not from the vendor" in questions
    history = (reports / "history.jsonl").read_text().splitlines()
    assert len(history) == 10
    # The terminal summary and the Markdown matrix, pinned (paths and times normalised).
    summary = result.stdout.str()
    summary = summary[summary.index("target: reference") : summary.index("short test summary")].rstrip("= \n")
    check_golden("summary.txt", normalise(summary, reports))
    check_golden("conformance.md", normalise((reports / "conformance.md").read_text(), reports))
    check_golden("questions-for-vendor.md", normalise(questions, reports))


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def test_xdist_workers_end_in_one_matrix(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    run_fake(fake_suite, serial).assert_outcomes(passed=10, failed=1, skipped=1)
    result = run_fake(fake_suite, parallel, "-n", "2", "-v")
    result.assert_outcomes(passed=10, failed=1, skipped=1)
    # Both workers ran tests, and their results reached the controller on the reports, not through files.
    workers = sorted(set(re.findall(r"\[(gw\d)\] \[ *\d+%\] (?:PASSED|FAILED|SKIPPED)", result.stdout.str())))
    assert workers == ["gw0", "gw1"]
    assert sorted(p.name for p in (parallel / "verdicts").iterdir()) == [
        "main.bindings.json",
        "main.jsonl",
        "main.outcomes.json",
    ]
    assert matrix_of(parallel) == matrix_of(serial)


def test_shards_cover_every_test_once_and_merge_to_the_unsharded_matrix(
    fake_suite: pytest.Pytester, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "whole"
    run_fake(fake_suite, whole)
    everything = set(json.loads((whole / "verdicts" / "main.outcomes.json").read_text()))
    shards = [tmp_path / f"shard{k}" for k in (1, 2, 3)]
    seen: list[str] = []
    for k, shard in enumerate(shards, 1):
        run_fake(fake_suite, shard, "--shard", f"{k}/3")
        outcomes = shard / "verdicts" / "main.outcomes.json"
        seen += json.loads(outcomes.read_text()) if outcomes.is_file() else []
    assert sorted(seen) == sorted(everything)  # every test exactly once
    merged = tmp_path / "merged"
    assert report_command(merged, shards, "matrix") == 0
    assert matrix_of(merged) == matrix_of(whole)
    assert "target: reference" in capsys.readouterr().out


def _results(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*-result.json"))]


def _category(result: dict[str, Any]) -> str | None:
    message = (result.get("statusDetails") or {}).get("message", "")
    for cat in CATEGORIES:
        if result["status"] in cat["matchedStatuses"] and re.fullmatch(cat.get("messageRegex", r"[\s\S]*"), message):
            return str(cat["name"])
    return None


def test_allure_results_labels_history_ids_and_metadata(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    runs = []
    for n in (1, 2):
        reports = tmp_path / f"run{n}"
        run_fake(fake_suite, reports, "--alluredir", str(reports / "allure-results"))
        runs.append({str(r["fullName"]) + repr(r["parameters"]): r for r in _results(reports / "allure-results")})
    first, second = runs
    assert len(first) == 12
    ids = {key: str(r["historyId"]) for key, r in first.items()}
    assert len(set(ids.values())) == len(ids), "historyId must be distinct per test node"
    assert ids == {key: str(r["historyId"]) for key, r in second.items()}, "historyId must be stable across runs"
    by_name = {str(r["name"]): r for r in first.values()}
    violated = by_name["test_thanx_202"]
    labels = {(lab["name"], lab["value"]) for lab in violated["labels"]}
    assert ("epic", "Thanx: revoke issuance job") in labels
    assert ("feature", "opThanx") in labels
    assert ("story", "THANX-FAKE-202: The thanx-fake-202 claim | with a pipe.") in labels
    assert ("severity", "critical") in labels
    assert ("tag", "undocumented-behaviour") in {
        (lab["name"], lab["value"]) for lab in by_name["test_thanx_echo"]["labels"]
    }
    params = {p["name"]: p for p in violated["parameters"]}
    assert params["target"]["value"] == "'reference'"
    assert params["seed"]["excluded"] is True
    assert params["operation"]["value"] == "'opThanx'"
    assert _category(by_name["test_thanx_202"]) == "vendor deviates from its documentation"
    assert _category(by_name["test_rewards_setup"]) == "precondition not available on this target"
    assert _category(by_name["test_rewards_echo"]) is None
    results = tmp_path / "run1" / "allure-results"
    env = (results / "environment.properties").read_text()
    assert "target=reference" in env
    assert "spec.thanx.sha256=" in env
    assert "conformance.version=" in env
    categories = json.loads((results / "categories.json").read_text())
    assert [c["name"] for c in categories] == [
        "vendor deviates from its documentation",
        "inferred rule not honoured (violated-inferred, gating only with --strict)",
        "undocumented behaviour",
        "precondition not available on this target",
        "target unreachable",
        "defect in the suite",
    ]


SCHEMATHESIS_TESTS = """
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.conformance
schema = schemathesis.openapi.from_dict({
    "openapi": "3.0.2", "info": {"title": "t", "version": "1"},
    "paths": {
        "/partner/issuance_jobs/{id}/revoke": {"post": {"parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"202": {"description": "ok"}}}},
        "/partner/issuance_jobs/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}}},
    },
})


@schema.parametrize()
@settings(max_examples=1, suppress_health_check=list(HealthCheck), database=None)
def test_thanx(case, fctx):
    pass
"""


def test_history_ids_are_distinct_per_schemathesis_operation(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    fake_suite.makepyfile(test_thanx=SCHEMATHESIS_TESTS)
    runs = []
    for n in (1, 2):
        reports = tmp_path / f"run{n}"
        run_fake(fake_suite, reports, "test_thanx.py", "--alluredir", str(reports / "allure-results"))
        runs.append({str(r["name"]): r for r in _results(reports / "allure-results")})
    first, second = runs
    assert sorted(first) == [
        "test_thanx[GET /partner/issuance_jobs/{id}]",
        "test_thanx[POST /partner/issuance_jobs/{id}/revoke]",
    ]
    assert len({r["historyId"] for r in first.values()}) == 2
    assert {k: r["historyId"] for k, r in first.items()} == {k: r["historyId"] for k, r in second.items()}
    revoke = first["test_thanx[POST /partner/issuance_jobs/{id}/revoke]"]
    labels = {(lab["name"], lab["value"]) for lab in revoke["labels"]}
    assert ("epic", "Thanx: revoke issuance job") in labels
    assert {p["name"]: p["value"] for p in revoke["parameters"]}[
        "operation"
    ] == "'POST /partner/issuance_jobs/{id}/revoke'"
