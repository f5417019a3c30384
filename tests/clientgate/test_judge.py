"""Each request rule, on single requests: a documented request passes, each breaking change names its rule."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from conformance.clientgate.judge import Judge
from conformance.clientgate.rules import JUDGED_RULES
from conformance.clientgate.traffic import Seen
from conformance.rules import active_rules

CAPILLARY = {"authorization": "Basic " + base64.b64encode(b"till:0123456789abcdef").decode()}
THANX = {
    "authorization": "Bearer tok",
    "x-clientid": "cid",
    "accept-version": "v4.0",
    "content-type": "application/json",
}
JUSPAY = {
    "authorization": "Basic " + base64.b64encode(b"key:").decode(),
    "x-merchantid": "m1",
    "x-routing-id": "customer_1",
    "content-type": "application/x-www-form-urlencoded",
}


def seen(
    path: str,
    headers: dict[str, str],
    body: bytes | dict[str, Any] = b"",
    *,
    method: str = "POST",
    query: str = "",
    status: int = 200,
    response: dict[str, Any] | None = None,
    delivered: bool = True,
    started: float = 0.0,
) -> Seen:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Seen(
        method,
        path,
        query,
        tuple(headers.items()),
        raw,
        status,
        (),
        json.dumps(response or {}).encode(),
        delivered,
        started,
        started + 0.01,
    )


BADGE = ("/api_gateway/v1/badges/customer/revokeEarn", {"badgeMetaId": "b", "customerId": 1, "earnedBadgeId": "e"})
POINTS = ("/v2/points/reverse", {"redemptionId": "r", "identifier": {"type": "ID", "value": "1"}})
REWARDS = ("/api_gateway/rewards/core/v1/user/reward/revoke", {"txnId": 42})
THANX_REVOKE = ("/partner/issuance_jobs/job_1/revoke", {"merchant_id": "m"})
MANDATE = ("/mandates/M1", b"command=revoke")

GOOD = [
    seen(BADGE[0], CAPILLARY | {"content-type": "application/json"}, BADGE[1]),
    seen(POINTS[0], CAPILLARY | {"content-type": "application/json"}, POINTS[1]),
    seen(REWARDS[0], CAPILLARY | {"content-type": "application/json"}, REWARDS[1]),
    seen(THANX_REVOKE[0], THANX, THANX_REVOKE[1], status=202),
    seen("/partner/issuance_jobs/job_1", THANX, method="GET", query="merchant_id=m"),
    seen(MANDATE[0], JUSPAY, MANDATE[1]),
    seen(MANDATE[0], JUSPAY, b"command=revoke&should_do_implicit_revoke=True"),
]


def breaches(*requests: Seen) -> list[str]:
    judge = Judge()
    for request in requests:
        judge.observe(request)
    return sorted({b["rule_id"] for b in judge.part()["breaches"]})


def test_every_judged_rule_is_an_active_catalogue_rule() -> None:
    assert set(JUDGED_RULES) <= set(active_rules())
    assert len(set(JUDGED_RULES)) == len(JUDGED_RULES)


def test_documented_requests_break_nothing() -> None:
    assert breaches(*GOOD) == []


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


BROKEN = [
    ("THANX-ACCEPT-VERSION", seen(THANX_REVOKE[0], THANX | {"accept-version": "v3"}, THANX_REVOKE[1])),
    ("THANX-CLIENTID-SENT", seen(THANX_REVOKE[0], _without(THANX, "x-clientid"), THANX_REVOKE[1])),
    ("THANX-BEARER-AUTH", seen(THANX_REVOKE[0], THANX | {"authorization": "Basic abc"}, THANX_REVOKE[1])),
    ("THANX-CONTENT-TYPE-JSON", seen(THANX_REVOKE[0], THANX | {"content-type": "text/plain"}, THANX_REVOKE[1])),
    ("THANX-MERCHANT-REQUIRED", seen(THANX_REVOKE[0], THANX, {})),
    ("THANX-GET-MERCHANT-REQUIRED", seen("/partner/issuance_jobs/job_1", THANX, method="GET")),
    ("BADGE-AUTH-REQUIRED", seen(BADGE[0], {"content-type": "application/json"}, BADGE[1])),
    ("BADGE-BODY-EARNEDBADGEID-REQUIRED", seen(BADGE[0], CAPILLARY, {"badgeMetaId": "b", "customerId": 1})),
    ("BADGE-IDENTIFIER-SUPPORTED-VALUES", seen(BADGE[0], CAPILLARY | {"x-cap-customer-identifier": "phone"}, BADGE[1])),
    (
        "POINTS-BODY-IDENTIFIER-TYPE-REQUIRED",
        seen(POINTS[0], CAPILLARY, {"redemptionId": "r", "identifier": {"value": "1"}}),
    ),
    ("REWARDS-TXNID-INTEGER", seen(REWARDS[0], CAPILLARY, {"txnId": "42"})),
    ("REWARDS-TXNID-REQUIRED-400", seen(REWARDS[0], CAPILLARY, {})),
    (
        "JUSPAY-BASIC-AUTH",
        seen(MANDATE[0], JUSPAY | {"authorization": "Basic " + base64.b64encode(b"key:pw").decode()}, MANDATE[1]),
    ),
    ("JUSPAY-MERCHANTID-REQUIRED", seen(MANDATE[0], _without(JUSPAY, "x-merchantid"), MANDATE[1])),
    ("JUSPAY-FORM-ENCODED", seen(MANDATE[0], JUSPAY | {"content-type": "application/json"}, {"command": "revoke"})),
    ("JUSPAY-COMMAND-REQUIRED", seen(MANDATE[0], JUSPAY, b"should_do_implicit_revoke=True")),
    ("JUSPAY-ROUTING-ID-SENT", seen(MANDATE[0], _without(JUSPAY, "x-routing-id"), MANDATE[1])),
    ("JUSPAY-IMPLICIT-REVOKE-VALUE", seen(MANDATE[0], JUSPAY, b"command=revoke&should_do_implicit_revoke=yes")),
]


@pytest.mark.parametrize(("rule", "request_"), BROKEN, ids=[rule for rule, _ in BROKEN])
def test_a_breaking_request_names_exactly_its_rule(rule: str, request_: Seen) -> None:
    assert breaches(request_) == [rule]


def test_a_second_routing_id_for_the_same_mandate_breaks_consistency() -> None:
    other = seen(MANDATE[0], JUSPAY | {"x-routing-id": "customer_2"}, b"command=check_status", started=1)
    assert breaches(seen(MANDATE[0], JUSPAY, MANDATE[1]), other) == ["JUSPAY-ROUTING-ID-CONSISTENT"]


def test_a_revoke_resent_after_a_lost_answer_is_blind_unless_the_status_was_read() -> None:
    lost = seen(MANDATE[0], JUSPAY, MANDATE[1], delivered=False, started=0)
    resent = seen(MANDATE[0], JUSPAY, MANDATE[1], started=1)
    status = seen(MANDATE[0], JUSPAY, b"command=check_status", started=1)
    assert breaches(lost, resent) == ["JUSPAY-STATUS-BEFORE-RESEND"]
    # The re-send can be answered before the lost revoke ends: it is judged when the lost one is seen.
    assert breaches(resent, lost) == ["JUSPAY-STATUS-BEFORE-RESEND"]
    assert breaches(lost, status, seen(MANDATE[0], JUSPAY, MANDATE[1], started=2)) == []


def test_a_429_retried_before_retry_after_is_mishandled() -> None:
    judge = Judge()
    limited = Seen(
        "POST",
        THANX_REVOKE[0],
        "",
        tuple(THANX.items()),
        b'{"merchant_id":"m"}',
        429,
        (("retry-after", "2"),),
        b"{}",
        True,
        0.0,
        0.0,
    )
    judge.observe(limited)
    judge.observe(seen(THANX_REVOKE[0], THANX, THANX_REVOKE[1], status=202, started=0.5))
    assert judge.part()["tallies"]["any:429-waited"] == {"produced": 1, "handled": 0, "mishandled": 1}


def test_secrets_never_reach_a_breach() -> None:
    judge = Judge(["topsecret-token"])
    judge.observe(
        seen(THANX_REVOKE[0], _without(THANX, "accept-version") | {"x-extra": "topsecret-token"}, THANX_REVOKE[1])
    )
    blob = json.dumps(judge.part())
    assert "topsecret-token" not in blob
    assert "Bearer tok" not in blob
