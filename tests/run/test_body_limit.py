"""The sandbox bounds what it reads: a body over the documented limit gets 413 in the API's own envelope,
is never parsed or acted on, and the server answers normally afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.sandbox import create_app
from conformance.sandbox.server import run_in_thread
from conformance.sandbox.web import MAX_BODY_BYTES

# (path, where the API's error envelope puts the 413)
ROUTES = {
    "capillary-points": ("/v2/points/reverse", lambda b: b["errors"][0]["code"]),
    "capillary-badges": ("/api_gateway/v1/badges/customer/revokeEarn", lambda b: b["errors"][0]["code"]),
    "capillary-rewards": ("/api_gateway/rewards/core/v1/user/reward/revoke", lambda b: b["status"]["code"]),
    "thanx": ("/partner/issuance_jobs/job_x/revoke", lambda b: "too large" in b["error"]["message"] and 413),
    "juspay": ("/mandates/m_1", lambda b: b["status"] == "error" and 413),
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_in_thread(create_app(seed=1)) as url:
        yield url


@pytest.mark.parametrize("api", list(ROUTES))
def test_an_oversized_body_gets_413_in_the_apis_envelope(base_url: str, api: str) -> None:
    path, code_of = ROUTES[api]
    big = b'{"pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(path, content=big, headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert code_of(response.json()) == 413
        assert str(MAX_BODY_BYTES) in response.text
    with httpx.Client(base_url=base_url, timeout=30) as client:  # the server answers normally afterwards
        after = client.post(path, content=b"{}", headers={"content-type": "application/json"})
        assert after.status_code not in (413, 500)
        assert client.get("/_sandbox/credentials").status_code == 200


def test_a_streamed_body_without_length_is_cut_off_too(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post("/v2/points/reverse", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_body_at_the_limit_is_read(base_url: str) -> None:
    body = b"{}" + b" " * (MAX_BODY_BYTES - 2)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post("/v2/points/reverse", content=body, headers={"content-type": "application/json"})
    assert response.status_code != 413
