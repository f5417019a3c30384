"""Thanx partner API: revoke an issuance job (202 + revoking, then revoked; 422 unless completed or failed)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.errors import PreconditionUnavailable
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange
from conformance.provisioners.thanx import ThanxJob, ThanxProvisioner
from conformance.suite.readbacks import Judgements
from conformance.suite.scenarios.request_rules import THANX_RULES, judge_thanx_calls
from conformance.suite.scenarios.thanx_steps import read_job, state_of
from conformance.targets import CONTROL
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "thanx"
COUNTERS = ("total_count", "processed_count", "success_count", "failure_count", "progress_percent")
TIMESTAMPS = ("created_at", "started_at", "completed_at")


def revoke(
    ctx: ScenarioContext,
    job: ThanxJob,
    *,
    auth: AuthVariant = "valid",
    headers: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Exchange:
    body = {"merchant_id": job.merchant_id, **overrides}
    return ctx.client(API).call(
        "POST",
        f"/partner/issuance_jobs/{job.id}/revoke",
        operation="revokeIssuanceJob",
        json=body,
        auth=auth,
        headers=headers,
    )


def error_code(exchange: Exchange) -> Any:
    return response_field(exchange, "error", "code")


def expect_revoking_or_revoked(ctx: ScenarioContext, job: ThanxJob, rule: str) -> None:
    """Read the job back: an accepted revoke leaves it revoking, or revoked once the background work is done."""
    after = read_job(ctx, job)
    verdict(
        rule,
        ok=state_of(after) in ("revoking", "revoked"),
        received=state_of(after),
        documented="revoking (or, once the background work is done, revoked)",
        exchange=after,
    )


def expect_unchanged(ctx: ScenarioContext, rule: str, job: ThanxJob, state: str = "completed") -> None:
    after = read_job(ctx, job)
    expect_equal(rule, state_of(after), state, after)


def wait_until_not_revoking(ctx: ScenarioContext, job: ThanxJob) -> Exchange:
    return ctx.poll(
        lambda: read_job(ctx, job),
        lambda ex: state_of(ex) != "revoking",
        what=f"Thanx issuance job {job.id}",
        describe=lambda ex: f"state {state_of(ex)!r}",
        # A passed deadline is a broken documented eventual state, not a defect of the suite.
        rule="THANX-EVENTUALLY-REVOKED",
        documented="revoking, then eventually revoked",
    )


def noscope_token(ctx: ScenarioContext) -> str:
    """A valid access token without rewards.issue: from the target's credentials, else the sandbox control API."""
    token = ctx.client(API).credentials.get("noscope_access_token")
    if token:
        return token
    if not ctx.target.base_urls.get(CONTROL):
        raise PreconditionUnavailable(
            "Thanx credential without the rewards.issue scope", "the target has no control API"
        )
    exchange = ctx.client(CONTROL).call(
        "GET", "/_sandbox/credentials", auth=None, phase="setup", operation="control /credentials"
    )
    token = response_field(exchange, API, "noscope_access_token")
    if exchange.status != 200 or not isinstance(token, str) or not token:
        raise PreconditionUnavailable("Thanx credential without the rewards.issue scope", "the target provides none")
    return token


def other_merchant(ctx: ScenarioContext, job: ThanxJob) -> str:
    """A merchant the credential can act for, other than the job's."""
    listing = ctx.client(API).call("GET", "/partner/merchants", operation="listMerchants", phase="setup", retry=True)
    merchants = response_field(listing, "merchants") or []
    others = [m.get("id") for m in merchants if isinstance(m, dict) and m.get("id") not in (None, job.merchant_id)]
    if not others:
        raise PreconditionUnavailable("a second Thanx merchant", "the credential can act for one merchant only")
    return str(others[0])


