"""Each check fires on a crafted deviating response, naming the rule, what was received and what is documented."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.registry import REGISTRY, load_all
from conformance.findings import Finding, InferredFinding
from conformance.http.exchange import Exchange
from conformance.rules import active_rules, schema_rules
from conformance.verdicts import failed_status
from tests.checks.exchanges import make_exchange, recorder

RW, BG, PT = "capillary-rewards", "capillary-badges", "capillary-points"


def rewards(status: int = 200, body: Any = None, txn: Any = 7) -> Exchange:
    return make_exchange(RW, "revokeUserReward", status=status, body=body, request_json={"txnId": txn})


def ok_status(code: int, success: bool | None = None) -> dict[str, Any]:
    return {"success": code == 200 if success is None else success, "code": code, "message": "m"}


def points(body: Any, status: int = 200, request: Any = None) -> Exchange:
    return make_exchange(
        PT,
        "reversePoints",
        status=status,
        body=body,
        request_json=request or {"redemptionId": "r", "identifier": {"type": "ID", "value": "1"}},
    )


def job(state: str = "revoking", status: int = 202, operation: str = "revokeIssuanceJob", **fields: Any) -> Exchange:
    base = {
        "id": "j",
        "campaign_id": "c",
        "variant_id": "v",
        "state": state,
        "total_count": 2,
        "processed_count": 2,
        "success_count": 1,
        "failure_count": 1,
        "progress_percent": 100,
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "completed_at": None,
    }
    return make_exchange("thanx", operation, status=status, body={"issuance_job": {**base, **fields}})


def juspay(body: Any, status: int = 200, command: str = "revoke") -> Exchange:
    return make_exchange("juspay", "mandateCommand", status=status, body=body, form={"command": command})


SUCCESS = {
    "pointsToBeReversed": 10,
    "pointsReversed": 10,
    "pointsReversedDetails": {"available": 8, "expired": 2},
    "warnings": [],
    "errors": [],
}
CASES = [
    # check, exchange, rule, received (substring), documented (substring)
    ("rewards_http_200", rewards(400, {"status": ok_status(400)}), "REWARDS-HTTP-200", "400", "200"),
    (
        "rewards_status_code",
        rewards(body={"status": ok_status(999)}),
        "REWARDS-STATUS-CODES-DOCUMENTED",
        "999",
        "13005",
    ),
    (
        "rewards_status_code",
        rewards(body={"status": ok_status(13003, True), "txnId": 7}),
        "REWARDS-SUCCESS-IFF-200",
        '"success": true',
        "exactly when",
    ),
    (
        "rewards_cancelled_on_success",
        rewards(body={"status": ok_status(200), "txnId": 7, "state": "ISSUED", "userRewardCount": 1}),
        "REWARDS-CANCELLED-ON-SUCCESS",
        "ISSUED",
        "CANCELLED",
    ),
    (
        "rewards_cancelled_on_success",
        rewards(body={"status": ok_status(1018), "txnId": 7, "state": "CANCELLED"}),
        "REWARDS-CANCELLED-ON-SUCCESS",
        "CANCELLED",
        "only on success",
    ),
    ("rewards_txnid_echo", rewards(body={"status": ok_status(10007), "txnId": 8}), "REWARDS-TXNID-ECHO", "8", "7"),
    (
        "badge_envelope",
        make_exchange(BG, "revokeEarn", body={"badgeMetaId": "b", "isActive": False}),
        "BADGE-ENVELOPE",
        "isActive",
        "envelope",
    ),
    (
        "badge_envelope",
        make_exchange(BG, "revokeEarn", status=400, body={"data": None, "errors": [], "warnings": []}),
        "BADGE-ENVELOPE",
        '"errors": []',
        "errors: [{code",
    ),
    (
        "points_envelope",
        points({"data": SUCCESS, "errors": [], "warnings": []}),
        "POINTS-ENVELOPE",
        '"data"',
        "flat object",
    ),
    (
        "points_envelope",
        points({"errors": [], "warnings": []}, status=400),
        "POINTS-ENVELOPE",
        '"errors": []',
        "failure",
    ),
    (
        "points_error_codes",
        points({"errors": [{"code": 1234, "message": "x"}], "warnings": []}, status=400),
        "POINTS-ERROR-CODES-DOCUMENTED",
        "1234",
        "904",
    ),
    (
        "points_reversed_le_requested",
        points({**SUCCESS, "pointsReversed": 12, "pointsReversedDetails": {"available": 12, "expired": 0}}),
        "POINTS-REVERSED-LE-REQUESTED",
        '"pointsReversed": 12',
        "<= pointsToBeReversed",
    ),
    (
        "points_details_sum",
        points({**SUCCESS, "pointsReversedDetails": {"available": 8, "expired": 1.999}}),
        "POINTS-DETAILS-SUM",
        "1.999",
        "0.0005",
    ),
    (
        "thanx_envelope",
        make_exchange("thanx", "revokeIssuanceJob", status=202, body={"id": "j", "state": "revoking"}),
        "THANX-ENVELOPE",
        '"id": "j"',
        "issuance_job",
    ),
    ("thanx_202_state_revoking", job("completed"), "THANX-202-STATE-REVOKING", "completed", "revoking"),
    (
        "thanx_counters_consistent",
        job(success_count=2),
        "THANX-COUNTERS-CONSISTENT",
        '"success_count": 2',
        "success + failure",
    ),
    (
        "thanx_counters_consistent",
        job(status=200, operation="getIssuanceJob", progress_percent=101),
        "THANX-COUNTERS-CONSISTENT",
        "101",
        "0 ≤ progress_percent ≤ 100",
    ),
    (
        "thanx_timestamps_iso8601",
        job(created_at="15/06/2025 10:30"),
        "THANX-TIMESTAMPS-ISO8601",
        "15/06/2025",
        "ISO 8601",
    ),
    (
        "juspay_status_enum",
        juspay({"mandate_id": "m", "mandate_status": "FAILED"}),
        "JUSPAY-STATUS-ENUM",
        "FAILED",
        "REVOKED",
    ),
]


def schema_cases() -> list[tuple[str, Exchange, str, str, str]]:
    """A body of the wrong JSON type breaks every documented response schema."""
    cases = []
    for api in ("capillary-badges", "capillary-points", "capillary-rewards", "thanx", "juspay"):
        for rule in schema_rules(api):
            status = int(rule.model_extra["status"]) if rule.model_extra else 0
            exchange = make_exchange(api, rule.operation, status=status, body=["not", "the", "documented", "object"])
            name = f"schema_{rule.id.lower().replace('-', '_')}"
            cases.append((name, exchange, rule.id, "problems", f"documented {status} schema"))
    return cases


CASES += schema_cases()


@pytest.mark.parametrize(
    ("name", "exchange", "rule", "received", "documented"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_a_check_fires_on_a_deviating_response(
    name: str, exchange: Exchange, rule: str, received: str, documented: str
) -> None:
    load_all()
    assert REGISTRY[name].applies_to(exchange)
    with recorder() as rec, pytest.raises(Finding) as caught:
        REGISTRY[name].run(exchange, rec)
    finding = caught.value
    assert finding.rule_id == rule
    text = str(finding)
    assert text.startswith(f"{rule}: ")
    received_line = next(line for line in text.splitlines() if line.startswith("Received: "))
    documented_line = next(line for line in text.splitlines() if line.startswith("Documented: "))
    assert received in received_line
    assert documented in documented_line
    assert "curl -X" in text
    # A rule the page states is violated; one the suite inferred or assumed is violated-inferred.
    expected = failed_status(active_rules()[rule].confidence)
    assert [r.status for r in rec.records if r.rule_id == rule][-1] == expected
    assert isinstance(finding, InferredFinding) == (expected == "violated-inferred")


def test_every_check_has_a_firing_case() -> None:
    assert {c[0] for c in CASES} == set(load_all())


def test_every_rule_of_every_check_has_a_firing_case() -> None:
    assert {c[2] for c in CASES} == {rule for check in load_all().values() for rule in check.rules}


def test_a_check_declares_api_operations_rules_and_the_rules_text() -> None:
    from conformance.rules import active_rules

    catalogue = active_rules()
    for check in load_all().values():
        assert check.operations
        assert check.rules
        assert check.doc == " ".join(catalogue[rule].claim for rule in check.rules)


def test_a_revoke_202_missing_a_documented_field_violates_its_schema_rule() -> None:
    body = job().response.json()  # type: ignore[union-attr]
    del body["issuance_job"]["variant_id"]
    exchange = make_exchange("thanx", "revokeIssuanceJob", status=202, body=body)
    with recorder() as rec, pytest.raises(Finding) as caught:
        REGISTRY["schema_thanx_schema_revoke_202"].run(exchange, rec)
    assert caught.value.rule_id == "THANX-SCHEMA-REVOKE-202"
    assert "variant_id" in str(caught.value)
    assert not isinstance(caught.value, InferredFinding), "the job object's fields are documented on the revoke page"


def test_a_mistyped_field_names_the_field() -> None:
    body = job().response.json()  # type: ignore[union-attr]
    body["issuance_job"]["total_count"] = "2"
    exchange = make_exchange("thanx", "revokeIssuanceJob", status=202, body=body)
    with recorder() as rec, pytest.raises(Finding) as caught:
        REGISTRY["schema_thanx_schema_revoke_202"].run(exchange, rec)
    assert "issuance_job.total_count" in str(caught.value)


SILENT = [
    # The pages never tie Capillary errors to an HTTP status: an error in an HTTP 200 envelope conforms.
    (
        "badge_envelope",
        make_exchange(
            BG, "revokeEarn", status=200, body={"data": None, "errors": [{"code": 814, "message": "m"}], "warnings": []}
        ),
    ),
    ("points_envelope", points({"errors": [{"code": 902, "message": "duplicate"}], "warnings": []}, status=200)),
    # "Returned as CANCELLED only when the revoke succeeds": a failure may name another state.
    ("rewards_cancelled_on_success", rewards(body={"status": ok_status(13003), "txnId": 7, "state": "ISSUED"})),
]


@pytest.mark.parametrize(("name", "exchange"), SILENT, ids=[f"{c[0]}-{i}" for i, c in enumerate(SILENT)])
def test_a_doc_compatible_reading_of_a_silence_is_not_a_violation(name: str, exchange: Exchange) -> None:
    with recorder() as rec:
        REGISTRY[name].run(exchange, rec)
    assert [r.status for r in rec.records if not r.rule_id.startswith(("BADGE-GAP", "POINTS-GAP"))] == ["verified"]


def test_a_refusal_without_txnid_is_asked_not_failed() -> None:
    exchange = rewards(body={"status": ok_status(13005)})
    with recorder() as rec:
        REGISTRY["rewards_txnid_echo"].run(exchange, rec)
    assert [(r.rule_id, r.status) for r in rec.records] == [("REWARDS-GAP-TXNID-ON-FAILURE", "undocumented-behaviour")]


def test_a_success_without_txnid_breaks_the_echo() -> None:
    with recorder() as rec, pytest.raises(Finding, match="REWARDS-TXNID-ECHO"):
        REGISTRY["rewards_txnid_echo"].run(rewards(body={"status": ok_status(200), "state": "CANCELLED"}), rec)


def test_an_auth_refusal_in_the_rewards_200_envelope_is_asked_not_failed() -> None:
    exchange = rewards(body={"status": ok_status(401), "txnId": 7})
    with recorder() as rec:
        REGISTRY["rewards_status_code"].run(exchange, rec)
    assert [(r.rule_id, r.status) for r in rec.records] == [
        ("REWARDS-GAP-AUTH-FAILURE-SHAPE", "undocumented-behaviour"),
        ("REWARDS-SUCCESS-IFF-200", "verified"),
    ]


def test_an_unserved_setup_endpoint_is_no_envelope_answer_but_an_unserved_revoke_is() -> None:
    setup = make_exchange(BG, "earnBadge", status=404, raw=b"Not Found")
    with recorder() as rec:
        REGISTRY["badge_envelope"].run(setup, rec)
    assert rec.records == []
    with recorder() as rec, pytest.raises(Finding, match="BADGE-ENVELOPE"):
        REGISTRY["badge_envelope"].run(make_exchange(BG, "revokeEarn", status=404, raw=b"Not Found"), rec)
