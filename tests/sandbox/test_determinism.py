"""Determinism: one seed and one scripted sequence of calls give the same bytes, however served.

The script touches all five APIs through the control API and the vendor routes (successes, refusals,
read-backs), each step using ids from earlier answers. Two fresh in-thread sandboxes with one seed
answer byte for byte alike (``date`` and ``server`` aside), a ``conformance serve`` process answers
like an in-thread app, and another seed changes the ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.sandbox import create_app
from conformance.sandbox.server import run_in_thread
from conformance.tools.stcli import auth_headers, serving

SEED = 4242
VOLATILE = frozenset({"date", "server"})
Exchange = tuple[str, int, tuple[tuple[str, str], ...], bytes]


class Script:
    """Sends the calls and keeps a transcript of (request line, status, headers, body bytes)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.transcript: list[Exchange] = []

    def call(self, api: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**(auth_headers(api) if api else {}), **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        kept = tuple(sorted((name, value) for name, value in response.headers.items() if name not in VOLATILE))
        self.transcript.append((f"{method} {path}", response.status_code, kept, response.content))
        return response.json() if response.content else None


def scripted(base_url: str) -> tuple[list[Exchange], dict[str, Any]]:
    """The scripted sequence; returns the transcript and the ids the sandbox generated."""
    with httpx.Client(base_url=base_url, timeout=10.0, headers={"x-sandbox-tenant": "determinism"}) as client:
        s = Script(client)
        s.call(None, "GET", "/_sandbox/health")
        # Capillary badges
        earn = s.call(None, "POST", "/_sandbox/capillary/badges/earns", json={})
        revoke_body = {key: earn[key] for key in ("badgeMetaId", "customerId", "earnedBadgeId")}
        for _ in range(2):  # success, then 814
            s.call("capillary-badges", "POST", "/api_gateway/v1/badges/customer/revokeEarn", json=revoke_body)
        s.call("capillary-badges", "GET", f"/api_gateway/v1/badges/customer/{earn['customerId']}")
        # Capillary points
        redemption = s.call(None, "POST", "/_sandbox/capillary/points/redemptions", json={"points": 50.5})
        identifier = {"type": "ID", "value": str(redemption["customerId"])}
        for points in (10, 10, 500, None):  # partial, duplicate 902, over-reversal 817, the rest
            body: dict[str, Any] = {"redemptionId": redemption["redemptionId"], "identifier": identifier}
            if points is not None:
                body["pointsToBeReversed"] = points
            s.call("capillary-points", "POST", "/v2/points/reverse", json=body)
        s.call(
            "capillary-points", "POST", "/v2/points/reverse", json={"redemptionId": "nope", "identifier": identifier}
        )
        s.call(None, "GET", f"/_sandbox/capillary/points/redemptions/{redemption['redemptionId']}")
        # Capillary rewards
        s.call(None, "PUT", "/_sandbox/capillary/rewards/flags", json={"REVOKE_ENABLE": True})
        txn = s.call(None, "POST", "/_sandbox/capillary/rewards/transactions", json={})
        for _ in range(2):  # 200, then 13003
            s.call(
                "capillary-rewards",
                "POST",
                "/api_gateway/rewards/core/v1/user/reward/revoke",
                json={"txnId": txn["txnId"]},
            )
        issual = f"/api_gateway/rewards/core/v1/management/customer/{txn['customerId']}/issuals/{txn['txnId']}"
        s.call("capillary-rewards", "GET", issual)
        s.call(None, "GET", f"/_sandbox/capillary/rewards/transactions/{txn['txnId']}")
        # Thanx
        s.call("thanx", "GET", "/partner/merchants")
        job = s.call(None, "POST", "/_sandbox/thanx/issuance_jobs", json={"state": "completed"})
        job_id, merchant_id = job["issuance_job"]["id"], job["merchant_id"]
        for _ in range(2):  # 202, then 422
            s.call("thanx", "POST", f"/partner/issuance_jobs/{job_id}/revoke", json={"merchant_id": merchant_id})
        for _ in range(2):  # revoking, then revoked
            s.call("thanx", "GET", f"/partner/issuance_jobs/{job_id}", params={"merchant_id": merchant_id})
        # Juspay
        mandate = s.call(None, "POST", "/_sandbox/juspay/mandates", json={"status": "ACTIVE"})
        path, routing = f"/mandates/{mandate['mandate_id']}", {"x-routing-id": mandate["customer_id"]}
        for command in ("check_status", "revoke", "revoke"):  # 200, 200 REVOKED, 400 not active
            s.call("juspay", "POST", path, data={"command": command}, headers=routing)
        s.call(None, "GET", f"/_sandbox/juspay/mandates/{mandate['mandate_id']}")
    ids = {
        "customerId": earn["customerId"],
        "earnedBadgeId": earn["earnedBadgeId"],
        "redemptionId": redemption["redemptionId"],
        "txnId": txn["txnId"],
        "job": job_id,
        "merchant": merchant_id,
        "mandate": mandate["mandate_id"],
    }
    return s.transcript, ids


@contextmanager
def in_thread(seed: int) -> Iterator[str]:
    with run_in_thread(create_app(seed=seed)) as url:
        yield url


def run_in_thread_app(seed: int) -> tuple[list[Exchange], dict[str, Any]]:
    with in_thread(seed) as url:
        return scripted(url)


def test_two_fresh_sandboxes_with_one_seed_answer_identical_bytes() -> None:
    first, first_ids = run_in_thread_app(SEED)
    second, second_ids = run_in_thread_app(SEED)
    assert len(first) == 29
    assert first_ids == second_ids
    for one, other in zip(first, second, strict=True):
        assert one == other
    statuses = [status for _, status, _, _ in first]
    assert {200, 201, 202, 400, 422} <= set(statuses)  # successes and refusals both scripted


def test_another_seed_gives_other_ids() -> None:
    _, ids = run_in_thread_app(SEED)
    _, other = run_in_thread_app(SEED + 1)
    assert all(ids[key] != other[key] for key in ids), {key: (ids[key], other[key]) for key in ids}


@pytest.mark.slow
def test_a_serve_process_answers_like_an_in_thread_app(tmp_path: Path) -> None:
    with serving(tmp_path / "serve.log", seed=SEED) as server:
        served, served_ids = scripted(server.base_url)
    threaded, threaded_ids = run_in_thread_app(SEED)
    assert served_ids == threaded_ids
    for one, other in zip(served, threaded, strict=True):
        assert one == other
