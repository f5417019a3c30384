"""Sandbox state: tenants, deterministic ids, the logical clock and injected faults.

Everything a response body contains is derived from (seed, tenant, counter), so two sandboxes
started with the same seed and fed the same calls answer with the same bytes. Wall-clock time
only ever decides *when* something happens (``delay`` faults, Thanx ``revoke_delay_ms``), never
what a body says.
"""

from __future__ import annotations

import hashlib
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

API_KEYS: Final = ("capillary-badges", "capillary-points", "capillary-rewards", "thanx", "juspay")
DEFAULT_TENANT: Final = "default"
TENANT_HEADER: Final = "x-sandbox-tenant"
EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)

HEX: Final = "0123456789abcdef"
BASE36: Final = string.digits + string.ascii_lowercase
BASE62: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase

FAULT_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "capillary-badges": ("rate_limit", "server_error", "delay"),
    "capillary-points": ("rate_limit", "server_error", "points_failure", "delay"),
    "capillary-rewards": ("rate_limit", "server_error", "points_failure", "delay"),
    "thanx": ("rate_limit", "server_error", "delay"),
    "juspay": ("rate_limit", "server_error", "gateway_failure", "gateway_timeout", "delay"),
}

S = TypeVar("S")


def isoformat(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def derive(seed: int, tenant: str, kind: str, n: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{tenant}:{kind}:{n}".encode(), digest_size=32).digest()
    return int.from_bytes(digest, "big")


def encode(value: int, alphabet: str, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rest = divmod(value, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


@dataclass
class Fault:
    fault_id: str
    api: str
    kind: str
    remaining: int
    retry_after: int | None = None
    status: int | None = None
    code: int | None = None
    delay_ms: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "fault_id": self.fault_id,
            "api": self.api,
            "kind": self.kind,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "status": self.status,
            "code": self.code,
            "delay_ms": self.delay_ms,
        }


class TenantState:
    """All state of one tenant. Callers hold ``lock`` around every read-modify-write."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.seed = seed
        # Re-entrant so a vendor operation can call shared helpers that lock again.
        self.lock = threading.RLock()
        self._ticks = 0
        self._counters: dict[str, int] = {}
        self._issued: dict[str, set[str]] = {}
        self._stores: dict[type, object] = {}
        self.faults: list[Fault] = []

    def now(self) -> datetime:
        with self.lock:
            moment = EPOCH + timedelta(seconds=self._ticks)
            self._ticks += 1
            return moment

    def now_iso(self) -> str:
        return isoformat(self.now())

    def _draw(self, kind: str) -> int:
        n = self._counters.get(kind, 0)
        self._counters[kind] = n + 1
        return derive(self.seed, self.name, kind, n)

    def new_id(self, kind: str, alphabet: str, length: int, prefix: str = "") -> str:
        with self.lock:
            issued = self._issued.setdefault(kind, set())
            # Collisions are astronomically rare but would silently merge two resources.
            while True:
                candidate = prefix + encode(self._draw(kind), alphabet, length)
                if candidate not in issued:
                    issued.add(candidate)
                    return candidate

    def new_int(self, kind: str, digits: int) -> int:
        with self.lock:
            issued = self._issued.setdefault(kind, set())
            low = int(10 ** (digits - 1))
            while True:
                candidate = low + self._draw(kind) % (9 * low)
                if str(candidate) not in issued:
                    issued.add(str(candidate))
                    return candidate

    def store(self, factory: type[S]) -> S:
        """The tenant's instance of a vendor module's store class, created on first use."""
        with self.lock:
            existing = self._stores.get(factory)
            if existing is None:
                existing = factory()
                self._stores[factory] = existing
            return existing  # type: ignore[return-value]

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, api: str, kinds: Iterable[str]) -> Fault | None:
        """Consume one use of the oldest matching fault."""
        wanted = set(kinds)
        with self.lock:
            for fault in self.faults:
                if fault.api == api and fault.kind in wanted and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
            return None


@dataclass
class SandboxState:
    seed: int = 0
    apis: tuple[str, ...] = API_KEYS
    deviation: str | None = None
    gap_profile: str = "faithful"
    # The answers of the decision points this sandbox overrides (conformance.sandbox.decide).
    choices: dict[str, Callable[..., Any]] = field(default_factory=dict)
    tenants: dict[str, TenantState] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tenant_seeds: dict[str, int] = field(default_factory=dict)

    def deviates(self, name: str) -> bool:
        return self.deviation == name

    def tenant(self, name: str | None) -> TenantState:
        key = name or DEFAULT_TENANT
        with self.lock:
            state = self.tenants.get(key)
            if state is None:
                state = TenantState(key, self.tenant_seeds.get(key, self.seed))
                self.tenants[key] = state
            return state

    def reset_tenant(self, name: str, seed: int | None) -> TenantState:
        with self.lock:
            if seed is not None:
                self.tenant_seeds[name] = seed
            self.tenants.pop(name, None)
        return self.tenant(name)

    def reset_all(self, seed: int | None) -> None:
        with self.lock:
            if seed is not None:
                self.seed = seed
            self.tenant_seeds.clear()
            self.tenants.clear()
