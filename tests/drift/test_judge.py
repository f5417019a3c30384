"""Hand-edited copies of committed cassettes: each edit produces exactly the expected finding, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.drift.findings import Finding
from tests.drift.conftest import REFERENCE, CassetteCopies, Interaction, Row, body, report_of, revoke, set_body

BADGES = "test_capillary_badges/test_a_revoked_earn_reads_back_inactive.yaml"
JUSPAY = "test_juspay/test_a_gateway_failure_leaves_the_mandate_active.yaml"
POINTS = "test_capillary_points/test_an_unknown_redemption_is_refused.yaml"
REWARDS_400 = "test_capillary_rewards/test_a_revoke_without_txn_id_is_refused_with_400.yaml"
THANX_REVOKE = "test_thanx/test_a_failed_job_with_no_successes_is_still_revocable.yaml"
REWARDS_PROPERTY = (
    "test_capillary_rewards/test_capillary_rewards_POST_api_gateway_rewards_core_v1_user_reward_revoke.yaml"
)


def shape(findings: list[Finding]) -> set[tuple[str, str, str, str]]:
    return {(f.kind, f.operation, f.pointer, f.detail) for f in findings}


@pytest.mark.parametrize("relative", [BADGES, JUSPAY, POINTS, REWARDS_400, REWARDS_PROPERTY, THANX_REVOKE])
def test_an_unedited_copy_has_no_behavioural_finding(copies: CassetteCopies, relative: str) -> None:
    assert report_of(copies.copy(relative)).findings == []


def test_a_renamed_field_is_one_missing_and_one_undocumented_field(copies: CassetteCopies) -> None:
    def rename(interaction: Interaction, _row: Row) -> None:
        value = body(interaction)
        value["data"]["active"] = value["data"].pop("isActive")
        set_body(interaction, value)

    path, index = copies.edit(BADGES, revoke("revokeEarn", 200), rename)
    findings = report_of(path).findings
    assert shape(findings) == {
        ("missing-field", "revokeEarn", "/data/isActive", "missing-field"),
        ("undocumented-field", "revokeEarn", "/data/active", "undocumented-field"),
    }
    missing = next(f for f in findings if f.kind == "missing-field")
    assert missing.source["page"] == "capillary-badges-revoke-earn.md"
    assert "isActive" in missing.source["quote"]
    assert missing.examples[0]["cassette"].endswith(BADGES)
    assert missing.examples[0]["interaction"] == index
    assert missing.count == 1
    assert missing.first_seen == missing.last_seen
    assert missing.evidence == [{"target": "reference", "host": "reference"}]
    assert not missing.fuzzed


def test_a_changed_status_code_is_an_undocumented_status(copies: CassetteCopies) -> None:
    def to_201(interaction: Interaction, _row: Row) -> None:
        interaction["response"]["status"]["code"] = 201

    path, _ = copies.edit(JUSPAY, revoke("mandateCommand", 200), to_201)
    findings = report_of(path).findings
    assert shape(findings) == {("undocumented-status", "mandateCommand", "", "201")}
    assert findings[0].documented == "one of 200, 400, 401, 404"
    assert findings[0].source["page"] == "juspay-mandate-revoke.md"


def test_an_unknown_error_code_names_the_rule_it_breaks(copies: CassetteCopies) -> None:
    def to_999(interaction: Interaction, _row: Row) -> None:
        value = body(interaction)
        value["errors"][0]["code"] = 999
        set_body(interaction, value)

    path, _ = copies.edit(POINTS, revoke("reversePoints", 400), to_999)
    findings = report_of(path).findings
    assert shape(findings) == {("undocumented-error-code", "reversePoints", "/errors/*/code", "999")}
    assert findings[0].rules == ["POINTS-ERROR-CODES-DOCUMENTED"]
    assert findings[0].source["section"] == "API Specific Error Code"
    rule_source = findings[0].rule_sources[0]
    assert rule_source["pointer"] == "POINTS-ERROR-CODES-DOCUMENTED"
    assert rule_source["page"] == "capillary-points-reverse.md"
    assert rule_source["quote"]


def test_a_200_envelope_with_an_undocumented_status_code_is_a_rejection_with_an_unknown_code(
    copies: CassetteCopies,
) -> None:
    def to_10099(interaction: Interaction, _row: Row) -> None:
        value = body(interaction)
        value["status"]["code"] = 10099
        set_body(interaction, value)

    path, _ = copies.edit(REWARDS_400, revoke("revokeUserReward", 200), to_10099)
    findings = report_of(path).findings
    # HTTP 200 is documented; the envelope's error code is not, and the answer is not taken for a success.
    assert shape(findings) == {("undocumented-error-code", "revokeUserReward", "/status/code", "10099")}
    assert findings[0].rules == ["REWARDS-STATUS-CODES-DOCUMENTED"]
    assert findings[0].source["page"] == "capillary-rewards-user-reward-revoke.md"


def _fuzzed(interaction: Interaction, row: Row) -> bool:
    meta: dict[str, Any] = row.get("meta") or {}
    components = meta.get("case", {}).get("components", {})
    return (
        row.get("operation") == "revokeUserReward"
        and meta.get("generation_mode") == "negative"
        and components.get("BODY") == "negative"
        and interaction["response"]["status"]["code"] == 200
    )


def test_an_invalid_request_answered_with_success_is_a_fuzzed_finding(copies: CassetteCopies) -> None:
    def succeed(interaction: Interaction, _row: Row) -> None:
        set_body(
            interaction,
            {
                "status": {"success": True, "code": 200, "message": "Reward revoked successfully"},
                "state": "CANCELLED",
                "userRewardCount": 1,
            },
        )

    path, index = copies.edit(REWARDS_PROPERTY, _fuzzed, succeed)
    report = report_of(path)
    assert [(f.kind, f.fuzzed) for f in report.findings] == [("invalid-request-accepted", True)]
    finding = report.findings[0]
    assert finding.received == "HTTP 200 with code 200"
    assert finding.detail == "query: violates `additionalProperties`; body: violates `required`"  # values left out
    assert finding.source["section"] == "Request body parameters"
    assert finding.examples[0]["interaction"] == index
    assert finding.examples[0]["mutation"]


def test_the_same_invalid_request_refused_in_the_envelope_is_no_finding(copies: CassetteCopies) -> None:
    """The unedited case was answered HTTP 200 with status.code 400: a rejection, not an acceptance."""
    path = copies.copy(REWARDS_PROPERTY)
    report = report_of(path)
    assert report.findings == []
    assert not [q for q in report.questions if q.kind == "invalid-request-accepted"]


def test_the_committed_recordings_have_conflicts_and_gaps_and_no_behavioural_finding() -> None:
    report = report_of(REFERENCE)
    assert report.findings == []
    conflict_ids = {c.id for c in report.conflicts}
    assert {"REWARDS-CONFLICT-HTTP-200-AUTH", "BADGE-CONFLICT-REVOKEEARN-PATH"} <= conflict_ids
    assert all(c.category == "conflict" and c.documented for c in report.conflicts)
    observed = {g["id"] for g in report.gaps if g["observed"]}
    assert {"REWARDS-GAP-AUTH-FAILURE-SHAPE", "BADGE-GAP-MISSING-BODY-FIELD"} <= observed
    # One question per gap and behaviour: the fuzzed missing-field cases and the scenario share one.
    asked = [(q.gap, q.detail) for q in report.questions if q.gap]
    assert len(asked) == len(set(asked))
    assert report.exit_code == 0


def _code(field: str, value: str) -> Callable[[Interaction, Row], None]:
    def change(interaction: Interaction, _row: Row) -> None:
        data = body(interaction)
        target = data["error"] if field == "error.code" else data
        target["code" if field == "error.code" else field] = value
        set_body(interaction, data)

    return change


@pytest.mark.parametrize(
    ("relative", "operation", "status", "field"),
    [
        ("test_thanx/test_an_unknown_job_is_not_found.yaml", "revokeIssuanceJob", 404, "error.code"),
        (
            "test_juspay/test_a_mandate_that_is_not_active_is_refused_with_400_PAUSED.yaml",
            "mandateCommand",
            400,
            "error_code",
        ),
    ],
    ids=["thanx", "juspay"],
)
def test_an_unknown_thanx_or_juspay_code_is_a_question_where_only_the_notes_list_codes(
    copies: CassetteCopies, relative: str, operation: str, status: int, field: str
) -> None:
    """Their code tables come from the project's notes, which record only what the suite needs: asked, not failed."""
    path, _ = copies.edit(relative, revoke(operation, status), _code(field, "SOMETHING_NEW"))
    report = report_of(path)
    assert report.findings == []
    asked = [q for q in report.questions if q.kind == "undocumented-error-code"]
    assert [(q.operation, q.detail) for q in asked] == [(operation, "SOMETHING_NEW")]
    assert "SOMETHING_NEW" in asked[0].question


