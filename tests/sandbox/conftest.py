"""Fixtures: one sandbox server per session, and a fresh tenant per test so tests never share state."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx
import pytest

from conformance.sandbox import SandboxCredentials, create_app
from conformance.sandbox.server import run_in_thread

CREDS = SandboxCredentials()
CAPILLARY = {"Authorization": CREDS.capillary_authorization()}
CAPILLARY_OAUTH = {"X-CAP-API-OAUTH-TOKEN": CREDS.capillary_oauth_token}
THANX = {
    "Authorization": f"Bearer {CREDS.thanx_access_token}",
    "X-ClientId": CREDS.thanx_client_id,
    "Accept-Version": "v4.0",
}
JUSPAY = {
    "Authorization": CREDS.juspay_authorization(),
    "x-merchantid": CREDS.juspay_merchant_id,
    "x-routing-id": "customer_1122",
}


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    with run_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def tenant(request: pytest.FixtureRequest) -> str:
    return "t-" + hashlib.blake2b(request.node.nodeid.encode(), digest_size=8).hexdigest()


class SharedTransport(httpx.HTTPTransport):
    """One connection pool for the session: building a client's SSL context costs ~60 ms per test."""

    def close(self) -> None:
        pass

    def shutdown(self) -> None:
        super().close()


@pytest.fixture(scope="session")
def transport() -> Iterator[SharedTransport]:
    shared = SharedTransport(limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
    yield shared
    shared.shutdown()


@pytest.fixture
def client(sandbox_url: str, tenant: str, transport: SharedTransport) -> Iterator[httpx.Client]:
    headers = {"X-Sandbox-Tenant": tenant}
    with httpx.Client(base_url=sandbox_url, headers=headers, timeout=10, transport=transport) as http:
        yield http


@contextmanager
def _served(**options: object) -> Iterator[httpx.Client]:
    with run_in_thread(create_app(**options)) as url, httpx.Client(base_url=url, timeout=10) as http:  # type: ignore[arg-type]
        yield http


@pytest.fixture
def serve() -> Callable[..., AbstractContextManager[httpx.Client]]:
    """Start a dedicated sandbox with create_app options, for tests about the app itself."""
    return _served
