"""Juspay mandates: ``POST /mandates/{mandate_id}`` with form command ``revoke`` or ``check_status``.

Error bodies are the ones the API reference shows (vendor-setup §6). Gap decisions:

* A JSON body (``Content-Type: application/json`` or a body starting with ``{``) → 400 BAD_REQUEST
  "Content-Type must be application/x-www-form-urlencoded": the page makes the form encoding required.
* Missing ``x-merchantid`` → 400 BAD_REQUEST (code MISSING_MANDATORY_PARAMETER); an
  ``x-merchantid`` other than the key's merchant → 401 access_denied.
* Missing ``x-routing-id`` is accepted (nothing is recorded); every distinct routing id sent for a
  mandate is recorded in first-seen order, a different one for the same customer included.
* The mandate is looked up before the command is checked; a missing or unknown command on an
  existing mandate → 400 in the BAD_REQUEST shape with message "Invalid command" (code INVALID_REQUEST).
* Injected ``rate_limit``/``server_error`` → 429/5xx ``{"status": "error", "error_code", "error_info"}``.
* ``gateway_timeout`` sleeps ``delay_ms`` outside the lock, then answers like ``gateway_failure``.
* ``should_do_implicit_revoke`` counts as set when its value is ``true`` in any letter case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import JUSPAY_UNAUTHORIZED, SandboxCredentials, juspay_gate
from conformance.sandbox.core import BASE36, BASE62, SandboxState, TenantState
from conformance.sandbox.decide import lock_point, point
from conformance.sandbox.web import Call, Gate, fault_gate, json_response, route, sleep_ms, take_delay

API = "juspay"
STATES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")
COMMANDS = ("revoke", "check_status")
GATEWAY_MESSAGE = "Bank Issues a Timeout"


@dataclass
class Mandate:
    mandate_id: str
    status: str
    order_id: str
    customer_id: str
    start_date: str
    end_date: str
    activated_at: str | None
    revoke_calls: list[dict[str, object]] = field(default_factory=list)
    routing_ids_seen: list[str] = field(default_factory=list)
    lagging: bool = False  # juspay-readback-lags: the next check_status still says ACTIVE

    def as_json(self) -> dict[str, object]:
        return {
            "mandate_id": self.mandate_id,
            "mandate_status": self.status,
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "amount_rule": "VARIABLE",
            "max_amount": 5000.0,
            "currency": "INR",
            "frequency": "ASPRESENTED",
            "start_date": self.start_date,
            "end_date": self.end_date,
            "activated_at": self.activated_at,
            "mandate_type": "EMANDATE",
            "revokable_by_customer": True,
            "block_fund": False,
        }


@dataclass
class JuspayStore:
    mandates: dict[str, Mandate] = field(default_factory=dict)


def bad_request(message: str, developer_message: str, code: str, user_message: str | None = None) -> Response:
    info = {
        "user_message": user_message or developer_message,
        "developer_message": developer_message,
        "code": code,
        "category": "USER_ERROR",
    }
    return json_response(
        {"error_message": message, "status": "Invalid Request", "error_code": "BAD_REQUEST", "error_info": info}, 400
    )


MANDATE_NOT_FOUND = {
    "error_message": "Mandate not found",
    "status": "invalid_request_error",
    "error_code": "Mandate not found",
    "error_info": {
        "user_message": "Cannot process your request as mandate not found.",
        "developer_message": "Mandate not found for customer.",
        "code": "RESOURCE_NOT_FOUND",
        "category": "USER_ERROR",
    },
}


def not_active(message: str = "Mandate Not in Active State") -> Response:
    return bad_request(
        message,
        "Action not allowed since mandate is not active for given mandate id.",
        "INVALID_ACTION",
        "You are not allowed to perform this action since mandate is not active.",
    )


def create_mandate(tenant: TenantState, status: str, customer_id: str | None) -> Mandate:
    with tenant.lock:
        created = tenant.now()
        mandate = Mandate(
            mandate_id=tenant.new_id("juspay-mandate", BASE62, 22),
            status=status,
            order_id="ord_" + tenant.new_id("juspay-order", BASE36, 12),
            customer_id=customer_id or f"customer_{tenant.new_int('juspay-customer', 6)}",
            start_date=str(int(created.timestamp())),
            end_date=str(int(created.timestamp()) + 30 * 365 * 86400),
            activated_at=None if status in ("CREATED", "PENDING", "FAILURE") else tenant.now_iso(),
        )
        tenant.store(JuspayStore).mandates[mandate.mandate_id] = mandate
        return mandate


def mandate_state(mandate: Mandate) -> dict[str, object]:
    return {
        **mandate.as_json(),
        "revoke_calls": [dict(call) for call in mandate.revoke_calls],
        "routing_ids_seen": list(mandate.routing_ids_seen),
    }


def form(call: Call) -> dict[str, str] | None:
    """The form fields, or None when the body is JSON rather than form-encoded."""
    content_type = call.headers.get("content-type", "").lower()
    if "json" in content_type or call.body.lstrip().startswith((b"{", b"[")):
        return None
    fields = parse_qs(call.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


# Decision points of the mandate endpoint, in the order the handler meets them.
LOCK = lock_point("juspay.lock")


@point("juspay.json-body-refusal", gap="JUSPAY-GAP-JSON-BODY")
def json_body_refusal() -> Response:
    return bad_request(
        "Content-Type must be application/x-www-form-urlencoded",
        "Mandate APIs accept application/x-www-form-urlencoded bodies only.",
        "INVALID_REQUEST",
    )


@point("juspay.command")
def command_of(fields: Mapping[str, str]) -> str:
    """The command is required: a missing one is not guessed."""
    return fields.get("command", "")


@point("juspay.invalid-command", gap="JUSPAY-GAP-UNKNOWN-COMMAND")
def invalid_command() -> Response:
    return bad_request("Invalid command", f"command must be one of {', '.join(COMMANDS)}.", "INVALID_REQUEST")


@point("juspay.check-status", gap="JUSPAY-GAP-CHECK-STATUS-TYPES")
def check_status(mandate: Mandate, shown_status: str) -> dict[str, object]:
    return {**mandate.as_json(), "mandate_status": shown_status}


@point("juspay.implicit", gap="JUSPAY-GAP-IMPLICIT-REVOKE-VALUES")
def implicit_revoke(value: str) -> bool:
    """should_do_implicit_revoke is on when its value is true in any letter case."""
    return value.lower() == "true"


@point("juspay.revocable")
def revocable(implicit: bool) -> tuple[str, ...]:
    """Only an ACTIVE mandate can be revoked, implicitly or not."""
    return ("ACTIVE",)


@point("juspay.not-active", gap="JUSPAY-GAP-REVOKE-PAUSED")
def not_active_refusal(mandate: Mandate) -> Response:
    return not_active()


@point("juspay.implicit-persisted")
def implicit_persisted() -> bool:
    """A gateway failure with should_do_implicit_revoke revokes the mandate for good."""
    return True


@point("juspay.gateway-failure", gap="JUSPAY-GAP-GATEWAY-FAILURE-STATUS")
def gateway_failure(body: dict[str, object], implicit: bool) -> Response:
    """The "Revoke Failed" sample's body, with HTTP 200."""
    return json_response(body)


