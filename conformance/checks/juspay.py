"""Checks of juspay's documented conventions: mandate statuses, the failed-revoke shape, error bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from conformance.checks.judge import Judge
from conformance.checks.registry import check
from conformance.http.exchange import Exchange

API = "juspay"
OPERATIONS = ("mandateCommand",)
PHASES = ("test", "readback")
MANDATE_STATUSES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")
# JUSPAY-GATEWAY-FAILURE-ACTIVE is judged by its scenario alone: only it knows the gateway was made to fail.
ERROR_INFO_FIELDS = ("user_message", "developer_message", "code", "category")


def request_fields(exchange: Exchange) -> dict[str, Any]:
    """The request's form fields (first value of each); a JSON object body is read too."""
    content = exchange.request.content
    if not content:
        return {}
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    if "application/x-www-form-urlencoded" in exchange.request.headers.get("content-type", ""):
        return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def body_of(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.json()
    return body if isinstance(body, dict) else None


@check(api=API, operations=OPERATIONS, rules=["JUSPAY-STATUS-ENUM"], phases=PHASES)
def juspay_status_enum(exchange: Exchange, judge: Judge) -> None:
    """mandate_status is always one of CREATED, ACTIVE, PAUSED, REVOKED, FAILURE, EXPIRED or PENDING (PENDING from the v3.2 docs only; never FAILED)."""
    body = body_of(exchange)
    if exchange.status != 200:
        return
    received = body.get("mandate_status") if body is not None else exchange.response and exchange.response.text[:200]
    judge.verdict(
        "JUSPAY-STATUS-ENUM",
        ok=received in MANDATE_STATUSES,
        received=received,
        documented=f"one of {', '.join(MANDATE_STATUSES)}",
        exchange=exchange,
    )


@check(api=API, operations=OPERATIONS, rules=["JUSPAY-ERROR-SHAPE"], phases=PHASES)
def juspay_error_shape(exchange: Exchange, judge: Judge) -> None:
    """A 400 body has string status, error_message and error_code (plus error_info{user_message, developer_message, code, category} in the documented examples); a 401 body has status and error_code (plus error_info)."""
    if exchange.status not in (400, 401):
        return
    body = body_of(exchange)
    required = ("status", "error_message", "error_code") if exchange.status == 400 else ("status", "error_code")
    ok = body is not None and all(isinstance(body.get(name), str) for name in required)
    info = body.get("error_info") if body is not None else None
    if ok and info is not None:
        ok = isinstance(info, dict) and all(isinstance(info.get(name), str) for name in ERROR_INFO_FIELDS)
    documented = (
        f"string {', '.join(required)}"
        + " (error_info, when present, with string "
        + ", ".join(ERROR_INFO_FIELDS)
        + ")"
    )
    judge.verdict(
        "JUSPAY-ERROR-SHAPE",
        ok=ok,
        received=body if body is not None else exchange.response and exchange.response.text[:200],
        documented=documented,
        exchange=exchange,
    )
