"""Load: at least 50 concurrent double revokes per API against a ``conformance serve`` subprocess.

The race-window ``delay`` fault makes every revoke sleep between its state check and its write, so
a missing lock would let both revokes of a pair pass the check. Each pair must end with exactly
one success, and the control API must show one refund / one reversal / one revocation per resource.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.tools.stcli import ServeProcess, auth_headers

PAIRS = 50
DELAY_MS = 15
WORKERS = 24
API_BUDGET_S = 20.0


@dataclass(frozen=True)
class Shot:
    pair: int
    start: float
    end: float
    status: int
    body: Any


def max_in_flight(shots: list[Shot]) -> int:
    """The largest number of requests whose client-side intervals overlap at one instant."""
    edges = sorted([(shot.start, 1) for shot in shots] + [(shot.end, -1) for shot in shots])
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def overlapping_pairs(shots: list[Shot]) -> int:
    by_pair: dict[int, list[Shot]] = {}
    for shot in shots:
        by_pair.setdefault(shot.pair, []).append(shot)
    return sum(1 for a, b in by_pair.values() if a.start < b.end and b.start < a.end)


Request = tuple[str, str, dict[str, Any]]  # method, path, httpx kwargs


@dataclass(frozen=True)
class Api:
    name: str
    create: Callable[[httpx.Client], Any]  # → the resource handle
    revoke: Callable[[Any], Request]
    succeeded: Callable[[Shot], bool]
    read_back: Callable[[httpx.Client, Any], None]  # asserts no double refund / revocation


def control(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.request(method, f"/_sandbox{path}", json=body)
    assert response.status_code < 300, response.text
    return response.json()


def badges_create(client: httpx.Client) -> Any:
    return control(client, "POST", "/capillary/badges/earns", {"badgeMetaId": "load-badge"})


def badges_revoke(earn: Any) -> Request:
    body = {
        "badgeMetaId": earn["badgeMetaId"],
        "customerId": earn["customerId"],
        "earnedBadgeId": earn["earnedBadgeId"],
    }
    return "POST", "/api_gateway/v1/badges/customer/revokeEarn", {"json": body}


def badges_read(client: httpx.Client, earn: Any) -> None:
    state = control(client, "GET", f"/capillary/badges/earns/{earn['earnedBadgeId']}")
    assert (state["isActive"], state["revokeCount"]) == (False, 1)


def points_create(client: httpx.Client) -> Any:
    return control(client, "POST", "/capillary/points/redemptions", {"points": 100})


def points_revoke(redemption: Any) -> Request:
    identifier = {"type": "ID", "value": str(redemption["customerId"])}
    return (
        "POST",
        "/v2/points/reverse",
        {"json": {"redemptionId": redemption["redemptionId"], "identifier": identifier}},
    )


def points_read(client: httpx.Client, redemption: Any) -> None:
    state = control(client, "GET", f"/capillary/points/redemptions/{redemption['redemptionId']}")
    assert (len(state["reversals"]), state["reversedTotal"], state["remaining"]) == (1, 100, 0)


def rewards_create(client: httpx.Client) -> Any:
    return control(client, "POST", "/capillary/rewards/transactions", {"rewards": [{"points": 100}]})


def rewards_revoke(txn: Any) -> Request:
    return "POST", "/api_gateway/rewards/core/v1/user/reward/revoke", {"json": {"txnId": txn["txnId"]}}


def rewards_read(client: httpx.Client, txn: Any) -> None:
    state = control(client, "GET", f"/capillary/rewards/transactions/{txn['txnId']}")
    assert (state["refundCount"], state["refundedPoints"]) == (1, 100)


def thanx_create(client: httpx.Client) -> Any:
    return control(client, "POST", "/thanx/issuance_jobs", {"state": "completed"})


def thanx_revoke(job: Any) -> Request:
    path = f"/partner/issuance_jobs/{job['issuance_job']['id']}/revoke"
    return "POST", path, {"json": {"merchant_id": job["merchant_id"]}}


def thanx_read(client: httpx.Client, job: Any) -> None:
    state = control(client, "GET", f"/thanx/issuance_jobs/{job['issuance_job']['id']}")
    assert len(state["revoke_requests"]) == 1


def juspay_create(client: httpx.Client) -> Any:
    return control(client, "POST", "/juspay/mandates", {"status": "ACTIVE"})


def juspay_revoke(mandate: Any) -> Request:
    headers = {"x-routing-id": mandate["customer_id"]}
    return "POST", f"/mandates/{mandate['mandate_id']}", {"data": {"command": "revoke"}, "headers": headers}


def juspay_read(client: httpx.Client, mandate: Any) -> None:
    state = control(client, "GET", f"/juspay/mandates/{mandate['mandate_id']}")
    outcomes = [call["outcome"] for call in state["revoke_calls"]]
    assert state["mandate_status"] == "REVOKED"
    assert sorted(outcomes) == ["NOT_ACTIVE", "REVOKED"]


APIS = {
    "capillary-badges": Api("capillary-badges", badges_create, badges_revoke, lambda s: s.status == 200, badges_read),
    "capillary-points": Api("capillary-points", points_create, points_revoke, lambda s: s.status == 200, points_read),
    "capillary-rewards": Api(
        "capillary-rewards",
        rewards_create,
        rewards_revoke,
        lambda s: s.status == 200 and s.body["status"]["code"] == 200,
        rewards_read,
    ),
    "thanx": Api("thanx", thanx_create, thanx_revoke, lambda s: s.status == 202, thanx_read),
    "juspay": Api("juspay", juspay_create, juspay_revoke, lambda s: s.status == 200, juspay_read),
}


@pytest.mark.slow
@pytest.mark.parametrize("api", list(APIS))
def test_concurrent_double_revokes_over_real_http(served: ServeProcess, api: str) -> None:
    spec = APIS[api]
    started = time.monotonic()
    limits = httpx.Limits(max_connections=WORKERS * 2, max_keepalive_connections=WORKERS * 2)
    headers = {"x-sandbox-tenant": f"load-{api}", **auth_headers(api)}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=15.0, limits=limits) as client:
        control(client, "POST", "/reset", {})
        if api == "capillary-rewards":
            control(client, "PUT", "/capillary/rewards/flags", {"REVOKE_ENABLE": True})
        resources = [spec.create(client) for _ in range(PAIRS)]
        control(client, "POST", "/faults", {"api": api, "kind": "delay", "count": 2 * PAIRS, "delay_ms": DELAY_MS})

        def fire(pair: int) -> Shot:
            method, path, kwargs = spec.revoke(resources[pair])
            start = time.monotonic()
            response = client.request(method, path, **kwargs)
            return Shot(pair, start, time.monotonic(), response.status_code, response.json())

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            # Both revokes of a pair are submitted back to back, so they race for the same resource.
            shots = list(pool.map(fire, [pair for pair in range(PAIRS) for _ in range(2)], timeout=API_BUDGET_S))
        wins = {pair: sum(1 for shot in shots if shot.pair == pair and spec.succeeded(shot)) for pair in range(PAIRS)}
        assert set(wins.values()) == {1}, {pair: n for pair, n in wins.items() if n != 1}
        assert all(shot.status < 500 for shot in shots)
        for resource in resources:
            spec.read_back(client, resource)
        assert control(client, "GET", "/faults") == {"faults": []}  # every revoke went through the delay
    peak, overlapped = max_in_flight(shots), overlapping_pairs(shots)
    elapsed = time.monotonic() - started
    sys.stdout.write(
        f"\n{api}: {len(shots)} revokes ({PAIRS} pairs, delay {DELAY_MS} ms), peak in flight {peak}, "
        f"pairs overlapping {overlapped}/{PAIRS}, successes {sum(wins.values())}, {elapsed:.1f} s\n"
    )
    assert peak > 1, "the revokes never overlapped: the load did not race"
    assert overlapped > 0
    assert elapsed < API_BUDGET_S
