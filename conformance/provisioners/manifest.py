"""The manifest provisioner: pre-provisioned ids per state, for what no API can create.

A Juspay mandate needs a customer's authentication, so a live run takes ACTIVE mandates from a
manifest. Each id is handed out once and written to a ledger beside the manifest, so a second run
never revokes the same mandate twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.errors import PreconditionUnavailable, UsageError
from conformance.provisioners.base import BadgeEarn, Mandate, Provisioner, Redemption, RewardTxn, ThanxJob

THANX_STATES = ("pending", "processing", "completed", "failed", "revoking", "revoked")
MANDATE_STATES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")


class MandateEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mandate_id: str
    customer_id: str


class JobEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    merchant_id: str


class EarnEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    badge_meta_id: str
    earned_badge_id: str
    customer_id: int


class RedemptionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    redemption_id: str
    customer_id: int
    points: float
    identifiers: dict[str, str] = Field(default_factory=dict)


class RewardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    txn_id: int
    customer_id: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    juspay_mandates: dict[str, list[MandateEntry]] = Field(default_factory=dict)
    thanx_jobs: dict[str, list[JobEntry]] = Field(default_factory=dict)
    capillary_badge_earns: list[EarnEntry] = Field(default_factory=list)
    capillary_points_redemptions: list[RedemptionEntry] = Field(default_factory=list)
    capillary_reward_transactions: list[RewardEntry] = Field(default_factory=list)


def load_manifest(path: Path) -> Manifest:
    """Parse and validate a manifest; every problem is one paragraph naming the file and the entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageError(
            f"Cannot read the manifest {path}: {exc.strerror}. Pass --manifest with an existing YAML file."
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"The manifest {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(
            f"The manifest {path} is invalid at {where}: {err['msg']}. Allowed keys: juspay_mandates (by status, "
            "entries {mandate_id, customer_id}), thanx_jobs (by state, entries {id, merchant_id}), "
            "capillary_badge_earns, capillary_points_redemptions, capillary_reward_transactions."
        ) from None
    for status in manifest.juspay_mandates:
        if status not in MANDATE_STATES:
            raise UsageError(
                f"The manifest {path} lists mandates in status {status!r}; allowed: {', '.join(MANDATE_STATES)}."
            )
    for state in manifest.thanx_jobs:
        if state not in THANX_STATES:
            raise UsageError(
                f"The manifest {path} lists Thanx jobs in state {state!r}; allowed: {', '.join(THANX_STATES)}."
            )
    return manifest


class Ledger:
    """Ids already handed out, across runs and xdist workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = FileLock(str(path) + ".lock")

    def used(self) -> set[str]:
        if not self.path.is_file():
            return set()
        return {json.loads(line)["id"] for line in self.path.read_text().splitlines() if line.strip()}

    def take(
        self, kind: str, candidates: list[str], test: str, stale: Callable[[str], str | None] | None = None
    ) -> str | None:
        """The first unused candidate that ``stale`` (a read of its current state) finds as listed.

        A candidate whose state changed since it was listed is written to the ledger as "stale" with
        the reason, and never handed out.
        """
        with self.lock:
            used = self.used()
            for candidate in candidates:
                key = f"{kind}:{candidate}"
                if key in used:
                    continue
                reason = stale(candidate) if stale is not None else None
                self.write({"id": key, "test": test, **({"stale": reason} if reason else {})})
                if reason is None:
                    return candidate
        return None

    def mark_stale(self, kind: str, candidate: str, reason: str, by: str) -> None:
        with self.lock:
            if f"{kind}:{candidate}" not in self.used():
                self.write({"id": f"{kind}:{candidate}", "test": by, "stale": reason})

    def write(self, entry: dict[str, str]) -> None:
        stamped = {**entry, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(stamped) + "\n")

    def stale_entries(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        entries = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        return [e for e in entries if e.get("stale")]


# Ids per kind ("juspay mandate ACTIVE") that the run's scenarios need: the first ones listed are
# theirs, and generated cases may take only the ids after them. Filled after collection.
RESERVED_FOR_SCENARIOS: dict[str, int] = {}
StateReader = Callable[[str, str, str], str | None]  # (kind of resource, id, owner id) -> current state


def is_generated_case(test_id: str) -> bool:
    return "/properties/" in test_id


class ManifestProvisioner(Provisioner):
    name = "manifest"

    def __init__(self, manifest: Manifest, ledger: Ledger, test_id: str, read_state: StateReader | None = None) -> None:
        self.manifest = manifest
        self.ledger = ledger
        self.test_id = test_id
        self.read_state = read_state

    def _take(self, kind: str, ids: list[str], stale: Callable[[str], str | None] | None = None) -> str:
        if is_generated_case(self.test_id):
            # Scarce ids go to the rules that need them: generated cases get only what scenarios leave.
            ids = ids[RESERVED_FOR_SCENARIOS.get(kind, 0) :]
        chosen = self.ledger.take(kind, ids, self.test_id, stale)
        if chosen is None:
            raise PreconditionUnavailable(
                kind, f"the manifest has no unused {kind} left in its stated state (ledger: {self.ledger.path})"
            )
        return chosen

    def _stale(self, kind: str, stated: str, owners: dict[str, str]) -> Callable[[str], str | None] | None:
        """A read of the id's current state before it is handed out; None when there is no reader."""
        reader = self.read_state
        if reader is None:
            return None

        def check(candidate: str) -> str | None:
            seen = reader(kind, candidate, owners[candidate])
            return None if seen == stated else f"listed as {stated}, read as {seen or 'not found'} before use"

        return check

    def mandate(self, status: str) -> Mandate:
        entries = {e.mandate_id: e for e in self.manifest.juspay_mandates.get(status, [])}
        owners = {k: e.customer_id for k, e in entries.items()}
        kind = f"juspay mandate {status}"
        chosen = entries[self._take(kind, list(entries), self._stale("juspay", status, owners))]
        return Mandate(chosen.mandate_id, chosen.customer_id, status)

    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        if success_count is not None or failure_count is not None:
            raise self.unavailable(f"Thanx job in state {state} with chosen counters")
        entries = {e.id: e for e in self.manifest.thanx_jobs.get(state, [])}
        owners = {k: e.merchant_id for k, e in entries.items()}
        chosen = entries[self._take(f"thanx job {state}", list(entries), self._stale("thanx", state, owners))]
        return ThanxJob(chosen.id, chosen.merchant_id, state)

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        if not active:
            raise self.unavailable("inactive badge earn")
        entries = {e.earned_badge_id: e for e in self.manifest.capillary_badge_earns}
        e = entries[self._take("capillary badge earn", list(entries))]
        return BadgeEarn(e.badge_meta_id, e.earned_badge_id, e.customer_id)

    def plain_redemption(self, points: float) -> Redemption:
        entries = {e.redemption_id: e for e in self.manifest.capillary_points_redemptions if e.points >= points}
        e = entries[self._take("capillary points redemption", list(entries))]
        return Redemption(e.redemption_id, e.customer_id, e.points, e.identifiers)

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        if [s for s, _ in rewards] != ["ISSUED"]:
            raise self.unavailable("reward transaction in chosen states")
        entries = {str(e.txn_id): e for e in self.manifest.capillary_reward_transactions}
        e = entries[self._take("capillary reward transaction", list(entries))]
        return RewardTxn(e.txn_id, e.customer_id)
