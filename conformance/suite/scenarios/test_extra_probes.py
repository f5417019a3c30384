"""Probes for rules whose own scenarios cannot tell a realistic deviation apart (found by the mutation run).

* REWARDS-STATE-READBACK: the rewards scenario reads getIssual back after a successful revoke only
  after REWARDS-ALL-TOGETHER has judged that same read-back, so a stale getIssual is reported against
  ALL-TOGETHER and the read-back rule stays verified. This probe reads before and after under its rule.
* THANX-REVOKE-FAILED-202: the "failed job" scenario provisions a failed job with no successes, the very
  case of THANX-REVOKE-ZERO-SUCCESS-202, so a target that refuses failed jobs which did issue rewards
  passes it. This probe revokes a failed job with one success and one failure.
"""

from __future__ import annotations

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.provisioners.thanx import ThanxProvisioner
from conformance.suite.scenarios import test_capillary_rewards as rewards
from conformance.suite.scenarios import test_thanx as thanx
from conformance.verdicts import expect_equal

pytestmark = pytest.mark.conformance


@pytest.mark.rules("REWARDS-STATE-READBACK")
def test_probe_get_issual_reflects_a_revoke_it_read_before(ctx: ScenarioContext) -> None:
    specs: rewards.Specs = [("ISSUED", 100), ("ISSUED", 50)]
    txn = rewards.enabled_txn(ctx, specs)
    rewards.expect_states("REWARDS-STATE-READBACK", ctx, txn, rewards.states_of(specs))
    response = rewards.revoke(ctx, txn)
    expect_equal("REWARDS-STATE-READBACK", response_field(response, "status", "code"), 200, response)
    rewards.expect_states("REWARDS-STATE-READBACK", ctx, txn, ["CANCELLED"] * len(specs))


@pytest.mark.rules("THANX-REVOKE-FAILED-202")
def test_probe_a_failed_job_that_issued_some_rewards_is_revocable(ctx: ScenarioContext) -> None:
    job = ctx.provisioner(ThanxProvisioner).thanx_job("failed", success_count=1, failure_count=1)
    response = thanx.revoke(ctx, job)
    expect_equal("THANX-REVOKE-FAILED-202", response.status, 202, response)
    thanx.expect_revoking_or_revoked(ctx, job, "THANX-REVOKE-FAILED-202")
