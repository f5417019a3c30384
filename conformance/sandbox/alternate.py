"""The alternate gap profile: at every gap point, another choice the vendor pages equally allow.

A second, independent-looking server: other HTTP statuses where the pages give none (814 with 404,
Capillary points errors as HTTP 200 with an ``errors`` array), other error bodies, other nesting and
extra fields in reads, another name for the reversed amount of a v1.1 redemption, revoked earns left
out of the badge listing, no ``Retry-After``, members in another order, and a second partial
reversal of the same amount accepted (902 only for a fully reversed redemption). Each entry names the
gap it answers; a gap point left out keeps its faithful choice for the reason given in
:data:`UNCHANGED`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from conformance.sandbox import (
    auth,
    capillary_badges,
    capillary_points,
    capillary_points_v11,
    capillary_rewards,
    juspay,
    thanx,
    thanx_jobs,
    web,
)
from conformance.sandbox.capillary_badges import Earn, Refused
from conformance.sandbox.capillary_points import Redemption
from conformance.sandbox.decide import Choice, around, instead
from conformance.sandbox.thanx_jobs import Job
from conformance.sandbox.web import json_response, number

B, P, R, T, J = capillary_badges, capillary_points, capillary_rewards, thanx, juspay


def _reversed(value: Any) -> Any:
    """Every JSON object with its members in reverse order (no page fixes an order)."""
    if isinstance(value, dict):
        return {key: _reversed(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(item) for item in value]
    return value


def _answer(path: str, response: Response) -> Response:
    """Members in reverse order; Juspay refusals as text/plain (the page fences them as plaintext)."""
    if path.startswith("/_sandbox") or response.media_type != "application/json":
        return response
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    media = "text/plain" if path.startswith("/mandates") and response.status_code >= 400 else "application/json"
    kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return Response(web.dumps(_reversed(body)), status_code=response.status_code, media_type=media, headers=kept)


def _badge_listing(customer_id: int, earns: list[Earn]) -> dict[str, object]:
    """Only active earns are listed (a revoked earn disappears), each flagged ``active``, under ``badges``."""
    listed = [
        {
            "earnedBadgeId": earn.earned_badge_id,
            "badgeMetaId": earn.badge_meta_id,
            "active": True,
            "status": "ACTIVE",
            "earnedOn": earn.earned_on,
            "expiresOnISO": earn.expires_on_iso,
        }
        for earn in earns
        if earn.is_active
    ]
    return {"customer": {"id": customer_id, "badges": {"earned": listed, "count": len(listed)}}}


def _points_error(code: int, message: str) -> Response:
    """HTTP 200 with the outcome in the errors array, each item also naming its kind."""
    return json_response({"errors": [{"code": code, "message": message, "type": "ERROR"}], "warnings": []})


def _points_split(redemption: Redemption, requested: int) -> tuple[int, int]:
    """Expired first, up to the redeemed points marked expired, then available."""
    reversed_expired = sum(reversal.expired for reversal in redemption.reversals)
    expired = max(0, min(requested, redemption.expired - reversed_expired))
    return requested - expired, expired


def _points_requested(base: Callable[[Redemption, int | None], int], redemption: Redemption, points: int | None) -> int:
    """An omitted amount reverses everything only while nothing was reversed yet; after that it is required."""
    if points is None and redemption.reversals:
        raise P.Refused(887, "pointsToBeReversed is required once a redemption is partly reversed")
    return base(redemption, points)


def _redemption_listing(redemption: Redemption, reversed_points: int) -> dict[str, object]:
    return {
        "id": redemption.redemption_id,
        "points": number(redemption.points),
        "reversed_points": number(reversed_points),
        "status": "REVERSED"
        if redemption.remaining <= 0
        else "PARTIALLY_REVERSED"
        if redemption.reversals
        else "REDEEMED",
        "redemption_id": redemption.redemption_id,
        "bill_number": redemption.transaction_number,
        "external_reference_number": redemption.external_reference_number,
        "redeemed_on": redemption.redeemed_at,
        "reversals": [
            {"id": r.reversal_id, "points": number(r.points), "reversed_on": r.reversed_at}
            for r in redemption.reversals
        ],
    }


def _rewards_outcome(code: int, txn_id: object = None, message: str | None = None) -> Response:
    """txnId is echoed on success and on 1018 (the page's example) only."""
    return R.outcome.faithful(code, txn_id if code in (200, 1018) else None, message)


def _issual(body: dict[str, object]) -> dict[str, object]:
    """The transaction under ``issual``, its userRewards one level deeper under ``rewards``."""
    rewards: Any = body["userRewards"]
    return {
        "status": body["status"],
        "issual": {
            "id": body["transactionId"],
            "customer": {"id": body["customerId"]},
            "rewards": {"state": body["state"], "userRewards": rewards, "count": len(rewards)},
            "pointsReversal": {"referenceId": body["pointsReversalRefId"]},
        },
    }


def _job(job: Job, summary: bool, summary_in: tuple[str, ...]) -> dict[str, object]:
    return {**job.as_json(summary=summary, summary_states=summary_in), "merchant_id": job.merchant_id}


def _check_status(mandate: juspay.Mandate, shown: str) -> dict[str, object]:
    body = J.check_status.faithful(mandate, shown)
    return {
        **body,
        "start_date": int(mandate.start_date),
        "end_date": int(mandate.end_date),
        "last_activated_at": mandate.activated_at,
        "payment_info": {},
    }


def _not_active(base: Callable[[juspay.Mandate], Response], mandate: juspay.Mandate) -> Response:
    return J.not_active("Mandate is paused") if mandate.status == "PAUSED" else base(mandate)


def _thanx_error(status: int, code: str, message: str) -> Callable[..., Response]:
    return lambda *args: auth.thanx_error(status, code, message)


ALTERNATE: dict[str, Choice] = {
    # every API
    "web.rate-limit-headers": instead(web.rate_limit_headers, lambda retry_after: {}),
    "web.answer": instead(web.answer, _answer),
    # Capillary badges
    "badges.not-present": instead(
        B.not_present, lambda earn: Refused(404, 814, "No active earn instance matches this request.")
    ),
    "badges.missing-field": instead(
        B.missing_field, lambda name: Refused(400, B.REQUIRED_CODES.get(name, 400), f"Required field {name} is missing")
    ),
    "badges.header-refusal": instead(
        B.header_refusal, lambda: Refused(400, 400, "Unsupported X-CAP-CUSTOMER-IDENTIFIER value")
    ),
    "badges.listing": instead(B.listing, _badge_listing),
    "badges.auth-refusal": instead(
        B.auth_refusal,
        lambda: json_response(
            {"data": None, "errors": [{"code": 401, "message": "Unauthorized"}], "warnings": None}, 401
        ),
    ),
    # Capillary points
    "points.error": instead(P.error, _points_error),
    "points.auth-refusal": instead(
        P.auth_refusal, lambda: json_response({"errors": [{"code": 401, "message": "Unauthorized access"}]}, 401)
    ),
    "points.over-reversal-code": instead(P.over_reversal_code, lambda: 887),
    "points.duplicate": instead(P.duplicate, lambda redemption, key, now: redemption.remaining <= 0),
    "points.unknown-code": instead(P.unknown_code, lambda known: 804 if known else 887),
    "points.requested": around(P.requested_points, _points_requested),
    "points.split": instead(P.split, _points_split),
    "points.non-positive-code": instead(P.non_positive_code, lambda: 804),
    "points.listing": instead(capillary_points_v11.redemption_listing, _redemption_listing),
    "points.listing-placement": instead(
        capillary_points_v11.placed,
        lambda points, with_points, with_coupons: {
            "redemptions": {**({"points": points} if with_points else {}), **({"coupons": []} if with_coupons else {})}
        },
    ),
    # Capillary rewards
    "rewards.auth-refusal": instead(
        R.auth_refusal, lambda: json_response({"status": R.status(False, 401, "Invalid credentials")})
    ),
    "rewards.malformed-body": instead(
        R.malformed_body, lambda: json_response({"status": R.status(False, 400, "Request body is not valid JSON")})
    ),
    "rewards.outcome": instead(R.outcome, _rewards_outcome),
    "rewards.issual": instead(R.issual_body, _issual),
    # Thanx
    "thanx.scope-refusal": instead(
        auth.scope_refusal, _thanx_error(401, "AUTHENTICATION_GENERIC", "The access token may not issue rewards.")
    ),
    "thanx.accept-version-refusal": instead(
        auth.accept_version_refusal, _thanx_error(406, "NOT_ACCEPTABLE", "Unsupported Accept-Version.")
    ),
    "thanx.idempotency-conflict": instead(
        T.idempotency_conflict, _thanx_error(422, "IDEMPOTENCY_CONFLICT", "This key belongs to another request.")
    ),
    "thanx.missing-merchant": instead(
        T.missing_merchant, _thanx_error(422, "UNPROCESSABLE_ENTITY", "merchant_id can't be blank")
    ),
    "thanx.not-found": instead(T.not_found, _thanx_error(404, "RESOURCE_NOT_FOUND", "Not found.")),
    "thanx.not-revocable": instead(
        T.not_revocable, lambda job: auth.thanx_error(422, "INVALID_STATE", f"Cannot revoke a {job.state} job.")
    ),
    "thanx.revoke-reads": instead(thanx_jobs.revoke_reads, lambda: 2),
    "thanx.summary-states": instead(thanx_jobs.summary_states, lambda: ("completed",)),
    "thanx.job": instead(thanx_jobs.job_body, _job),
    "thanx.campaign-created": instead(T.campaign_created, lambda body: json_response({"campaign": body}, 200)),
    # Juspay
    "juspay.json-body-refusal": instead(
        J.json_body_refusal,
        lambda: Response(
            J.bad_request("Unsupported Media Type", "Send a form-encoded body.", "INVALID_REQUEST").body,
            status_code=415,
            media_type="application/json",
        ),
    ),
    "juspay.invalid-command": instead(
        J.invalid_command, lambda: J.bad_request("Unsupported command", "Use revoke or check_status.", "INVALID_ACTION")
    ),
    "juspay.check-status": instead(J.check_status, _check_status),
    "juspay.implicit": instead(J.implicit_revoke, lambda value: value in ("true", "True", "TRUE")),
    "juspay.not-active": around(J.not_active_refusal, _not_active),
    "juspay.gateway-failure": around(
        J.gateway_failure, lambda base, body, implicit: base({**body, "gateway_reference_id": None}, implicit)
    ),
    "juspay.missing-merchant": instead(J.missing_merchant, lambda: json_response(auth.JUSPAY_UNAUTHORIZED, 401)),
}

# Gaps answered at a point labelled with a sibling gap (one choice decides both).
SHARED: dict[str, str] = {
    "BADGE-GAP-UNKNOWN-CUSTOMER": "badges.not-present",
    "POINTS-GAP-IDENTIFIER-MISMATCH": "points.unknown-code",
    "POINTS-GAP-ERROR-ITEM-SHAPE": "points.error",
    "REWARDS-GAP-REVERSAL-REFERENCE": "rewards.issual",
    "JUSPAY-GAP-RESPONSE-CONTENT-TYPE": "web.answer",
    "THANX-GAP-CAMPAIGN-LIST-SHAPE": "thanx.campaign-created",
}

# Gaps where the alternate profile keeps the faithful choice, and why no other choice fits.
UNCHANGED: dict[str, str] = {
    "POINTS-GAP-LIMIT-903": "the limit is what the control API set on the redemption; no other count honours that setting",
    "POINTS-GAP-ORG-CONFIG-OFF": "the sandbox's only switch is the program's flag, and for a program 818 is documented",
    "REWARDS-GAP-REDEEMED-POINTS": "reverse-redeem exists only in the control API; refunding there would pay the points twice",
    "REWARDS-GAP-ATTEMPT-RECORD": "the attempt record is readable only through the control API, whose shape is ours",
    "REWARDS-GAP-EVENT-TIME": "the default (processing time) is the rule REWARDS-EVENT-TIME-DEFAULT; refusing odd dates would be a second validation choice with no reader",
    "REWARDS-GAP-USERNAME": "the store name is not a credential here; refusing a foreign store needs stores the sandbox does not model",
    "REWARDS-GAP-ISSUE-BODY": "a setup endpoint: another required-field choice changes what the vendor provisioner sends, not what the suite judges",
    "JUSPAY-GAP-SAMPLE-REQUESTS": "the only endpoint the page implies is the one served",
    "JUSPAY-GAP-CONCURRENT-REVOKE": "a non-atomic check would let two revokes succeed, which the page's one-state model rules out",
    "JUSPAY-GAP-MISSING-ROUTING-ID": "the header is recorded, never answered; refusing it would contradict its optional use in the samples",
    "THANX-GAP-CONCURRENT-REVOKE": "a non-atomic check would answer 202 twice, which the documented 422 for a revoking job rules out",
}
