from __future__ import annotations

import base64

import httpx
import pytest

from tests.sandbox.conftest import CAPILLARY, CAPILLARY_OAUTH

REVOKE = "/api_gateway/v1/badges/customer/revokeEarn"
EARN = "/api_gateway/v1/badges/customer/earn"


def control_earn(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/_sandbox/capillary/badges/earns", json=body)
    assert response.status_code == 201, response.text
    earn: dict[str, object] = response.json()
    return earn


def revoke_body(earn: dict[str, object], customer: object = None) -> dict[str, object]:
    return {
        "badgeMetaId": earn["badgeMetaId"],
        "customerId": earn["customerId"] if customer is None else customer,
        "earnedBadgeId": earn["earnedBadgeId"],
    }


def error_of(response: httpx.Response) -> tuple[int, int]:
    body = response.json()
    assert body["data"] is None
    assert body["warnings"] == []
    return response.status_code, body["errors"][0]["code"]


def test_revoke_active_earn_then_second_revoke_is_814(client: httpx.Client) -> None:
    earn = control_earn(client)
    first = client.post(REVOKE, json=revoke_body(earn), headers=CAPILLARY)
    assert first.status_code == 200
    assert first.json() == {
        "data": {
            "badgeMetaId": earn["badgeMetaId"],
            "customerId": earn["customerId"],
            "earnedBadgeId": earn["earnedBadgeId"],
            "isActive": False,
        },
        "errors": [],
        "warnings": [],
    }
    second = client.post(REVOKE, json=revoke_body(earn), headers=CAPILLARY)
    assert second.json()["errors"] == [
        {"code": 814, "message": "Active earn instance is not present.", "reference": None}
    ]
    assert second.status_code == 400
    state = client.get(f"/_sandbox/capillary/badges/earns/{earn['earnedBadgeId']}").json()
    assert state["isActive"] is False
    assert state["revokeCount"] == 1


@pytest.mark.parametrize("kind", ["email", "mobile", "externalId", "cardNumber"])
def test_customer_identifier_header_resolves_to_numeric_id(client: httpx.Client, kind: str) -> None:
    earn = control_earn(client)
    customer = earn["customer"]
    assert isinstance(customer, dict)
    headers = {**CAPILLARY, "X-CAP-CUSTOMER-IDENTIFIER": kind}
    response = client.post(REVOKE, json=revoke_body(earn, customer[kind]), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["customerId"] == earn["customerId"]


def test_numeric_string_customer_id_accepted(client: httpx.Client) -> None:
    earn = control_earn(client)
    response = client.post(REVOKE, json=revoke_body(earn, str(earn["customerId"])), headers=CAPILLARY)
    assert response.status_code == 200
    assert response.json()["data"]["customerId"] == earn["customerId"]


def test_inactive_unknown_and_mismatched_earns_are_814(client: httpx.Client) -> None:
    inactive = control_earn(client, active=False)
    assert error_of(client.post(REVOKE, json=revoke_body(inactive), headers=CAPILLARY)) == (400, 814)
    active = control_earn(client)
    unknown = {**revoke_body(active), "earnedBadgeId": "0" * 24}
    assert error_of(client.post(REVOKE, json=unknown, headers=CAPILLARY)) == (400, 814)
    other_meta = {**revoke_body(active), "badgeMetaId": "f" * 24}
    assert error_of(client.post(REVOKE, json=other_meta, headers=CAPILLARY)) == (400, 814)
    other = control_earn(client)
    other_customer = revoke_body(active, other["customerId"])
    assert error_of(client.post(REVOKE, json=other_customer, headers=CAPILLARY)) == (400, 814)
    nobody = revoke_body(active, 99999999)
    assert error_of(client.post(REVOKE, json=nobody, headers=CAPILLARY)) == (400, 814)
    assert client.get(f"/_sandbox/capillary/badges/earns/{active['earnedBadgeId']}").json()["isActive"] is True


@pytest.mark.parametrize(("missing", "code"), [("customerId", 812), ("badgeMetaId", 400), ("earnedBadgeId", 400)])
def test_missing_field(client: httpx.Client, missing: str, code: int) -> None:
    body = revoke_body(control_earn(client))
    del body[missing]
    response = client.post(REVOKE, json=body, headers=CAPILLARY)
    assert error_of(response) == (400, code)
    assert missing in response.json()["errors"][0]["message"]
    body[missing] = None
    assert error_of(client.post(REVOKE, json=body, headers=CAPILLARY)) == (400, code)


def test_malformed_requests(client: httpx.Client) -> None:
    earn = control_earn(client)
    assert error_of(client.post(REVOKE, content=b"{not json", headers=CAPILLARY)) == (400, 400)
    assert error_of(client.post(REVOKE, json=[1], headers=CAPILLARY)) == (400, 400)
    wrong_type = {**revoke_body(earn), "earnedBadgeId": 5}
    assert error_of(client.post(REVOKE, json=wrong_type, headers=CAPILLARY)) == (400, 400)
    header = {**CAPILLARY, "X-CAP-CUSTOMER-IDENTIFIER": "nickname"}
    assert error_of(client.post(REVOKE, json=revoke_body(earn), headers=header)) == (400, 400)


def test_earn_lists_and_revoke_shows_inactive(client: httpx.Client) -> None:
    customer = client.post("/_sandbox/capillary/customers", json={"email": "Tom.Sawyer@example.com"}).json()
    body = {"badgeMetaId": "653ddb33b3cda7078c7c68e9", "customerId": "tom.sawyer@example.com", "requestId": "r-1"}
    earned = client.post(EARN, json=body, headers={**CAPILLARY, "X-CAP-CUSTOMER-IDENTIFIER": "email"})
    assert earned.status_code == 200, earned.text
    data = earned.json()["data"]
    assert data["customerId"] == customer["customerId"]
    assert len(data["earnedBadgeId"]) == 24
    assert int(data["earnedBadgeId"], 16) >= 0
    assert error_of(client.post(EARN, json={**body, "customerId": customer["customerId"]}, headers=CAPILLARY)) == (
        400,
        809,
    )
    listing = client.get(
        f"/api_gateway/v1/badges/customer/{customer['customerId']}?badgeType=EARNED", headers=CAPILLARY
    )
    assert [item["isActive"] for item in listing.json()["data"]["earnedBadges"]] == [True]
    revoke = {
        "badgeMetaId": body["badgeMetaId"],
        "customerId": customer["customerId"],
        "earnedBadgeId": data["earnedBadgeId"],
    }
    assert client.post(REVOKE, json=revoke, headers=CAPILLARY).status_code == 200
    listing = client.get(f"/api_gateway/v1/badges/customer/{customer['customerId']}", headers=CAPILLARY)
    assert [item["isActive"] for item in listing.json()["data"]["earnedBadges"]] == [False]


def test_earn_validation(client: httpx.Client) -> None:
    customer = client.post("/_sandbox/capillary/customers", json={}).json()["customerId"]
    assert error_of(client.post(EARN, json={"badgeMetaId": "m", "requestId": "r"}, headers=CAPILLARY)) == (400, 812)
    assert error_of(client.post(EARN, json={"badgeMetaId": "m", "customerId": customer}, headers=CAPILLARY)) == (
        400,
        804,
    )
    unknown = {"badgeMetaId": "m", "customerId": 12345678, "requestId": "r"}
    assert error_of(client.post(EARN, json=unknown, headers=CAPILLARY)) == (400, 8015)
    assert error_of(client.get("/api_gateway/v1/badges/customer/12345678", headers=CAPILLARY)) == (400, 8015)
    assert error_of(client.get(f"/api_gateway/v1/badges/customer/{customer}?badgeType=ISSUED", headers=CAPILLARY)) == (
        400,
        400,
    )


def test_auth(client: httpx.Client) -> None:
    earn = control_earn(client)
    plaintext = "Basic " + base64.b64encode(b"conformance_till:conformance-pass").decode()
    for headers in (
        {},
        {"Authorization": plaintext},
        {"X-CAP-API-OAUTH-TOKEN": "wrong"},
        {"Authorization": "Bearer x"},
    ):
        response = client.post(REVOKE, json=revoke_body(earn), headers=headers)
        assert error_of(response) == (401, 401)
    assert client.post(REVOKE, json=revoke_body(earn), headers=CAPILLARY_OAUTH).status_code == 200
