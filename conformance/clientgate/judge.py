"""The judge: every request through the gate is checked against the request rules and tallied for coverage."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Iterable
from typing import Any

from conformance.clientgate.coverage import Tally, classify
from conformance.clientgate.history import History, TenantHistory
from conformance.clientgate.operations import Operation, identify, juspay_command
from conformance.clientgate.rules import CLIENT_RULES, ClientRule, blind_resend
from conformance.clientgate.traffic import Seen
from conformance.http.redact import Redactor

# Transport headers say nothing about the client library and differ between a direct call and a proxy.
TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "accept"})
# A client that waited Retry-After to the millisecond must not lose to clock granularity.
RETRY_TOLERANCE_S = 0.05


class Judge:
    """Thread-safe: uvicorn serves requests concurrently, and the gate observes each one as it ends."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.redactor = Redactor(secrets)
        self.history = History()
        self.breaches: list[dict[str, Any]] = []
        self.tallies: dict[str, Tally] = {}
        self.requests = 0
        self._lock = threading.Lock()

    def observe(self, seen: Seen) -> None:
        operation = identify(seen)
        with self._lock:
            history = self.history.of(seen.tenant)
            if operation is None:
                _learn_from_control(seen, history)
                return
            self.requests += 1
            self._rate_limit(seen, operation, history)
            for rule in CLIENT_RULES:
                if rule.applies_to(operation):
                    received = rule.check(seen, operation, history)
                    if received is not None:
                        self.breaches.append(self._breach(rule, seen, operation, received))
            self._cover(seen, operation, history)

    def part(self) -> dict[str, Any]:
        """What this judge saw, JSON-ready; parts of several judges (xdist workers) merge into one verdict."""
        with self._lock:
            tallies = {key: Tally(t.produced, t.handled, t.mishandled) for key, t in self.tallies.items()}
            for history in self.history.tenants.values():
                # A job left revoking and a 1018 never retried are answers the client did not follow up.
                tallies.setdefault("thanx:polled-revoked", Tally()).mishandled += len(history.revoking_jobs)
                tallies.setdefault("rewards:1018-retried", Tally()).mishandled += len(history.failed_1018)
            return {
                "requests": self.requests,
                "breaches": list(self.breaches),
                "tallies": {key: tally.as_json() for key, tally in tallies.items()},
            }

    def _tally(self, key: str) -> Tally:
        return self.tallies.setdefault(key, Tally())

    def _breach(self, rule: ClientRule, seen: Seen, operation: Operation, received: str) -> dict[str, Any]:
        return {
            "rule_id": rule.rule_id,
            "api": operation.api,
            "operation": operation.name,
            "received": self.redactor.text(received),
            "documented": rule.documented,
            "request": self.render(seen),
        }

    def render(self, seen: Seen) -> dict[str, Any]:
        """The request, redacted, without transport headers, and as a curl against ``$BASE_URL``."""
        headers = [(k.lower(), v) for k, v in self.redactor.headers(seen.headers) if k.lower() not in TRANSPORT_HEADERS]
        body = self.redactor.text(seen.body.decode("utf-8", "replace"))
        target = seen.path + (f"?{self.redactor.text(seen.query)}" if seen.query else "")
        parts = ["curl", "-X", seen.method, shlex.quote("$BASE_URL" + target)]
        for name, value in headers:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if body:
            parts += ["--data-raw", shlex.quote(body)]
        return {
            "method": seen.method,
            "target": target,
            "headers": dict(headers),
            "body": body,
            "curl": " ".join(parts),
        }

    def _rate_limit(self, seen: Seen, operation: Operation, history: TenantHistory) -> None:
        pending = history.rate_limited.pop(operation.api, None)
        if pending is not None:
            sent, wait = pending
            tally = self._tally("any:429-waited")
            tally.produced += 1
            if seen.started - sent + RETRY_TOLERANCE_S >= wait:
                tally.handled += 1
            else:
                tally.mishandled += 1

    def _cover(self, seen: Seen, operation: Operation, history: TenantHistory) -> None:
        follow = SEQUENCES.get(operation.api)
        if follow is not None:
            follow(self, seen, operation, history)
        if not seen.delivered:
            return
        key = classify(seen, operation)
        if key is not None:
            self._tally(key).produced += 1
        retry_after = seen.response_header("retry-after")
        if seen.status == 429 and retry_after is not None and retry_after.strip().isdigit():
            history.rate_limited[operation.api] = (seen.finished, float(retry_after))
        if operation.resource is None:
            return
        if key == "thanx:202":
            history.revoking_jobs.add(operation.resource)
        elif operation.name == "getIssuanceJob" and operation.resource in history.revoking_jobs:
            body = seen.response_json()
            job = body.get("issuance_job") if isinstance(body, dict) else None
            if isinstance(job, dict) and job.get("state") == "revoked":
                history.revoking_jobs.discard(operation.resource)
                tally = self._tally("thanx:polled-revoked")
                tally.produced += 1
                tally.handled += 1
        elif key == "rewards:1018":
            history.failed_1018.add(operation.resource)
        elif key == "rewards:200" and operation.resource in history.failed_1018:
            history.failed_1018.discard(operation.resource)
            tally = self._tally("rewards:1018-retried")
            tally.produced += 1
            tally.handled += 1

    def _juspay_sequence(self, seen: Seen, operation: Operation, history: TenantHistory) -> None:
        mandate, command = operation.resource, juspay_command(seen)
        if mandate is None:
            return
        routing = seen.header("x-routing-id")
        if routing:
            history.routing_by_mandate.setdefault(mandate, routing)
            customer = history.customer_of_mandate.get(mandate)
            if customer:
                history.routing_by_customer.setdefault(customer, routing)
        calls = history.mandate_calls.setdefault(mandate, [])
        calls.append((seen.started, command, seen))
        del calls[:-50]
        lost_at = history.lost_revokes.get(mandate)
        if lost_at is not None and lost_at < seen.started and command in ("check_status", "revoke"):
            del history.lost_revokes[mandate]
            self._follow_up("juspay:lost-answer", command == "check_status")
        if command == "revoke" and not seen.delivered:
            self._tally("juspay:lost-answer").produced += 1
            # The client's next move may already have been answered: it was sent while this one hung.
            later = sorted((c for c in calls if c[0] > seen.started and c[1] in ("check_status", "revoke")), key=_first)
            if not later:
                history.lost_revokes[mandate] = seen.started
                return
            _, next_command, next_seen = later[0]
            self._follow_up("juspay:lost-answer", next_command == "check_status")
            if next_command == "revoke":
                rule = next(r for r in CLIENT_RULES if r.rule_id == "JUSPAY-STATUS-BEFORE-RESEND")
                self.breaches.append(self._breach(rule, next_seen, operation, blind_resend(mandate)))

    def _follow_up(self, key: str, handled: bool) -> None:
        tally = self._tally(key)
        if handled:
            tally.handled += 1
        else:
            tally.mishandled += 1


def _first(call: tuple[float, str | None, Seen]) -> float:
    return call[0]


def _learn_from_control(seen: Seen, history: TenantHistory) -> None:
    """A mandate created through the control API names its customer: routing ids are judged per customer."""
    if seen.method == "POST" and seen.path == "/_sandbox/juspay/mandates" and seen.status == 201:
        body = seen.response_json()
        if isinstance(body, dict) and body.get("mandate_id") and body.get("customer_id"):
            history.customer_of_mandate[str(body["mandate_id"])] = str(body["customer_id"])


# APIs whose calls on one resource are followed in order (a lost revoke answer, then a status read or a resend).
SEQUENCES: dict[str, Callable[[Judge, Seen, Operation, TenantHistory], None]] = {"juspay": Judge._juspay_sequence}
