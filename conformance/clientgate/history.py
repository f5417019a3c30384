"""What the gate remembers across calls, per sandbox tenant: routing ids, lost answers, pending retries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.clientgate.traffic import Seen


@dataclass
class TenantHistory:
    # Juspay: the first x-routing-id sent per mandate and per customer (when the control API named it).
    routing_by_mandate: dict[str, str] = field(default_factory=dict)
    routing_by_customer: dict[str, str] = field(default_factory=dict)
    customer_of_mandate: dict[str, str] = field(default_factory=dict)
    # Juspay: mandates whose revoke answer never reached the client, with the time that revoke started,
    # and every mandate call seen so far: a call can end before an earlier one whose answer was lost.
    lost_revokes: dict[str, float] = field(default_factory=dict)
    mandate_calls: dict[str, list[tuple[float, str | None, Seen]]] = field(default_factory=dict)
    # Thanx: jobs answered 202 (revoking) and not yet seen revoked.
    revoking_jobs: set[str] = field(default_factory=set)
    # Rewards: txnIds answered 1018 and not yet retried.
    failed_1018: set[str] = field(default_factory=set)
    # Per API: (monotonic time the 429 was sent, Retry-After seconds) of the last 429 not yet retried.
    rate_limited: dict[str, tuple[float, float]] = field(default_factory=dict)


class History:
    def __init__(self) -> None:
        self.tenants: dict[str, TenantHistory] = {}

    def of(self, tenant: str) -> TenantHistory:
        return self.tenants.setdefault(tenant, TenantHistory())
