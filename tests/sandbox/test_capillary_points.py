from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import CAPILLARY

REVERSE = "/v2/points/reverse"


def redemption(client: httpx.Client, **body: object) -> dict[str, Any]:
    response = client.post("/_sandbox/capillary/points/redemptions", json={"points": 100, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def reverse(client: httpx.Client, made: dict[str, Any], points: object = None, **identifier: str) -> httpx.Response:
    body: dict[str, object] = {
        "redemptionId": made["redemptionId"],
        "identifier": identifier or {"type": "ID", "value": str(made["customerId"])},
    }
    if points is not None:
        body["pointsToBeReversed"] = points
    return client.post(REVERSE, json=body, headers=CAPILLARY)


def code_of(response: httpx.Response) -> int:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["warnings"] == []
    assert set(body) == {"errors", "warnings"}
    code: int = body["errors"][0]["code"]
    return code


def test_partial_then_rest_then_refused(client: httpx.Client) -> None:
    made = redemption(client, expiredPoints=30)
    first = reverse(client, made, 80.5)
    assert first.status_code == 200, first.text
    body = first.json()
    assert list(body) == [
        "orgId", "identifier", "customerId", "redemptionId", "reversalId", "pointsToBeReversed",
        "pointsReversed", "pointsReversedDetails", "warnings", "errors",
    ]  # fmt: skip
    assert body["pointsReversed"] == 80.5
    assert body["pointsReversedDetails"] == {"available": 70, "expired": 10.5}
    assert body["customerId"] == made["customerId"]
    rest = reverse(client, made, type="mobile", value=made["customer"]["mobile"])
    assert rest.json()["pointsToBeReversed"] == 19.5
    assert rest.json()["pointsReversedDetails"] == {"available": 0, "expired": 19.5}
    assert code_of(reverse(client, made, 1)) == 902
    state = client.get(f"/_sandbox/capillary/points/redemptions/{made['redemptionId']}").json()
    assert state["reversedTotal"] == 100
    assert state["remaining"] == 0
    assert [item["points"] for item in state["reversals"]] == [80.5, 19.5]


def test_full_reversal_by_default(client: httpx.Client) -> None:
    made = redemption(client, points=42)
    response = reverse(client, made)
    assert response.json()["pointsReversed"] == 42
    assert code_of(reverse(client, made)) == 902


def test_identical_request_within_window_is_duplicate(client: httpx.Client) -> None:
    made = redemption(client)
    assert reverse(client, made, 10).status_code == 200
    assert code_of(reverse(client, made, 10)) == 902
    assert reverse(client, made, 11).status_code == 200
    for _ in range(60):  # each request reads the logical clock once
        client.get("/_sandbox/health")
        reverse(client, redemption(client), 1)
    assert reverse(client, made, 10).status_code == 200


@pytest.mark.parametrize(
    ("identifier_type", "field"),
    [
        ("email", "email"),
        ("EMAIL", "email"),
        ("PHONE", "mobile"),
        ("externalId", "externalId"),
        ("cardnumber", "cardNumber"),
        ("id", "customerId"),
    ],
)
def test_identifier_types(client: httpx.Client, identifier_type: str, field: str) -> None:
    made = redemption(client)
    response = reverse(client, made, 1, type=identifier_type, value=str(made["customer"][field]))
    assert response.status_code == 200, response.text
    assert response.json()["identifier"]["type"] == identifier_type


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        ({"programReversalEnabled": False}, 818),
        ({"customerEligible": False}, 901),
        ({"customerLocked": True}, 904),
        ({"reversalLimit": 0}, 903),
    ],
)
def test_preconditions(client: httpx.Client, flags: dict[str, object], code: int) -> None:
    made = redemption(client, **flags)
    assert code_of(reverse(client, made, 1)) == code
    assert client.get(f"/_sandbox/capillary/points/redemptions/{made['redemptionId']}").json()["reversals"] == []


def test_reversal_limit_counts_reversals(client: httpx.Client) -> None:
    made = redemption(client, reversalLimit=1)
    assert reverse(client, made, 1).status_code == 200
    assert code_of(reverse(client, made, 2)) == 903


def test_amount_validation(client: httpx.Client) -> None:
    made = redemption(client, points=10)
    assert code_of(reverse(client, made, 10.5)) == 817
    assert code_of(reverse(client, made, 1.2345)) == 878
    assert reverse(client, made, 1.234).status_code == 200
    for bad in (0, -1, "ten", True):
        assert code_of(reverse(client, made, bad)) == 887


