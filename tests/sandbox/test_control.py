from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import CREDS, THANX


def test_health(client: httpx.Client) -> None:
    assert client.get("/_sandbox/health").json() == {
        "status": "ok",
        "apis": ["capillary-badges", "capillary-points", "capillary-rewards", "thanx", "juspay"],
        "seed": 0,
        "deviation": None,
    }


def test_credentials_are_raw_values(client: httpx.Client) -> None:
    creds = client.get("/_sandbox/credentials").json()
    assert creds["capillary-badges"]["basic_username"] == "conformance_till"
    assert creds["capillary-rewards"]["basic_password"] == "conformance-pass"
    assert creds["capillary-points"]["authorization"] == CREDS.capillary_authorization()
    assert creds["capillary-points"]["oauth_token"] == "conformance-oauth-token"
    assert creds["thanx"] == {
        "access_token": "conformance-thanx-token",
        "scope": "rewards.issue",
        "noscope_access_token": "conformance-thanx-noscope-token",
        "client_id": "conformance-client-id",
        "accept_version": "v4.0",
    }
    assert creds["juspay"]["api_key"] == "conformance_juspay_key"
    assert creds["juspay"]["merchant_id"] == "conformance_merchant"


def test_customers(client: httpx.Client) -> None:
    made = client.post("/_sandbox/capillary/customers", json={"mobile": "919999999999"})
    assert made.status_code == 201
    body = made.json()
    assert list(body) == ["customerId", "mobile", "email", "externalId", "cardNumber"]
    assert 10**7 <= body["customerId"] < 10**8
    assert body["mobile"] == "919999999999"
    taken = client.post("/_sandbox/capillary/customers", json={"mobile": "919999999999"})
    assert taken.status_code == 422
    assert set(taken.json()) == {"error", "allowed"}


def test_redemption_shape(client: httpx.Client) -> None:
    made = client.post("/_sandbox/capillary/points/redemptions", json={"points": 12.5}).json()
    assert (made["points"], made["remaining"], made["reversals"]) == (12.5, 12.5, [])
    assert len(made["redemptionId"]) == 6
    assert made["customer"]["customerId"] == made["customerId"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sandbox/capillary/points/redemptions", {}, 422),
        ("POST", "/_sandbox/capillary/points/redemptions", {"points": 1.2345}, 422),
        ("POST", "/_sandbox/capillary/points/redemptions", {"points": 5, "expiredPoints": 6}, 422),
        ("POST", "/_sandbox/capillary/points/redemptions", {"points": 5, "customerId": 1}, 404),
        ("POST", "/_sandbox/capillary/badges/earns", {"customerId": 1}, 404),
        ("POST", "/_sandbox/capillary/badges/earns", {"colour": "red"}, 422),
        ("GET", "/_sandbox/capillary/badges/earns/abc", None, 404),
        ("GET", "/_sandbox/capillary/points/redemptions/abc", None, 404),
        ("PUT", "/_sandbox/capillary/rewards/flags", {}, 422),
        ("PUT", "/_sandbox/capillary/rewards/flags", {"REVOKE_ENABLE": "yes please"}, 422),
        ("POST", "/_sandbox/capillary/rewards/transactions", {"rewards": [{"state": "LOST"}]}, 422),
        ("GET", "/_sandbox/capillary/rewards/transactions/12", None, 404),
        ("POST", "/_sandbox/capillary/rewards/transactions/x/reverse-redeem", None, 404),
        ("PUT", "/_sandbox/thanx/settings", {"revoke_completes_after_reads": -1}, 422),
        ("POST", "/_sandbox/juspay/mandates", {"status": "FAILED"}, 422),
        ("GET", "/_sandbox/juspay/mandates/nope", None, 404),
        ("POST", "/_sandbox/reset", {"seed": "seven"}, 422),
        ("GET", "/_sandbox/nothing-here", None, 404),
        ("DELETE", "/_sandbox/health", None, 405),
    ],
)
def test_bad_requests(client: httpx.Client, method: str, path: str, body: object, status: int) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "allowed"}
    assert payload["error"]
    assert payload["allowed"] is not None


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post("/_sandbox/faults", content=b"{oops")
    assert response.status_code == 400
    assert response.json()["allowed"] == "a JSON object"


def test_literal_errors_list_the_allowed_values(client: httpx.Client) -> None:
    response = client.post("/_sandbox/juspay/mandates", json={"status": "FAILED"})
    assert response.json()["allowed"]["enum"] == [
        "CREATED",
        "ACTIVE",
        "PAUSED",
        "REVOKED",
        "FAILURE",
        "EXPIRED",
        "PENDING",
    ]


def test_transaction_defaults_and_empty(client: httpx.Client) -> None:
    default = client.post("/_sandbox/capillary/rewards/transactions", json={}).json()
    assert [(item["state"], item["points"]) for item in default["userRewards"]] == [("ISSUED", 100)]
    assert 10**9 <= default["txnId"] < 10**10
    empty = client.post("/_sandbox/capillary/rewards/transactions", json={"rewards": []}).json()
    assert empty["userRewards"] == []
    state = client.get(f"/_sandbox/capillary/rewards/transactions/{empty['txnId']}").json()
    assert list(state) == [
        "txnId",
        "customerId",
        "userRewards",
        "attempts",
        "refundCount",
        "refundedPoints",
        "reversalReference",
        "audit",
    ]


def test_reset_tenant(client: httpx.Client) -> None:
    mandate_id = client.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]
    client.post("/_sandbox/faults", json={"api": "thanx", "kind": "rate_limit"})
    reset = client.post("/_sandbox/reset", json={"seed": 99})
    assert reset.json()["seed"] == 99
    assert client.get(f"/_sandbox/juspay/mandates/{mandate_id}").status_code == 404
    assert client.get("/_sandbox/faults").json() == {"faults": []}
    assert client.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"] != mandate_id
    assert client.post("/_sandbox/reset").json()["seed"] == 99


def test_a_thanx_campaign_made_through_the_control_api_can_be_issued(client: httpx.Client) -> None:
    made = client.post("/_sandbox/thanx/campaigns", json={})
    assert made.status_code == 201, made.text
    ids = made.json()
    body = {key: ids[key] for key in ("merchant_id", "campaign_id", "variant_id")}
    issued = client.post(
        "/partner/campaigns/issue",
        json={**body, "identifiers": [{"type": "email", "value": "a@b.example"}]},
        headers=THANX,
    )
    assert issued.status_code == 202, issued.text
    assert issued.json()["issuance_job"]["campaign_id"] == ids["campaign_id"]
    unknown = client.post("/_sandbox/thanx/campaigns", json={"merchant_id": "nobody"})
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "merchant_id: unknown merchant nobody"
