"""Thanx end to end through the vendor's own setup path: issue a campaign's rewards, watch the job finish, revoke it."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.errors import PreconditionUnavailable
from conformance.http.exchange import Exchange
from conformance.provisioners.thanx import ThanxJob, ThanxProvisioner
from conformance.suite.readbacks import Judgements
from conformance.suite.scenarios.thanx_steps import control_campaign, read_job, state_of
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "thanx"
LIFECYCLE = ("pending", "processing")
FINISHED = ("completed", "failed")
SUMMARY_FAILURE_FIELDS = ("identifier_index", "identifier_type", "error")


@dataclass(frozen=True)
class Campaign:
    merchant_id: str
    campaign_id: str
    variant_id: str


def campaign(ctx: ScenarioContext) -> Campaign:
    """merchant → reward template → campaign with one rewarded variant (vendor-setup.md §5, steps 1–3).

    Under the control provisioner the control API makes it, so no vendor setup endpoint is needed.
    """
    if made := control_campaign(ctx):
        return Campaign(*made)
    client = ctx.client(API)
    merchants = client.call("GET", "/partner/merchants", operation="listMerchants", phase="setup", retry=True)
    merchant_id = first_id(response_field(merchants, "merchants"))
    templates = client.call(
        "GET",
        "/partner/reward_templates",
        operation="listRewardTemplates",
        phase="setup",
        params={"merchant_id": merchant_id, "per_page": "1"},
        retry=True,
    )
    template_id = first_id(response_field(templates, "reward_templates"))
    created = client.call(
        "POST",
        "/partner/campaigns",
        operation="createCampaign",
        phase="setup",
        json={
            "campaign": {
                "merchant_id": merchant_id,
                "name": f"conformance {ctx.tenant}",
                "start_at": "2026-01-01T00:00:00Z",
                "end_at": "2036-01-01T00:00:00Z",
                "redeemable_from": "2026-01-01T00:00:00Z",
                "redeemable_to": "2036-01-01T00:00:00Z",
                "variants": [{"name": "Treatment", "reward_template_id": template_id}],
            }
        },
    )
    variant_id = first_id(response_field(created, "campaign", "variants"))
    campaign_id = response_field(created, "campaign", "id")
    if not (merchant_id and template_id and campaign_id and variant_id):
        raise PreconditionUnavailable(
            "a Thanx campaign", f"the setup path did not yield one (last answer {created.status})"
        )
    return Campaign(str(merchant_id), str(campaign_id), str(variant_id))


def first_id(items: Any) -> str | None:
    if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("id"):
        return str(items[0]["id"])
    return None


def identifiers(ctx: ScenarioContext, *, found: int = 1, not_found: int = 1) -> list[dict[str, str]]:
    """Emails of sandbox users, then emails that name no user (their issuance fails "User not found")."""
    tag = ctx.tenant[:10]
    return [{"type": "email", "value": f"conformance+{tag}.{n}@example.com"} for n in range(found)] + [
        {"type": "email", "value": f"unknown+{tag}.{n}@example.invalid"} for n in range(not_found)
    ]


def issue(ctx: ScenarioContext, setup: Campaign, people: list[dict[str, str]], key: str) -> Exchange:
    body = {
        "campaign_id": setup.campaign_id,
        "merchant_id": setup.merchant_id,
        "variant_id": setup.variant_id,
        "identifiers": people,
    }
    return ctx.client(API).call(
        "POST",
        "/partner/campaigns/issue",
        operation="issueCampaignRewards",
        json=body,
        headers={"X-Idempotency-Key": key},
    )


def key_for(ctx: ScenarioContext, purpose: str) -> str:
    # Unique per run: a vendor keeps keys, and a second run reusing one with another body would get 422.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"conformance:{ctx.target.run_id}:{ctx.tenant}:{purpose}"))


def job_of(exchange: Exchange, setup: Campaign) -> ThanxJob:
    job = response_field(exchange, "issuance_job")
    if not isinstance(job, dict) or not job.get("id"):
        raise PreconditionUnavailable("a Thanx issuance job", f"issueCampaignRewards answered {exchange.status}")
    return ThanxJob(str(job["id"]), setup.merchant_id, str(job.get("state")), job)


def finish(ctx: ScenarioContext, job: ThanxJob, rule: str | None = None) -> tuple[Exchange, list[Any]]:
    """Poll getIssuanceJob until the job is completed or failed; every state seen, in order.

    With ``rule`` a job that never finishes violates it; without, the precondition is unavailable (skip).
    """
    seen: list[Any] = []

    def read() -> Exchange:
        exchange = read_job(ctx, job)
        seen.append(state_of(exchange))
        return exchange

    final = ctx.poll(
        read,
        lambda ex: state_of(ex) not in LIFECYCLE,
        what=f"Thanx issuance job {job.id}",
        describe=lambda ex: f"state {state_of(ex)!r}",
        rule=rule,
        documented="pending → processing → completed or failed",
    )
    return final, seen


def advance(ctx: ScenarioContext, job: ThanxJob) -> None:
    """Finish the target's background work now where it can be told to; elsewhere the poll waits for it."""
    if ctx.settings.provisioner_for(API) != "control":
        return
    with contextlib.suppress(PreconditionUnavailable):
        ctx.provisioner(ThanxProvisioner).thanx_advance(job)