def test_unknown_redemption_customer_and_validation(client: httpx.Client) -> None:
    made = redemption(client)
    other = redemption(client)
    assert code_of(reverse(client, {**made, "redemptionId": "zzzzzz"}, 1)) == 804
    assert code_of(reverse(client, made, 1, type="ID", value=str(other["customerId"]))) == 804
    assert code_of(reverse(client, made, 1, type="EMAIL", value="nobody@example.com")) == 804
    assert code_of(reverse(client, made, 1, type="PASSPORT", value="x")) == 887
    assert code_of(client.post(REVERSE, json={"identifier": {"type": "ID", "value": "1"}}, headers=CAPILLARY)) == 887
    assert code_of(client.post(REVERSE, json={"redemptionId": made["redemptionId"]}, headers=CAPILLARY)) == 887
    assert code_of(client.post(REVERSE, content=b"nope", headers=CAPILLARY)) == 887


@pytest.mark.parametrize("code", [886, 896, 898])
def test_points_failure_fault(client: httpx.Client, code: int) -> None:
    made = redemption(client)
    client.post("/_sandbox/faults", json={"api": "capillary-points", "kind": "points_failure", "code": code})
    assert code_of(reverse(client, made, 5)) == code
    assert reverse(client, made, 5).status_code == 200


def test_auth_refused(client: httpx.Client) -> None:
    response = client.post(REVERSE, json={}, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 401
    assert response.json() == {"errors": [{"code": 401, "message": "Invalid credentials"}], "warnings": []}


def test_v11_redeem_and_listing(client: httpx.Client) -> None:
    customer = client.post("/_sandbox/capillary/customers", json={"mobile": "919800000001"}).json()
    item = {
        "points_redeemed": 50,
        "customer": {"mobile": "919800000001"},
        "transaction_number": "T1",
        "external_reference_number": "E1",
    }
    response = client.post(
        "/v1.1/points/redeem?skip_validation=true&format=json", json={"root": {"redeem": [item]}}, headers=CAPILLARY
    )
    assert response.status_code == 200, response.text
    body = response.json()["response"]
    assert body["status"] == {"success": True, "code": 200, "message": "SUCCESS"}
    assert body["responses"]["item_status"]["code"] == 800
    redemption_id = body["responses"]["points"]["redemption_id"]
    assert len(redemption_id) == 6
    assert redemption_id.isalnum()
    replay = client.post("/v1.1/points/redeem", json={"root": {"redeem": [item]}}, headers=CAPILLARY)
    assert replay.json()["response"]["responses"]["points"]["redemption_id"] == redemption_id
    made = {"redemptionId": redemption_id, "customerId": customer["customerId"]}
    assert reverse(client, made, 20).status_code == 200
    listing = client.get("/v1.1/customer/redemptions?mobile=919800000001&type=points", headers=CAPILLARY).json()
    redemptions = listing["response"]["customer"]["points_redemptions"]
    assert "coupon_redemptions" not in listing["response"]["customer"]
    assert [(item["redemption_id"], item["points_reversed"], len(item["reversals"])) for item in redemptions] == [
        (redemption_id, 20, 1)
    ]


def test_v11_errors(client: httpx.Client) -> None:
    client.post("/_sandbox/capillary/customers", json={"mobile": "919800000002"})
    bad_points = {"root": {"redeem": [{"points_redeemed": -1, "customer": {"mobile": "919800000002"}}]}}
    response = client.post("/v1.1/points/redeem", json=bad_points, headers=CAPILLARY)
    assert response.status_code == 400
    assert response.json()["response"]["responses"]["item_status"]["code"] == 801
    nobody = {"root": {"redeem": [{"points_redeemed": 1, "customer": {"mobile": "1"}}]}}
    assert (
        client.post("/v1.1/points/redeem", json=nobody, headers=CAPILLARY).json()["response"]["responses"][
            "item_status"
        ]["code"]
        == 8015
    )
    assert (
        client.post("/v1.1/points/redeem", json={"root": {}}, headers=CAPILLARY).json()["response"]["status"]["code"]
        == 400
    )
    assert (
        client.get("/v1.1/customer/redemptions?mobile=1", headers=CAPILLARY).json()["response"]["status"]["code"]
        == 8015
    )
    assert client.get("/v1.1/customer/redemptions?mobile=919800000002&type=x", headers=CAPILLARY).status_code == 400
    assert client.get("/v1.1/customer/redemptions?mobile=919800000002").status_code == 401
