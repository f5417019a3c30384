"""The deviant answers: for each deviation, the one decision point it overrides and how.

Kept apart from the vendor modules so those read as the documentation; the catalogue of
:mod:`conformance.sandbox.deviations` names, per deviation, the rule it breaks and the point it
overrides, and a test checks that the override here targets that point.
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
    rewrites,
    thanx,
    thanx_jobs,
    web,
)
from conformance.sandbox.capillary import find_customer
from conformance.sandbox.capillary_badges import BadgesStore, Refused
from conformance.sandbox.capillary_points import PointsStore, latest
from conformance.sandbox.core import TenantState
from conformance.sandbox.decide import Choice, around, instead, unlocked
from conformance.sandbox.web import BadBody, Call, parse_json_object

B, P, R, T, J = capillary_badges, capillary_points, capillary_rewards, thanx, juspay


def _badges_fill(missing: str) -> Callable[[Call], bytes]:
    """The revokeEarn body with ``missing`` filled from the active earn the other fields name."""

    def fill(call: Call) -> bytes:
        try:
            payload = parse_json_object(call.body)
        except BadBody:
            return call.body
        if payload.get(missing) is not None:
            return call.body
        by_earn = bool(payload.get("earnedBadgeId"))
        wanted = payload.get("earnedBadgeId" if by_earn else "badgeMetaId")
        earns = call.tenant.store(BadgesStore).earns.values()
        earn = next(
            (e for e in earns if e.is_active and (e.earned_badge_id if by_earn else e.badge_meta_id) == wanted), None
        )
        if earn is not None:
            known = {"badgeMetaId": earn.badge_meta_id, "customerId": earn.customer_id}
            payload[missing] = {**known, "earnedBadgeId": earn.earned_badge_id}[missing]
        return json.dumps(payload).encode()

    return fill


def _points_fill(missing: str) -> Callable[[Call], bytes]:
    """The reversePoints body with ``missing`` guessed from the redemption or the customer."""

    def fill(call: Call) -> bytes:
        try:
            payload = parse_json_object(call.body)
        except BadBody:
            return call.body
        store, ident = call.tenant.store(PointsStore), payload.get("identifier")
        redemption = store.redemptions.get(str(payload.get("redemptionId")))
        owner = {"type": "ID", "value": str(redemption.customer_id)} if redemption else {}
        if missing == "redemptionId" and "redemptionId" not in payload and isinstance(ident, dict):
            found = latest(store, find_customer(call.tenant, str(ident.get("type", "")), ident.get("value")))
            payload["redemptionId"] = found.redemption_id if found else None
        elif missing == "identifier" and ident is None and owner:
            payload["identifier"] = owner
        elif missing == "type" and isinstance(ident, dict):
            ident.setdefault("type", "ID")
        elif missing == "value" and isinstance(ident, dict) and owner:
            ident.setdefault("value", owner["value"])
        return json.dumps(payload, default=str).encode()

    return fill


def _unresolved(kind: str) -> Choice:
    def resolve(
        base: Callable[[TenantState, str, str | int], Any], tenant: TenantState, k: str, value: str | int
    ) -> Any:
        return None if k == kind else base(tenant, k, value)

    return around(B.resolve_customer, resolve)


def _badges_not_present(status: int, code: int, message: str, when: Callable[[Any], bool]) -> Choice:
    def refuse(base: Callable[[Any], Refused], earn: Any) -> Refused:
        return Refused(status, code, message) if when(earn) else base(earn)

    return around(B.not_present, refuse)


def _stale(cache: str) -> Callable[..., dict[str, object]]:
    """Serve the first rendering of a read forever (a cache that a write never invalidates)."""

    def served(base: Callable[..., dict[str, object]], store: Any, key: int, fresh: dict[str, object]) -> Any:
        return getattr(store, cache).setdefault(key, base(store, key, fresh))

    return served


def _points_failed(state: Any, tenant: TenantState, redemption: Any, requested: int, code: int) -> int:
    return code


def _points_886_applied(base: Callable[..., int], state: Any, tenant: Any, redemption: Any, req: int, code: int) -> int:
    if code == 886:
        P.apply_reversal(state, tenant, redemption, req, tenant.now())
    return base(state, tenant, redemption, req, code)


def _points_896_locks(base: Callable[..., int], state: Any, tenant: Any, redemption: Any, req: int, code: int) -> int:
    if code == 896:
        redemption.customer_locked = True
    return base(state, tenant, redemption, req, code)


def _credit_twice(base: Callable[..., None], customer: Any, reversal: Any) -> None:
    base(customer, reversal)
    base(customer, reversal)


def _requested(when: Callable[[Any, int | None], bool], amount: Callable[[Any], int]) -> Choice:
    def requested(base: Callable[[Any, int | None], int], redemption: Any, points: int | None) -> int:
        return amount(redemption) if when(redemption, points) else base(redemption, points)

    return around(P.requested_points, requested)


def _rewards_missing_txnid(base: Callable[[dict[str, Any]], Response | None], payload: dict[str, Any]) -> Any:
    return R.outcome.faithful(10007) if payload.get("txnId") is None else base(payload)


def _refusal(code: int, when: Callable[[Any], bool]) -> Choice:
    def refusal(base: Callable[[Any], int | None], txn: Any) -> int | None:
        return code if when(txn) else base(txn)

    return around(R.refusal_code, refusal)


def _all_cancelled(txn: Any) -> bool:
    return bool(txn.user_rewards) and all(reward.state == "CANCELLED" for reward in txn.user_rewards)


def _cancel_all(txn: Any) -> None:
    for reward in txn.user_rewards:
        reward.state = "CANCELLED"


def _flag_off_refunds(txn: Any) -> None:
    if txn is not None:
        txn.refund_count += 1


def _audit(fields: tuple[str, ...]) -> Callable[..., dict[str, str | None]]:
    def stored(base: Callable[..., dict[str, str | None]], audit: dict[str, str | None], now: str) -> Any:
        if "revokedEventDateTime" in fields:
            return {**base(audit, now), "revokedEventDateTime": audit["revokedEventDateTime"]}
        return base({**audit, **dict.fromkeys(fields)}, now)

    return stored


def _thanx_revocable(extra: str) -> Choice:
    return around(T.revocable, lambda base, job: (*base(job), extra))


def _thanx_failed_blocked(zero: bool) -> Choice:
    def states(base: Callable[[Any], tuple[str, ...]], job: Any) -> tuple[str, ...]:
        blocked = (job.success == 0) == zero
        return tuple(name for name in base(job) if not (name == "failed" and blocked))

    return around(T.revocable, states)


def _thanx_not_found(when_job: bool, status: int, code: str, message: str) -> Choice:
    def refuse(base: Callable[[Any], Response], job: Any) -> Response:
        return auth.thanx_error(status, code, message) if (job is not None) == when_job else base(job)

    return around(T.not_found, refuse)


def _touch_completed_at(base: Callable[..., None], tenant: TenantState, job: Any) -> None:
    base(tenant, job)
    job.completed_at = tenant.now_iso()


def _juspay_revoked(edit: Callable[[dict[str, Any], Any], int | None]) -> Choice:
    def answer(base: Callable[[Any], Response], mandate: Any) -> Response:
        body = {"mandate_status": "REVOKED", "mandate_id": mandate.mandate_id}
        status = edit(body, mandate) or 200
        return web.json_response(body, status)

    return around(J.revoked, answer)


def _gateway_failure(drop_message: bool) -> Choice:
    def answer(base: Callable[[dict[str, object], bool], Response], body: dict[str, object], implicit: bool) -> Any:
        if implicit:
            return base(body, implicit)
        if drop_message:
            return base({k: v for k, v in body.items() if k != "gateway_response_message"}, implicit)
        return web.json_response(body, 502)

    return around(J.gateway_failure, answer)


def _not_active(base: Callable[[Any], Response], mandate: Any) -> Response:
    return J.not_active("Mandate already revoked") if mandate.status == "REVOKED" else base(mandate)


OVERRIDES: dict[str, Choice] = {
    # Capillary badges
    "badges-missing-badgemetaid-accepted": instead(B.request_body, _badges_fill("badgeMetaId")),
    "badges-missing-customerid-accepted": instead(B.request_body, _badges_fill("customerId")),
    "badges-missing-earnedbadgeid-accepted": instead(B.request_body, _badges_fill("earnedBadgeId")),
    "badges-identifier-email-unresolved": _unresolved("email"),
    "badges-identifier-mobile-unresolved": _unresolved("mobile"),
    "badges-identifier-externalid-unresolved": _unresolved("externalId"),
    "badges-identifier-cardnumber-unresolved": _unresolved("cardNumber"),
    "badges-default-identifier-mobile": instead(B.default_identifier, lambda: "mobile"),
    "badges-customerid-echoed-as-sent": instead(
        B.echoed_customer, lambda earn, sent: int(sent) if str(sent).isdigit() else earn.customer_id
    ),
    "badges-second-revoke-other-code": _badges_not_present(
        400, 815, "Earn instance is already revoked.", lambda earn: earn is not None and not earn.is_active
    ),
    "badges-unknown-earn-404": _badges_not_present(
        404, 404, "Earn instance not found.", lambda earn: earn is None or earn.is_active
    ),
    "badges-stale-listing": around(B.listing_served, _stale("listings")),
    "badges-auth-presence-only": instead(B.CREDENTIALS, auth.presence_only),
    "badges-race-unlocked": instead(B.LOCK, unlocked),
    # Capillary points
    "points-missing-redemptionid-latest": instead(P.request_body, _points_fill("redemptionId")),
    "points-missing-identifier-inferred": instead(P.request_body, _points_fill("identifier")),
    "points-missing-identifier-type-id": instead(P.request_body, _points_fill("type")),
    "points-missing-identifier-value-inferred": instead(P.request_body, _points_fill("value")),
    "points-phone-type-unknown": around(
        P.resolve_customer,
        lambda base, tenant, kind, value: None if kind.upper() == "PHONE" else base(tenant, kind, value),
    ),
    "points-default-reverses-available-only": _requested(
        lambda redemption, points: points is None, lambda redemption: redemption.remaining - redemption.expired
    ),
    "points-partial-reverses-everything": _requested(
        lambda redemption, points: points is not None and points < redemption.remaining,
        lambda redemption: redemption.remaining,
    ),
    "points-two-decimals-only": instead(
        P.too_precise, lambda amount: isinstance(e := amount.normalize().as_tuple().exponent, int) and e < -2
    ),
    "points-four-decimals-truncated": instead(P.too_precise, lambda amount: False),
    "points-reversed-cumulative": instead(P.reported, lambda redemption, reversal: redemption.reversed_total),
    "points-details-drop-expired": around(P.details, lambda base, reversal: {**base(reversal), "expired": 0}),
    "points-over-reversal-capped": _requested(
        lambda redemption, points: points is not None and points > redemption.remaining,
        lambda redemption: redemption.remaining,
    ),
    "points-no-duplicate-window": instead(P.duplicate, lambda redemption, key, now: False),
    "points-program-flag-ignored": instead(P.program_allows, lambda redemption: True),
    "points-lock-ignored": instead(P.customer_locked, lambda redemption: False),
    "points-ineligible-804": instead(P.ineligible_code, lambda: 804),
    "points-limit-off-by-one": instead(
        P.limit_reached,
        lambda r: r.reversal_limit is not None and len(r.reversals) >= r.reversal_limit + 1,
    ),
    "points-second-reversal-credited": instead(
        P.checks_apply, lambda redemption, points: not (points and redemption.remaining <= 0)
    ),
    "points-886-applied": around(P.failed_reversal, _points_886_applied),
    "points-896-remembered": around(P.failed_reversal, _points_896_locks),
    "points-898-reported-886": around(
        P.failed_reversal,
        lambda base, state, tenant, r, req, code: 886 if code == 898 else base(state, tenant, r, req, code),
    ),
    "points-balance-credited-twice": around(P.credit, _credit_twice),
    "points-reversalid-per-redemption": instead(P.reversal_id, lambda tenant, redemption: redemption.redemption_id),
    "points-unknown-redemption-latest": around(
        P.find_redemption, lambda base, store, rid, customer: base(store, rid, customer) or latest(store, customer)
    ),
    "points-identifier-not-matched": instead(P.owner_matches, lambda redemption, customer: True),
    "points-readback-available-only": instead(
        capillary_points_v11.reversed_in_listing, lambda redemption: sum(r.available for r in redemption.reversals)
    ),
    "points-auth-presence-only": instead(P.CREDENTIALS, auth.presence_only),
    "points-race-unlocked": instead(P.LOCK, unlocked),
    # Capillary rewards
    "rewards-count-is-transactions": instead(R.user_reward_count, lambda txn: 1),
    "rewards-missing-txnid-10007": around(R.missing_txnid, _rewards_missing_txnid),
    "rewards-flag-default-on": around(
        R.revoke_enabled, lambda base, store: base(store) or "REVOKE_ENABLE" not in store.configs
    ),
    "rewards-flag-off-refunds": instead(R.flag_off, _flag_off_refunds),
    "rewards-empty-txn-revoked": around(R.refusal_code, lambda base, txn: None if not txn.user_rewards else base(txn)),
    "rewards-first-reward-checked-only": instead(R.checked_rewards, lambda rewards: rewards[:1]),
    "rewards-cancelled-revoke-idempotent": _refusal(200, _all_cancelled),
    "rewards-redeemed-revocable": instead(R.revocable_states, lambda: ("ISSUED", "REDEEMED")),
    "rewards-reverse-redeemed-blocked": instead(
        R.blocked, lambda txn: any(reward.reverse_redeemed for reward in txn.user_rewards)
    ),
    "rewards-1018-cancels": instead(R.after_1018, _cancel_all),
    "rewards-1018-not-recorded": around(
        R.record_attempt, lambda base, txn, attempt: None if attempt["code"] == 1018 else base(txn, attempt)
    ),
    "rewards-1018-blocks-retry": instead(
        R.blocked, lambda txn: any(attempt.get("code") == 1018 for attempt in txn.attempts)
    ),
    "rewards-first-reward-cancelled-only": instead(R.cancelled, lambda rewards: rewards[:1]),
    "rewards-refund-first-reward-only": instead(R.refunded, lambda rewards: rewards[:1]),
    "rewards-refund-per-reward": instead(R.reversals_counted, lambda charged: sum(r.points > 0 for r in charged)),
    "rewards-reversal-without-points": instead(R.carries_points, lambda rewards: True),
    "rewards-no-reversal-reference": instead(R.reversal_reference, lambda tenant: None),
    "rewards-audit-not-stored": around(R.stored_audit, _audit(("revokedBy", "revokeReason"))),
    "rewards-event-time-null": around(R.stored_audit, _audit(("revokedEventDateTime",))),
    "rewards-already-revoked-13010": _refusal(13010, _all_cancelled),
    "rewards-auth-presence-only": instead(R.CREDENTIALS, auth.presence_only),
    "rewards-race-unlocked": instead(R.LOCK, unlocked),
    "rewards-stale-issual": around(R.issual_served, _stale("issuals")),
    # Thanx
    "thanx-completed-revoke-200": instead(T.revoke_status, lambda job: 200 if job.state == "completed" else 202),
    "thanx-partly-failed-job-422": _thanx_failed_blocked(zero=False),
    "thanx-zero-success-422": _thanx_failed_blocked(zero=True),
    "thanx-202-shows-old-state": instead(T.revoke_answer, lambda before, after: before),
    "thanx-pending-revocable": _thanx_revocable("pending"),
    "thanx-processing-revocable": _thanx_revocable("processing"),
    "thanx-revoking-revocable": _thanx_revocable("revoking"),
    "thanx-revoked-revocable": _thanx_revocable("revoked"),
    "thanx-revocation-rolls-back": instead(thanx_jobs.revocation_result, lambda job: "completed"),
    "thanx-revocation-never-finishes": instead(thanx_jobs.revocation_result, lambda job: None),
    "thanx-revoke-touches-completed-at": around(T.after_revoke, _touch_completed_at),
    "thanx-revoke-merchant-inferred": instead(
        T.revoke_merchant, lambda sent, job: sent or (job.merchant_id if job is not None else sent)
    ),
    "thanx-get-merchant-inferred": instead(
        T.get_merchant, lambda sent, job: sent or (job.merchant_id if job is not None else sent)
    ),
    "thanx-other-merchant-403": _thanx_not_found(
        True, 403, "FORBIDDEN", "The issuance job belongs to another merchant."
    ),
    "thanx-unknown-job-code": _thanx_not_found(False, 404, "NOT_FOUND", "No issuance job with this id."),
    "thanx-scope-not-checked": instead(auth.scope_granted, lambda token, creds: True),
    "thanx-race-unlocked": instead(T.LOCK, unlocked),
    "thanx-idempotent-replay-reissues": instead(T.replays, lambda: False),
    "thanx-idempotency-ignores-body": instead(T.same_request, lambda seen, fingerprint: True),
    "thanx-identifier-limit-unenforced": instead(T.identifier_limit, lambda: None),
    "thanx-job-requeued": instead(thanx_jobs.requeues, lambda job: True),
    # Juspay
    "juspay-revoke-202": _juspay_revoked(lambda body, mandate: 202),
    "juspay-echo-order-id": _juspay_revoked(lambda body, mandate: body.update(mandate_id=mandate.order_id)),
    "juspay-readback-lags": instead(J.lags, lambda: True),
    "juspay-paused-revocable": around(J.revocable, lambda base, implicit: (*base(implicit), "PAUSED")),
    "juspay-revoked-message": around(J.not_active_refusal, _not_active),
    "juspay-implicit-revokes-terminal": around(
        J.revocable, lambda base, implicit: J.STATES if implicit else base(implicit)
    ),
    "juspay-gateway-failure-no-message": _gateway_failure(drop_message=True),
    "juspay-gateway-failure-502": _gateway_failure(drop_message=False),
    "juspay-implicit-ignored": instead(J.implicit_revoke, lambda value: False),
    "juspay-implicit-not-persisted": instead(J.implicit_persisted, lambda: False),
    "juspay-command-defaults-check-status": around(J.command_of, lambda base, fields: base(fields) or "check_status"),
    "juspay-merchantid-optional": instead(J.missing_merchant, lambda: None),
    "juspay-race-unlocked": instead(J.LOCK, unlocked),
}
OVERRIDES.update({name: around(web.answer, rewrites.on_the_wire(name)) for name in rewrites.REWRITES})
