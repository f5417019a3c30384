"""Fresh resources replace ONLY the id fields listed per revoke operation, and every listed field."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from conformance.apis import APIS
from conformance.provisioners.base import ApiProvisioner
from conformance.provisioners.capillary_badges import BadgeEarn, BadgesProvisioner
from conformance.provisioners.capillary_points import PointsProvisioner, Redemption
from conformance.provisioners.capillary_rewards import RewardsProvisioner, RewardTxn
from conformance.provisioners.juspay import JuspayProvisioner, Mandate
from conformance.provisioners.thanx import ThanxJob, ThanxProvisioner
from conformance.suite.properties.resources import ID_FIELDS, provision

CUSTOMER = {
    "customerId": 555,
    "mobile": "919800000000",
    "email": "c@example.com",
    "externalId": "EXT1",
    "cardNumber": "4111",
}


class FakeRewards(RewardsProvisioner):
    def set_revoke_enabled(self, enabled: bool) -> None:
        pass

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        return RewardTxn(4242, 555)


class FakeBadges(BadgesProvisioner):
    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        return BadgeEarn("meta-fresh", "earn-fresh", 555, dict(CUSTOMER))  # type: ignore[arg-type]


class FakePoints(PointsProvisioner):
    def points_redemption(self, *, points: float, **_: Any) -> Redemption:  # type: ignore[override]
        return Redemption("red-fresh", 555, points, dict(CUSTOMER))  # type: ignore[arg-type]


class FakeThanx(ThanxProvisioner):
    def thanx_job(self, state: str, **_: Any) -> ThanxJob:  # type: ignore[override]
        return ThanxJob("job_fresh", "merchant-fresh", state)


class FakeJuspay(JuspayProvisioner):
    def mandate(self, status: str) -> Mandate:
        return Mandate("mandate-fresh", "customer-fresh", status)


FAKES: tuple[type[ApiProvisioner], ...] = (FakeRewards, FakeBadges, FakePoints, FakeThanx, FakeJuspay)


class FakeContext:
    def provisioner(self, protocol: type[Any]) -> Any:
        return next(fake for fake in FAKES if issubclass(fake, protocol))()


GENERATED: dict[str, dict[str, Any]] = {
    "revokeUserReward": {
        "body": {"txnId": 1, "revokedBy": "X", "revokeReason": "Y", "revokedEventDateTime": "2026-01-01T00:00:00Z"},
        "query": {"username": "u"},
    },
    "revokeEarn": {
        "body": {"badgeMetaId": "a", "customerId": 1, "earnedBadgeId": "b", "extra": 1},
        "headers": {"X-CAP-CUSTOMER-IDENTIFIER": "email"},
    },
    "reversePoints": {
        "body": {
            "redemptionId": "a",
            "pointsToBeReversed": 1.5,
            "identifier": {"type": "PHONE", "value": "0"},
            "externalReferenceNumber": "e",
        }
    },
    "revokeIssuanceJob": {
        "path_parameters": {"id": "job"},
        "body": {"merchant_id": "m"},
        "headers": {"Accept-Version": "v4.0"},
    },
    "mandateCommand": {
        "path_parameters": {"mandate_id": "m"},
        "body": {"command": "revoke", "should_do_implicit_revoke": "x"},
        "headers": {"x-routing-id": "r", "x-merchantid": "merchant"},
    },
}


def flatten(case: SimpleNamespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for location, attribute in (
        ("body", "body"),
        ("path", "path_parameters"),
        ("header", "headers"),
        ("query", "query"),
    ):
        for key, value in (getattr(case, attribute) or {}).items():
            out[f"{location}.{key.lower() if location == 'header' else key}"] = value
    return out


def make_case(fields: dict[str, Any]) -> SimpleNamespace:
    base = {"body": None, "path_parameters": None, "headers": None, "query": None}
    return SimpleNamespace(**{**base, **copy.deepcopy(fields)})


def test_the_id_fields_are_listed_for_exactly_the_revoke_operations() -> None:
    assert set(ID_FIELDS) == {api.revoke_operation for api in APIS.values()}
    assert ID_FIELDS == {
        "revokeUserReward": ("body.txnId",),
        "revokeEarn": ("body.badgeMetaId", "body.customerId", "body.earnedBadgeId"),
        "reversePoints": ("body.redemptionId", "body.identifier"),
        "revokeIssuanceJob": ("path.id", "body.merchant_id"),
        "mandateCommand": ("path.mandate_id", "header.x-routing-id"),
    }


@pytest.mark.parametrize("operation", sorted(ID_FIELDS))
def test_provisioning_changes_only_and_all_the_id_fields(operation: str) -> None:
    case = make_case(GENERATED[operation])
    before = flatten(case)
    provision(FakeContext(), operation, case)  # type: ignore[arg-type]
    after = flatten(case)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == set(ID_FIELDS[operation])


def test_the_customer_follows_the_generated_identifier_header() -> None:
    case = make_case(GENERATED["revokeEarn"])
    provision(FakeContext(), "revokeEarn", case)  # type: ignore[arg-type]
    assert case.body["customerId"] == "c@example.com"


@pytest.mark.parametrize(
    ("operation", "field", "malformed"),
    [
        ("revokeUserReward", "txnId", "not-an-integer"),
        ("revokeUserReward", "txnId", 2**63),
        ("revokeEarn", "earnedBadgeId", 12),
        ("reversePoints", "redemptionId", None),
    ],
)
def test_a_malformed_id_in_a_negative_case_is_left_alone(operation: str, field: str, malformed: Any) -> None:
    fields = copy.deepcopy(GENERATED[operation])
    fields["body"][field] = malformed
    case = make_case(fields)
    provision(FakeContext(), operation, case)  # type: ignore[arg-type]
    assert case.body[field] == malformed
