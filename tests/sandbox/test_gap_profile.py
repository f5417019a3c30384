"""The alternate gap profile answers every documentation gap otherwise, and stays within what the pages allow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.sandbox import create_app
from conformance.sandbox.alternate import ALTERNATE, SHARED, UNCHANGED
from conformance.sandbox.decide import POINTS
from conformance.sandbox.gaps import PROFILES, UnknownProfile
from conformance.sandbox.server import run_in_thread
from tests.sandbox.conftest import CAPILLARY, JUSPAY, THANX

SPECS = Path(__file__).resolve().parents[2] / "specs"
Serve = Callable[..., AbstractContextManager[httpx.Client]]


def doc_gaps() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-doc-gap":
                    found.update(str(gap["id"]) for gap in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in SPECS.glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


@pytest.fixture(scope="module")
def alternate_url() -> Iterator[str]:
    with run_in_thread(create_app(gap_profile="alternate")) as url:
        yield url


@pytest.fixture
def alt(alternate_url: str, tenant: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=alternate_url, headers={"X-Sandbox-Tenant": tenant}, timeout=10) as http:
        yield http


def test_every_documentation_gap_has_an_alternate_choice_or_a_reason_it_keeps_its_own() -> None:
    gaps = doc_gaps()
    assert len(gaps) > 40
    answered = {POINTS[name].gap for name in ALTERNATE} | {gap for gap, name in SHARED.items() if name in ALTERNATE}
    uncovered = sorted(gaps - answered - set(UNCHANGED))
    assert uncovered == [], f"x-doc-gap entries with neither an alternate choice nor a reason: {uncovered}"
    assert not set(UNCHANGED) & answered, "a gap is both answered otherwise and kept"
    assert all(len(reason) > 30 for reason in UNCHANGED.values())


def test_every_alternate_choice_overrides_a_gap_point_of_its_own_name() -> None:
    for name, choice in ALTERNATE.items():
        assert choice.point == name
        assert POINTS[name].gap, f"{name} decides no documentation gap, so the profile must not change it"


def test_an_unknown_profile_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownProfile, match="unknown gap profile 'bogus'; choose from faithful, alternate"):
        create_app(gap_profile="bogus")
    assert set(PROFILES) == {"faithful", "alternate"}


def earn(client: httpx.Client) -> dict[str, Any]:
    made: dict[str, Any] = client.post("/_sandbox/capillary/badges/earns", json={"active": True}).json()
    return made


def revoke_earn(client: httpx.Client, made: dict[str, Any]) -> httpx.Response:
    body = {key: made[key] for key in ("badgeMetaId", "customerId", "earnedBadgeId")}
    return client.post("/api_gateway/v1/badges/customer/revokeEarn", json=body, headers=CAPILLARY)


def test_a_second_revoke_is_814_with_http_404_and_the_listing_drops_the_revoked_earn(alt: httpx.Client) -> None:
    made = earn(alt)
    assert revoke_earn(alt, made).status_code == 200
    again = revoke_earn(alt, made)
    assert again.status_code == 404
    assert again.json()["errors"][0]["code"] == 814
    listing = alt.get(f"/api_gateway/v1/badges/customer/{made['customerId']}", headers=CAPILLARY).json()
    assert listing["data"]["customer"]["badges"]["earned"] == []


def redemption(client: httpx.Client, points: int = 100) -> dict[str, Any]:
    made: dict[str, Any] = client.post("/_sandbox/capillary/points/redemptions", json={"points": points}).json()
    return made


def reverse(client: httpx.Client, made: dict[str, Any], points: object = None) -> httpx.Response:
    body: dict[str, object] = {
        "redemptionId": made["redemptionId"],
        "identifier": {"type": "ID", "value": str(made["customerId"])},
    }
    if points is not None:
        body["pointsToBeReversed"] = points
    return client.post("/v2/points/reverse", json=body, headers=CAPILLARY)


def test_points_accept_a_second_partial_reversal_of_the_same_amount_and_refuse_with_http_200(
    alt: httpx.Client,
) -> None:
    made = redemption(alt)
    assert reverse(alt, made, 30).json()["pointsReversed"] == 30
    assert reverse(alt, made, 30).json()["pointsReversed"] == 30  # no "same amount" duplicate here
    assert reverse(alt, made, 40).status_code == 200
    refused = reverse(alt, made, 10)  # fully reversed: every reading of 902 refuses this
    assert refused.status_code == 200
    assert [error["code"] for error in refused.json()["errors"]] == [902]


def test_the_v11_listing_names_the_reversed_amount_otherwise(alt: httpx.Client) -> None:
    made = redemption(alt)
    reverse(alt, made, 25)
    customer = alt.get(f"/_sandbox/capillary/customers/{made['customerId']}").json()
    listing = alt.get("/v1.1/customer/redemptions", params={"mobile": customer["mobile"]}, headers=CAPILLARY)
    item = listing.json()["response"]["customer"]["redemptions"]["points"][0]
    assert item["reversed_points"] == 25
    assert "points_reversed" not in item


def test_get_issual_nests_the_user_rewards(alt: httpx.Client) -> None:
    txn = alt.post("/_sandbox/capillary/rewards/transactions", json={}).json()
    path = f"/api_gateway/rewards/core/v1/management/customer/{txn['customerId']}/issuals/{txn['txnId']}"
    body = alt.get(path, headers=CAPILLARY).json()
    assert "userRewards" not in body
    assert [reward["state"] for reward in body["issual"]["rewards"]["userRewards"]] == ["ISSUED"]


def test_a_rate_limit_comes_without_retry_after_and_members_in_reverse_order(alt: httpx.Client) -> None:
    alt.post("/_sandbox/faults", json={"api": "juspay", "kind": "rate_limit", "retry_after": 3})
    limited = alt.post("/mandates/any", data={"command": "revoke"}, headers=JUSPAY)
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers
    assert list(limited.json()) == ["error_info", "error_code", "status"]


def test_thanx_revoking_lasts_two_reads_and_jobs_carry_their_merchant(alt: httpx.Client) -> None:
    made = alt.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed"}).json()
    job, merchant = made["issuance_job"]["id"], made["merchant_id"]
    revoked = alt.post(f"/partner/issuance_jobs/{job}/revoke", json={"merchant_id": merchant}, headers=THANX)
    assert revoked.status_code == 202
    assert revoked.json()["issuance_job"]["merchant_id"] == merchant
    states = [
        alt.get(f"/partner/issuance_jobs/{job}", params={"merchant_id": merchant}, headers=THANX).json()[
            "issuance_job"
        ]["state"]
        for _ in range(3)
    ]
    assert states == ["revoking", "revoking", "revoked"]


def test_the_alternate_profile_is_deterministic_too(serve: Serve) -> None:
    def session() -> list[bytes]:
        with serve(seed=5, gap_profile="alternate") as http:
            made = http.post("/_sandbox/capillary/points/redemptions", json={"points": 50}).json()
            return [reverse(http, made, 20).content, reverse(http, made, 20).content, reverse(http, made).content]

    assert session() == session()
