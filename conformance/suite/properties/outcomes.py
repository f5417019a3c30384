"""What counts as the vendor's own success and the vendor's documented rejection, and how often cases reach them.

Success (revoke operations, positive cases): rewards status.code 200; badges data.isActive false;
points pointsReversed present; Thanx 202 with state revoking; Juspay mandate_status REVOKED.
Rejection (negative cases): rewards a documented status.code other than 200; badges and points an
errors item; Thanx a 4xx; Juspay a 400.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from conformance import yamlcache
from conformance.apis import APIS, get_api
from conformance.http.exchange import Exchange

REVOKE_OPERATIONS = {api.revoke_operation: key for key, api in APIS.items()}
TARGET_SHARE = 0.30


def _body(exchange: Exchange) -> dict[str, Any]:
    body = exchange.json()
    return body if isinstance(body, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def request_command(exchange: Exchange) -> str | None:
    """The ``command`` form field of a Juspay mandate call (revoke, check_status), if the body has one."""
    from urllib.parse import parse_qs

    try:
        fields = parse_qs(exchange.request.content.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    values = fields.get("command")
    return values[0] if values else None


SUCCESS: dict[str, Callable[[Exchange], bool]] = {
    "revokeUserReward": lambda ex: ex.status == 200 and (_body(ex).get("status") or {}).get("code") == 200,
    "revokeEarn": lambda ex: ex.status == 200 and (_body(ex).get("data") or {}).get("isActive") is False,
    "reversePoints": lambda ex: ex.status == 200 and "pointsReversed" in _body(ex),
    "revokeIssuanceJob": lambda ex: (
        ex.status == 202 and (_body(ex).get("issuance_job") or {}).get("state") == "revoking"
    ),
    "mandateCommand": lambda ex: ex.status == 200 and _body(ex).get("mandate_status") == "REVOKED",
}


def is_revoke_attempt(operation: str, exchange: Exchange) -> bool:
    """A positive case that asks for the revoke (Juspay's check_status command shares the operation)."""
    return operation != "mandateCommand" or request_command(exchange) == "revoke"


@cache
def documented_codes(api: str, operation: str) -> frozenset[Any]:
    """The operation's x-error-codes in the spec (empty when the spec lists none)."""
    spec = yamlcache.load_path(APIS[api].spec_path)
    for item in spec.get("paths", {}).values():
        for definition in item.values():
            if isinstance(definition, dict) and definition.get("operationId") == operation:
                return frozenset(entry.get("code") for entry in definition.get("x-error-codes") or [])
    return frozenset()


def _status_code_rejection(api: str, operation: str, exchange: Exchange) -> bool:
    # Always HTTP 200: the outcome is status.code, a listed code other than 200 (or success false).
    outcome = _dict(_body(exchange).get("status"))
    code = outcome.get("code")
    listed = documented_codes(api, operation) - {200}
    return exchange.status == 200 and code != 200 and (code in listed if listed else outcome.get("success") is False)


def _errors_rejection(api: str, operation: str, exchange: Exchange) -> bool:
    body = _body(exchange)
    errors = body.get("errors")
    if isinstance(errors, list):
        return bool(errors)
    # The v1.1 points endpoints (setup and read-back) carry the outcome in response.status.
    return _dict(_dict(body.get("response")).get("status")).get("success") is False


# An API descriptor's ``rejection`` names one of these: (api, operation, exchange) -> documented rejection.
REJECTIONS: dict[str, Callable[[str, str, Exchange], bool]] = {
    "status-code": _status_code_rejection,
    "capillary-errors": _errors_rejection,
    "http-4xx": lambda api, operation, ex: 400 <= (ex.status or 0) < 500,
    "http-400": lambda api, operation, ex: (ex.status or 0) == 400,
}


def documented_rejection(api: str, operation: str, exchange: Exchange) -> bool:
    return REJECTIONS[get_api(api).rejection](api, operation, exchange)


@dataclass
class Reach:
    positive: int = 0
    success: int = 0
    negative: int = 0
    rejected: int = 0
    # Generated cases whose request was the same as one this test had already sent: judged on that
    # answer, not sent again (support.send).
    deduplicated: int = 0

    @property
    def share(self) -> float:
        return self.success / self.positive if self.positive else 0.0


class ReachLedger:
    """Per-operation counts of one process, drained onto each test's report so the controller adds them up
    (under xdist too): no file is written or read back."""

    def __init__(self) -> None:
        self.counts: dict[str, Reach] = {}
        self.lock = threading.Lock()

    def record(self, operation: str, *, negative: bool, reached: bool) -> None:
        with self.lock:
            reach = self.counts.setdefault(operation, Reach())
            if negative:
                reach.negative += 1
                reach.rejected += int(reached)
            else:
                reach.positive += 1
                reach.success += int(reached)

    def deduplicated(self, operation: str) -> None:
        with self.lock:
            self.counts.setdefault(operation, Reach()).deduplicated += 1

    def drain(self) -> dict[str, dict[str, int]]:
        """The counts since the last drain, as plain data for a test report."""
        with self.lock:
            counts, self.counts = self.counts, {}
        return {operation: asdict(reach) for operation, reach in counts.items()}


def add_up(totals: dict[str, Reach], counts: dict[str, dict[str, int]]) -> None:
    for operation, values in counts.items():
        reach = totals.setdefault(operation, Reach())
        for name, value in values.items():
            setattr(reach, name, getattr(reach, name) + int(value))


def summary(totals: dict[str, Reach]) -> dict[str, Any]:
    """``success-reach.json``: per operation, the counts and the share of positive cases that succeeded."""
    operations = {
        operation: {**asdict(reach), "success_share": round(reach.share, 3), "revoke": operation in REVOKE_OPERATIONS}
        for operation, reach in sorted(totals.items())
    }
    return {"target_share": TARGET_SHARE, "operations": operations}


def render(data: dict[str, Any]) -> list[str]:
    """Terminal lines for the revoke operations' success reach."""
    lines = []
    for operation, row in data["operations"].items():
        if not row["revoke"]:
            continue
        flag = "" if row["success_share"] >= data["target_share"] else f"  BELOW {data['target_share']:.0%}"
        lines.append(
            f"{operation:<20} success {row['success']}/{row['positive']} ({row['success_share']:.0%}) "
            f"· negative rejected {row['rejected']}/{row['negative']}{flag}"
        )
    return lines


def new_run_id(given: str | None = None) -> str:
    return given or uuid.uuid4().hex


LEDGER = ReachLedger()