@pytest.mark.rules(
    "THANX-REVOKE-COMPLETED-202", "THANX-202-STATE-REVOKING", "THANX-ENVELOPE", "THANX-ID-ECHO", *THANX_RULES
)
def test_revoking_a_completed_job_is_accepted_and_starts_revoking(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = revoke(ctx, job)
    expect_equal("THANX-REVOKE-COMPLETED-202", response.status, 202, response)
    ctx.judged("THANX-ENVELOPE")
    ctx.judged("THANX-202-STATE-REVOKING")
    expect_equal("THANX-ID-ECHO", response_field(response, "issuance_job", "id"), job.id, response)
    expect_revoking_or_revoked(ctx, job, "THANX-REVOKE-COMPLETED-202")
    # The revoke the vendor took and its read-back also show the request rules of every partner call.
    judgements = Judgements()
    judge_thanx_calls(ctx, judgements)
    judgements.close()


@pytest.mark.rules("THANX-REVOKE-FAILED-202", "THANX-202-STATE-REVOKING")
def test_revoking_a_failed_job_is_accepted(ctx: ScenarioContext) -> None:
    # A failed job that issued some rewards (one that issued none is THANX-REVOKE-ZERO-SUCCESS-202's case),
    # where the provisioner can choose counters; a manifest lists failed jobs as they are.
    provisioner = ctx.provisioner(ThanxProvisioner)
    try:
        job = provisioner.thanx_job("failed", success_count=1, failure_count=1)
    except PreconditionUnavailable:
        job = provisioner.thanx_job("failed")
    response = revoke(ctx, job)
    expect_equal("THANX-REVOKE-FAILED-202", response.status, 202, response)
    ctx.judged("THANX-202-STATE-REVOKING")
    expect_revoking_or_revoked(ctx, job, "THANX-REVOKE-FAILED-202")


@pytest.mark.rules("THANX-REVOKE-ZERO-SUCCESS-202", "THANX-202-STATE-REVOKING")
def test_a_failed_job_with_no_successes_is_still_revocable(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("failed", success_count=0, failure_count=2)
    response = revoke(ctx, job)
    expect_equal("THANX-REVOKE-ZERO-SUCCESS-202", response.status, 202, response)
    ctx.judged("THANX-202-STATE-REVOKING")
    expect_revoking_or_revoked(ctx, job, "THANX-REVOKE-ZERO-SUCCESS-202")


NOT_REVOCABLE = [
    pytest.param(state, rule, marks=pytest.mark.rules(rule), id=state)
    for state, rule in [
        ("pending", "THANX-REVOKE-PENDING-422"),
        ("processing", "THANX-REVOKE-PROCESSING-422"),
        ("revoking", "THANX-REVOKE-REVOKING-422"),
        ("revoked", "THANX-REVOKE-REVOKED-422"),
    ]
]


# THANX-COUNTERS-CONSISTENT and THANX-TIMESTAMPS-ISO8601 are judged by the registered checks on every job the
# target returns: the read-backs of the refused jobs (pending, processing, revoking, revoked) and of a job
# before and after its revoke (completed, revoking, revoked) show them in each state, with unset timestamps
# (a pending job's) included, so no call is sent for those rules alone.
JOB_CHECKS = ("THANX-COUNTERS-CONSISTENT", "THANX-TIMESTAMPS-ISO8601")


@pytest.mark.parametrize(("state", "rule"), NOT_REVOCABLE)
@pytest.mark.rules(*JOB_CHECKS)
def test_a_job_not_completed_or_failed_is_refused_with_422(ctx: ScenarioContext, state: str, rule: str) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job(state)
    response = revoke(ctx, job)
    expect_equal(rule, response.status, 422, response)
    observe(
        "THANX-GAP-422-BODY",
        received=response.json(),
        exchange=response,
        note=f"the body of the 422 for a {state} job; the page documents the status only",
    )
    after = read_job(ctx, job)
    for checked in JOB_CHECKS:
        ctx.judged(checked)
    if state == "revoking":
        # Background revocation may finish in the meantime; the refusal must not have reset it.
        verdict(
            rule,
            ok=state_of(after) in ("revoking", "revoked"),
            received=state_of(after),
            documented="still revoking (or revoked): the refused call changed nothing",
            exchange=after,
        )
    else:
        expect_equal(rule, state_of(after), state, after)


@pytest.mark.rules("THANX-COUNTERS-UNCHANGED", "THANX-EVENTUALLY-REVOKED", *JOB_CHECKS)
def test_a_revoked_job_ends_revoked_with_no_counter_and_no_timestamp_changed(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed", success_count=3, failure_count=1)
    before = response_field(read_job(ctx, job), "issuance_job") or {}
    fields = COUNTERS + TIMESTAMPS
    expected = {f: before.get(f) for f in fields}
    response = revoke(ctx, job)
    after = response_field(response, "issuance_job") or {}
    expect_equal("THANX-COUNTERS-UNCHANGED", {f: after.get(f) for f in fields}, expected, response)
    final = wait_until_not_revoking(ctx, job)
    revoked = response_field(final, "issuance_job") or {}
    # One read of the finished revocation shows both: the job ended revoked, and with its counters unchanged.
    judgements = Judgements()
    judgements.equal("THANX-EVENTUALLY-REVOKED", state_of(final), "revoked", final)
    judgements.equal("THANX-COUNTERS-UNCHANGED", {f: revoked.get(f) for f in fields}, expected, final)
    judgements.close()
    for checked in JOB_CHECKS:
        ctx.judged(checked)


@pytest.mark.rules("THANX-MERCHANT-REQUIRED")
def test_a_revoke_without_merchant_id_is_refused(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = ctx.client(API).call(
        "POST", f"/partner/issuance_jobs/{job.id}/revoke", operation="revokeIssuanceJob", json={}
    )
    # The page says only "required": any 4xx refusal conforms; the exact status and body are a gap.
    verdict(
        "THANX-MERCHANT-REQUIRED",
        ok=response.status is not None and 400 <= response.status < 500,
        received=response.status,
        documented="a 4xx refusal: merchant_id is required",
        exchange=response,
    )
    observe(
        "THANX-GAP-MISSING-MERCHANT-ID",
        received={"status": response.status, "body": response.json()},
        note="status and body of a revoke without merchant_id; undocumented",
        exchange=response,
    )
    expect_unchanged(ctx, "THANX-MERCHANT-REQUIRED", job)


@pytest.mark.rules("THANX-GET-MERCHANT-REQUIRED")
def test_reading_a_job_without_merchant_id_is_refused(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = ctx.client(API).call("GET", f"/partner/issuance_jobs/{job.id}", operation="getIssuanceJob")
    # As for revoke, "REQUIRE" gives no status: any 4xx refusal conforms.
    verdict(
        "THANX-GET-MERCHANT-REQUIRED",
        ok=response.status is not None and 400 <= response.status < 500,
        received=response.status,
        documented="a 4xx refusal: merchant_id is required",
        exchange=response,
    )


@pytest.mark.rules("THANX-OTHER-MERCHANT-NOT-FOUND")
def test_another_merchants_job_is_not_found(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = revoke(ctx, job, merchant_id=other_merchant(ctx, job))
    expect_equal(
        "THANX-OTHER-MERCHANT-NOT-FOUND", [response.status, error_code(response)], [404, "RESOURCE_NOT_FOUND"], response
    )
    expect_unchanged(ctx, "THANX-OTHER-MERCHANT-NOT-FOUND", job)


@pytest.mark.rules("THANX-UNKNOWN-JOB-NOT-FOUND")
def test_an_unknown_job_is_not_found(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    unknown = ThanxJob("job_unknown0", job.merchant_id, "unknown")
    response = revoke(ctx, unknown)
    expect_equal(
        "THANX-UNKNOWN-JOB-NOT-FOUND", [response.status, error_code(response)], [404, "RESOURCE_NOT_FOUND"], response
    )
    expect_unchanged(ctx, "THANX-UNKNOWN-JOB-NOT-FOUND", job)


@pytest.mark.rules("THANX-AUTH-REQUIRED")
@pytest.mark.parametrize("auth", ["missing", "wrong"])
def test_a_revoke_without_a_valid_access_token_is_refused_with_401(ctx: ScenarioContext, auth: AuthVariant) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = revoke(ctx, job, auth=auth)
    expect_equal(
        "THANX-AUTH-REQUIRED", [response.status, error_code(response)], [401, "AUTHENTICATION_GENERIC"], response
    )
    expect_unchanged(ctx, "THANX-AUTH-REQUIRED", job)


@pytest.mark.rules("THANX-SCHEMA-GETISSUANCEJOB-401")
def test_a_job_read_without_a_valid_access_token_gets_the_documented_401_body(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    ctx.client(API).call(
        "GET",
        f"/partner/issuance_jobs/{job.id}",
        operation="getIssuanceJob",
        phase="readback",
        params={"merchant_id": job.merchant_id},
        auth="wrong",
    )
    ctx.judged("THANX-SCHEMA-GETISSUANCEJOB-401")  # the schema check judges the 401 body


@pytest.mark.rules("THANX-SCOPE-REWARDS-ISSUE")
def test_a_token_without_the_rewards_issue_scope_cannot_revoke(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    response = revoke(ctx, job, headers={"Authorization": f"Bearer {noscope_token(ctx)}"})
    # "Scope required: rewards.issue": a refusal; whether 401 or 403 is undocumented (THANX-GAP-MISSING-SCOPE).
    verdict(
        "THANX-SCOPE-REWARDS-ISSUE",
        ok=response.status is not None and 400 <= response.status < 500,
        received=response.status,
        documented="a 4xx refusal: the scope rewards.issue is required",
        exchange=response,
    )
    observe(
        "THANX-GAP-MISSING-SCOPE",
        received={"status": response.status, "body": response.json()},
        note="status and body for a valid token lacking rewards.issue; undocumented",
        exchange=response,
    )
    expect_unchanged(ctx, "THANX-SCOPE-REWARDS-ISSUE", job)


@pytest.mark.rules("THANX-RATE-LIMIT-429")
def test_a_rate_limited_revoke_gets_429_and_succeeds_when_retried(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    ctx.provisioner(ThanxProvisioner).fault("rate_limit", retry_after=0)
    limited = revoke(ctx, job)
    expect_equal("THANX-RATE-LIMIT-429", limited.status, 429, limited)
    expect_unchanged(ctx, "THANX-RATE-LIMIT-429", job)
    # A 429 did no work, so re-sending the revoke once Retry-After (or a short backoff) has passed is safe.
    retry_after = limited.response.headers.get("Retry-After", "") if limited.response is not None else ""
    time.sleep(min(float(retry_after), 30.0) if retry_after.isdigit() else 0.2)
    retried = revoke(ctx, job)
    expect_equal("THANX-RATE-LIMIT-429", retried.status, 202, retried)


@pytest.mark.rules("THANX-RACE-ONE-SUCCESS")
def test_of_two_concurrent_revokes_exactly_one_is_accepted(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("completed")
    ctx.provisioner(ThanxProvisioner).fault("delay", delay_ms=25)
    responses = ctx.concurrently(lambda: revoke(ctx, job), lambda: revoke(ctx, job))
    statuses = sorted(r.status or 0 for r in responses)
    expect_equal("THANX-RACE-ONE-SUCCESS", statuses, [202, 422], responses[0])
    expect_revoking_or_revoked(ctx, job, "THANX-RACE-ONE-SUCCESS")