def in_order(states: list[Any]) -> bool:
    """pending → processing → completed | failed, each step seen any number of times, none going back."""
    rank = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
    ranks = [rank.get(state, -1) for state in states]
    return -1 not in ranks and ranks == sorted(ranks) and len({s for s in states if s in FINISHED}) <= 1


def expect_pending(response: Exchange) -> None:
    """THANX-ISSUE-202-PENDING on an issue's answer: 202, a pending job with nothing processed yet."""
    job = response_field(response, "issuance_job") or {}
    received = {
        "status": response.status,
        **{k: job.get(k) for k in ("state", "processed_count", "started_at", "completed_at")},
    }
    expect_equal(
        "THANX-ISSUE-202-PENDING",
        received,
        {"status": 202, "state": "pending", "processed_count": 0, "started_at": None, "completed_at": None},
        response,
    )


@pytest.mark.rules("THANX-ISSUE-202-PENDING", "THANX-JOB-LIFECYCLE")
def test_an_issued_job_is_pending_then_finishes_and_only_then_is_revocable(ctx: ScenarioContext) -> None:
    setup = campaign(ctx)
    issued = issue(ctx, setup, identifiers(ctx), key_for(ctx, "lifecycle"))
    expect_pending(issued)
    job = job_of(issued, setup)
    early = ctx.client(API).call(
        "POST",
        f"/partner/issuance_jobs/{job.id}/revoke",
        operation="revokeIssuanceJob",
        json={"merchant_id": job.merchant_id},
    )
    expect_equal("THANX-JOB-LIFECYCLE", early.status, 422, early)
    final, seen = finish(ctx, job, "THANX-JOB-LIFECYCLE")
    states = [state_of(issued), *seen]
    verdict(
        "THANX-JOB-LIFECYCLE",
        ok=in_order(states) and states[-1] in FINISHED,
        received=states,
        documented="pending → processing → completed | failed, in that order",
        exchange=final,
    )


def expect_summary(judgements: Judgements, final: Exchange) -> None:
    """THANX-SUMMARY-ON-COMPLETED on a completed job's read: its summary, with the one identifier naming no user."""
    summary = response_field(final, "issuance_job", "summary")
    failures = summary.get("failures") if isinstance(summary, dict) else None
    ok = (
        isinstance(summary, dict)
        and all(isinstance(summary.get(k), int) for k in ("success_count", "failure_count"))
        and isinstance(failures, list)
        and len(failures) == 1
        and all(isinstance(f, dict) and all(k in f for k in SUMMARY_FAILURE_FIELDS) for f in failures)
    )
    judgements.verdict(
        "THANX-SUMMARY-ON-COMPLETED",
        ok=ok,
        received=summary,
        exchange=final,
        documented="summary{success_count, failure_count, failures[{identifier_index, identifier_type, error}]}, "
        "one failure for the one identifier naming no user",
    )


