"""What spares exchanges on a live target: shared resources and repeated requests, and one read-back for several rules."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, TypeVar

import httpx
import pytest

from conformance.findings import Finding, InferredFinding
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor
from conformance.provisioners.base import ApiProvisioner
from conformance.provisioners.capillary_badges import BadgeEarn, BadgesProvisioner
from conformance.provisioners.capillary_rewards import RewardsProvisioner, RewardTxn
from conformance.rules import active_rules
from conformance.suite.properties import support
from conformance.suite.properties.resources import provision, settle
from conformance.suite.readbacks import Judgements
from conformance.verdicts import Recorder, recording

P = TypeVar("P", bound=ApiProvisioner)
DOCUMENTED = "JUSPAY-REVOKE-ACTIVE"
ASSUMED = "BADGE-AUTH-REQUIRED"


class Calls:
    def __init__(self) -> None:
        self.calls: list[str] = []


class CountingRewards(RewardsProvisioner):
    def __init__(self, made: Calls) -> None:
        self.made = made

    def set_revoke_enabled(self, enabled: bool) -> None:
        self.made.calls.append("flag")

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        self.made.calls.append("txn")
        return RewardTxn(100 + len(self.made.calls), 555)


class CountingBadges(BadgesProvisioner):
    def __init__(self, made: Calls) -> None:
        self.made = made

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        self.made.calls.append("earn")
        n = len(self.made.calls)
        return BadgeEarn(f"meta-{n}", f"earn-{n}", 555, {"email": "c@example.com"})


class Context:
    """A test's context as the resources see it: one provisioner per API protocol, counting what they make."""

    def __init__(self) -> None:
        self.made = Calls()
        self.provisioners: dict[type[ApiProvisioner], ApiProvisioner] = {
            RewardsProvisioner: CountingRewards(self.made),
            BadgesProvisioner: CountingBadges(self.made),
        }

    def provisioner(self, protocol: type[P]) -> P:
        made = self.provisioners[protocol]
        assert isinstance(made, protocol)
        return made


def earn_case(**body: Any) -> Any:
    return SimpleNamespace(body=dict(body), headers={}, path_parameters={})


def test_the_resource_a_refused_example_left_untouched_goes_to_the_next_example() -> None:
    ctx = Context()
    first, second, third = (earn_case(badgeMetaId="x", customerId=1, earnedBadgeId="y") for _ in range(3))

    provision(ctx, "revokeEarn", first)  # type: ignore[arg-type]
    settle(ctx, untouched=True)  # type: ignore[arg-type]
    provision(ctx, "revokeEarn", second)  # type: ignore[arg-type]
    settle(ctx, untouched=False)  # type: ignore[arg-type]  # it may have revoked the earn: never handed on
    provision(ctx, "revokeEarn", third)  # type: ignore[arg-type]

    assert ctx.made.calls == ["earn", "earn"]
    assert first.body["earnedBadgeId"] == second.body["earnedBadgeId"] != third.body["earnedBadgeId"]


def test_a_case_that_names_no_resource_gets_none() -> None:
    ctx = Context()
    case = earn_case(unrelated={"badgeMetaId": "nested, not the field"})

    provision(ctx, "revokeEarn", case)  # type: ignore[arg-type]

    assert ctx.made.calls == []
    assert case.body == {"unrelated": {"badgeMetaId": "nested, not the field"}}


def test_the_rewards_flag_is_set_once_for_every_example_of_a_test() -> None:
    ctx, other = Context(), Context()
    for _ in range(3):
        provision(ctx, "revokeUserReward", SimpleNamespace(body={"txnId": 7}))  # type: ignore[arg-type]
    provision(other, "revokeUserReward", SimpleNamespace(body={"txnId": 7}))  # type: ignore[arg-type]

    assert ctx.made.calls == ["flag", "txn", "txn", "txn"]
    assert other.made.calls == ["flag", "txn"], "another test (another tenant) sets its own"


def sent(method: str) -> Exchange:
    request = httpx.Request(method, "http://vendor.example/partner/merchants", headers={"x-sandbox-tenant": "t"})
    return Exchange("thanx", "listMerchants", "test", request, httpx.Response(200, json={}), Redactor())


@pytest.mark.parametrize(("method", "repeated"), [("GET", True), ("POST", False)])
def test_only_a_safe_request_the_test_already_sent_is_judged_on_the_first_answer(method: str, repeated: bool) -> None:
    ctx = Context()
    first = sent(method)
    key, earlier = support.already_sent(ctx, first.request)  # type: ignore[arg-type]
    assert earlier is None
    if key is not None:
        support.SENT[ctx][key] = first  # type: ignore[index]

    again = sent(method).request
    assert (support.already_sent(ctx, again)[1] is first) is repeated  # type: ignore[arg-type]
    assert support.already_sent(Context(), again)[1] is None, "another test never takes this test's answers"  # type: ignore[arg-type]


def test_one_piece_of_evidence_records_every_rule_before_the_documented_finding_is_raised() -> None:
    recorder = Recorder("tests::judgements", active_rules(), lambda _exchange: "reference")
    with recording(recorder):
        judgements = Judgements()
        judgements.equal(ASSUMED, 1, 2)
        judgements.equal(DOCUMENTED, "ACTIVE", "REVOKED")
        with pytest.raises(Finding) as raised:
            judgements.close()

    assert [(r.rule_id, r.status) for r in recorder.records] == [
        (ASSUMED, "violated-inferred"),
        (DOCUMENTED, "violated"),
    ]
    assert not isinstance(raised.value, InferredFinding)
    assert raised.value.rule_id == DOCUMENTED
    assert f"Also violated: {ASSUMED}" in (raised.value.__notes__ or [])


def test_judgements_that_all_hold_raise_nothing() -> None:
    recorder = Recorder("tests::judgements", active_rules(), lambda _exchange: "reference")
    with recording(recorder):
        judgements = Judgements()
        judgements.equal((DOCUMENTED, ASSUMED), "REVOKED", "REVOKED")
        judgements.close()
    assert {r.status for r in recorder.records} == {"verified"}
