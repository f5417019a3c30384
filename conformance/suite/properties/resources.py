"""Fresh resources for revoke operations: each generated example revokes something that exists.

A generated revoke of a random id only ever meets "not found". So, per example, the test asks
the provisioner for a fresh resource and substitutes ONLY the fields that name it (``ID_FIELDS``);
every other generated field is sent as generated. In a negative case an id field that is itself
malformed (wrong type, missing) is left alone, so the mutation still reaches the target. A case
with no id field to substitute gets no resource (it would name none), and a precondition of the
whole operation (the rewards org's REVOKE_ENABLE) is set once per test, not per example.

A resource the previous example left as provisioned is the next example's: one the target refused
with its documented rejection (a refusal changes nothing, as the scenarios verify) or a call that
asked for no revoke (Juspay's check_status). ``run_case`` settles each example with :func:`settle`;
a revoke that may have taken effect never hands its resource on.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from conformance.context import ScenarioContext
from conformance.provisioners.capillary_badges import BadgesProvisioner
from conformance.provisioners.capillary_points import PointsProvisioner
from conformance.provisioners.capillary_rewards import RewardsProvisioner
from conformance.provisioners.juspay import JuspayProvisioner
from conformance.provisioners.thanx import ThanxProvisioner

# operationId → the request fields that name the revoked resource ("location.name"; body.identifier
# is the whole {type, value} object, header names are case-insensitive).
ID_FIELDS: dict[str, tuple[str, ...]] = {
    "revokeUserReward": ("body.txnId",),
    "revokeEarn": ("body.badgeMetaId", "body.customerId", "body.earnedBadgeId"),
    "reversePoints": ("body.redemptionId", "body.identifier"),
    "revokeIssuanceJob": ("path.id", "body.merchant_id"),
    "mandateCommand": ("path.mandate_id", "header.x-routing-id"),
}
DEFAULT_POINTS = Decimal(100)
MAX_POINTS = Decimal(10) ** 9
# Points v2 identifier types (any vendor spelling) → the key of the customer's identifiers.
IDENTIFIER_KEYS = {
    "id": "customerId",
    "customerid": "customerId",
    "mobile": "mobile",
    "phone": "mobile",
    "email": "email",
    "emailid": "email",
    "externalid": "externalId",
    "external_id": "externalId",
    "cardnumber": "cardNumber",
}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _body(case: Any) -> dict[str, Any] | None:
    return case.body if isinstance(case.body, dict) else None


def _header(case: Any, name: str) -> tuple[str, Any] | None:
    for key, value in (case.headers or {}).items():
        if key.lower() == name:
            return key, value
    return None


T = TypeVar("T")
# Per test: resources the last examples left untouched, by (operation, kind), and the one the current example uses.
SPARE: weakref.WeakKeyDictionary[ScenarioContext, dict[tuple[str, Hashable], Any]] = weakref.WeakKeyDictionary()
TAKEN: weakref.WeakKeyDictionary[ScenarioContext, tuple[tuple[str, Hashable], Any]] = weakref.WeakKeyDictionary()


def resource(ctx: ScenarioContext, operation: str, kind: Hashable, make: Callable[[], T]) -> T:
    """An untouched resource of ``kind`` left by an earlier example of this test, else a new one from ``make``."""
    key = (operation, kind)
    spare = SPARE.setdefault(ctx, {}).pop(key, None)
    made: T = spare if spare is not None else make()
    TAKEN[ctx] = (key, made)
    return made


def settle(ctx: ScenarioContext, *, untouched: bool) -> None:
    """After an example was sent: its resource waits for the next example when the target left it untouched."""
    taken = TAKEN.pop(ctx, None)
    if taken is not None and untouched:
        key, made = taken
        SPARE.setdefault(ctx, {})[key] = made


INT64 = range(-(2**63), 2**63)
# Tests (one tenant each) whose rewards org already has REVOKE_ENABLE set: every example of the test shares it.
REVOKE_ENABLED: weakref.WeakSet[ScenarioContext] = weakref.WeakSet()


def fresh_reward(ctx: ScenarioContext, case: Any) -> None:
    body = _body(case)
    # txnId is an int64: a generated value outside it is the negative case's mutation, kept as sent.
    if body is None or not is_int(body.get("txnId")) or body["txnId"] not in INT64:
        return
    enable_revoke_once(ctx)
    made = ctx.provisioner(RewardsProvisioner).reward_txn
    body["txnId"] = resource(ctx, "revokeUserReward", "ISSUED 100", lambda: made([("ISSUED", 100)])).txn_id


def enable_revoke_once(ctx: ScenarioContext) -> None:
    """Set the rewards org's REVOKE_ENABLE for this test's tenant, once for all of its examples."""
    if ctx not in REVOKE_ENABLED:
        ctx.provisioner(RewardsProvisioner).set_revoke_enabled(True)
        REVOKE_ENABLED.add(ctx)


def names_an_earn(body: dict[str, Any]) -> bool:
    """Whether the case carries a field the substitution below replaces: an id string, or a customerId."""
    customer = body.get("customerId")
    ids = (body.get("badgeMetaId"), body.get("earnedBadgeId"))
    return any(isinstance(value, str) for value in ids) or isinstance(customer, str) or is_int(customer)


def fresh_badge_earn(ctx: ScenarioContext, case: Any) -> None:
    body = _body(case)
    if body is None or not names_an_earn(body):
        return
    earn = resource(ctx, "revokeEarn", "active", ctx.provisioner(BadgesProvisioner).badge_earn)
    if isinstance(body.get("badgeMetaId"), str):
        body["badgeMetaId"] = earn.badge_meta_id
    if isinstance(body.get("earnedBadgeId"), str):
        body["earnedBadgeId"] = earn.earned_badge_id
    generated = body.get("customerId")
    if isinstance(generated, str) or is_int(generated):
        header = _header(case, "x-cap-customer-identifier")
        kind = str(header[1]) if header is not None else None
        if kind is not None and kind in earn.identifiers:
            body["customerId"] = earn.identifiers[kind]
        else:
            body["customerId"] = str(earn.customer_id) if isinstance(generated, str) else earn.customer_id


def _points(value: Any) -> Decimal:
    """The generated amount when a redemption can cover it (positive, at most 3 decimals), else 100."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DEFAULT_POINTS
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return DEFAULT_POINTS
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount <= 0 or amount > MAX_POINTS or (isinstance(exponent, int) and exponent < -3):
        return DEFAULT_POINTS
    return amount


