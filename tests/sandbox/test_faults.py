from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.sandbox.conftest import CAPILLARY, JUSPAY, THANX


def badges_call(client: httpx.Client) -> httpx.Response:
    return client.post("/api_gateway/v1/badges/customer/revokeEarn", json={}, headers=CAPILLARY)


def points_call(client: httpx.Client) -> httpx.Response:
    return client.post("/v2/points/reverse", json={}, headers=CAPILLARY)


def rewards_call(client: httpx.Client) -> httpx.Response:
    return client.post("/api_gateway/rewards/core/v1/user/reward/revoke", json={}, headers=CAPILLARY)


def thanx_call(client: httpx.Client) -> httpx.Response:
    return client.get("/partner/merchants", headers=THANX)


def juspay_call(client: httpx.Client) -> httpx.Response:
    return client.post("/mandates/none", data={"command": "check_status"}, headers=JUSPAY)


CASES: list[tuple[str, Callable[[httpx.Client], httpx.Response], Callable[[object, int], bool]]] = [
    (
        "capillary-badges",
        badges_call,
        lambda body, code: (
            body
            == {
                "data": None,
                "errors": [{"code": code, "message": body["errors"][0]["message"], "reference": None}],
                "warnings": [],
            }
        ),
    ),  # type: ignore[index]
    ("capillary-points", points_call, lambda body, code: body["errors"][0]["code"] == code and body["warnings"] == []),  # type: ignore[index]
    (
        "capillary-rewards",
        rewards_call,
        lambda body, code: body["status"]["code"] == code and body["status"]["success"] is False,
    ),  # type: ignore[index]
    ("thanx", thanx_call, lambda body, code: body["error"]["code"] == "GENERIC_ERROR"),  # type: ignore[index]
    (
        "juspay",
        juspay_call,
        lambda body, code: (
            body["status"] == "error"
            and body["error_code"] == ("too_many_requests" if code == 429 else "internal_server_error")
        ),
    ),  # type: ignore[index]
]


@pytest.mark.parametrize(("api", "call", "shaped"), CASES, ids=[case[0] for case in CASES])
def test_rate_limit_then_recovery(
    client: httpx.Client,
    api: str,
    call: Callable[[httpx.Client], httpx.Response],
    shaped: Callable[[object, int], bool],
) -> None:
    normal = call(client).status_code
    created = client.post("/_sandbox/faults", json={"api": api, "kind": "rate_limit", "count": 2, "retry_after": 7})
    assert created.status_code == 201
    assert created.json()["fault_id"].startswith("flt_")
    for _ in range(2):
        limited = call(client)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "7"
        assert shaped(limited.json(), 429)
    assert call(client).status_code == normal
    assert client.get("/_sandbox/faults").json() == {"faults": []}


@pytest.mark.parametrize(("api", "call", "shaped"), CASES, ids=[case[0] for case in CASES])
def test_server_error(
    client: httpx.Client,
    api: str,
    call: Callable[[httpx.Client], httpx.Response],
    shaped: Callable[[object, int], bool],
) -> None:
    client.post("/_sandbox/faults", json={"api": api, "kind": "server_error", "status": 503})
    failed = call(client)
    assert failed.status_code == 503
    assert shaped(failed.json(), 503)
    client.post("/_sandbox/faults", json={"api": api, "kind": "server_error"})
    assert call(client).status_code == 500


def test_auth_runs_before_faults(client: httpx.Client) -> None:
    client.post("/_sandbox/faults", json={"api": "thanx", "kind": "rate_limit"})
    assert client.get("/partner/merchants").status_code == 401
    assert thanx_call(client).status_code == 429


def test_faults_are_per_api(client: httpx.Client) -> None:
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "rate_limit"})
    assert thanx_call(client).status_code == 200
    assert juspay_call(client).status_code == 429


def test_delay_fault_slows_the_revoke(client: httpx.Client) -> None:
    mandate_id = client.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "delay", "delay_ms": 200})
    started = time.monotonic()
    response = client.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=JUSPAY)
    assert time.monotonic() - started >= 0.2
    assert response.json()["mandate_status"] == "REVOKED"


def test_list_and_clear(client: httpx.Client) -> None:
    client.post("/_sandbox/faults", json={"api": "capillary-points", "kind": "points_failure", "count": 3})
    client.post("/_sandbox/faults", json={"api": "juspay", "kind": "gateway_timeout"})
    faults = client.get("/_sandbox/faults").json()["faults"]
    assert [(item["api"], item["kind"], item["remaining"], item["code"], item["delay_ms"]) for item in faults] == [
        ("capillary-points", "points_failure", 3, 886, None),
        ("juspay", "gateway_timeout", 1, None, 1000),
    ]
    assert client.delete("/_sandbox/faults").json() == {"deleted": 2}
    assert client.get("/_sandbox/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("body", "status", "allowed"),
    [
        ({"api": "stripe", "kind": "rate_limit"}, 422, None),
        ({"api": "thanx", "kind": "gateway_failure"}, 422, ["rate_limit", "server_error", "delay"]),
        ({"api": "thanx", "kind": "delay", "retry_after": 1}, 422, ["rate_limit"]),
        ({"api": "thanx", "kind": "server_error", "status": 404}, 422, None),
        ({"api": "capillary-rewards", "kind": "points_failure", "code": 886}, 422, [886, 896, 898]),
        ({"api": "capillary-points", "kind": "points_failure", "code": 801}, 422, None),
        ({"api": "thanx", "kind": "rate_limit", "count": 0}, 422, None),
        ({"kind": "rate_limit"}, 422, None),
    ],
)
def test_bad_fault_requests(client: httpx.Client, body: dict[str, object], status: int, allowed: object) -> None:
    response = client.post("/_sandbox/faults", json=body)
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"error", "allowed"}
    if allowed is not None:
        assert payload["allowed"] == allowed
