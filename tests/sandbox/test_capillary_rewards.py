from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import CAPILLARY

BASE = "/api_gateway/rewards/core/v1"
REVOKE = f"{BASE}/user/reward/revoke?username=store1"


def enable(client: httpx.Client, value: bool = True) -> None:
    assert client.put("/_sandbox/capillary/rewards/flags", json={"REVOKE_ENABLE": value}).json() == {
        "REVOKE_ENABLE": value
    }


def transaction(client: httpx.Client, *rewards: tuple[str, float]) -> int:
    body = {"rewards": [{"state": state, "points": points} for state, points in rewards]}
    response = client.post("/_sandbox/capillary/rewards/transactions", json=body)
    assert response.status_code == 201, response.text
    txn_id: int = response.json()["txnId"]
    return txn_id


def revoke(client: httpx.Client, body: object) -> dict[str, Any]:
    response = client.post(REVOKE, json=body, headers=CAPILLARY)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def state(client: httpx.Client, txn_id: int) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"/_sandbox/capillary/rewards/transactions/{txn_id}").json()
    return result


def test_revoke_success_refunds_once_and_records_audit(client: httpx.Client) -> None:
    enable(client)
    txn = transaction(client, ("ISSUED", 100), ("ISSUED", 50.5))
    body = {
        "txnId": txn,
        "revokedBy": "BRAND_OPERATOR",
        "revokeReason": "VENDOR_FULFILMENT_FAILURE",
        "revokedEventDateTime": "2026-05-13T09:32:11.000Z",
    }
    assert revoke(client, body) == {
        "status": {"success": True, "code": 200, "message": "Reward revoked successfully"},
        "txnId": txn,
        "state": "CANCELLED",
        "userRewardCount": 2,
    }
    after = state(client, txn)
    assert [reward["state"] for reward in after["userRewards"]] == ["CANCELLED", "CANCELLED"]
    assert after["refundCount"] == 1
    assert after["refundedPoints"] == 150.5
    assert after["reversalReference"]
    assert after["audit"] == {
        "revokedBy": "BRAND_OPERATOR",
        "revokeReason": "VENDOR_FULFILMENT_FAILURE",
        "revokedEventDateTime": "2026-05-13T09:32:11.000Z",
    }
    second = revoke(client, {"txnId": txn})
    assert second == {
        "status": {
            "success": False,
            "code": 13003,
            "message": "Transaction is not in the required state for this operation",
        },
        "txnId": txn,
    }
    assert state(client, txn)["refundCount"] == 1
    assert [attempt["code"] for attempt in state(client, txn)["attempts"]] == [200, 13003]


def test_default_event_time_is_processing_time(client: httpx.Client) -> None:
    enable(client)
    txn = transaction(client, ("ISSUED", 10))
    revoke(client, {"txnId": txn})
    after = state(client, txn)
    assert after["audit"]["revokedEventDateTime"] == after["attempts"][0]["at"]
    assert after["audit"]["revokedEventDateTime"].startswith("2026-01-01T00:00:")


def test_no_points_means_no_reversal(client: httpx.Client) -> None:
    enable(client)
    txn = transaction(client, ("ISSUED", 0))
    assert revoke(client, {"txnId": txn})["status"]["code"] == 200
    after = state(client, txn)
    assert (after["refundCount"], after["reversalReference"]) == (0, None)


def test_flag_off_by_default(client: httpx.Client) -> None:
    txn = transaction(client, ("ISSUED", 10))
    assert revoke(client, {"txnId": txn})["status"] == {
        "success": False,
        "code": 13005,
        "message": "Revoke feature is not enabled for this brand",
    }
    enable(client)
    enable(client, False)
    assert revoke(client, {"txnId": txn})["status"]["code"] == 13005


@pytest.mark.parametrize("other", ["REDEEMED", "CANCELLED"])
def test_any_reward_not_issued_is_13003(client: httpx.Client, other: str) -> None:
    enable(client)
    txn = transaction(client, ("ISSUED", 10), (other, 10))
    assert revoke(client, {"txnId": txn})["status"]["code"] == 13003
    assert [reward["state"] for reward in state(client, txn)["userRewards"]] == ["ISSUED", other]


def test_reverse_redeem_then_revoke(client: httpx.Client) -> None:
    enable(client)
    txn = transaction(client, ("REDEEMED", 10))
    restored = client.post(f"/_sandbox/capillary/rewards/transactions/{txn}/reverse-redeem").json()
    assert restored["userRewards"][0]["state"] == "ISSUED"
    assert revoke(client, {"txnId": txn})["status"]["code"] == 200
    again = client.post(f"/_sandbox/capillary/rewards/transactions/{txn}/reverse-redeem")
    assert again.status_code == 422


def test_unknown_and_empty_transactions(client: httpx.Client) -> None:
    enable(client)
    assert revoke(client, {"txnId": 1234567890}) == {
        "status": {"success": False, "code": 10007, "message": "Transaction not found"},
        "txnId": 1234567890,
    }
    empty = transaction(client)
    assert revoke(client, {"txnId": empty})["status"] == {
        "success": False,
        "code": 10008,
        "message": "User reward not found",
    }


