"""Sequences the docs imply, as scripted property tests with Hypothesis-generated bodies.

Thanx: issue → get (until completed or failed) → revoke → get (revoking, then revoked); the
asynchronous steps are advanced through the provisioner, so every run takes the same path.
Capillary rewards: issue → revoke → revoke again (the second is refused with 13003).
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from conformance.context import ScenarioContext, UnreadableShape, response_field
from conformance.errors import PreconditionUnavailable
from conformance.http.exchange import Exchange
from conformance.provisioners.capillary_badges import BadgesProvisioner
from conformance.provisioners.capillary_rewards import RewardsProvisioner
from conformance.provisioners.thanx import ThanxJob, ThanxProvisioner
from conformance.suite.properties.resources import enable_revoke_once
from conformance.suite.readbacks import issual_states
from conformance.suite.scenarios.thanx_steps import control_campaign
from conformance.verdicts import expect_equal, verdict

pytestmark = pytest.mark.conformance
SEQUENCE_SETTINGS = hypothesis.settings(
    max_examples=2,  # the same on every target, as the operations' cases: replay plays what record sent
    derandomize=True,  # the config seed does not reach plain @given tests; derandomize makes them repeatable
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking: every step has side effects
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
)
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=24)
THANX_IDENTIFIERS = st.lists(
    st.one_of(
        st.builds(
            lambda user: {"type": "email", "value": f"{user}@example.com"},
            st.from_regex(r"[a-z]{1,10}", fullmatch=True),
        ),
        st.builds(
            lambda digits: {"type": "phone", "value": f"+1555{digits}"}, st.from_regex(r"[0-9]{7}", fullmatch=True)
        ),
    ),
    min_size=1,
    max_size=4,
)


# Per test (one tenant each): the merchant and campaign variant its examples issue from; a campaign can issue
# any number of times, so the examples share it.
CAMPAIGNS: weakref.WeakKeyDictionary[ScenarioContext, tuple[str, str]] = weakref.WeakKeyDictionary()


def _thanx_campaign(ctx: ScenarioContext) -> tuple[str, str]:
    if ctx not in CAMPAIGNS:
        CAMPAIGNS[ctx] = _thanx_setup(ctx)
    return CAMPAIGNS[ctx]


def _thanx_setup(ctx: ScenarioContext) -> tuple[str, str]:
    """A merchant and a campaign variant of it: from the control API under the control provisioner, else
    through the vendor's own setup endpoints."""
    if made := control_campaign(ctx):
        merchant_id, campaign_id, variant_id = made
        return merchant_id, f"{campaign_id}/{variant_id}"
    client = ctx.client("thanx")
    merchants = client.call("GET", "/partner/merchants", operation="listMerchants", phase="setup", retry=True)
    merchant_id = str(first_of(merchants, "merchants", "a Thanx merchant")["id"])
    templates = client.call(
        "GET",
        "/partner/reward_templates",
        operation="listRewardTemplates",
        phase="setup",
        params={"merchant_id": merchant_id},
        retry=True,
    )
    template_id = str(first_of(templates, "reward_templates", "a Thanx reward template")["id"])
    campaign = {
        "merchant_id": merchant_id,
        "name": "Conformance sequence",
        "start_at": "2026-01-01T00:00:00Z",
        "end_at": "2026-12-31T00:00:00Z",
        "redeemable_from": "2026-01-01T00:00:00Z",
        "redeemable_to": "2026-12-31T00:00:00Z",
        "variants": [{"name": "Treatment", "reward_template_id": template_id}],
    }
    created = client.call(
        "POST", "/partner/campaigns", operation="createCampaign", phase="setup", json={"campaign": campaign}
    )
    campaign_id = response_field(created, "campaign", "id")
    variants = response_field(created, "campaign", "variants")
    variant = variants[0] if isinstance(variants, list) and variants and isinstance(variants[0], dict) else {}
    if not campaign_id or not variant.get("id"):
        raise PreconditionUnavailable("a Thanx campaign with a variant", f"createCampaign answered {created.status}")
    return merchant_id, f"{campaign_id}/{variant['id']}"