@pytest.mark.rules(
    "THANX-SUMMARY-ON-COMPLETED",
    "THANX-REVOKE-COMPLETED-202",
    "THANX-202-STATE-REVOKING",
    "THANX-ID-ECHO",
    "THANX-EVENTUALLY-REVOKED",
)
def test_an_issued_job_once_completed_carries_its_summary_is_revoked_and_becomes_revoked(ctx: ScenarioContext) -> None:
    setup = campaign(ctx)
    job = job_of(issue(ctx, setup, identifiers(ctx), key_for(ctx, "revoke")), setup)
    completed, _ = finish(ctx, job)
    if state_of(completed) != "completed":
        raise PreconditionUnavailable("a completed Thanx issuance job", f"the issue ended {state_of(completed)!r}")
    # The read that shows the job completed also shows its summary; judged now, raised after the revoke's rules.
    summary = Judgements()
    expect_summary(summary, completed)
    response = ctx.client(API).call(
        "POST",
        f"/partner/issuance_jobs/{job.id}/revoke",
        operation="revokeIssuanceJob",
        json={"merchant_id": job.merchant_id},
    )
    expect_equal("THANX-REVOKE-COMPLETED-202", response.status, 202, response)
    ctx.judged("THANX-202-STATE-REVOKING")
    expect_equal("THANX-ID-ECHO", response_field(response, "issuance_job", "id"), job.id, response)
    advance(ctx, job)
    final = ctx.poll(
        lambda: read_job(ctx, job),
        lambda ex: state_of(ex) != "revoking",
        what=f"Thanx issuance job {job.id}",
        describe=lambda ex: f"state {state_of(ex)!r}",
        rule="THANX-EVENTUALLY-REVOKED",
        documented="revoking, then eventually revoked",
    )
    expect_equal("THANX-EVENTUALLY-REVOKED", state_of(final), "revoked", final)
    summary.close()


@pytest.mark.rules("THANX-IDEMPOTENCY-REPLAY")
def test_repeating_an_issue_with_its_idempotency_key_replays_the_first_answer(ctx: ScenarioContext) -> None:
    setup = campaign(ctx)
    people, key = identifiers(ctx), key_for(ctx, "replay")
    first = issue(ctx, setup, people, key)
    again = issue(ctx, setup, people, key)
    expect_equal("THANX-IDEMPOTENCY-REPLAY", [again.status, again.json()], [first.status, first.json()], again)
    other = issue(ctx, setup, people, key_for(ctx, "replay-other"))
    job_ids = [response_field(ex, "issuance_job", "id") for ex in (first, again, other)]
    verdict(
        "THANX-IDEMPOTENCY-REPLAY",
        ok=job_ids[0] == job_ids[1] != job_ids[2],
        received=job_ids,
        exchange=again,
        documented="the replay names the first job; only a new key creates another",
    )


@pytest.mark.rules("THANX-IDEMPOTENCY-CONFLICT-422")
def test_reusing_an_idempotency_key_with_another_body_is_refused_with_422(ctx: ScenarioContext) -> None:
    setup = campaign(ctx)
    key = key_for(ctx, "conflict")
    first = issue(ctx, setup, identifiers(ctx), key)
    job = job_of(first, setup)
    conflicting = issue(ctx, setup, identifiers(ctx, found=2), key)
    expect_equal("THANX-IDEMPOTENCY-CONFLICT-422", conflicting.status, 422, conflicting)
    observe(
        "THANX-GAP-ISSUE-422-BODY",
        received=conflicting.json(),
        exchange=conflicting,
        note="the body of the 422 for an idempotency key reused with another body; undocumented",
    )
    after = read_job(ctx, job)
    expect_equal(
        "THANX-IDEMPOTENCY-CONFLICT-422",
        response_field(after, "issuance_job", "total_count"),
        len(identifiers(ctx)),
        after,
    )


@pytest.mark.rules("THANX-ISSUE-MAX-IDENTIFIERS")
def test_an_issue_to_more_than_10000_identifiers_is_refused(ctx: ScenarioContext) -> None:
    setup = campaign(ctx)
    response = issue(ctx, setup, identifiers(ctx, found=10_001, not_found=0), key_for(ctx, "too-many"))
    # "(≤10,000)" gives no status: any 4xx refusal that creates no job conforms.
    refused = response.status is not None and 400 <= response.status < 500
    verdict(
        "THANX-ISSUE-MAX-IDENTIFIERS",
        ok=refused and response_field(response, "issuance_job") is None,
        received={"status": response.status, "body": response.json()},
        exchange=response,
        documented="a 4xx refusal and no issuance job: at most 10,000 identifiers",
    )
