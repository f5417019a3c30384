"""Capillary Points v2: reverse a redemption (``POST /v2/points/reverse``).

Points are kept in thousandths (the page allows three decimals) so reversal arithmetic is exact.
Gap decisions for ``POST /v2/points/reverse`` (the page lists codes but no HTTP statuses):

* Every error is HTTP 400 with the flat body ``{"errors": [{"code", "message"}], "warnings": []}``;
  missing or wrong credentials are HTTP 401 code 401 in the same shape.
* Malformed body, missing ``redemptionId``/``identifier``, unknown identifier type, and
  non-positive or non-numeric ``pointsToBeReversed`` → 887 (validation error); more than three
  decimals (compared by value, so ``1.5000`` is fine) → 878.
* Unknown ``redemptionId``, an identifier that does not resolve, or a redemption of another
  customer → 804 (general failure: "check parameters").
* Checks run in this order after validation: 818 program reversal disabled, 904 customer locked,
  901 customer ineligible, 902 duplicate, 903 reversal limit, 817 more than the remaining amount,
  then an injected ``points_failure`` (886/896/898).
* Duplicate (902): any reversal of a fully reversed redemption, or a request with the same
  ``redemptionId`` and ``pointsToBeReversed`` (an omitted value counts as its own value) as one
  accepted within the last 60 logical seconds.
* ``reversalLimit`` counts accepted reversals of the redemption; reaching it gives 903.
* A partial reversal returns points to the available balance first, then to the expired one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, capillary_credentials, capillary_gate
from conformance.sandbox.capillary import IDENTIFIER_ALIASES, Customer, find_customer, org
from conformance.sandbox.core import BASE62, SandboxState, TenantState, isoformat
from conformance.sandbox.decide import lock_point, point
from conformance.sandbox.web import (
    BadBody,
    Call,
    fault_gate,
    json_response,
    number,
    parse_json_object,
    route,
    sleep_ms,
    strip_nulls,
    take_delay,
    to_milli,
)

API = "capillary-points"
DUPLICATE_WINDOW_SECONDS = 60
MESSAGES = {
    804: "Unable to process points reversal request",
    817: "Points reversal failed due to insufficient points",
    818: "Points reversal not allowed for this program",
    827: "Unable to reverse points; reversal is enabled",
    878: "Points decimal precision not supported",
    885: "Invalid program ID",
    886: "Points reversal failed due to a temporary system error",
    887: "Points reversal failed due to validation error",
    888: "Invalid configuration detected",
    896: "Points reversal could not be processed",
    898: "Points reversal currently unavailable",
    899: "Misconfigured program setup",
    901: "Customer not eligible for points reversal",
    902: "Duplicate reversal request",
    903: "Reversal limit exceeded",
    904: "Points reversal locked for this customer",
}


@dataclass
class Reversal:
    reversal_id: str
    points: int
    available: int
    expired: int
    reversed_at: str

    def as_json(self) -> dict[str, object]:
        return {
            "reversalId": self.reversal_id,
            "points": number(self.points),
            "available": number(self.available),
            "expired": number(self.expired),
            "reversedAt": self.reversed_at,
        }


@dataclass
class Redemption:
    redemption_id: str
    customer_id: int
    points: int
    expired: int
    redeemed_at: str
    program_reversal_enabled: bool = True
    customer_eligible: bool = True
    customer_locked: bool = False
    reversal_limit: int | None = None
    transaction_number: str | None = None
    external_reference_number: str | None = None
    reversals: list[Reversal] = field(default_factory=list)
    accepted: list[tuple[tuple[str, int | None], datetime]] = field(default_factory=list)

    @property
    def reversed_total(self) -> int:
        return sum(reversal.points for reversal in self.reversals)

    @property
    def remaining(self) -> int:
        return self.points - self.reversed_total


@dataclass
class PointsStore:
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)


class Identifier(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: StrictStr = Field(min_length=1)
    value: StrictStr | StrictInt


class ReverseBody(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    redemptionId: StrictStr = Field(min_length=1)
    pointsToBeReversed: StrictInt | Decimal | None = None
    identifier: Identifier


class Refused(Exception):
    def __init__(self, code: int, detail: str | None = None) -> None:
        super().__init__(detail or MESSAGES[code])
        self.code = code
        self.message = MESSAGES[code] if detail is None else f"{MESSAGES[code]}: {detail}"


def flat_error(code: int, message: str) -> dict[str, object]:
    return {"errors": [{"code": code, "message": message}], "warnings": []}


def create_redemption(tenant: TenantState, customer: Customer, points: int, expired: int, **flags: Any) -> Redemption:
    with tenant.lock:
        redemption = Redemption(
            redemption_id=tenant.new_id("points-redemption", BASE62, 6),
            customer_id=customer.customer_id,
            points=points,
            expired=expired,
            redeemed_at=tenant.now_iso(),
            **flags,
        )
        store = tenant.store(PointsStore)
        store.redemptions[redemption.redemption_id] = redemption
        if redemption.external_reference_number:
            store.by_reference[redemption.external_reference_number] = redemption.redemption_id
        return redemption


def latest(store: PointsStore, customer: Customer | None) -> Redemption | None:
    """The customer's most recent redemption (deviations that guess the redemption use it)."""
    mine = [r for r in store.redemptions.values() if customer is not None and r.customer_id == customer.customer_id]
    return mine[-1] if mine else None


