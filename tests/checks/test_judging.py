"""One judge per rule, and what a failed verdict is called: violated, violated-inferred, or a passed deadline."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.registry import REGISTRY, load_all, rule_owners, run_checks
from conformance.context import ScenarioContext
from conformance.errors import InternalError, PreconditionUnavailable
from conformance.findings import Finding, InferredFinding
from conformance.verdicts import VerdictRecord, expect_equal, verdict
from tests.checks.exchanges import make_exchange, recorder


def test_every_rule_a_check_claims_has_exactly_that_one_owner() -> None:
    owners = rule_owners()
    for check in load_all().values():
        assert all(owners[rule] == check.name for rule in check.rules)


def test_a_scenario_may_not_judge_a_rule_a_check_owns() -> None:
    with recorder() as rec:
        rec.owners = rule_owners()
        with pytest.raises(InternalError, match=r"BADGE-ENVELOPE.*badge_envelope"):
            verdict("BADGE-ENVELOPE", ok=True, received={}, documented={})
    assert rec.records == []


def test_the_owning_check_judges_through_the_observer() -> None:
    exchange = make_exchange("capillary-badges", "revokeEarn", body={"data": {"a": 1}, "errors": [], "warnings": []})
    with recorder() as rec:
        rec.owners = rule_owners()
        run_checks(exchange, rec)
    assert {r.rule_id: r.status for r in rec.records}["BADGE-ENVELOPE"] == "verified"


def test_a_rule_judged_by_two_checks_is_refused() -> None:
    with recorder() as rec:
        run_checks(
            make_exchange("capillary-badges", "revokeEarn", body={"data": {}, "errors": [], "warnings": []}), rec
        )
        with pytest.raises(InternalError, match="judged by badge_envelope and again by the test itself"):
            expect_equal("BADGE-ENVELOPE", 1, 1)
    assert [r.rule_id for r in rec.records].count("BADGE-ENVELOPE") == 1


def test_a_failed_documented_rule_is_violated_and_an_inferred_one_violated_inferred() -> None:
    with recorder() as rec:
        with pytest.raises(Finding) as documented:
            expect_equal("THANX-REVOKE-PENDING-422", 202, 422)
        with pytest.raises(InferredFinding) as inferred:
            expect_equal("POINTS-DUPLICATE-902", [], [902])
    assert not isinstance(documented.value, InferredFinding)
    assert "violated-inferred" in str(inferred.value)
    assert "--strict" in str(inferred.value)
    assert [r.status for r in rec.records] == ["violated", "violated-inferred"]


class FakeTarget:
    settings: Any = None
    run_id = "r"


def context(rec: Any) -> ScenarioContext:
    from conformance.settings import Settings

    target: Any = FakeTarget()
    target.settings = Settings(poll_interval_s=0.001)
    return ScenarioContext(target, "tenant", rec)


def test_a_passed_deadline_of_an_eventual_state_violates_its_rule_with_the_last_state() -> None:
    with recorder() as rec:
        ctx = context(rec)
        with pytest.raises(Finding) as caught:
            ctx.poll(
                lambda: "revoking",
                lambda s: s == "revoked",
                what="job j",
                rule="THANX-EVENTUALLY-REVOKED",
                deadline_s=0.01,
                describe=lambda s: f"state {s!r}",
            )
    assert caught.value.rule_id == "THANX-EVENTUALLY-REVOKED"
    assert "last seen: state 'revoking'" in str(caught.value)
    assert "waited" in str(caught.value)
    assert rec.records[-1].status == "violated"  # "revoking state while rewards are being revoked": it ends


def test_a_passed_deadline_of_a_precondition_skips() -> None:
    with recorder() as rec, pytest.raises(PreconditionUnavailable, match="last seen"):
        context(rec).poll(lambda: "pending", lambda s: s == "completed", what="job j", deadline_s=0.01)
    assert rec.records == []


def test_a_readback_that_cannot_tell_skips_the_rule_and_asks() -> None:
    with recorder() as rec:
        context(rec).cannot_tell("REWARDS-STATE-READBACK", "REWARDS-GAP-ISSUAL-SHAPE", received={}, note="no list")
    assert [(r.rule_id, r.status) for r in rec.records] == [
        ("REWARDS-GAP-ISSUAL-SHAPE", "undocumented-behaviour"),
        ("REWARDS-STATE-READBACK", "skipped"),
    ]
    assert "no list" in (rec.records[-1].detail or "")


def test_the_registry_holds_a_schema_check_per_schema_rule() -> None:
    from conformance.rules import schema_rules

    load_all()
    ids = {rule.id for api in ("thanx", "juspay") for rule in schema_rules(api)}
    assert ids <= {rule for check in REGISTRY.values() for rule in check.rules}
    assert "THANX-SCHEMA-REVOKE-202" in ids


def inferred_run(tmp_path: Any, *, strict: bool) -> Any:
    from conformance.reporting.matrix import CaseOutcome, RuleInfo, build_matrix, write_json
    from conformance.reporting.render import render_markdown, render_summary

    info = RuleInfo(
        api="capillary-points",
        rule_id="POINTS-A",
        claim="c",
        kind="precondition",
        operation="op",
        severity="critical",
        source="p § s",
        confidence="assumed",
    )
    records = [VerdictRecord(rule_id="POINTS-A", status="violated-inferred", test="t::a", received="r", documented="d")]
    outcomes = {"t::a": CaseOutcome(outcome="failed", finding=True)}
    matrix = build_matrix(
        [info], records, {"t::a": ["POINTS-A"]}, target="reference", seed=1, outcomes=outcomes, strict=strict
    )
    write_json(matrix, tmp_path / "conformance.json")
    return matrix, render_markdown(matrix), render_summary(matrix, [])


def test_a_violated_inferred_rule_is_shown_and_gates_only_when_strict(tmp_path: Any) -> None:
    from conformance.runner import OK, VIOLATIONS, exit_code_for

    matrix, markdown, summary = inferred_run(tmp_path, strict=False)
    assert matrix.rows[0].verdict == "violated-inferred"
    assert (matrix.totals["all"].violated, matrix.totals["all"].violated_inferred) == (0, 1)
    assert matrix.gating == []
    assert "## Violations of inferred rules" in markdown
    assert "- Received: `r`" in markdown
    assert "violated-inferred (rules the page implies, not states; not gating without --strict): POINTS-A" in summary
    assert exit_code_for(pytest.ExitCode.TESTS_FAILED, tmp_path, None)[0] == OK
    matrix, _, summary = inferred_run(tmp_path, strict=True)
    assert matrix.gating == ["POINTS-A"]
    assert "gating: --strict" in summary
    assert exit_code_for(pytest.ExitCode.TESTS_FAILED, tmp_path, None) == (VIOLATIONS, "1 rule(s) violated: POINTS-A")


def test_strict_is_a_setting_with_cli_and_environment() -> None:
    from conformance.settings import build_settings

    assert build_settings({}, env={}).strict is False
    assert build_settings({}, env={"CONFORMANCE_STRICT": "1"}).strict is True
    assert build_settings({"strict": True}, env={}).strict is True


def test_asking_for_a_check_owned_rule_no_answer_gave_skips_it_with_the_reason() -> None:
    with recorder() as rec:
        ctx = context(rec)
        ctx.judged("THANX-SCHEMA-GETISSUANCEJOB-401")
    assert [(r.rule_id, r.status) for r in rec.records] == [("THANX-SCHEMA-GETISSUANCEJOB-401", "skipped")]
    assert "schema_thanx_schema_getissuancejob_401" in (rec.records[0].detail or "")


def test_a_scenario_defers_the_observers_findings_so_its_own_judges_record_too() -> None:
    bad = make_exchange("capillary-badges", "revokeEarn", status=400, body={"data": None, "errors": []})
    with recorder() as rec:
        ctx = context(rec)
        ctx.defer_check_findings = True
        ctx._check(bad)  # no raise: the scenario goes on to judge its own rules
        with pytest.raises(Finding, match="BADGE-REVOKE-INACTIVE"):
            expect_equal("BADGE-REVOKE-INACTIVE", 400, 200)
        deferred = ctx.first_pending()
    assert deferred is not None
    assert deferred.rule_id == "BADGE-ENVELOPE"
    assert ctx.first_pending() is None
    assert [r.rule_id for r in rec.records if r.status == "violated"] == ["BADGE-ENVELOPE", "BADGE-REVOKE-INACTIVE"]


def test_without_deferral_the_observers_finding_is_raised_at_once() -> None:
    bad = make_exchange("capillary-badges", "revokeEarn", status=400, body={"data": None, "errors": []})
    with recorder() as rec, pytest.raises(Finding, match="BADGE-ENVELOPE"):
        context(rec)._check(bad)
