"""The sandbox control API under ``/_sandbox``: health, reset, credentials, faults.

Ours, not a vendor's: JSON in and out, the same tenant header, no vendor auth, and every refusal
is ``{"error": <what was wrong>, "allowed": <what is allowed>}`` so a test author can fix a setup
call from the answer alone. Vendor setup routes live in :mod:`conformance.sandbox.control_vendors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials
from conformance.sandbox.core import FAULT_KINDS, HEX, Fault, SandboxState
from conformance.sandbox.web import BadBody, Call, json_response, parse_json_object, route

PREFIX = "/_sandbox"
M = TypeVar("M", bound=BaseModel)


class ControlError(Exception):
    def __init__(self, status: int, error: str, allowed: object) -> None:
        super().__init__(error)
        self.status, self.error, self.allowed = status, error, allowed

    def response(self) -> Response:
        return json_response({"error": self.error, "allowed": self.allowed}, self.status)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parse_body(model: type[M], call: Call) -> M:
    """Validate a control request body; an empty body means ``{}``."""
    try:
        payload = parse_json_object(call.body) if call.body.strip() else {}
    except BadBody as exc:
        raise ControlError(400, str(exc), "a JSON object") from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        where = ".".join(str(part) for part in error["loc"]) or "body"
        properties: dict[str, Any] = model.model_json_schema().get("properties", {})
        if error["type"] == "extra_forbidden" or name not in properties:
            raise ControlError(422, f"{where}: unknown field", sorted(properties)) from exc
        raise ControlError(422, f"{where}: {error['msg']}", properties[name]) from exc


def control_route(state: SandboxState, path: str, handler: Callable[[Call], Response], method: str) -> Route:
    def run(call: Call) -> Response:
        try:
            return handler(call)
        except ControlError as exc:
            return exc.response()

    return route(state, PREFIX + path, run, methods=[method])


class ResetBody(Strict):
    seed: int | None = None
    all: bool = False


class FaultBody(Strict):
    api: Literal["capillary-badges", "capillary-points", "capillary-rewards", "thanx", "juspay"]
    kind: Literal["rate_limit", "server_error", "points_failure", "gateway_failure", "gateway_timeout", "delay"]
    count: int = Field(1, ge=1, le=100_000)
    retry_after: int | None = Field(None, ge=0, le=3600)
    status: Literal[500, 502, 503, 504] | None = None
    code: Literal[886, 896, 898] | None = None
    delay_ms: int | None = Field(None, ge=0, le=60_000)


FAULT_OPTIONS = {"retry_after": ("rate_limit",), "status": ("server_error",), "delay_ms": ("delay", "gateway_timeout")}


def fault_from(body: FaultBody, mounted: tuple[str, ...]) -> Fault:
    if body.api not in mounted:
        raise ControlError(422, f"api {body.api} is not mounted in this sandbox", list(mounted))
    if body.kind not in FAULT_KINDS[body.api]:
        raise ControlError(422, f"fault kind {body.kind} does not apply to {body.api}", list(FAULT_KINDS[body.api]))
    for option, kinds in FAULT_OPTIONS.items():
        if getattr(body, option) is not None and body.kind not in kinds:
            raise ControlError(422, f"{option} applies only to fault kinds {', '.join(kinds)}", list(kinds))
    if body.code is not None and (body.api, body.kind) != ("capillary-points", "points_failure"):
        raise ControlError(422, "code applies only to capillary-points points_failure", [886, 896, 898])
    defaults: dict[str, dict[str, int]] = {
        "rate_limit": {"retry_after": 1},
        "server_error": {"status": 500},
        "delay": {"delay_ms": 100},
        "gateway_timeout": {"delay_ms": 1000},
        "points_failure": {"code": 886} if body.api == "capillary-points" else {},
    }
    given = body.model_dump(include={"retry_after", "status", "code", "delay_ms"}, exclude_none=True)
    options = {**defaults.get(body.kind, {}), **given}
    return Fault(fault_id="", api=body.api, kind=body.kind, remaining=body.count, **options)


def general_routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def health(call: Call) -> Response:
        return json_response(
            {"status": "ok", "apis": list(state.apis), "seed": state.seed, "deviation": state.deviation}
        )

    def reset(call: Call) -> Response:
        body = parse_body(ResetBody, call)
        if body.all:
            state.reset_all(body.seed)
            return json_response({"reset": "all", "seed": state.seed})
        tenant = state.reset_tenant(call.tenant.name, body.seed)
        return json_response({"reset": "tenant", "tenant": tenant.name, "seed": tenant.seed})

    def credentials(call: Call) -> Response:
        return json_response(creds.describe(state.apis))

    def add_fault(call: Call) -> Response:
        fault = fault_from(parse_body(FaultBody, call), state.apis)
        with call.tenant.lock:
            fault.fault_id = call.tenant.new_id("fault", HEX, 12, "flt_")
            call.tenant.add_fault(fault)
        return json_response({"fault_id": fault.fault_id}, 201)

    def list_faults(call: Call) -> Response:
        with call.tenant.lock:
            return json_response({"faults": [fault.as_json() for fault in call.tenant.faults]})

    def clear_faults(call: Call) -> Response:
        with call.tenant.lock:
            cleared = len(call.tenant.faults)
            call.tenant.faults.clear()
        return json_response({"deleted": cleared})

    return [
        control_route(state, "/health", health, "GET"),
        control_route(state, "/reset", reset, "POST"),
        control_route(state, "/credentials", credentials, "GET"),
        control_route(state, "/faults", add_fault, "POST"),
        control_route(state, "/faults", list_faults, "GET"),
        control_route(state, "/faults", clear_faults, "DELETE"),
    ]


def fallback_route(state: SandboxState, known: list[Route]) -> Route:
    """404 (unknown path) or 405 (known path, other method) in the control error shape."""
    table = [f"{method} {item.path}" for item in known for method in sorted(item.methods or ()) if method != "HEAD"]

    def fallback(call: Call) -> Response:
        path = PREFIX + "/" + call.path_params.get("rest", "")
        methods = sorted(
            method
            for item in known
            if item.path_regex.match(path)
            for method in (item.methods or ())
            if method != "HEAD"
        )
        if methods:
            return json_response({"error": f"method {call.method} not allowed on {path}", "allowed": methods}, 405)
        return json_response({"error": f"unknown control route {path}", "allowed": table}, 404)

    every = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return route(state, PREFIX + "/{rest:path}", fallback, methods=every)
