"""Twenty concurrent double revokes per API, with a delay inside each critical section: one success each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.sandbox.conftest import CAPILLARY, JUSPAY, THANX

PAIRS = 20

Setup = Callable[[httpx.Client], tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]]


def badges(http: httpx.Client) -> tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]:
    earn = http.post("/_sandbox/capillary/badges/earns", json={}).json()
    body = {key: earn[key] for key in ("badgeMetaId", "customerId", "earnedBadgeId")}

    def call(client: httpx.Client) -> httpx.Response:
        return client.post("/api_gateway/v1/badges/customer/revokeEarn", json=body, headers=CAPILLARY)

    def effects(client: httpx.Client) -> int:
        count: int = client.get(f"/_sandbox/capillary/badges/earns/{earn['earnedBadgeId']}").json()["revokeCount"]
        return count

    return call, effects


def points(http: httpx.Client) -> tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]:
    made = http.post("/_sandbox/capillary/points/redemptions", json={"points": 50}).json()
    body = {"redemptionId": made["redemptionId"], "identifier": {"type": "ID", "value": str(made["customerId"])}}

    def call(client: httpx.Client) -> httpx.Response:
        return client.post("/v2/points/reverse", json=body, headers=CAPILLARY)

    def effects(client: httpx.Client) -> int:
        return len(client.get(f"/_sandbox/capillary/points/redemptions/{made['redemptionId']}").json()["reversals"])

    return call, effects


def rewards(http: httpx.Client) -> tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]:
    http.put("/_sandbox/capillary/rewards/flags", json={"REVOKE_ENABLE": True})
    txn = http.post("/_sandbox/capillary/rewards/transactions", json={}).json()["txnId"]

    def call(client: httpx.Client) -> httpx.Response:
        return client.post("/api_gateway/rewards/core/v1/user/reward/revoke", json={"txnId": txn}, headers=CAPILLARY)

    def effects(client: httpx.Client) -> int:
        count: int = client.get(f"/_sandbox/capillary/rewards/transactions/{txn}").json()["refundCount"]
        return count

    return call, effects


def thanx(http: httpx.Client) -> tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]:
    job = http.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed"}).json()
    job_id = job["issuance_job"]["id"]

    def call(client: httpx.Client) -> httpx.Response:
        return client.post(
            f"/partner/issuance_jobs/{job_id}/revoke", json={"merchant_id": job["merchant_id"]}, headers=THANX
        )

    def effects(client: httpx.Client) -> int:
        return len(client.get(f"/_sandbox/thanx/issuance_jobs/{job_id}").json()["revoke_requests"])

    return call, effects


def juspay(http: httpx.Client) -> tuple[Callable[[httpx.Client], httpx.Response], Callable[[httpx.Client], int]]:
    mandate_id = http.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]

    def call(client: httpx.Client) -> httpx.Response:
        return client.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=JUSPAY)

    def effects(client: httpx.Client) -> int:
        calls = client.get(f"/_sandbox/juspay/mandates/{mandate_id}").json()["revoke_calls"]
        return sum(1 for item in calls if item["outcome"] == "REVOKED")

    return call, effects


def succeeded(response: httpx.Response) -> bool:
    if response.status_code not in (200, 202):
        return False
    body = response.json()
    status = body.get("status")
    return not (isinstance(status, dict) and status.get("code") != 200)


CASES: list[tuple[str, Setup]] = [
    ("capillary-badges", badges),
    ("capillary-points", points),
    ("capillary-rewards", rewards),
    ("thanx", thanx),
    ("juspay", juspay),
]


@pytest.mark.parametrize(("api", "setup"), CASES, ids=[case[0] for case in CASES])
def test_concurrent_double_revokes(client: httpx.Client, api: str, setup: Setup) -> None:
    targets = [setup(client) for _ in range(PAIRS)]
    fault = {"api": api, "kind": "delay", "count": 2 * PAIRS, "delay_ms": 10}
    assert client.post("/_sandbox/faults", json=fault).status_code == 201
    calls = [call for call, _ in targets for _ in range(2)]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        responses = list(pool.map(lambda call: call(client), calls))
    outcomes = Counter(succeeded(response) for response in responses)
    assert outcomes == Counter({True: PAIRS, False: PAIRS})
    for index in range(PAIRS):
        pair = responses[2 * index : 2 * index + 2]
        assert sorted(succeeded(response) for response in pair) == [False, True]
    assert [effects(client) for _, effects in targets] == [1] * PAIRS
    assert client.get("/_sandbox/faults").json() == {"faults": []}  # every revoke went through the delay
