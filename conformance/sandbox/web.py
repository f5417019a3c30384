"""Request plumbing shared by the vendor routers and the control API.

Handlers are plain synchronous functions of a :class:`Call`; the async shim only reads the body
and hands the work to Starlette's threadpool, so concurrent requests really do race and the
tenant locks are what keeps them apart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.core import TENANT_HEADER, SandboxState, TenantState
from conformance.sandbox.decide import point


@dataclass(frozen=True)
class Call:
    method: str
    path_params: Mapping[str, str]
    query: QueryParams
    headers: Headers
    body: bytes
    state: SandboxState
    tenant: TenantState


Handler = Callable[[Call], Response]
Gate = Callable[[Call], Response | None]
Shape = Callable[[int, str], object]
# The sandbox reads at most this much of a request body (documented in the README); a larger one is
# answered 413 in the API's own error shape, without being parsed or acted on.
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is larger than :data:`MAX_BODY_BYTES`."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, read in chunks and given up on as soon as it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(gates: tuple[Gate, ...]) -> Response:
    """413 in the error shape of the route's API (the one its fault gate answers in), else plain JSON."""
    message = f"Request body too large: the limit is {MAX_BODY_BYTES} bytes"
    shape: Shape | None = next((getattr(g, "shape", None) for g in gates if getattr(g, "shape", None)), None)
    body = shape(413, message) if shape is not None else {"error": message}
    return json_response(body, 413, {"Connection": "close"})


class BadBody(Exception):
    """The body is not the JSON object an endpoint needs."""


def dumps(body: object) -> bytes:
    # Insertion order is the vendor's documented field order; sorting would scramble it.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a JSON object, keeping non-integers as Decimal so precision checks see what was sent."""
    if not raw.strip():
        raise BadBody("request body is empty; a JSON object is required")
    try:
        value = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadBody("request body must be a JSON object")
    return value


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(dotted field path, message) of the first validation error."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return where, str(error["msg"])


def number(milli: int) -> int | float:
    """Points are kept in thousandths so arithmetic is exact; render them as the shortest JSON number."""
    if milli % 1000 == 0:
        return milli // 1000
    return float(Decimal(milli) / 1000)


def to_milli(value: Decimal | int) -> int:
    return int(Decimal(value) * 1000)


def sleep_ms(delay_ms: int | None) -> None:
    if delay_ms:
        time.sleep(delay_ms / 1000)


@point("web.rate-limit-headers", gap="ALL-GAP-RETRY-AFTER")
def rate_limit_headers(retry_after: int) -> dict[str, str]:
    """Rate-limit answers name the wait in ``Retry-After`` (no page promises the header)."""
    return {"Retry-After": str(retry_after)}


@point("web.answer", gap="ALL-GAP-KEY-ORDER")
def answer(path: str, response: Response) -> Response:
    """The finished answer as it goes on the wire (members in the order the vendor samples show)."""
    return response


def fault_gate(api: str, shape: Shape) -> Gate:
    """Gate answering with an injected ``rate_limit`` or ``server_error`` in the API's own error shape."""

    def gate(call: Call) -> Response | None:
        fault = call.tenant.take_fault(api, ("rate_limit", "server_error"))
        if fault is None:
            return None
        if fault.kind == "rate_limit":
            retry_after = fault.retry_after if fault.retry_after is not None else 1
            return json_response(shape(429, "Too many requests"), 429, rate_limit_headers(call.state, retry_after))
        status = fault.status or 500
        message = "Service unavailable" if status == 503 else "Internal server error"
        return json_response(shape(status, message), status)

    gate.shape = shape  # type: ignore[attr-defined]  # the API's error shape, for answers outside a handler
    return gate


def route(
    state: SandboxState,
    path: str,
    handler: Handler,
    *,
    methods: list[str],
    gates: tuple[Gate, ...] = (),
) -> Route:
    """A route whose handler runs in the threadpool after each gate (auth, faults) lets it through."""

    def serve(call: Call) -> Response:
        for gate in gates:
            refused = gate(call)
            if refused is not None:
                return refused
        return handler(call)

    def run(call: Call) -> Response:
        return answer(state, path, serve(call))

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_body(request)
        except BodyTooLarge:
            return too_large(gates)
        call = Call(
            method=request.method,
            path_params={key: str(value) for key, value in request.path_params.items()},
            query=request.query_params,
            headers=request.headers,
            body=body,
            state=state,
            tenant=state.tenant(request.headers.get(TENANT_HEADER)),
        )
        return await run_in_threadpool(run, call)

    return Route(path, endpoint, methods=methods)


def take_delay(tenant: TenantState, api: str) -> int:
    """Consume a ``delay`` fault as a revoke starts; the revoke sleeps it between its check and its write.

    That is where a missing lock would let two concurrent revokes both pass the check.
    """
    fault = tenant.take_fault(api, ("delay",))
    return (fault.delay_ms or 0) if fault is not None else 0


def strip_nulls(payload: Mapping[str, Any]) -> dict[str, Any]:
    """JSON null and absence mean the same to the vendors' validators ("must not be null")."""
    return {key: value for key, value in payload.items() if value is not None}
