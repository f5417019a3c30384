"""Checks of juspay's documented conventions: mandate statuses.

The error bodies (400, 401) are judged by the generated schema rules (JUSPAY-SCHEMA-REVOKE-400/401), and
JUSPAY-GATEWAY-FAILURE-ACTIVE by its scenario alone: only the scenario knows the gateway was made to fail.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.judge import Judge
from conformance.checks.registry import check
from conformance.http.exchange import Exchange

API = "juspay"
OPERATIONS = ("mandateCommand",)
PHASES = ("test", "readback")
MANDATE_STATUSES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")


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
