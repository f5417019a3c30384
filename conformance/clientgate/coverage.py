"""Which documented vendor behaviours the client's traffic made the sandbox produce, and how it coped.

A row is *produced* when the sandbox sent that answer to the client. Where the client's next move
is visible on the wire, the row also counts the times it *handled* the answer (polled, retried,
waited, read the status) and the times it did not; elsewhere handling is not observable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.clientgate.operations import Operation, juspay_command
from conformance.clientgate.traffic import Seen


@dataclass(frozen=True)
class Behaviour:
    key: str
    api: str
    what: str
    observable: bool = False  # whether the client's handling of it shows on the wire


POINTS_CODES = (804, 817, 818, 827, 878, 885, 886, 887, 888, 896, 898, 899, 901, 902, 903, 904)
REWARDS_CODES = (400, 13005, 13003, 10007, 10008, 1018)

BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("badges:revoked", "capillary-badges", "200 earn revoked (isActive false)"),
    Behaviour("badges:814", "capillary-badges", "error 814 active earn instance is not present"),
    Behaviour("badges:401", "capillary-badges", "401 credentials refused"),
    Behaviour("points:reversed", "capillary-points", "200 points reversed"),
    *(Behaviour(f"points:{code}", "capillary-points", f"error {code}") for code in POINTS_CODES),
    Behaviour("points:401", "capillary-points", "401 credentials refused"),
    Behaviour("rewards:200", "capillary-rewards", "status.code 200 reward revoked"),
    *(Behaviour(f"rewards:{code}", "capillary-rewards", f"HTTP 200 with status.code {code}") for code in REWARDS_CODES),
    Behaviour("rewards:1018-retried", "capillary-rewards", "1018, then a retry of the revoke that succeeded", True),
    Behaviour("rewards:401", "capillary-rewards", "401 credentials refused"),
    Behaviour("thanx:202", "thanx", "202 revoking"),
    Behaviour("thanx:polled-revoked", "thanx", "202, then polled until revoked", True),
    Behaviour("thanx:422", "thanx", "422 job not revocable (pending, processing, revoking, revoked)"),
    Behaviour("thanx:404", "thanx", "404 RESOURCE_NOT_FOUND"),
    Behaviour("thanx:401", "thanx", "401 AUTHENTICATION_GENERIC"),
    Behaviour("thanx:429", "thanx", "429 Too Many Requests"),
    Behaviour("juspay:revoked", "juspay", "200 REVOKED"),
    Behaviour("juspay:not-found", "juspay", "400 Mandate not found"),
    Behaviour("juspay:not-active", "juspay", "400 mandate not in active state"),
    Behaviour("juspay:gateway-failure", "juspay", "gateway failure, mandate stays ACTIVE"),
    Behaviour("juspay:gateway-failure-implicit", "juspay", "gateway failure with implicit revoke, REVOKED"),
    Behaviour("juspay:lost-answer", "juspay", "revoke answer lost (timeout), then check_status", True),
    Behaviour("juspay:401", "juspay", "401 access_denied"),
    Behaviour("any:429-waited", "any", "429 with Retry-After, then a retry after the wait", True),
)
BY_KEY = {behaviour.key: behaviour for behaviour in BEHAVIOURS}
Classifier = Callable[[Seen, Operation], "str | None"]


def _error_code(body: Any) -> int | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return code if isinstance(code, int) else None
    return None


def _capillary(prefix: str, seen: Seen, success: str) -> str | None:
    if seen.status == 401:
        return f"{prefix}:401"
    body = seen.response_json()
    code = _error_code(body)
    if code is not None:
        return f"{prefix}:{code}" if f"{prefix}:{code}" in BY_KEY else None
    return success if seen.status == 200 else None


def _rewards(seen: Seen) -> str | None:
    if seen.status == 401:
        return "rewards:401"
    body = seen.response_json()
    status = body.get("status") if isinstance(body, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    return f"rewards:{code}" if f"rewards:{code}" in BY_KEY else None


def _thanx(seen: Seen, op: Operation) -> str | None:
    if op.name == "revokeIssuanceJob" and seen.status in (202, 422):
        return f"thanx:{seen.status}"
    return f"thanx:{seen.status}" if seen.status in (401, 404, 429) else None


def _juspay(seen: Seen) -> str | None:
    if seen.status == 401:
        return "juspay:401"
    body = seen.response_json()
    if not isinstance(body, dict):
        return None
    if seen.status == 400:
        message = str(body.get("error_message", "")).lower()
        return "juspay:not-found" if "not found" in message else "juspay:not-active" if "active" in message else None
    if seen.status == 200 and juspay_command(seen) == "revoke":
        gateway = "gateway_response_code" in body
        if body.get("mandate_status") == "REVOKED":
            return "juspay:gateway-failure-implicit" if gateway else "juspay:revoked"
        return "juspay:gateway-failure" if gateway else None
    return None


def _revoke_only(operation: str, classify: Classifier) -> Classifier:
    def read(seen: Seen, op: Operation) -> str | None:
        return classify(seen, op) if op.name == operation else None

    return read


# Per API, which of its behaviour rows an answer is; an API without an entry has no rows to tally.
CLASSIFIERS: dict[str, Classifier] = {
    "capillary-badges": _revoke_only("revokeEarn", lambda seen, _op: _capillary("badges", seen, "badges:revoked")),
    "capillary-points": _revoke_only("reversePoints", lambda seen, _op: _capillary("points", seen, "points:reversed")),
    "capillary-rewards": _revoke_only("revokeUserReward", lambda seen, _op: _rewards(seen)),
    "thanx": lambda seen, op: _thanx(seen, op),
    "juspay": lambda seen, _op: _juspay(seen),
}


def classify(seen: Seen, op: Operation) -> str | None:
    """The behaviour row a single delivered answer belongs to, or None when it is none of the documented ones."""
    classifier = CLASSIFIERS.get(op.api)
    return classifier(seen, op) if classifier is not None else None


@dataclass
class Tally:
    produced: int = 0
    handled: int = 0
    mishandled: int = 0

    def as_json(self) -> dict[str, int]:
        return {"produced": self.produced, "handled": self.handled, "mishandled": self.mishandled}


def coverage_rows(tallies: dict[str, Tally]) -> list[dict[str, Any]]:
    rows = []
    for behaviour in BEHAVIOURS:
        tally = tallies.get(behaviour.key, Tally())
        rows.append(
            {
                "key": behaviour.key,
                "api": behaviour.api,
                "behaviour": behaviour.what,
                "observable": behaviour.observable,
            }
            | tally.as_json()
        )
    return rows
