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

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, capillary_gate
from conformance.sandbox.capillary import IDENTIFIER_ALIASES, Customer, find_customer, org
from conformance.sandbox.core import BASE62, SandboxState, TenantState, isoformat
from conformance.sandbox.deviations import guard
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
    878: "Points decimal precision not supported",
    886: "Points reversal failed due to a temporary system error",
    887: "Points reversal failed due to validation error",
    896: "Points reversal could not be processed",
    898: "Points reversal currently unavailable",
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


LENIENT = (
    "points-missing-redemptionid-latest",
    "points-missing-identifier-inferred",
    "points-missing-identifier-type-id",
    "points-missing-identifier-value-inferred",
)


def lenient(call: Call) -> bytes:
    """The body, with a missing field guessed under one of the LENIENT deviations."""
    if call.state.deviation not in LENIENT:
        return call.body
    try:
        payload = parse_json_object(call.body)
    except BadBody:
        return call.body
    store, ident = call.tenant.store(PointsStore), payload.get("identifier")
    redemption = store.redemptions.get(str(payload.get("redemptionId")))
    owner = {"type": "ID", "value": str(redemption.customer_id)} if redemption else {}
    if call.state.deviates(LENIENT[0]) and "redemptionId" not in payload and isinstance(ident, dict):
        found = latest(store, find_customer(call.tenant, str(ident.get("type", "")), ident.get("value")))
        payload["redemptionId"] = found.redemption_id if found else None
    elif call.state.deviates(LENIENT[1]) and ident is None and owner:
        payload["identifier"] = owner
    elif call.state.deviates(LENIENT[2]) and isinstance(ident, dict):
        ident.setdefault("type", "ID")
    elif call.state.deviates(LENIENT[3]) and isinstance(ident, dict) and owner:
        ident.setdefault("value", owner["value"])
    return json.dumps(payload, default=str).encode()


def parse_reverse(raw: bytes, places: int = 3, truncate: bool = False) -> tuple[ReverseBody, int | None]:
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
    exponent = Decimal(points).normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and not truncate:
        raise Refused(878)
    if points <= 0:
        raise Refused(887, "pointsToBeReversed must be greater than 0")
    return body, to_milli(points)


def check_reversal(
    state: SandboxState, redemption: Redemption, key: tuple[str, int | None], now: datetime, requested: int
) -> None:
    if not redemption.program_reversal_enabled and not state.deviates("points-program-flag-ignored"):
        raise Refused(818)
    if redemption.customer_locked and not state.deviates("points-lock-ignored"):
        raise Refused(904)
    if not redemption.customer_eligible:
        raise Refused(804 if state.deviates("points-ineligible-804") else 901)
    recent = not state.deviates("points-no-duplicate-window") and any(
        seen == key and (now - at).total_seconds() <= DUPLICATE_WINDOW_SECONDS for seen, at in redemption.accepted
    )
    if redemption.remaining <= 0 or recent:
        raise Refused(902)
    limit = redemption.reversal_limit
    if limit is not None and len(redemption.reversals) >= limit + state.deviates("points-limit-off-by-one"):
        raise Refused(903)
    if requested > redemption.remaining:
        raise Refused(817)


def apply_reversal(
    tenant: TenantState, redemption: Redemption, requested: int, now: datetime, *, credit_times: int = 1
) -> Reversal:
    reversed_available = sum(reversal.available for reversal in redemption.reversals)
    available = min(requested, redemption.points - redemption.expired - reversed_available)
    reversal = Reversal(
        reversal_id=str(tenant.new_int("points-reversal", 10)),
        points=requested,
        available=available,
        expired=requested - available,
        reversed_at=isoformat(now),
    )
    redemption.reversals.append(reversal)
    customer = org(tenant).customers.get(redemption.customer_id)
    if customer is not None:
        customer.points_available += credit_times * reversal.available
        customer.points_expired += credit_times * reversal.expired
    return reversal


def reverse(call: Call) -> Response:
    tenant, state = call.tenant, call.state
    try:
        places = 2 if state.deviates("points-two-decimals-only") else 3
        credits = 2 if state.deviates("points-balance-credited-twice") else 1
        body, points = parse_reverse(lenient(call), places, state.deviates("points-four-decimals-truncated"))
        kind = body.identifier.type
        if state.deviates("points-phone-type-unknown") and kind.upper() == "PHONE":
            kind = "unknown"
        with guard(state, tenant, "points-race-unlocked"):
            delay = take_delay(tenant, API)
            now = tenant.now()
            customer = find_customer(tenant, kind, body.identifier.value)
            store = tenant.store(PointsStore)
            redemption = store.redemptions.get(body.redemptionId)
            if redemption is None and state.deviates("points-unknown-redemption-latest"):
                redemption = latest(store, customer)
            other = redemption is not None and customer is not None and redemption.customer_id != customer.customer_id
            if (
                customer is None
                or redemption is None
                or (other and not state.deviates("points-identifier-not-matched"))
            ):
                raise Refused(804)
            requested = redemption.remaining if points is None else points
            if points is None and state.deviates("points-default-reverses-available-only"):
                requested -= redemption.expired
            if points is not None and (
                (points < redemption.remaining and state.deviates("points-partial-reverses-everything"))
                or (points > redemption.remaining and state.deviates("points-over-reversal-capped"))
            ):
                requested = redemption.remaining
            key = (redemption.redemption_id, points)
            if not (state.deviates("points-second-reversal-credited") and points and redemption.remaining <= 0):
                check_reversal(state, redemption, key, now, requested)
            fault = tenant.take_fault(API, ("points_failure",))
            if fault is not None:
                code = fault.code or 886
                if code == 886 and state.deviates("points-886-applied"):
                    apply_reversal(tenant, redemption, requested, now, credit_times=credits)
                if code == 896 and state.deviates("points-896-remembered"):
                    redemption.accepted.append((key, now))
                raise Refused(886 if code == 898 and state.deviates("points-898-reported-886") else code)
            sleep_ms(delay)
            reversal = apply_reversal(tenant, redemption, requested, now, credit_times=credits)
            if state.deviates("points-reversalid-per-redemption"):
                reversal.reversal_id = redemption.redemption_id
            redemption.accepted.append((key, now))
            org_id = org(tenant).org_id
            reported = redemption.reversed_total if state.deviates("points-reversed-cumulative") else reversal.points
            expired = 0 if state.deviates("points-details-drop-expired") else reversal.expired
    except Refused as exc:
        return json_response(flat_error(exc.code, exc.message), 400)
    return json_response(
        {
            "orgId": org_id,
            "identifier": {"type": body.identifier.type, "value": body.identifier.value},
            "customerId": customer.customer_id,
            "redemptionId": redemption.redemption_id,
            "reversalId": reversal.reversal_id,
            "pointsToBeReversed": number(requested),
            "pointsReversed": number(reported),
            "pointsReversedDetails": {"available": number(reversal.available), "expired": number(expired)},
            "warnings": [],
            "errors": [],
        }
    )


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def flat_shape(status: int, message: str) -> dict[str, Any]:
        return flat_error(status, message)

    gates = (
        capillary_gate(
            creds, lambda: json_response(flat_error(401, "Invalid credentials"), 401), lax="points-auth-presence-only"
        ),
        fault_gate(API, flat_shape),
    )
    return [route(state, "/v2/points/reverse", reverse, methods=["POST"], gates=gates)]
