"""Properties of the app as a whole: determinism, tenancy, mounting, credentials, serving."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

import httpx
import pytest

from conformance.sandbox import SandboxCredentials, create_app
from conformance.sandbox.server import run_in_thread
from tests.sandbox.conftest import CAPILLARY, JUSPAY, THANX

Serve = Callable[..., AbstractContextManager[httpx.Client]]


def script(http: httpx.Client) -> list[bytes]:
    """A fixed sequence touching every API; returns every response body."""
    bodies: list[bytes] = []

    def keep(response: httpx.Response) -> dict[str, object]:
        bodies.append(response.content)
        result: dict[str, object] = response.json()
        return result

    earn = keep(http.post("/_sandbox/capillary/badges/earns", json={}))
    keep(
        http.post(
            "/api_gateway/v1/badges/customer/revokeEarn",
            json={k: earn[k] for k in ("badgeMetaId", "customerId", "earnedBadgeId")},
            headers=CAPILLARY,
        )
    )
    made = keep(http.post("/_sandbox/capillary/points/redemptions", json={"points": 10}))
    keep(
        http.post(
            "/v2/points/reverse",
            json={"redemptionId": made["redemptionId"], "identifier": {"type": "ID", "value": str(made["customerId"])}},
            headers=CAPILLARY,
        )
    )
    keep(http.put("/_sandbox/capillary/rewards/flags", json={"REVOKE_ENABLE": True}))
    txn = keep(http.post("/_sandbox/capillary/rewards/transactions", json={}))
    keep(http.post("/api_gateway/rewards/core/v1/user/reward/revoke", json={"txnId": txn["txnId"]}, headers=CAPILLARY))
    keep(http.get(f"/_sandbox/capillary/rewards/transactions/{txn['txnId']}"))
    merchants = keep(http.get("/partner/merchants", headers=THANX))
    job = keep(http.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed"}))
    job_id = job["issuance_job"]["id"]  # type: ignore[index]
    keep(http.post(f"/partner/issuance_jobs/{job_id}/revoke", json={"merchant_id": job["merchant_id"]}, headers=THANX))
    keep(http.get(f"/partner/issuance_jobs/{job_id}", params={"merchant_id": str(job["merchant_id"])}, headers=THANX))
    assert merchants
    mandate = keep(http.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}))
    keep(http.post(f"/mandates/{mandate['mandate_id']}", data={"command": "revoke"}, headers=JUSPAY))
    keep(http.get(f"/_sandbox/juspay/mandates/{mandate['mandate_id']}"))
    return bodies


def test_same_seed_same_bytes_other_seed_other_ids(serve: Serve) -> None:
    with serve(seed=7) as first:
        one = script(first)
    with serve(seed=7) as second:
        two = script(second)
    with serve(seed=8) as third:
        three = script(third)
    assert one == two
    assert one[0] != three[0]
    assert all(a != b for a, b in zip(one[:1] + one[2:3], three[:1] + three[2:3], strict=True))


def test_tenants_are_isolated_and_deterministic(sandbox_url: str, tenant: str) -> None:
    with (
        httpx.Client(base_url=sandbox_url, headers={"X-Sandbox-Tenant": f"{tenant}-a"}) as a,
        httpx.Client(base_url=sandbox_url, headers={"X-Sandbox-Tenant": f"{tenant}-b"}) as b,
    ):
        mandate_id = a.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]
        assert (
            b.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=JUSPAY).json()["error_message"]
            == "Mandate not found"
        )
        assert b.get(f"/_sandbox/juspay/mandates/{mandate_id}").status_code == 404
        a.put("/_sandbox/capillary/rewards/flags", json={"REVOKE_ENABLE": True})
        txn = b.post("/_sandbox/capillary/rewards/transactions", json={}).json()["txnId"]
        revoked = b.post("/api_gateway/rewards/core/v1/user/reward/revoke", json={"txnId": txn}, headers=CAPILLARY)
        assert revoked.json()["status"]["code"] == 13005
        a.post("/_sandbox/faults", json={"api": "juspay", "kind": "rate_limit"})
        assert b.get("/_sandbox/faults").json() == {"faults": []}
        a.post("/_sandbox/reset")
        assert a.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"] == mandate_id


def test_default_tenant_and_reset_all(serve: Serve) -> None:
    with serve(seed=3) as http:
        first = http.post("/_sandbox/capillary/customers", json={}).json()
        same = http.post("/_sandbox/capillary/customers", json={}, headers={"X-Sandbox-Tenant": "default"}).json()
        assert first["customerId"] != same["customerId"]  # one tenant, two customers
        assert http.post("/_sandbox/reset", json={"all": True, "seed": 4}).json() == {"reset": "all", "seed": 4}
        assert http.get("/_sandbox/health").json()["seed"] == 4
        with serve(seed=4) as fresh:
            assert (
                http.post("/_sandbox/capillary/customers", json={}).json()
                == fresh.post("/_sandbox/capillary/customers", json={}).json()
            )


def test_clock_advances_one_second_per_read(client: httpx.Client) -> None:
    times = [client.post("/_sandbox/capillary/badges/earns", json={}).json()["earnedOnISO"] for _ in range(3)]
    assert times == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"]


def test_apis_restrict_mounting(serve: Serve) -> None:
    with serve(apis=["juspay"], deviation="juspay-race-unlocked") as http:
        health = http.get("/_sandbox/health").json()
        assert (health["apis"], health["deviation"]) == (["juspay"], "juspay-race-unlocked")
        assert http.post("/v2/points/reverse", json={}, headers=CAPILLARY).status_code == 404
        assert http.post("/_sandbox/faults", json={"api": "thanx", "kind": "rate_limit"}).json()["allowed"] == [
            "juspay"
        ]
        assert list(http.get("/_sandbox/credentials").json()) == ["juspay"]
        mandate_id = http.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]
        assert http.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=JUSPAY).status_code == 200


def test_unknown_api_rejected() -> None:
    with pytest.raises(ValueError, match="unknown api"):
        create_app(apis=["stripe"])


def test_deviation_helper() -> None:
    state = create_app(deviation="rewards-refund-per-reward").state.sandbox
    assert state.deviates("rewards-refund-per-reward")
    assert not state.deviates("other")
    assert create_app().state.sandbox.deviation is None
    with pytest.raises(ValueError, match=r"unknown deviation 'double-refund'; choose from .*rewards-refund-per-reward"):
        create_app(deviation="double-refund")


def test_custom_credentials(serve: Serve) -> None:
    creds = SandboxCredentials(juspay_api_key="k2", juspay_merchant_id="m2", thanx_access_token="t2")
    with serve(credentials=creds) as http:
        mandate_id = http.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()["mandate_id"]
        assert http.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=JUSPAY).status_code == 401
        custom = {"Authorization": creds.juspay_authorization(), "x-merchantid": "m2"}
        assert http.post(f"/mandates/{mandate_id}", data={"command": "revoke"}, headers=custom).status_code == 200
        assert http.get("/partner/merchants", headers={**THANX, "Authorization": "Bearer t2"}).status_code == 200
        assert http.get("/_sandbox/credentials").json()["thanx"]["access_token"] == "t2"


def test_run_in_thread_stops_cleanly() -> None:
    with run_in_thread(create_app()) as url:
        assert httpx.get(f"{url}/_sandbox/health").status_code == 200
        parts = urlsplit(url)
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((parts.hostname or "", parts.port or 0), timeout=0.5),
    ):
        pass


def test_serve_logs_requests_and_stops_on_ctrl_c() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from conformance.sandbox.server import serve; serve(port={port}, apis=['juspay'], seed=5)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/_sandbox/health").json()["seed"] == 5
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve() did not start"
                time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}" in output
    assert "conformance_juspay_key" in output
    assert sum('"GET /_sandbox/health' in line for line in output.splitlines()) == 1