@point("juspay.lags")
def lags() -> bool:
    """A revoke is visible to the next check_status."""
    return False


@point("juspay.revoked")
def revoked(mandate: Mandate) -> Response:
    return json_response({"mandate_status": "REVOKED", "mandate_id": mandate.mandate_id})


@point("juspay.missing-merchant", gap="JUSPAY-GAP-MISSING-MERCHANTID")
def missing_merchant() -> Response | None:
    return bad_request(
        "x-merchantid header is required",
        "Pass the merchant id issued at registration in the x-merchantid header.",
        "MISSING_MANDATORY_PARAMETER",
    )


def mandates(call: Call) -> Response:
    fields = form(call)
    state = call.state
    if fields is None:
        return json_body_refusal(state)
    tenant = call.tenant
    store = tenant.store(JuspayStore)
    routing_id = call.headers.get("x-routing-id")
    command = command_of(state, fields)
    with tenant.lock:
        mandate = store.mandates.get(call.path_params["mandate_id"])
        if mandate is None:
            return json_response(MANDATE_NOT_FOUND, 400)
        if routing_id and routing_id not in mandate.routing_ids_seen:
            mandate.routing_ids_seen.append(routing_id)
        if command not in COMMANDS:
            return invalid_command(state)
        if command == "check_status":
            lagging, mandate.lagging = mandate.lagging, False
            return json_response(check_status(state, mandate, "ACTIVE" if lagging else mandate.status))
        mandate.lagging = False
    timeout = tenant.take_fault(API, ("gateway_timeout",))
    if timeout is not None:
        sleep_ms(timeout.delay_ms)
    implicit = implicit_revoke(state, fields.get("should_do_implicit_revoke", ""))
    with LOCK(state, tenant):
        delay = take_delay(tenant, API)
        return revoke(state, tenant, mandate, routing_id, implicit, delay, timed_out=timeout is not None)


def revoke(
    state: SandboxState,
    tenant: TenantState,
    mandate: Mandate,
    routing_id: str | None,
    implicit: bool,
    delay: int,
    *,
    timed_out: bool,
) -> Response:
    record: dict[str, object] = {"at": tenant.now_iso(), "routing_id": routing_id, "implicit": implicit}
    mandate.revoke_calls.append(record)
    if mandate.status not in revocable(state, implicit):
        record["outcome"] = "NOT_ACTIVE"
        return not_active_refusal(state, mandate)
    sleep_ms(delay)
    if timed_out or tenant.take_fault(API, ("gateway_failure",)) is not None:
        if implicit and implicit_persisted(state):
            mandate.status = "REVOKED"
        record["outcome"] = "GATEWAY_FAILURE_IMPLICIT_REVOKE" if implicit else "GATEWAY_FAILURE"
        body: dict[str, object] = {
            "mandate_id": mandate.mandate_id,
            "gateway_response_code": "200",
            "mandate_status": "REVOKED" if implicit else mandate.status,
            "gateway_response_message": GATEWAY_MESSAGE,
        }
        return gateway_failure(state, body, implicit)
    mandate.status = "REVOKED"
    mandate.lagging = lags(state)
    record["outcome"] = "REVOKED"
    return revoked(state, mandate)


def merchant_gate(creds: SandboxCredentials) -> Gate:
    def gate(call: Call) -> Response | None:
        merchant_id = call.headers.get("x-merchantid")
        if not merchant_id:
            return missing_merchant(call.state)
        if merchant_id != creds.juspay_merchant_id:
            return json_response(JUSPAY_UNAUTHORIZED, 401)
        return None

    return gate


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def shape(status: int, message: str) -> dict[str, Any]:
        code = "too_many_requests" if status == 429 else "internal_server_error"
        info = {"user_message": message, "developer_message": message, "code": code.upper(), "category": "SERVER_ERROR"}
        return {"status": "error", "error_code": code, "error_info": info}

    gates = (juspay_gate(creds), merchant_gate(creds), fault_gate(API, shape))
    return [route(state, "/mandates/{mandate_id}", mandates, methods=["POST"], gates=gates)]
