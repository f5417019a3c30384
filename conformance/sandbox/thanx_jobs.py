"""Thanx issuance jobs: the state machine and its counters, apart from HTTP.

pending → processing → completed | failed, then (revoke) revoking → revoked. Jobs made by
``POST /partner/campaigns/issue`` advance one step per GET (the GET shows the new state); jobs the
control API creates stay in their state until ``advance``. A revoke always completes
asynchronously: ``revoking`` turns ``revoked`` on the GET after ``revoke_completes_after_reads``
GETs that showed ``revoking`` (and, if set, ``revoke_delay_ms`` of wall-clock time), or at once
through the control API's ``advance``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from conformance.sandbox.core import BASE36, SandboxState, TenantState
from conformance.sandbox.decide import point

STATES = ("pending", "processing", "completed", "failed", "revoking", "revoked")
FINISHED = FINISHED_STATES = ("completed", "failed", "revoking", "revoked")
REVOCABLE = ("completed", "failed")
USER_NOT_FOUND = "User not found"


@dataclass
class Job:
    id: str
    merchant_id: str
    campaign_id: str
    variant_id: str
    state: str
    created_at: str
    identifier_types: list[str]
    outcomes: list[str | None]
    auto: bool
    processed: int = 0
    started_at: str | None = None
    completed_at: str | None = None
    revoke_requests: list[dict[str, object]] = field(default_factory=list)
    revoke_reads: int = 0
    revoke_auto: bool = False
    revoke_wall: float = 0.0
    requeued: bool = False  # thanx-job-requeued only

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def success(self) -> int:
        return sum(1 for outcome in self.outcomes[: self.processed] if outcome is None)

    @property
    def failure(self) -> int:
        return self.processed - self.success

    def as_json(self, *, summary: bool, summary_states: tuple[str, ...] = FINISHED_STATES) -> dict[str, object]:
        body: dict[str, object] = {
            "id": self.id,
            "campaign_id": self.campaign_id,
            "variant_id": self.variant_id,
            "state": self.state,
            "total_count": self.total,
            "processed_count": self.processed,
            "success_count": self.success,
            "failure_count": self.failure,
            "progress_percent": self.processed * 100 // self.total if self.total else 0,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }
        if summary and self.state in summary_states:
            failures = [
                {"identifier_index": index, "identifier_type": self.identifier_types[index], "error": outcome}
                for index, outcome in enumerate(self.outcomes[: self.processed])
                if outcome is not None
            ]
            body["summary"] = {"success_count": self.success, "failure_count": self.failure, "failures": failures}
        return body


@dataclass
class ThanxStore:
    merchants: list[dict[str, str]] = field(default_factory=list)
    templates: list[dict[str, object]] = field(default_factory=list)
    campaigns: dict[str, dict[str, object]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    idempotency: dict[str, tuple[bytes, int, bytes]] = field(default_factory=dict)
    revoke_completes_after_reads: int | None = None  # None: the sandbox's choice (thanx.revoke-reads)
    revoke_delay_ms: int = 0


def thanx_store(tenant: TenantState) -> ThanxStore:
    """The tenant's Thanx store, seeded with two merchants and two reward templates each."""
    with tenant.lock:
        store = tenant.store(ThanxStore)
        if not store.merchants:
            for name, handle in (("Sandbox Coffee", "sandbox-coffee"), ("Sandbox Bakery", "sandbox-bakery")):
                merchant_id = tenant.new_id("thanx-merchant", BASE36, 15)
                store.merchants.append({"id": merchant_id, "name": name, "handle": handle})
                for reward in ("Free Coffee", "10% Off"):
                    template_id = tenant.new_id("thanx-template", BASE36, 15)
                    store.templates.append(
                        {"id": template_id, "merchant_id": merchant_id, "name": reward, "state": "active"}
                    )
        return store


