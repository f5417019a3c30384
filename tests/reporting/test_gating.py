"""The runner's exit codes as the matrix and the baseline decide them."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reporting.matrix import CaseOutcome, Matrix, RuleInfo, build_matrix
from conformance.reporting.outcome import RunState, decide
from conformance.runner import INTERNAL, OK, USAGE, VIOLATIONS
from conformance.verdicts import VerdictRecord

INFO = RuleInfo(
    api="thanx",
    rule_id="THANX-A",
    claim="c",
    kind="transition",
    operation="op",
    severity="critical",
    source="p § s",
    confidence="documented",
)
FAILED = pytest.ExitCode.TESTS_FAILED


def report(tmp_path: Path, *, violated: bool, defect: bool = False) -> Matrix:
    records = [VerdictRecord(rule_id="THANX-A", status="violated" if violated else "verified", test="t::a")]
    outcomes = {"t::a": CaseOutcome(outcome="failed" if violated else "passed", finding=violated)}
    if defect:
        outcomes["t::b"] = CaseOutcome(outcome="error")
    return build_matrix([INFO], records, {"t::a": ["THANX-A"]}, target="reference", seed=1, outcomes=outcomes)


def exit_code_for(pytest_code: int, matrix: Matrix | None, baseline: Path | None) -> tuple[int, str]:
    final = decide(int(pytest_code), matrix, RunState(), baseline, min_index=None)
    return final.code, final.reason


def baseline(tmp_path: Path, expires: str) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text(f"- {{rule: THANX-A, reason: ticket, expires: {expires}}}\n")
    return path


def test_violation_fails(tmp_path: Path) -> None:
    code, message = exit_code_for(FAILED, report(tmp_path, violated=True), None)
    assert (code, message) == (VIOLATIONS, "1 rule(s) violated: THANX-A")


def test_accepted_violation_passes_even_though_its_test_failed(tmp_path: Path) -> None:
    code, message = exit_code_for(FAILED, report(tmp_path, violated=True), baseline(tmp_path, "2999-01-01"))
    assert code == OK
    assert "accepted by the baseline: THANX-A" in message


def test_expired_acceptance_fails(tmp_path: Path) -> None:
    code, message = exit_code_for(FAILED, report(tmp_path, violated=True), baseline(tmp_path, "2000-01-01"))
    assert code == VIOLATIONS
    assert "acceptance expired: THANX-A" in message


def test_accepted_violation_beside_a_defect_is_a_defect(tmp_path: Path) -> None:
    code, _ = exit_code_for(FAILED, report(tmp_path, violated=True, defect=True), baseline(tmp_path, "2999-01-01"))
    assert code == INTERNAL


def test_failures_without_violation_are_a_defect(tmp_path: Path) -> None:
    assert exit_code_for(FAILED, report(tmp_path, violated=False, defect=True), None)[0] == INTERNAL


def test_no_tests_is_usage(tmp_path: Path) -> None:
    assert exit_code_for(pytest.ExitCode.NO_TESTS_COLLECTED, None, None)[0] == USAGE


def test_malformed_baseline_is_a_usage_error_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    bad = tmp_path / "b.yaml"
    bad.write_text("- {rule: THANX-A}\n")
    assert main(["run", "--report-dir", str(tmp_path / "r"), "--baseline", str(bad)]) == USAGE
    err = capsys.readouterr().err
    assert "Entry 1 of the baseline file" in err
    assert not (tmp_path / "r" / "junit.xml").exists()


def test_a_ci_gate_on_a_written_matrix_never_passes_an_incomplete_run(tmp_path: Path) -> None:
    from conformance.reporting.matrix import write_json
    from conformance.runner import exit_code_for as gate

    complete = report(tmp_path, violated=False)
    write_json(complete, tmp_path / "conformance.json")
    assert gate(1, tmp_path, None) == (OK, "no violation")
    complete.outcome = "interrupted (SIGTERM)"
    write_json(complete, tmp_path / "conformance.json")
    assert gate(1, tmp_path, None) == (143, "the run did not complete: interrupted (SIGTERM)")
    assert gate(1, tmp_path / "missing", None)[0] == INTERNAL
