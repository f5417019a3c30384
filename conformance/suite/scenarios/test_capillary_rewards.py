"""Capillary rewards: revoke a user reward transaction (HTTP 200 always; outcome in status.code; points refunded once).

Authentication: the page promises HTTP 200 "in all cases" yet names Basic/OAuth and no failure answer
(REWARDS-CONFLICT-HTTP-200-AUTH). The reference sandbox answers 401 from the gateway, before the
rewards service runs; REWARDS-AUTH-REQUIRED accepts a 401/403 or an HTTP 200 failure status and
judges only that nothing was revoked; the registered check records the shape under REWARDS-GAP-AUTH-FAILURE-SHAPE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from conformance.context import ScenarioContext, UnreadableShape, response_field
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange
from conformance.provisioners.capillary_rewards import RewardsProvisioner, RewardTxn
from conformance.suite.readbacks import Judgements, issual_states, judge_all
from conformance.suite.scenarios.request_rules import judge_integer_txn_id
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "capillary-rewards"
REVOKE = "/api_gateway/rewards/core/v1/user/reward/revoke"
UNKNOWN_TXN_ID = 1
Specs = list[tuple[str, float]]  # (state, points) of each user reward
OUTCOME = ("REWARDS-HTTP-200", "REWARDS-SUCCESS-IFF-200", "REWARDS-STATUS-CODES-DOCUMENTED")


def revoke(ctx: ScenarioContext, txn: RewardTxn | None, *, auth: AuthVariant = "valid", **fields: Any) -> Exchange:
    """revokeUserReward of ``txn``; ``txn`` None sends no txnId."""
    body = ({} if txn is None else {"txnId": txn.txn_id}) | fields
    return ctx.client(API).call("POST", REVOKE, operation="revokeUserReward", json=body, auth=auth)


def read_issual(ctx: ScenarioContext, txn: RewardTxn) -> Exchange:
    return ctx.client(API).call(
        "GET",
        f"/api_gateway/rewards/core/v1/management/customer/{txn.customer_id}/issuals/{txn.txn_id}",
        operation="getIssual",
        phase="readback",
        retry=True,
    )


def states_of(specs: Specs) -> list[str]:
    return [state for state, _ in specs]


def expect_states(
    rules: str | tuple[str, ...],
    ctx: ScenarioContext,
    txn: RewardTxn,
    expected: list[str],
    judgements: Judgements | None = None,
) -> Exchange:
    """getIssual shows the transaction's user rewards in ``expected`` states (in order); the read-back.

    One read-back judged under every rule it proves (``rules``): each verdict is recorded before a finding
    is raised (into ``judgements`` when given, which the caller closes).
    """
    rules = (rules,) if isinstance(rules, str) else rules
    readback = read_issual(ctx, txn)
    try:
        states = issual_states(readback)
    except UnreadableShape as exc:
        for rule in rules:
            ctx.cannot_tell(rule, "REWARDS-GAP-ISSUAL-SHAPE", received=readback.json(), note=str(exc))
        return readback
    if judgements is None:
        judge_all(rules, ok=states == expected, received=states, documented=expected, exchange=readback)
    else:
        judgements.equal(rules, states, expected, readback)
    return readback


def expect_outcome(rule: str, response: Exchange, code: int) -> None:
    """status.code is ``code``. HTTP 200, success iff 200, documented codes, the result fields and the txnId
    echo are judged by the registered checks on every answer (one judge per rule)."""
    expect_equal(rule, response_field(response, "status", "code"), code, response)


def expect_refunds(rules: str | tuple[str, ...], ctx: ScenarioContext, txn: RewardTxn, count: int) -> dict[str, Any]:
    """The number of points reversals made for ``txn`` (control API: no vendor read shows refunds), judged
    under every rule of ``rules`` from one read."""
    state = ctx.provisioner(RewardsProvisioner).reward_state(txn)
    refunds = state.get("refundCount")
    judge_all((rules,) if isinstance(rules, str) else rules, ok=refunds == count, received=refunds, documented=count)
    return state


def enabled_txn(ctx: ScenarioContext, rewards: Specs) -> RewardTxn:
    provisioner = ctx.provisioner(RewardsProvisioner)
    provisioner.set_revoke_enabled(True)
    return provisioner.reward_txn(rewards)


@pytest.mark.rules(
    *OUTCOME,
    "REWARDS-TXNID-ECHO",
    "REWARDS-CANCELLED-ON-SUCCESS",
    "REWARDS-USERREWARDCOUNT",
    "REWARDS-ALL-TOGETHER",
    "REWARDS-STATE-READBACK",
    "REWARDS-POINTS-REFUNDED",
    "REWARDS-POINTS-REFUNDED-ONCE",
    "REWARDS-REVERSAL-REFERENCE",
    "REWARDS-TXNID-INTEGER",
)
def test_revoking_an_issued_transaction_cancels_its_user_rewards_and_refunds_their_points_once(
    ctx: ScenarioContext,
) -> None:
    # One revoke proves the success story's rules: the answer, the refund it made, and the read-back after it.
    # Every verdict is recorded before the first finding is raised, so no rule hides behind another's.
    specs: Specs = [("ISSUED", 100), ("ISSUED", 50), ("ISSUED", 25.5)]
    txn = enabled_txn(ctx, specs)
    expect_states("REWARDS-STATE-READBACK", ctx, txn, states_of(specs))
    response = revoke(ctx, txn)
    judgements = Judgements()
    code = response_field(response, "status", "code")
    judgements.equal(("REWARDS-ALL-TOGETHER", "REWARDS-POINTS-REFUNDED"), code, 200, response)
    judgements.equal("REWARDS-USERREWARDCOUNT", response_field(response, "userRewardCount"), len(specs), response)
    judge_integer_txn_id(judgements, response, txn.txn_id)
    state = ctx.provisioner(RewardsProvisioner).reward_state(txn)
    judgements.equal("REWARDS-POINTS-REFUNDED-ONCE", state.get("refundCount"), 1)
    judgements.equal("REWARDS-POINTS-REFUNDED", state.get("refundedPoints"), sum(points for _, points in specs))
    reference = state.get("reversalReference")
    judgements.verdict(
        "REWARDS-REVERSAL-REFERENCE",
        ok=isinstance(reference, str | int) and bool(str(reference)),
        received=reference,
        documented="a points reversal reference recorded against the revoke",
    )
    # One read-back after the revoke proves both: every reward cancelled together, and getIssual showing it.
    after = ["CANCELLED"] * len(specs)
    issual = expect_states(("REWARDS-ALL-TOGETHER", "REWARDS-STATE-READBACK"), ctx, txn, after, judgements)
    observe(
        "REWARDS-GAP-REVERSAL-REFERENCE",
        received=str(reference) in issual.response.text if issual.response else None,
        note="whether getIssual shows the reversal reference",
        exchange=issual,
    )
    judgements.close()


@pytest.mark.rules("REWARDS-AUDIT-FIELDS", "REWARDS-EVENT-TIME-DEFAULT")
def test_the_revoke_record_stores_who_why_and_the_given_time(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [("ISSUED", 100)])
    sent: dict[str, Any] = {
        "revokedBy": "BRAND_OPERATOR",
        "revokeReason": "VENDOR_FULFILMENT_FAILURE",
        "revokedEventDateTime": "2026-05-13T09:32:11.000Z",
    }
    response = revoke(ctx, txn, **sent)
    expect_equal("REWARDS-AUDIT-FIELDS", response_field(response, "status", "code"), 200, response)
    audit = ctx.provisioner(RewardsProvisioner).reward_state(txn).get("audit") or {}
    expect_equal(
        "REWARDS-AUDIT-FIELDS",
        {k: audit.get(k) for k in ("revokedBy", "revokeReason")},
        {k: sent[k] for k in ("revokedBy", "revokeReason")},
    )
    recorded = audit.get("revokedEventDateTime")
    verdict(
        "REWARDS-EVENT-TIME-DEFAULT",
        ok=same_instant(recorded, sent["revokedEventDateTime"]),
        received=recorded,
        documented=f"the given time {sent['revokedEventDateTime']}",
    )


def same_instant(recorded: Any, expected: str) -> bool:
    try:
        return datetime.fromisoformat(str(recorded)) == datetime.fromisoformat(expected)
    except ValueError:
        return False


@pytest.mark.rules("REWARDS-EVENT-TIME-DEFAULT")
def test_without_an_event_time_the_processing_time_is_recorded(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [("ISSUED", 100)])
    response = revoke(ctx, txn)
    expect_equal("REWARDS-EVENT-TIME-DEFAULT", response_field(response, "status", "code"), 200, response)
    state = ctx.provisioner(RewardsProvisioner).reward_state(txn)
    recorded = (state.get("audit") or {}).get("revokedEventDateTime")
    attempts = state.get("attempts") or [{}]
    processed = attempts[-1].get("at") if isinstance(attempts[-1], dict) else None
    verdict(
        "REWARDS-EVENT-TIME-DEFAULT",
        ok=recorded is not None and same_instant(recorded, str(processed)),
        received={"revokedEventDateTime": recorded, "processed at": processed},
        documented="the processing time of the revoke",
    )


@pytest.mark.rules(*OUTCOME, "REWARDS-TXNID-REQUIRED-400", "REWARDS-CANCELLED-ON-SUCCESS", "REWARDS-STATE-READBACK")
def test_a_revoke_without_txn_id_is_refused_with_400(ctx: ScenarioContext) -> None:
    specs: Specs = [("ISSUED", 100)]
    txn = enabled_txn(ctx, specs)
    response = revoke(ctx, None, revokedBy="BRAND_OPERATOR")
    expect_outcome("REWARDS-TXNID-REQUIRED-400", response, 400)
    expect_equal(
        "REWARDS-TXNID-REQUIRED-400", response_field(response, "status", "message"), "must not be null", response
    )
    expect_states("REWARDS-STATE-READBACK", ctx, txn, states_of(specs))
    expect_refunds("REWARDS-TXNID-REQUIRED-400", ctx, txn, 0)


@pytest.mark.rules(*OUTCOME, "REWARDS-FLAG-DEFAULT-OFF", "REWARDS-STATE-READBACK")
def test_an_org_that_never_set_revoke_enable_cannot_revoke(ctx: ScenarioContext) -> None:
    ctx.provisioner(RewardsProvisioner).pristine_org()
    specs: Specs = [("ISSUED", 100)]
    txn = ctx.provisioner(RewardsProvisioner).reward_txn(specs)
    response = revoke(ctx, txn)
    expect_outcome("REWARDS-FLAG-DEFAULT-OFF", response, 13005)
    expect_states("REWARDS-STATE-READBACK", ctx, txn, states_of(specs))


@pytest.mark.rules(*OUTCOME, "REWARDS-FLAG-OFF-13005", "REWARDS-CANCELLED-ON-SUCCESS")
def test_with_revoke_enable_false_the_revoke_is_refused_with_13005(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(RewardsProvisioner)
    provisioner.set_revoke_enabled(False)
    specs: Specs = [("ISSUED", 100)]
    txn = provisioner.reward_txn(specs)
    response = revoke(ctx, txn)
    expect_outcome("REWARDS-FLAG-OFF-13005", response, 13005)
    expect_states("REWARDS-FLAG-OFF-13005", ctx, txn, states_of(specs))
    expect_refunds("REWARDS-FLAG-OFF-13005", ctx, txn, 0)


@pytest.mark.rules(*OUTCOME, "REWARDS-NOT-FOUND-10007")
def test_an_unknown_transaction_is_not_found(ctx: ScenarioContext) -> None:
    ctx.provisioner(RewardsProvisioner).set_revoke_enabled(
        True
    )  # only the txnId is sent: no transaction needs to exist
    unknown = RewardTxn(UNKNOWN_TXN_ID, 0)
    response = revoke(ctx, unknown)
    expect_outcome("REWARDS-NOT-FOUND-10007", response, 10007)


@pytest.mark.rules(*OUTCOME, "REWARDS-NO-USER-REWARDS-10008")
def test_a_transaction_without_user_rewards_is_answered_10008(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [])
    response = revoke(ctx, txn)
    expect_outcome("REWARDS-NO-USER-REWARDS-10008", response, 10008)


@pytest.mark.rules(*OUTCOME, "REWARDS-NON-ISSUED-13003", "REWARDS-STATE-READBACK")
def test_a_transaction_with_a_reward_not_issued_is_refused_and_nothing_changes(ctx: ScenarioContext) -> None:
    specs: Specs = [("ISSUED", 100), ("CANCELLED", 50)]
    txn = enabled_txn(ctx, specs)
    response = revoke(ctx, txn)
    expect_outcome("REWARDS-NON-ISSUED-13003", response, 13003)
    expect_states(("REWARDS-NON-ISSUED-13003", "REWARDS-STATE-READBACK"), ctx, txn, states_of(specs))
    expect_refunds("REWARDS-NON-ISSUED-13003", ctx, txn, 0)


@pytest.mark.rules(*OUTCOME, "REWARDS-REDEEMED-13003", "REWARDS-REDEEMED-AFTER-REVERSE", "REWARDS-POINTS-REFUNDED-ONCE")
def test_a_redeemed_reward_is_revocable_only_after_reverse_redeem(ctx: ScenarioContext) -> None:
    specs: Specs = [("REDEEMED", 100)]
    txn = enabled_txn(ctx, specs)
    refused = revoke(ctx, txn)
    expect_outcome("REWARDS-REDEEMED-13003", refused, 13003)
    expect_states("REWARDS-REDEEMED-13003", ctx, txn, ["REDEEMED"])
    expect_refunds("REWARDS-REDEEMED-13003", ctx, txn, 0)
    ctx.provisioner(RewardsProvisioner).reverse_redeem(txn)
    revoked = revoke(ctx, txn)
    expect_outcome("REWARDS-REDEEMED-AFTER-REVERSE", revoked, 200)
    expect_equal("REWARDS-REDEEMED-AFTER-REVERSE", response_field(revoked, "state"), "CANCELLED", revoked)
    expect_states("REWARDS-REDEEMED-AFTER-REVERSE", ctx, txn, ["CANCELLED"])
    state = expect_refunds("REWARDS-POINTS-REFUNDED-ONCE", ctx, txn, 1)
    observe(
        "REWARDS-GAP-REDEEMED-POINTS",
        received={"refundCount": state.get("refundCount"), "refundedPoints": state.get("refundedPoints")},
        note="points refunded for a reward redeemed, reverse-redeemed, then revoked",
    )


@pytest.mark.rules(*OUTCOME, "REWARDS-SECOND-REVOKE-13003", "REWARDS-POINTS-REFUNDED-ONCE")
def test_revoking_a_revoked_transaction_again_is_refused_and_refunds_nothing_more(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [("ISSUED", 100)])
    first = revoke(ctx, txn)
    expect_outcome("REWARDS-SECOND-REVOKE-13003", first, 200)
    again = revoke(ctx, txn)
    expect_outcome("REWARDS-SECOND-REVOKE-13003", again, 13003)
    expect_refunds(("REWARDS-SECOND-REVOKE-13003", "REWARDS-POINTS-REFUNDED-ONCE"), ctx, txn, 1)


@pytest.mark.rules(
    *OUTCOME,
    "REWARDS-1018-STATE-UNCHANGED",
    "REWARDS-1018-ATTEMPT-RECORDED",
    "REWARDS-1018-RETRY-SUCCEEDS",
    "REWARDS-TXNID-ECHO",
    "REWARDS-CANCELLED-ON-SUCCESS",
    "REWARDS-STATE-READBACK",
)
def test_a_failed_points_reversal_changes_nothing_and_a_retry_revokes_once(ctx: ScenarioContext) -> None:
    specs: Specs = [("ISSUED", 100), ("ISSUED", 40)]
    txn = enabled_txn(ctx, specs)
    ctx.provisioner(RewardsProvisioner).fault("points_failure", count=1)
    failed = revoke(ctx, txn)
    expect_outcome("REWARDS-1018-STATE-UNCHANGED", failed, 1018)
    expect_states(("REWARDS-1018-STATE-UNCHANGED", "REWARDS-STATE-READBACK"), ctx, txn, states_of(specs))
    state = expect_refunds("REWARDS-1018-STATE-UNCHANGED", ctx, txn, 0)
    codes = [a.get("code") for a in state.get("attempts") or [] if isinstance(a, dict)]
    expect_equal("REWARDS-1018-ATTEMPT-RECORDED", codes, [1018])
    retried = revoke(ctx, txn)
    expect_outcome("REWARDS-1018-RETRY-SUCCEEDS", retried, 200)
    expect_equal("REWARDS-1018-RETRY-SUCCEEDS", response_field(retried, "state"), "CANCELLED", retried)
    expect_states("REWARDS-1018-RETRY-SUCCEEDS", ctx, txn, ["CANCELLED"] * len(specs))
    expect_refunds("REWARDS-1018-RETRY-SUCCEEDS", ctx, txn, 1)


@pytest.mark.rules(*OUTCOME, "REWARDS-NO-POINTS-NO-REVERSAL")
def test_rewards_without_points_are_revoked_without_any_reversal(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [("ISSUED", 0), ("ISSUED", 0)])
    # The points service is down: a revoke that needs no reversal must not notice.
    ctx.provisioner(RewardsProvisioner).fault("points_failure", count=1)
    response = revoke(ctx, txn)
    expect_outcome("REWARDS-NO-POINTS-NO-REVERSAL", response, 200)
    expect_equal("REWARDS-NO-POINTS-NO-REVERSAL", response_field(response, "state"), "CANCELLED", response)
    state = expect_refunds("REWARDS-NO-POINTS-NO-REVERSAL", ctx, txn, 0)
    expect_equal("REWARDS-NO-POINTS-NO-REVERSAL", state.get("reversalReference"), None)


@pytest.mark.parametrize("auth", ["missing", "wrong"])
@pytest.mark.rules("REWARDS-AUTH-REQUIRED")
def test_a_revoke_without_valid_credentials_is_refused(ctx: ScenarioContext, auth: AuthVariant) -> None:
    specs: Specs = [("ISSUED", 100)]
    txn = enabled_txn(ctx, specs)
    response = revoke(ctx, txn, auth=auth)
    refused = response.status in (401, 403) or (
        response.status == 200 and response_field(response, "status", "success") is False
    )
    verdict(
        "REWARDS-AUTH-REQUIRED",
        ok=refused,
        received={"status": response.status, "body": response.json()},
        documented="refused: HTTP 401/403, or HTTP 200 with status.success false (REWARDS-CONFLICT-HTTP-200-AUTH)",
        exchange=response,
    )
    expect_states("REWARDS-AUTH-REQUIRED", ctx, txn, states_of(specs))
    expect_refunds("REWARDS-AUTH-REQUIRED", ctx, txn, 0)


@pytest.mark.rules("REWARDS-RACE-ONE-SUCCESS")
def test_two_concurrent_revokes_succeed_once_and_refund_once(ctx: ScenarioContext) -> None:
    txn = enabled_txn(ctx, [("ISSUED", 100)])
    ctx.provisioner(RewardsProvisioner).fault("delay", delay_ms=25)
    answers = ctx.concurrently(lambda: revoke(ctx, txn), lambda: revoke(ctx, txn))
    codes = sorted(code for code in (response_field(a, "status", "code") for a in answers) if isinstance(code, int))
    expect_equal("REWARDS-RACE-ONE-SUCCESS", codes, [200, 13003], answers[-1])
    expect_states("REWARDS-RACE-ONE-SUCCESS", ctx, txn, ["CANCELLED"])
    expect_refunds("REWARDS-RACE-ONE-SUCCESS", ctx, txn, 1)