def identifier_outcome(kind: str, value: str) -> str | None:
    """Deterministic delivery result: an identifier naming no plausible user fails, like the sandbox's "User not found"."""
    if "unknown" in value.lower():
        return USER_NOT_FOUND
    if kind == "email" and "@" not in value:
        return USER_NOT_FOUND
    if kind == "phone" and not any(char.isdigit() for char in value):
        return USER_NOT_FOUND
    return None


def new_job(
    tenant: TenantState,
    merchant_id: str,
    campaign_id: str,
    variant_id: str,
    outcomes: list[str | None],
    identifier_types: list[str],
    *,
    auto: bool,
) -> Job:
    with tenant.lock:
        job = Job(
            id=tenant.new_id("thanx-job", BASE36, 6, "job_"),
            merchant_id=merchant_id,
            campaign_id=campaign_id,
            variant_id=variant_id,
            state="pending",
            created_at=tenant.now_iso(),
            identifier_types=identifier_types,
            outcomes=outcomes,
            auto=auto,
        )
        thanx_store(tenant).jobs[job.id] = job
        return job


def step(tenant: TenantState, job: Job) -> None:
    """Move an issuing job one state forward."""
    if job.state == "pending":
        job.state = "processing"
        job.started_at = tenant.now_iso()
        job.processed = job.total // 2
    elif job.state == "processing":
        job.processed = job.total
        job.completed_at = tenant.now_iso()
        job.state = "failed" if job.total and job.success == 0 else "completed"


@point("thanx.requeues")
def requeues(job: Job) -> bool:
    """A job only moves forward: pending → processing → completed | failed."""
    return False


@point("thanx.revocation-result")
def revocation_result(job: Job) -> str | None:
    """What the background revocation ends in: revoked (it never fails); None would leave it revoking."""
    return "revoked"


@point("thanx.revoke-reads", gap="THANX-GAP-REVOKING-TO-REVOKED")
def revoke_reads() -> int:
    """GETs that show revoking before the one that shows revoked (the control API may set another number)."""
    return 1


@point("thanx.summary-states", gap="THANX-GAP-SUMMARY-ON-FAILED")
def summary_states() -> tuple[str, ...]:
    return FINISHED


@point("thanx.job", gap="THANX-GAP-COUNTERS-ON-REVOKE")
def job_body(job: Job, summary: bool, summary_in: tuple[str, ...]) -> dict[str, object]:
    """The job's documented fields, in the documented order; the summary on GET answers of finished jobs."""
    return job.as_json(summary=summary, summary_states=summary_in)


def render_job(state: SandboxState, job: Job, summary: bool) -> dict[str, object]:
    return job_body(state, job, summary, summary_states(state))


def finish_revocation(state: SandboxState, job: Job) -> None:
    result = revocation_result(state, job)
    if result is not None:
        job.state = result


def advance(state: SandboxState, tenant: TenantState, job: Job) -> None:
    """Finish whatever asynchronous work the job has pending, now."""
    while job.state in ("pending", "processing"):
        step(tenant, job)
    if job.state == "revoking":
        finish_revocation(state, job)


def read(state: SandboxState, tenant: TenantState, store: ThanxStore, job: Job) -> None:
    """What one GET of the job does to it."""
    if job.auto and job.state == "processing" and not job.requeued and requeues(state, job):
        job.state, job.requeued = "pending", True
    elif job.auto and job.state in ("pending", "processing"):
        step(tenant, job)
    elif job.state == "revoking" and job.revoke_auto:
        waited = (time.monotonic() - job.revoke_wall) * 1000 >= store.revoke_delay_ms
        needed = (
            revoke_reads(state) if store.revoke_completes_after_reads is None else store.revoke_completes_after_reads
        )
        if job.revoke_reads >= needed and waited:
            finish_revocation(state, job)
        else:
            job.revoke_reads += 1


def start_revoke(tenant: TenantState, job: Job) -> None:
    job.revoke_requests.append({"at": tenant.now_iso(), "from_state": job.state})
    job.state = "revoking"
    job.revoke_reads = 0
    job.revoke_auto = True
    job.revoke_wall = time.monotonic()