def test_a_cassette_without_sidecar_is_matched_by_method_and_path(copies: CassetteCopies) -> None:
    def to_999(interaction: Interaction, _row: Row) -> None:
        value = body(interaction)
        value["errors"][0]["code"] = 999
        set_body(interaction, value)

    path, _ = copies.edit(POINTS, revoke("reversePoints", 400), to_999)
    path.with_suffix(".meta.json").unlink()
    findings = report_of(path).findings
    assert shape(findings) == {("undocumented-error-code", "reversePoints", "/errors/*/code", "999")}


def test_a_broken_rule_without_a_contract_difference_stands_on_its_own(copies: CassetteCopies) -> None:
    """Counters that do not add up break THANX-COUNTERS-CONSISTENT while every field keeps its documented type."""

    def miscount(interaction: Interaction, _row: Row) -> None:
        value = body(interaction)
        value["issuance_job"]["success_count"] = value["issuance_job"]["processed_count"] + 1
        set_body(interaction, value)

    path, _ = copies.edit(THANX_REVOKE, revoke("revokeIssuanceJob", 202), miscount)
    report = report_of(path)
    # The rule is inferred (the page names the counters, not how they add up): its break is asked, not gated.
    assert report.findings == []
    [asked] = [q for q in report.questions if "THANX-COUNTERS-CONSISTENT" in q.rules]
    assert (asked.kind, asked.operation) == ("rule-violated", "revokeIssuanceJob")
    assert "violated-inferred" in asked.question
    assert asked.source["spec"] == "rules/thanx.yaml"
    assert asked.source["quote"]
