"""Capillary Badges: earn a badge, list a customer's earned badges, revoke an earn.

Envelope ``{"data": ..., "errors": [...], "warnings": [...]}`` with real HTTP statuses, as the
badge pages show. Gap decisions (the pages are silent):

* ``warnings`` is always ``[]`` (the vendor shows ``[]`` and ``null`` on different pages).
* Missing ``customerId`` → 400 code 812 and missing ``requestId`` on earn → 400 code 804 (the
  earn page's codes); any other missing or mistyped field → 400 code 400 "<field> must not be null"
  / "<field> ...", the gateway's generic validation code.
* An ``X-CAP-CUSTOMER-IDENTIFIER`` value outside email|mobile|externalId|cardNumber → 400 code 400.
* revokeEarn for a customer that does not resolve, an earn of another badge or customer, an
  unknown or already revoked earn → 400 code 814 (the earn instance is not present for that
  request); earn for an unknown customer → 400 code 8015 "Customer not found".
* Missing or wrong credentials → 401 code 401 in the same envelope.
* Badge metas are not modelled: any non-empty ``badgeMetaId`` is a live, claimed badge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, capillary_credentials, capillary_gate
from conformance.sandbox.capillary import Customer, find_customer
from conformance.sandbox.core import HEX, SandboxState, TenantState, isoformat
from conformance.sandbox.decide import lock_point, point
from conformance.sandbox.web import (
    BadBody,
    Call,
    fault_gate,
    json_response,
    parse_json_object,
    route,
    sleep_ms,
    strip_nulls,
    take_delay,
)

API = "capillary-badges"
PREFIX = "/api_gateway/v1/badges/customer"
HEADER_TYPES = {"email": "email", "mobile": "mobile", "externalid": "externalId", "cardnumber": "cardNumber"}
REQUIRED_CODES = {"customerId": 812, "requestId": 804}
M = TypeVar("M", bound=BaseModel)


@dataclass
class Earn:
    earned_badge_id: str
    badge_meta_id: str
    customer_id: int
    request_id: str
    issued_id: str
    earned_on: str
    expires_on: int
    expires_on_iso: str
    is_active: bool = True
    revoke_count: int = 0
    revoked_on: str | None = None

    def listing(self) -> dict[str, object]:
        return {
            "badgeMetaId": self.badge_meta_id,
            "earnedBadgeId": self.earned_badge_id,
            "isActive": self.is_active,
            "requestId": self.request_id,
            "issuedId": self.issued_id,
            "earnedOnISO": self.earned_on,
            "expiresOn": self.expires_on,
            "expiresOnISO": self.expires_on_iso,
            "revokedOnISO": self.revoked_on,
        }


@dataclass
class BadgesStore:
    earns: dict[str, Earn] = field(default_factory=dict)
    request_ids: dict[str, str] = field(default_factory=dict)
    listings: dict[int, dict[str, object]] = field(default_factory=dict)  # badges-stale-listing only


class RevokeEarnBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    badgeMetaId: StrictStr = Field(min_length=1)
    customerId: StrictStr | StrictInt
    earnedBadgeId: StrictStr = Field(min_length=1)


class EarnBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    badgeMetaId: StrictStr = Field(min_length=1)
    customerId: StrictStr | StrictInt
    requestId: StrictStr = Field(min_length=1)


class Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def envelope(data: object, errors: list[dict[str, object]], status: int = 200) -> Response:
    return json_response({"data": data, "errors": errors, "warnings": []}, status)


def error_body(code: int, message: str) -> dict[str, object]:
    return {"data": None, "errors": [{"code": code, "message": message, "reference": None}], "warnings": []}


def refused(exc: Refused) -> Response:
    return json_response(error_body(exc.code, exc.message), exc.status)


def parse(state: SandboxState, model: type[M], raw: bytes) -> M:
    try:
        payload = strip_nulls(parse_json_object(raw))
    except BadBody as exc:
        raise Refused(400, 400, str(exc)) from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "body"
        if error["type"] == "missing":
            raise missing_field(state, name) from exc
        raise Refused(400, 400, f"{name}: {error['msg']}") from exc


# Decision points of the badge endpoints.
LOCK = lock_point("badges.lock")
CREDENTIALS = capillary_credentials(API)


@point("badges.request-body")
def request_body(call: Call) -> bytes:
    """The body as sent: every required field must be there (nothing is guessed)."""
    return call.body


@point("badges.default-identifier")
def default_identifier() -> str:
    """Without X-CAP-CUSTOMER-IDENTIFIER, customerId is the Capillary customer ID."""
    return "id"


@point("badges.resolve-customer")
def resolve_customer(tenant: TenantState, kind: str, value: str | int) -> Customer | None:
    """Every documented identifier type (email, mobile, externalId, cardNumber) resolves the customer."""
    return find_customer(tenant, kind, value)


@point("badges.header-refusal", gap="BADGE-GAP-IDENTIFIER-HEADER-VALUE")
def header_refusal() -> Refused:
    return Refused(400, 400, "X-CAP-CUSTOMER-IDENTIFIER must be one of email, mobile, externalId, cardNumber")


@point("badges.not-present", gap="BADGE-GAP-814-HTTP-STATUS")
def not_present(earn: Earn | None) -> Refused:
    """No active earn for this request (unknown, revoked, another customer's or badge's: BADGE-GAP-UNKNOWN-CUSTOMER)."""
    return Refused(400, 814, "Active earn instance is not present.")


@point("badges.missing-field", gap="BADGE-GAP-MISSING-BODY-FIELD")
def missing_field(name: str) -> Refused:
    return Refused(400, REQUIRED_CODES.get(name, 400), f"{name} must not be null")


@point("badges.echoed-customer")
def echoed_customer(earn: Earn, sent: str | int) -> str | int:
    """data.customerId is the numeric Capillary ID, whatever identifier was sent."""
    return earn.customer_id


@point("badges.listing", gap="BADGE-GAP-READBACK-SHAPE")
def listing(customer_id: int, earns: list[Earn]) -> dict[str, object]:
    """Every earn of the customer, revoked ones included with isActive false."""
    return {"customerId": customer_id, "badgeType": "EARNED", "earnedBadges": [earn.listing() for earn in earns]}


@point("badges.listing-served")
def listing_served(store: BadgesStore, customer_id: int, fresh: dict[str, object]) -> dict[str, object]:
    """A listing reflects the earns as they are now."""
    return fresh


@point("badges.auth-refusal", gap="BADGE-GAP-AUTH-FAILURE")
def auth_refusal() -> Response:
    return json_response(error_body(401, "Invalid credentials"), 401)


def resolve(call: Call, value: str | int) -> Customer | None:
    header = call.headers.get("x-cap-customer-identifier")
    if header is None:
        return resolve_customer(call.state, call.tenant, default_identifier(call.state), value)
    kind = HEADER_TYPES.get(header.strip().lower())
    if kind is None:
        raise header_refusal(call.state)
    return resolve_customer(call.state, call.tenant, kind, value)


def create_earn(tenant: TenantState, customer: Customer, badge_meta_id: str | None, request_id: str | None) -> Earn:
    with tenant.lock:
        store = tenant.store(BadgesStore)
        earned_on = tenant.now()
        expires = earned_on + timedelta(days=365)
        earn = Earn(
            earned_badge_id=tenant.new_id("badge-earn", HEX, 24),
            badge_meta_id=badge_meta_id or tenant.new_id("badge-meta", HEX, 24),
            customer_id=customer.customer_id,
            request_id=request_id or tenant.new_id("badge-request", HEX, 16, "req-"),
            issued_id=tenant.new_id("badge-issued", HEX, 24),
            earned_on=isoformat(earned_on),
            expires_on=int(expires.timestamp() * 1000),
            expires_on_iso=isoformat(expires),
        )
        store.earns[earn.earned_badge_id] = earn
        store.request_ids[earn.request_id] = earn.earned_badge_id
        return earn


def revoke_earn(call: Call) -> Response:
    try:
        body = parse(call.state, RevokeEarnBody, request_body(call.state, call))
        with LOCK(call.state, call.tenant):
            delay = take_delay(call.tenant, API)
            customer = resolve(call, body.customerId)
            earn = call.tenant.store(BadgesStore).earns.get(body.earnedBadgeId)
            present = (
                customer is not None
                and earn is not None
                and earn.is_active
                and earn.badge_meta_id == body.badgeMetaId
                and earn.customer_id == customer.customer_id
            )
            if not present or earn is None:
                raise not_present(call.state, earn)
            sleep_ms(delay)
            earn.is_active = False
            earn.revoke_count += 1
            earn.revoked_on = call.tenant.now_iso()
            data = {
                "badgeMetaId": earn.badge_meta_id,
                "customerId": echoed_customer(call.state, earn, body.customerId),
                "earnedBadgeId": earn.earned_badge_id,
                "isActive": False,
            }
    except Refused as exc:
        return refused(exc)
    return envelope(data, [])


def earn_badge(call: Call) -> Response:
    try:
        body = parse(call.state, EarnBody, call.body)
        with call.tenant.lock:
            customer = resolve(call, body.customerId)
            if customer is None:
                raise Refused(400, 8015, "Customer not found")
            store = call.tenant.store(BadgesStore)
            if body.requestId in store.request_ids:
                raise Refused(400, 809, "Request with same requestId is not allowed")
            earn = create_earn(call.tenant, customer, body.badgeMetaId, body.requestId)
    except Refused as exc:
        return refused(exc)
    data = {
        "badgeMetaId": earn.badge_meta_id,
        "customerId": earn.customer_id,
        "earnedBadgeId": earn.earned_badge_id,
        "expiresOn": earn.expires_on,
        "expiresOnISO": earn.expires_on_iso,
        "requestId": earn.request_id,
        "issuedId": earn.issued_id,
    }
    return envelope(data, [])


def customer_badges(call: Call) -> Response:
    badge_type = call.query.get("badgeType", "EARNED")
    try:
        if badge_type.upper() != "EARNED":
            raise Refused(400, 400, "badgeType must be EARNED")
        with call.tenant.lock:
            customer = resolve(call, call.path_params["customerId"])
            if customer is None:
                raise Refused(400, 8015, "Customer not found")
            store = call.tenant.store(BadgesStore)
            earns = [earn for earn in store.earns.values() if earn.customer_id == customer.customer_id]
            data = listing_served(
                call.state, store, customer.customer_id, listing(call.state, customer.customer_id, earns)
            )
    except Refused as exc:
        return refused(exc)
    return envelope(data, [])


def earn_state(earn: Earn) -> dict[str, object]:
    return {
        "badgeMetaId": earn.badge_meta_id,
        "earnedBadgeId": earn.earned_badge_id,
        "customerId": earn.customer_id,
        "isActive": earn.is_active,
        "revokeCount": earn.revoke_count,
        "requestId": earn.request_id,
        "earnedOnISO": earn.earned_on,
        "revokedOnISO": earn.revoked_on,
    }


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def shape(status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    gates = (capillary_gate(creds, lambda call: auth_refusal(call.state), CREDENTIALS), fault_gate(API, shape))
    return [
        route(state, f"{PREFIX}/revokeEarn", revoke_earn, methods=["POST"], gates=gates),
        route(state, f"{PREFIX}/earn", earn_badge, methods=["POST"], gates=gates),
        route(state, PREFIX + "/{customerId}", customer_badges, methods=["GET"], gates=gates),
    ]
