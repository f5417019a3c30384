from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import JUSPAY

NOT_ACTIVE = {
    "error_message": "Mandate Not in Active State",
    "status": "Invalid Request",
    "error_code": "BAD_REQUEST",
    "error_info": {
        "user_message": "You are not allowed to perform this action since mandate is not active.",
        "developer_message": "Action not allowed since mandate is not active for given mandate id.",
        "code": "INVALID_ACTION",
        "category": "USER_ERROR",
    },
}


def mandate(client: httpx.Client, status: str = "ACTIVE", **body: object) -> str:
    response = client.post("/_sandbox/juspay/mandates", json={"status": status, **body})
    assert response.status_code == 201, response.text
    mandate_id: str = response.json()["mandate_id"]
    return mandate_id


def command(
    client: httpx.Client, mandate_id: str, fields: dict[str, str], headers: dict[str, str] = JUSPAY
) -> httpx.Response:
    return client.post(f"/mandates/{mandate_id}", data=fields, headers=headers)


def state(client: httpx.Client, mandate_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/_sandbox/juspay/mandates/{mandate_id}").json()
    return found


def test_revoke_active_then_again(client: httpx.Client) -> None:
    mandate_id = mandate(client)
    assert re.fullmatch(r"[0-9A-Za-z]{22}", mandate_id)
    first = command(client, mandate_id, {"command": "revoke"})
    assert (first.status_code, first.json()) == (200, {"mandate_status": "REVOKED", "mandate_id": mandate_id})
    second = command(client, mandate_id, {"command": "revoke"})
    assert (second.status_code, second.json()) == (400, NOT_ACTIVE)
    status = command(client, mandate_id, {"command": "check_status"}).json()
    assert status["mandate_status"] == "REVOKED"
    assert [call["outcome"] for call in state(client, mandate_id)["revoke_calls"]] == ["REVOKED", "NOT_ACTIVE"]


@pytest.mark.parametrize("status", ["CREATED", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING"])
def test_non_active_states_refused(client: httpx.Client, status: str) -> None:
    mandate_id = mandate(client, status)
    response = command(client, mandate_id, {"command": "revoke"})
    assert (response.status_code, response.json()) == (400, NOT_ACTIVE)
    assert state(client, mandate_id)["mandate_status"] == status


def test_check_status_object(client: httpx.Client) -> None:
    mandate_id = mandate(client, customer_id="customer_1122")
    body = command(client, mandate_id, {"command": "check_status"}).json()
    assert list(body) == [
        "mandate_id", "mandate_status", "order_id", "customer_id", "amount_rule", "max_amount", "currency",
        "frequency", "start_date", "end_date", "activated_at", "mandate_type", "revokable_by_customer", "block_fund",
    ]  # fmt: skip
    assert (body["mandate_status"], body["customer_id"]) == ("ACTIVE", "customer_1122")


def test_gateway_failure_keeps_mandate_active(client: httpx.Client) -> None:
    mandate_id = mandate(client)
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "gateway_failure"})
    failed = command(client, mandate_id, {"command": "revoke"})
    assert failed.status_code == 200
    assert failed.json() == {
        "mandate_id": mandate_id,
        "gateway_response_code": "200",
        "mandate_status": "ACTIVE",
        "gateway_response_message": "Bank Issues a Timeout",
    }
    assert state(client, mandate_id)["mandate_status"] == "ACTIVE"
    assert command(client, mandate_id, {"command": "revoke"}).json()["mandate_status"] == "REVOKED"


@pytest.mark.parametrize("flag", ["True", "true", "TRUE"])
def test_implicit_revoke_on_gateway_failure(client: httpx.Client, flag: str) -> None:
    mandate_id = mandate(client)
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "gateway_failure"})
    response = command(client, mandate_id, {"command": "revoke", "should_do_implicit_revoke": flag})
    assert response.json() == {
        "mandate_id": mandate_id,
        "gateway_response_code": "200",
        "mandate_status": "REVOKED",
        "gateway_response_message": "Bank Issues a Timeout",
    }
    assert state(client, mandate_id)["mandate_status"] == "REVOKED"


def test_gateway_timeout_delays_then_fails(client: httpx.Client) -> None:
    mandate_id = mandate(client)
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "gateway_timeout", "delay_ms": 150})
    response = command(client, mandate_id, {"command": "revoke"})
    assert response.elapsed.total_seconds() >= 0.15
    assert response.json()["mandate_status"] == "ACTIVE"
    assert response.json()["gateway_response_message"] == "Bank Issues a Timeout"


def test_unknown_mandate_and_bad_commands(client: httpx.Client) -> None:
    unknown = command(client, "A" * 22, {"command": "revoke"})
    assert unknown.status_code == 400
    assert unknown.json()["error_message"] == "Mandate not found"
    assert unknown.json()["error_info"]["code"] == "RESOURCE_NOT_FOUND"
    mandate_id = mandate(client)
    for fields in ({}, {"command": "pause_all"}):
        refused = command(client, mandate_id, fields)
        assert (refused.status_code, refused.json()["error_code"]) == (400, "BAD_REQUEST")
    as_json = client.post(f"/mandates/{mandate_id}", json={"command": "revoke"}, headers=JUSPAY)
    assert (as_json.status_code, as_json.json()["error_code"]) == (400, "BAD_REQUEST")
    assert state(client, mandate_id)["mandate_status"] == "ACTIVE"


def test_headers_and_auth(client: httpx.Client) -> None:
    mandate_id = mandate(client)
    no_merchant = {key: value for key, value in JUSPAY.items() if key != "x-merchantid"}
    assert command(client, mandate_id, {"command": "revoke"}, no_merchant).status_code == 400
    assert command(client, mandate_id, {"command": "revoke"}, {**JUSPAY, "x-merchantid": "other"}).status_code == 401
    with_password = "Basic " + base64.b64encode(b"conformance_juspay_key:secret").decode()
    for authorization in ("Basic " + base64.b64encode(b"wrong:").decode(), with_password, ""):
        refused = command(client, mandate_id, {"command": "revoke"}, {**JUSPAY, "Authorization": authorization})
        assert refused.status_code == 401
        assert refused.json()["error_code"] == "access_denied"
        assert refused.json()["status"] == "error"
    assert state(client, mandate_id)["mandate_status"] == "ACTIVE"


def test_routing_ids_are_recorded(client: httpx.Client) -> None:
    mandate_id = mandate(client, customer_id="customer_1")
    command(client, mandate_id, {"command": "check_status"}, {**JUSPAY, "x-routing-id": "customer_1"})
    command(client, mandate_id, {"command": "check_status"}, {**JUSPAY, "x-routing-id": "cart_9"})
    no_routing = {key: value for key, value in JUSPAY.items() if key != "x-routing-id"}
    assert command(client, mandate_id, {"command": "revoke"}, no_routing).status_code == 200
    after = state(client, mandate_id)
    assert after["routing_ids_seen"] == ["customer_1", "cart_9"]
    assert after["revoke_calls"][0]["routing_id"] is None