# Decision points of reversePoints, in the order the handler meets them.
LOCK = lock_point("points.lock")


@point("points.request-body")
def request_body(call: Call) -> bytes:
    """The body as sent: every required field must be there (nothing is guessed)."""
    return call.body


@point("points.too-precise")
def too_precise(amount: Decimal) -> bool:
    """The page allows at most three decimals (compared by value, so 1.5000 is fine)."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < -3


@point("points.non-positive-code", gap="POINTS-GAP-NON-POSITIVE-AMOUNT")
def non_positive_code() -> int:
    return 887


@point("points.resolve-customer")
def resolve_customer(tenant: TenantState, kind: str, value: str | int) -> Customer | None:
    """Every documented identifier type (ID, PHONE, EMAIL, MOBILE, EXTERNALID, CARDNUMBER) resolves."""
    return find_customer(tenant, kind, value)


@point("points.find-redemption")
def find_redemption(store: PointsStore, redemption_id: str, customer: Customer | None) -> Redemption | None:
    return store.redemptions.get(redemption_id)


@point("points.owner-matches")
def owner_matches(redemption: Redemption, customer: Customer) -> bool:
    return redemption.customer_id == customer.customer_id


@point("points.unknown-code", gap="POINTS-GAP-UNKNOWN-REDEMPTION")
def unknown_code(redemption_known: bool) -> int:
    """804 for an unknown redemption and for an identifier that is not the redeemer (POINTS-GAP-IDENTIFIER-MISMATCH)."""
    return 804


@point("points.requested", gap="POINTS-GAP-DEFAULT-REVERSAL")
def requested_points(redemption: Redemption, points: int | None) -> int:
    """The amount to reverse; an omitted one is everything still reversible."""
    return redemption.remaining if points is None else points


@point("points.checks-apply")
def checks_apply(redemption: Redemption, points: int | None) -> bool:
    """Every reversal goes through the documented checks."""
    return True


@point("points.program-allows")
def program_allows(redemption: Redemption) -> bool:
    return redemption.program_reversal_enabled


@point("points.program-off-code", gap="POINTS-GAP-ORG-CONFIG-OFF")
def program_off_code() -> int:
    return 818


@point("points.customer-locked")
def customer_locked(redemption: Redemption) -> bool:
    return redemption.customer_locked


@point("points.ineligible-code")
def ineligible_code() -> int:
    return 901


@point("points.duplicate", gap="POINTS-GAP-DUPLICATE-902")
def duplicate(redemption: Redemption, key: tuple[str, int | None], now: datetime) -> bool:
    """A fully reversed redemption, or the same redemption and amount accepted within the window."""
    recent = any(
        seen == key and (now - at).total_seconds() <= DUPLICATE_WINDOW_SECONDS for seen, at in redemption.accepted
    )
    return redemption.remaining <= 0 or recent


@point("points.limit-reached", gap="POINTS-GAP-LIMIT-903")
def limit_reached(redemption: Redemption) -> bool:
    limit = redemption.reversal_limit
    return limit is not None and len(redemption.reversals) >= limit


@point("points.over-reversal-code", gap="POINTS-GAP-OVER-REVERSAL-CODE")
def over_reversal_code() -> int:
    return 817


@point("points.failed-reversal")
def failed_reversal(state: SandboxState, tenant: TenantState, redemption: Redemption, requested: int, code: int) -> int:
    """An injected vendor failure (886/896/898) reverses nothing, remembers nothing, and is reported as it is."""
    return code


@point("points.split", gap="POINTS-GAP-AVAILABLE-EXPIRED-SPLIT")
def split(redemption: Redemption, requested: int) -> tuple[int, int]:
    """(available, expired): available first, up to the redeemed points not expired meanwhile."""
    reversed_available = sum(reversal.available for reversal in redemption.reversals)
    available = min(requested, redemption.points - redemption.expired - reversed_available)
    return available, requested - available


@point("points.credit")
def credit(customer: Customer, reversal: Reversal) -> None:
    customer.points_available += reversal.available
    customer.points_expired += reversal.expired


@point("points.reversal-id")
def reversal_id(tenant: TenantState, redemption: Redemption) -> str:
    """Every reversal has its own id."""
    return str(tenant.new_int("points-reversal", 10))


@point("points.reported")
def reported(redemption: Redemption, reversal: Reversal) -> int:
    """pointsReversed: what this request reversed."""
    return reversal.points


@point("points.details")
def details(reversal: Reversal) -> dict[str, object]:
    return {"available": number(reversal.available), "expired": number(reversal.expired)}


@point("points.error", gap="POINTS-GAP-ERROR-HTTP-STATUS")
def error(code: int, message: str) -> Response:
    """Every vendor error code comes with HTTP 400 in the flat body (POINTS-GAP-ERROR-ITEM-SHAPE)."""
    return json_response(flat_error(code, message), 400)


@point("points.auth-refusal", gap="POINTS-GAP-AUTH-FAILURE")
def auth_refusal() -> Response:
    return json_response(flat_error(401, "Invalid credentials"), 401)


CREDENTIALS = capillary_credentials(API)


def parse_reverse(state: SandboxState, raw: bytes) -> tuple[ReverseBody, int | None]:
    try:
        body = ReverseBody.model_validate(strip_nulls(parse_json_object(raw)))
    except BadBody as exc:
        raise Refused(887, str(exc)) from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"][:2])
        raise Refused(887, f"{where}: {error['msg']}") from exc
    if body.identifier.type.lower() not in IDENTIFIER_ALIASES:
        raise Refused(887, "identifier.type must be one of ID, PHONE, EMAIL, MOBILE, EXTERNALID, CARDNUMBER")
    points = body.pointsToBeReversed
    if points is None:
        return body, None
    if isinstance(points, Decimal) and not points.is_finite():
        raise Refused(887, "pointsToBeReversed must be a number")
    if too_precise(state, Decimal(points)):
        raise Refused(878)
    if points <= 0:
        raise Refused(non_positive_code(state), "pointsToBeReversed must be greater than 0")
    return body, to_milli(points)


def check_reversal(
    state: SandboxState, redemption: Redemption, key: tuple[str, int | None], now: datetime, requested: int
) -> None:
    if not program_allows(state, redemption):
        raise Refused(program_off_code(state))
    if customer_locked(state, redemption):
        raise Refused(904)
    if not redemption.customer_eligible:
        raise Refused(ineligible_code(state))
    if duplicate(state, redemption, key, now):
        raise Refused(902)
    if limit_reached(state, redemption):
        raise Refused(903)
    if requested > redemption.remaining:
        raise Refused(over_reversal_code(state))


def apply_reversal(
    state: SandboxState, tenant: TenantState, redemption: Redemption, requested: int, now: datetime
) -> Reversal:
    available, expired = split(state, redemption, requested)
    reversal = Reversal(
        reversal_id=reversal_id(state, tenant, redemption),
        points=requested,
        available=available,
        expired=expired,
        reversed_at=isoformat(now),
    )
    redemption.reversals.append(reversal)
    customer = org(tenant).customers.get(redemption.customer_id)
    if customer is not None:
        credit(state, customer, reversal)
    return reversal


def reverse(call: Call) -> Response:
    tenant, state = call.tenant, call.state
    try:
        body, points = parse_reverse(state, request_body(state, call))
        with LOCK(state, tenant):
            delay = take_delay(tenant, API)
            now = tenant.now()
            customer = resolve_customer(state, tenant, body.identifier.type, body.identifier.value)
            redemption = find_redemption(state, tenant.store(PointsStore), body.redemptionId, customer)
            if customer is None or redemption is None or not owner_matches(state, redemption, customer):
                raise Refused(unknown_code(state, redemption is not None))
            requested = requested_points(state, redemption, points)
            key = (redemption.redemption_id, points)
            if checks_apply(state, redemption, points):
                check_reversal(state, redemption, key, now, requested)
            fault = tenant.take_fault(API, ("points_failure",))
            if fault is not None:
                raise Refused(failed_reversal(state, state, tenant, redemption, requested, fault.code or 886))
            sleep_ms(delay)
            reversal = apply_reversal(state, tenant, redemption, requested, now)
            redemption.accepted.append((key, now))
            org_id = org(tenant).org_id
            answer: dict[str, object] = {
                "orgId": org_id,
                "identifier": {"type": body.identifier.type, "value": body.identifier.value},
                "customerId": customer.customer_id,
                "redemptionId": redemption.redemption_id,
                "reversalId": reversal.reversal_id,
                "pointsToBeReversed": number(requested),
                "pointsReversed": number(reported(state, redemption, reversal)),
                "pointsReversedDetails": details(state, reversal),
                "warnings": [],
                "errors": [],
            }
    except Refused as exc:
        return error(state, exc.code, exc.message)
    return json_response(answer)


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def flat_shape(status: int, message: str) -> dict[str, Any]:
        return flat_error(status, message)

    gates = (
        capillary_gate(creds, lambda call: auth_refusal(call.state), CREDENTIALS),
        fault_gate(API, flat_shape),
    )
    return [route(state, "/v2/points/reverse", reverse, methods=["POST"], gates=gates)]