def first_of(exchange: Exchange, key: str, what: str) -> dict[str, Any]:
    """The first object of the list ``key``; a target without it cannot provide the precondition (skip)."""
    items = response_field(exchange, key)
    if exchange.status != 200 or not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise PreconditionUnavailable(what, f"{exchange.operation} answered {exchange.status} without one")
    return items[0]


def advance(ctx: ScenarioContext, job: ThanxJob) -> None:
    """Finish the target's background work now where it can be told to; elsewhere the poll waits for it."""
    with contextlib.suppress(PreconditionUnavailable):
        ctx.provisioner(ThanxProvisioner).thanx_advance(job)


def _read_job(ctx: ScenarioContext, job: ThanxJob) -> Exchange:
    return ctx.client("thanx").call(
        "GET",
        f"/partner/issuance_jobs/{job.id}",
        operation="getIssuanceJob",
        phase="readback",
        params={"merchant_id": job.merchant_id},
        retry=True,
    )


@pytest.mark.rules("THANX-ISSUE-202-PENDING", "THANX-JOB-LIFECYCLE", "THANX-EVENTUALLY-REVOKED")
@hypothesis.given(identifiers=THANX_IDENTIFIERS)
@SEQUENCE_SETTINGS
def test_thanx_issue_get_revoke_get(ctx: ScenarioContext, identifiers: list[dict[str, str]]) -> None:
    merchant_id, campaign_variant = _thanx_campaign(ctx)
    campaign_id, variant_id = campaign_variant.split("/")
    body = {
        "campaign_id": campaign_id,
        "merchant_id": merchant_id,
        "variant_id": variant_id,
        "identifiers": identifiers,
    }
    issued = ctx.client("thanx").call("POST", "/partner/campaigns/issue", operation="issueCampaignRewards", json=body)
    new_job: dict[str, Any] = response_field(issued, "issuance_job") or {}
    verdict(
        "THANX-ISSUE-202-PENDING",
        ok=issued.status == 202
        and new_job.get("state") == "pending"
        and new_job.get("processed_count") == 0
        and new_job.get("started_at") is None
        and new_job.get("completed_at") is None,
        received={"status": issued.status, "issuance_job": new_job},
        documented="202, state pending, processed_count 0, started_at and completed_at null",
        exchange=issued,
    )
    if not new_job.get("id"):
        return  # THANX-ISSUE-202-PENDING was violated above; there is no job to follow
    job = ThanxJob(str(new_job["id"]), merchant_id, "pending")
    advance(ctx, job)  # finish the issue's background work now, deterministically, where the target can
    finished = ctx.poll(
        lambda: _read_job(ctx, job),
        lambda ex: response_field(ex, "issuance_job", "state") in ("completed", "failed"),
        what=f"Thanx issuance job {job.id}",
        describe=lambda ex: f"state {response_field(ex, 'issuance_job', 'state')!r}",
        rule="THANX-JOB-LIFECYCLE",
        documented="completed or failed once the issue's work is done",
    )
    state = response_field(finished, "issuance_job", "state")
    verdict(
        "THANX-JOB-LIFECYCLE",
        ok=state in ("completed", "failed"),
        received=state,
        documented="completed or failed once the issue's work is done",
        exchange=finished,
    )
    revoked = ctx.client("thanx").call(
        "POST",
        f"/partner/issuance_jobs/{job.id}/revoke",
        operation="revokeIssuanceJob",
        json={"merchant_id": merchant_id},
    )
    expect_equal(
        "THANX-REVOKE-COMPLETED-202" if state == "completed" else "THANX-REVOKE-FAILED-202",
        revoked.status,
        202,
        revoked,
    )
    advance(ctx, job)  # the revoke's background work, deterministically
    final = ctx.poll(
        lambda: _read_job(ctx, job),
        lambda ex: response_field(ex, "issuance_job", "state") != "revoking",
        what=f"Thanx issuance job {job.id}",
        describe=lambda ex: f"state {response_field(ex, 'issuance_job', 'state')!r}",
        rule="THANX-EVENTUALLY-REVOKED",
        documented="revoking, then eventually revoked",
    )
    expect_equal("THANX-EVENTUALLY-REVOKED", response_field(final, "issuance_job", "state"), "revoked", final)


