"""Checks of capillary's documented conventions.

Capillary has three envelopes: rewards answers HTTP 200 with the outcome in ``status``; badges
wraps everything in ``{data, errors, warnings}``; points v2 is flat with ``errors``/``warnings``.
The pages describe the services' own outcomes. Answers the API gateway gives before a service
runs (401/403 auth, 429 rate limit, 5xx) are recorded as observations against the documented
gaps and judged by the auth and rate-limit scenarios, never by an envelope check.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checks.judge import Judge
from conformance.checks.registry import check
from conformance.http.exchange import Exchange

REWARDS = "capillary-rewards"
BADGES = "capillary-badges"
POINTS = "capillary-points"
BADGE_OPERATIONS = ("revokeEarn", "earnBadge", "getCustomerBadges")

# REWARDS "API-specific error codes" table: the status.code values the revoke may answer with.
REWARDS_CODES = frozenset({200, 400, 13005, 13003, 10007, 10008, 1018})
# The answers the page shows echoing txnId: the success and the 1018 example.
ECHOING_CODES = frozenset({200, 1018})
# POINTS "API Specific Error Code" table: the 16 codes of POST /v2/points/reverse.
POINTS_CODES = frozenset({804, 817, 818, 827, 878, 885, 886, 887, 888, 896, 898, 899, 901, 902, 903, 904})
BADGE_REVOKE_CODES = frozenset({814})
POINTS_TOLERANCE = 0.0005  # points carry at most three decimals
GATEWAY_STATUSES = frozenset({401, 403, 429})
AUTH_GAP = {
    REWARDS: "REWARDS-GAP-AUTH-FAILURE-SHAPE",
    BADGES: "BADGE-GAP-AUTH-FAILURE",
    POINTS: "POINTS-GAP-AUTH-FAILURE",
}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def request_json(exchange: Exchange) -> dict[str, Any]:
    """The request's JSON object body, or {} when it had none (or not an object)."""
    try:
        value = json.loads(exchange.request.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def gateway_answer(exchange: Exchange, api: str, judge: Judge) -> bool:
    """True (after recording an observation) for an auth, rate-limit or server-error answer."""
    status = exchange.status
    if status is None or (status not in GATEWAY_STATUSES and status < 500):
        return False
    gap = AUTH_GAP[api] if status in (401, 403) else f"{AUTH_GAP[api].split('-GAP-')[0]}-GATEWAY-{status}"
    judge.observe(
        gap,
        received={"status": status, "body": exchange.json()},
        exchange=exchange,
        note="an answer of the API gateway, not of the service the page documents",
    )
    return True


def is_error_item(item: Any) -> bool:
    return isinstance(item, dict) and is_int(item.get("code")) and isinstance(item.get("message"), str)


def body_text(exchange: Exchange) -> Any:
    body = exchange.json()
    if body is not None:
        return body
    return exchange.response.text[:200] if exchange.response is not None else None


# ---------------------------------------------------------------------------------------------
# Rewards: POST /api_gateway/rewards/core/v1/user/reward/revoke


def rewards_status(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.json()
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, dict) else None


@check(api=REWARDS, operations=["revokeUserReward"], rules=["REWARDS-HTTP-200"])
def rewards_http_200(exchange: Exchange, judge: Judge) -> None:
    """Every revokeUserReward answer, success or failure, has HTTP status 200."""
    if gateway_answer(exchange, REWARDS, judge):
        return
    judge.expect_equal("REWARDS-HTTP-200", exchange.status, 200, exchange)


@check(
    api=REWARDS, operations=["revokeUserReward"], rules=["REWARDS-STATUS-CODES-DOCUMENTED", "REWARDS-SUCCESS-IFF-200"]
)
def rewards_status_code(exchange: Exchange, judge: Judge) -> None:
    """Every status.code of a revokeUserReward answer is one of 200, 400, 13005, 13003, 10007, 10008, 1018. status.success is true exactly when status.code is 200."""
    if exchange.status != 200:
        return
    status = rewards_status(exchange)
    code = status.get("code") if status else None
    documented = sorted(REWARDS_CODES)
    if code in GATEWAY_STATUSES:
        # An auth or rate-limit refusal inside the "HTTP 200 in all cases" envelope: the page lists no code
        # for it (REWARDS-CONFLICT-HTTP-200-AUTH), so the code is asked about, not judged.
        judge.observe(AUTH_GAP[REWARDS], received=status, exchange=exchange, note="an auth refusal in the 200 envelope")
    else:
        judge.verdict(
            "REWARDS-STATUS-CODES-DOCUMENTED",
            ok=is_int(code) and code in REWARDS_CODES,
            received=status if status is not None else body_text(exchange),
            documented=f"a status object whose code is one of {documented}",
            exchange=exchange,
        )
    if status is None:
        return
    success = status.get("success")
    judge.verdict(
        "REWARDS-SUCCESS-IFF-200",
        ok=isinstance(success, bool) and success == (code == 200),
        received={"success": success, "code": code},
        documented="status.success true exactly when status.code is 200",
        exchange=exchange,
    )


@check(api=REWARDS, operations=["revokeUserReward"], rules=["REWARDS-CANCELLED-ON-SUCCESS"])
def rewards_cancelled_on_success(exchange: Exchange, judge: Judge) -> None:
    """state is CANCELLED and userRewardCount is present when the revoke succeeds; when it fails, state is not CANCELLED and userRewardCount is absent (the page says userRewardCount is "Returned only when the revoke succeeds"; it does not say state is then absent)."""
    status = rewards_status(exchange)
    if exchange.status != 200 or status is None or not is_int(status.get("code")):
        return
    body = exchange.json()
    received = {key: body.get(key) for key in ("state", "userRewardCount") if key in body}
    received["status.code"] = status["code"]
    if status["code"] == 200:
        ok = body.get("state") == "CANCELLED" and is_int(body.get("userRewardCount"))
        documented = "state CANCELLED and an integer userRewardCount with status.code 200"
    else:
        # "Returned as CANCELLED only when the revoke succeeds": another state may be returned on failure.
        ok = body.get("state") != "CANCELLED" and "userRewardCount" not in body
        documented = (
            f"state not CANCELLED and no userRewardCount with status.code {status['code']} "
            "(userRewardCount is returned only on success)"
        )
    judge.verdict("REWARDS-CANCELLED-ON-SUCCESS", ok=ok, received=received, documented=documented, exchange=exchange)


@check(api=REWARDS, operations=["revokeUserReward"], rules=["REWARDS-TXNID-ECHO"])
def rewards_txnid_echo(exchange: Exchange, judge: Judge) -> None:
    """When the request has a txnId, the answer of a successful revoke (and of a 1018, as the page's example shows) echoes it as txnId; any other answer that carries a txnId carries the request's (whether other failures echo it is REWARDS-GAP-TXNID-ON-FAILURE)."""
    sent = request_json(exchange).get("txnId")
    status = rewards_status(exchange)
    if exchange.status != 200 or status is None or not is_int(sent):
        return
    body = exchange.json()
    if "txnId" not in body and status.get("code") not in ECHOING_CODES:
        judge.observe(
            "REWARDS-GAP-TXNID-ON-FAILURE",
            received={"status.code": status.get("code"), "txnId": "(absent)"},
            exchange=exchange,
            note="a refusal other than 1018 answered without txnId",
        )
        return
    judge.expect_equal("REWARDS-TXNID-ECHO", body.get("txnId"), sent, exchange)


# ---------------------------------------------------------------------------------------------
# Badges: {data, errors, warnings}


@check(api=BADGES, operations=BADGE_OPERATIONS, rules=["BADGE-ENVELOPE"])
def badge_envelope(exchange: Exchange, judge: Judge) -> None:
    """Every answer is the {data, errors, warnings} envelope: on success data is the object and errors is empty (or null); on error data is null or absent and errors holds at least one {code, message, reference} item."""
    if gateway_answer(exchange, BADGES, judge):
        return
    body = exchange.json()
    if exchange.operation != "revokeEarn" and exchange.status == 404 and body is None:
        return  # a setup endpoint the target does not serve (a bare 404): no answer of the badges service
    envelope = body if isinstance(body, dict) else {}
    errors, warnings = envelope.get("errors"), envelope.get("warnings")
    ok = bool(envelope) and isinstance(errors, list | None) and isinstance(warnings, list | None)
    # The page ties errors to the envelope, not to an HTTP status (BADGE-GAP-814-HTTP-STATUS): an error
    # is an answer with error items, or a 4xx.
    failed = bool(errors) or (exchange.status is not None and exchange.status >= 400)
    if failed:
        ok = ok and envelope.get("data") is None and bool(errors) and all(is_error_item(e) for e in errors or [])
        documented = "an envelope {data: null, errors: [{code, message, reference}, ...], warnings}"
    else:
        ok = ok and isinstance(envelope.get("data"), dict) and not errors
        documented = "an envelope {data: {...}, errors: [] (or null), warnings}"
    judge.verdict("BADGE-ENVELOPE", ok=ok, received=body_text(exchange), documented=documented, exchange=exchange)
    if failed and exchange.operation == "revokeEarn":
        undocumented = [e.get("code") for e in errors or [] if e.get("code") not in BADGE_REVOKE_CODES]
        if undocumented:
            judge.observe(
                "BADGE-GAP-MISSING-BODY-FIELD",
                received=errors,
                exchange=exchange,
                note=f"revokeEarn documents only code 814; received {undocumented}",
            )


# ---------------------------------------------------------------------------------------------
# Points v2: POST /v2/points/reverse


def points_errors(exchange: Exchange) -> list[Any] | None:
    body = exchange.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else None


@check(api=POINTS, operations=["reversePoints"], rules=["POINTS-ENVELOPE"])
def points_envelope(exchange: Exchange, judge: Judge) -> None:
    """Every answer is a flat JSON object (no data wrapper) carrying warnings and errors arrays; errors is empty or absent on success and holds at least one item on failure."""
    if gateway_answer(exchange, POINTS, judge):
        return
    body = exchange.json()
    flat = body if isinstance(body, dict) else {}
    errors = flat.get("errors")
    ok = (
        bool(flat) and "data" not in flat and isinstance(flat.get("warnings"), list) and isinstance(errors, list | None)
    )
    # Error statuses are undocumented (POINTS-GAP-ERROR-HTTP-STATUS): a failure is an answer with error
    # items, or a non-2xx status; an errors array in an HTTP 200 is a failure, not a broken envelope.
    failed = bool(errors) or exchange.status is None or not 200 <= exchange.status < 300
    if not failed:
        ok = ok and not errors
        documented = "a flat object with a warnings array and errors empty or absent (success)"
    else:
        ok = ok and bool(errors) and all(is_error_item(e) for e in errors or [])
        documented = "a flat object with a warnings array and errors: [{code, message}, ...] (failure)"
    judge.verdict("POINTS-ENVELOPE", ok=ok, received=body_text(exchange), documented=documented, exchange=exchange)


@check(api=POINTS, operations=["reversePoints"], rules=["POINTS-ERROR-CODES-DOCUMENTED"])
def points_error_codes(exchange: Exchange, judge: Judge) -> None:
    """Every error code in errors is one of the 16 documented codes (804, 817, 818, 827, 878, 885, 886, 887, 888, 896, 898, 899, 901, 902, 903, 904)."""
    status = exchange.status
    errors = points_errors(exchange)
    if status is None or status in GATEWAY_STATUSES or status >= 500 or not errors:
        return
    codes = [e.get("code") if isinstance(e, dict) else e for e in errors]
    judge.verdict(
        "POINTS-ERROR-CODES-DOCUMENTED",
        ok=all(c in POINTS_CODES for c in codes),
        received=codes,
        documented=f"codes from {sorted(POINTS_CODES)}",
        exchange=exchange,
    )


def points_success(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or "pointsReversed" not in body:
        return None
    return body


@check(api=POINTS, operations=["reversePoints"], rules=["POINTS-REVERSED-LE-REQUESTED"])
def points_reversed_le_requested(exchange: Exchange, judge: Judge) -> None:
    """In every successful answer pointsReversed is not greater than pointsToBeReversed (never more points back than requested)."""
    body = points_success(exchange)
    if body is None:
        return
    reversed_, requested = body.get("pointsReversed"), body.get("pointsToBeReversed")
    if requested is None:
        requested = request_json(exchange).get("pointsToBeReversed")
    if requested is None:
        return  # nothing requested: "all points may be reversed by default" (POINTS-GAP-DEFAULT-REVERSAL)
    ok = is_number(reversed_) and is_number(requested) and reversed_ <= requested + POINTS_TOLERANCE
    judge.verdict(
        "POINTS-REVERSED-LE-REQUESTED",
        ok=ok,
        received={"pointsReversed": reversed_, "pointsToBeReversed": requested},
        documented="pointsReversed <= pointsToBeReversed",
        exchange=exchange,
    )


@check(api=POINTS, operations=["reversePoints"], rules=["POINTS-DETAILS-SUM"])
def points_details_sum(exchange: Exchange, judge: Judge) -> None:
    """In every successful answer pointsReversedDetails.available + pointsReversedDetails.expired equals pointsReversed."""
    body = points_success(exchange)
    if body is None:
        return
    details = body.get("pointsReversedDetails")
    total = body.get("pointsReversed")
    parts = [details.get("available", 0), details.get("expired", 0)] if isinstance(details, dict) else []
    ok = (
        bool(parts)
        and all(is_number(p) for p in parts)
        and is_number(total)
        and abs(sum(parts) - total) <= POINTS_TOLERANCE
    )
    judge.verdict(
        "POINTS-DETAILS-SUM",
        ok=ok,
        received={"pointsReversed": total, "pointsReversedDetails": details},
        documented="available + expired = pointsReversed (± 0.0005)",
        exchange=exchange,
    )
