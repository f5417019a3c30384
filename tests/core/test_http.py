"""The one HTTP layer: safe retries, a rate limit shared across processes, redacted reproductions."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import httpx
import pytest

from conformance.errors import TargetUnreachable
from conformance.http.auth import secrets_of
from conformance.http.client import ApiClient, RetryPolicy
from conformance.http.ratelimit import RateLimiter
from conformance.http.redact import Redactor

CREDS = {"access_token": "tok-secret-1", "client_id": "client-1"}


def client_with(handler, **kwargs) -> ApiClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return ApiClient(
        "thanx",
        "http://thanx.test",
        CREDS,
        http=http,
        redactor=Redactor(secrets_of("thanx", CREDS)),
        retry=RetryPolicy(attempts=3, backoff_s=0.01),
        **kwargs,
    )


def test_a_read_is_retried_after_429_honouring_retry_after() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0.2"}), httpx.Response(200, json={"ok": True})])
    started = time.monotonic()
    exchange = client_with(lambda request: next(answers)).call("GET", "/partner/issuance_jobs/j", retry=True)
    assert exchange.status == 200
    assert time.monotonic() - started >= 0.2


def test_a_revoke_is_never_blindly_re_sent() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503)

    exchange = client_with(handler).call("POST", "/partner/issuance_jobs/j/revoke", json={"merchant_id": "m"})
    assert exchange.status == 503
    assert len(sent) == 1


def test_retries_stop_after_the_policy_s_attempts() -> None:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return httpx.Response(500)

    assert client_with(handler).call("GET", "/x", retry=True).status == 500
    assert len(sent) == 3


def test_an_unreachable_host_is_one_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(
        TargetUnreachable, match=r"Cannot connect to thanx at http://thanx.test .*CONFORMANCE_THANX_BASE_URL"
    ):
        client_with(handler).call("GET", "/x")


def test_curl_reproductions_are_redacted() -> None:
    exchange = client_with(lambda r: httpx.Response(200)).call("POST", "/x", json={"merchant_id": "m"})
    curl = exchange.curl()
    assert "tok-secret-1" not in curl
    assert "client-1" not in curl
    assert "[REDACTED]" in curl
    assert curl.startswith("curl -X POST http://thanx.test/x ")


def _hammer(state_dir: str, count: int) -> None:
    limiter = RateLimiter("vendor", 20.0, Path(state_dir))
    for _ in range(count):
        limiter.acquire()


def test_the_rate_limit_holds_across_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    workers = [context.Process(target=_hammer, args=(str(tmp_path), 5)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    elapsed = time.monotonic() - started
    # 10 calls at 20/s spaced across both processes need at least 9 intervals of 50 ms.
    assert elapsed >= 0.45
    assert all(worker.exitcode == 0 for worker in workers)