REWARDS = "capillary-rewards"
PREFIX = "/api_gateway/rewards/core/v1"


def issued_transaction(ctx: ScenarioContext, reward_id: int, request_id: str) -> tuple[Any, int]:
    """(customer id, transaction id) of a freshly issued reward: from the control API under the control
    provisioner, else through setBrandConfig and issueUserReward."""
    if ctx.settings.provisioner_for(REWARDS) == "control":
        enable_revoke_once(ctx)  # the examples share the test's tenant, and so its org's flag
        txn = ctx.provisioner(RewardsProvisioner).reward_txn([("ISSUED", float(reward_id % 1000))])
        return txn.customer_id, txn.txn_id
    client = ctx.client(REWARDS)
    flag = {"configKeyName": "REVOKE_ENABLE", "configKeyValue": "true", "brandId": 1, "label": "Revoke enable"}
    client.call("POST", f"{PREFIX}/brand/config", operation="setBrandConfig", phase="setup", json=flag)
    # The provisioner has no bare customer; an earn brings one with every identifier, and Capillary
    # customers belong to the org, shared by badges, points and rewards.
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    customer = {**earn.identifiers, "customerId": earn.customer_id}
    if "mobile" not in customer:
        raise PreconditionUnavailable("a customer's mobile number", "the provisioner did not report it")
    # Never repeated: a vendor replays the first answer to a repeated requestId, so each example needs its own.
    issue_body = {
        "mobile": customer["mobile"],
        "brand": "CONFORMANCE",
        "requestId": f"{ctx.unique_key('seq')}-{request_id}",
    }
    issued = client.call(
        "POST", f"{PREFIX}/user/reward/{reward_id}/issue", operation="issueUserReward", phase="setup", json=issue_body
    )
    txn_id = response_field(issued, "transactionId")
    if not isinstance(txn_id, int) or isinstance(txn_id, bool):
        # A setup call, not the operation under test: a target that cannot issue cannot provide the scenario.
        raise PreconditionUnavailable("an issued reward transaction", f"issueUserReward answered {issued.status}")
    return customer["customerId"], txn_id


@pytest.mark.rules("REWARDS-STATE-READBACK", "REWARDS-SECOND-REVOKE-13003")
@hypothesis.given(reward_id=st.integers(1, 10**9), request_id=TEXT, revoked_by=TEXT, reason=TEXT)
@SEQUENCE_SETTINGS
def test_rewards_issue_revoke_revoke_again(
    ctx: ScenarioContext, reward_id: int, request_id: str, revoked_by: str, reason: str
) -> None:
    client = ctx.client(REWARDS)
    customer_id, txn_id = issued_transaction(ctx, reward_id, request_id)
    revoke_body = {"txnId": txn_id, "revokedBy": revoked_by, "revokeReason": reason}
    first = client.call("POST", f"{PREFIX}/user/reward/revoke", operation="revokeUserReward", json=revoke_body)
    expect_equal("REWARDS-STATE-READBACK", response_field(first, "status", "code"), 200, first)
    readback = client.call(
        "GET",
        f"{PREFIX}/management/customer/{customer_id}/issuals/{txn_id}",
        operation="getIssual",
        phase="readback",
        retry=True,
    )
    try:
        states = issual_states(readback)
    except UnreadableShape as exc:
        ctx.cannot_tell("REWARDS-STATE-READBACK", "REWARDS-GAP-ISSUAL-SHAPE", received=readback.json(), note=str(exc))
    else:
        verdict(
            "REWARDS-STATE-READBACK",
            ok=bool(states) and set(states) == {"CANCELLED"},
            received=states,
            documented="every user reward CANCELLED after a successful revoke",
            exchange=readback,
        )
    second = client.call("POST", f"{PREFIX}/user/reward/revoke", operation="revokeUserReward", json=revoke_body)
    expect_equal("REWARDS-SECOND-REVOKE-13003", response_field(second, "status", "code"), 13003, second)