def test_validation_is_http_200(client: httpx.Client) -> None:
    enable(client)
    assert revoke(client, {}) == {"status": {"success": False, "code": 400, "message": "must not be null"}}
    assert revoke(client, {"txnId": None})["status"]["message"] == "must not be null"
    for bad in ("123", 1.5, True):
        result = revoke(client, {"txnId": bad})
        assert result["status"]["code"] == 400
        assert "txnId" not in result
    assert revoke(client, {"txnId": 5, "revokedEventDateTime": "yesterday"})["status"]["code"] == 400
    response = client.post(REVOKE, content=b"{", headers=CAPILLARY)
    assert (response.status_code, response.json()["status"]["code"]) == (200, 400)


def test_points_failure_changes_nothing_but_records_attempt(client: httpx.Client) -> None:
    enable(client)
    txn = transaction(client, ("ISSUED", 10))
    client.post("/_sandbox/faults", json={"api": "capillary-rewards", "kind": "points_failure"})
    assert revoke(client, {"txnId": txn}) == {
        "status": {"success": False, "code": 1018, "message": "Failed to reverse points"},
        "txnId": txn,
    }
    failed = state(client, txn)
    assert failed["userRewards"][0]["state"] == "ISSUED"
    assert (failed["refundCount"], failed["reversalReference"]) == (0, None)
    assert [attempt["code"] for attempt in failed["attempts"]] == [1018]
    assert revoke(client, {"txnId": txn})["status"]["code"] == 200
    assert state(client, txn)["refundCount"] == 1


def test_points_failure_not_consumed_without_points(client: httpx.Client) -> None:
    enable(client)
    client.post("/_sandbox/faults", json={"api": "capillary-rewards", "kind": "points_failure"})
    assert revoke(client, {"txnId": transaction(client, ("ISSUED", 0))})["status"]["code"] == 200
    assert revoke(client, {"txnId": transaction(client, ("ISSUED", 5))})["status"]["code"] == 1018


def test_gateway_auth_is_http_401(client: httpx.Client) -> None:
    response = client.post(REVOKE, json={"txnId": 1})
    assert response.status_code == 401
    assert response.json() == {"status": {"success": False, "code": 401, "message": "Unauthorized"}}


def test_issue_readback_and_brand_config(client: httpx.Client) -> None:
    customer = client.post("/_sandbox/capillary/customers", json={"mobile": "919811111111"}).json()
    issue = client.post(
        f"{BASE}/user/reward/42/issue?username=till&skip_validation=true",
        json={"mobile": "919811111111", "requestId": "q1"},
        headers=CAPILLARY,
    ).json()
    assert issue["status"] == {"success": True, "code": 200, "message": "Reward issued successfully"}
    txn = issue["transactionId"]
    assert 10**9 <= txn < 10**10
    replay = client.post(
        f"{BASE}/user/reward/42/issue", json={"mobile": "919811111111", "requestId": "q1"}, headers=CAPILLARY
    ).json()
    assert replay["transactionId"] == txn
    issual = f"{BASE}/management/customer/{customer['customerId']}/issuals/{txn}"
    assert client.get(issual, headers=CAPILLARY).json()["userRewards"][0]["state"] == "ISSUED"
    config = {"configKeyName": "REVOKE_ENABLE", "configKeyValue": "true", "brandId": 7, "label": "Revoke"}
    saved = client.post(f"{BASE}/brand/config", json=config, headers=CAPILLARY).json()
    assert saved["status"] == {"success": True, "code": 3008, "message": "Org config updated successfully"}
    fetched = client.get(f"{BASE}/brand/7/getConfig", headers=CAPILLARY).json()
    assert fetched["status"]["code"] == 3012
    assert {"configKeyName": "REVOKE_ENABLE", "configKeyValue": "true", "brandId": 7, "label": "Revoke"} in fetched[
        "configList"
    ]
    assert revoke(client, {"txnId": txn})["status"]["code"] == 200
    revoked = client.get(issual, headers=CAPILLARY).json()
    assert (revoked["state"], revoked["userRewards"][0]["state"]) == ("CANCELLED", "CANCELLED")
    assert revoked["pointsReversalRefId"] == state(client, txn)["reversalReference"]


def test_setup_endpoint_errors(client: httpx.Client) -> None:
    def code(response: httpx.Response) -> int:
        assert response.status_code == 200
        value: int = response.json()["status"]["code"]
        return value

    assert code(client.post(f"{BASE}/user/reward/x/issue", json={}, headers=CAPILLARY)) == 400
    assert code(client.post(f"{BASE}/user/reward/1/issue", json={}, headers=CAPILLARY)) == 400
    assert code(client.post(f"{BASE}/user/reward/1/issue", json={"mobile": "0"}, headers=CAPILLARY)) == 8015
    assert code(client.get(f"{BASE}/management/customer/1/issuals/2", headers=CAPILLARY)) == 10007
    assert (
        code(
            client.post(
                f"{BASE}/brand/config", json={"configKeyName": "NOPE", "configKeyValue": "1"}, headers=CAPILLARY
            )
        )
        == 3011
    )
    assert (
        code(
            client.post(
                f"{BASE}/brand/config",
                json={"configKeyName": "REVOKE_ENABLE", "configKeyValue": "maybe"},
                headers=CAPILLARY,
            )
        )
        == 400
    )
    assert code(client.post(f"{BASE}/brand/config", json={"configKeyValue": "true"}, headers=CAPILLARY)) == 400