def _identifier(body: dict[str, Any]) -> dict[str, Any] | None:
    """The generated {type, value} identifier when both are strings (the form the substitution rewrites)."""
    identifier = body.get("identifier")
    if (
        isinstance(identifier, dict)
        and isinstance(identifier.get("type"), str)
        and isinstance(identifier.get("value"), str)
    ):
        return identifier
    return None


def fresh_redemption(ctx: ScenarioContext, case: Any) -> None:
    body = _body(case)
    if body is None or not (isinstance(body.get("redemptionId"), str) or _identifier(body) is not None):
        return
    points = float(_points(body.get("pointsToBeReversed")))
    redeem = ctx.provisioner(PointsProvisioner).points_redemption
    redemption = resource(ctx, "reversePoints", points, lambda: redeem(points=points))
    if isinstance(body.get("redemptionId"), str):
        body["redemptionId"] = redemption.redemption_id
    identifier = _identifier(body)
    if identifier is not None:
        key = IDENTIFIER_KEYS.get(identifier["type"].lower())
        if key is not None and key in redemption.identifiers:
            body["identifier"] = {**identifier, "value": str(redemption.identifiers[key])}
        else:
            body["identifier"] = {**identifier, "type": "ID", "value": str(redemption.customer_id)}


def fresh_thanx_job(ctx: ScenarioContext, case: Any) -> None:
    job = resource(
        ctx, "revokeIssuanceJob", "completed", lambda: ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    )
    case.path_parameters = {**(case.path_parameters or {}), "id": job.id}
    body = _body(case)
    if body is not None and isinstance(body.get("merchant_id"), str):
        body["merchant_id"] = job.merchant_id


def fresh_mandate(ctx: ScenarioContext, case: Any) -> None:
    mandate = resource(ctx, "mandateCommand", "ACTIVE", lambda: ctx.provisioner(JuspayProvisioner).mandate("ACTIVE"))
    case.path_parameters = {**(case.path_parameters or {}), "mandate_id": mandate.mandate_id}
    header = _header(case, "x-routing-id")
    if header is not None and isinstance(header[1], str):
        case.headers[header[0]] = mandate.customer_id


FRESH: dict[str, Callable[[ScenarioContext, Any], None]] = {
    "revokeUserReward": fresh_reward,
    "revokeEarn": fresh_badge_earn,
    "reversePoints": fresh_redemption,
    "revokeIssuanceJob": fresh_thanx_job,
    "mandateCommand": fresh_mandate,
}


def provision(ctx: ScenarioContext, operation: str, case: Any) -> None:
    """Point ``case`` at a fresh resource when ``operation`` is a revoke; other operations are untouched."""
    fresh = FRESH.get(operation)
    if fresh is not None:
        fresh(ctx, case)
