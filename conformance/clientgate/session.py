"""A judged sandbox for a client's tests: started in-process on a free loopback port, or a running server."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.clientgate.control import Credentials, SandboxControl
from conformance.clientgate.judge import Judge
from conformance.clientgate.operations import GATE_PREFIX
from conformance.errors import TargetUnreachable, UsageError


def sandbox_secrets() -> list[str]:
    """Every form in which the sandbox's test credentials may travel, so none reaches a verdict file."""
    from conformance.http.redact import secret_variants
    from conformance.sandbox.auth import SandboxCredentials

    creds = SandboxCredentials()
    # Ids a request carries in the open (merchant id, Accept-Version) are not secrets and stay readable.
    # Only string values are credentials (the rest are switches such as token lifetimes).
    public = {"thanx_accept_version", "juspay_merchant_id"}
    raw = [v for k, v in creds.model_dump().items() if isinstance(v, str) and k not in public]
    pairs = [(creds.capillary_username, creds.capillary_password), (creds.juspay_api_key, "")]
    return sorted(secret_variants(*raw, pairs=pairs))


@dataclass
class ClientSandbox:
    """What a client's test gets: where to send requests, with which credentials, and the control API."""

    base_url: str
    credentials: Credentials
    control: SandboxControl
    judge: Judge | None = None  # None when the judging happens in a server started elsewhere
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    def part(self) -> dict[str, Any]:
        """What the judge saw: locally, or fetched from the server's gate."""
        if self.judge is not None:
            return self.judge.part()
        return fetch_part(self.base_url)

    def close(self) -> None:
        self.control.close()
        self._stack.close()


def start_in_process(*, seed: int = 0) -> ClientSandbox:
    from conformance.clientgate.middleware import GateMiddleware
    from conformance.sandbox import create_app
    from conformance.sandbox.server import run_in_thread

    judge = Judge(sandbox_secrets())
    stack = contextlib.ExitStack()
    base_url = stack.enter_context(run_in_thread(GateMiddleware(create_app(seed=seed), judge)))
    control = SandboxControl(base_url)
    return ClientSandbox(base_url, control.credentials(), control, judge, stack)


def connect(base_url: str) -> ClientSandbox:
    """A running ``conformance serve --judge-client``; refused in one paragraph when it does not judge."""
    base_url = base_url.rstrip("/")
    fetch_part(base_url)
    control = SandboxControl(base_url)
    return ClientSandbox(base_url, control.credentials(), control)


def fetch_part(base_url: str) -> dict[str, Any]:
    try:
        response = httpx.get(f"{base_url}{GATE_PREFIX}/part", timeout=10.0)
    except httpx.HTTPError as exc:
        raise TargetUnreachable(f"The client gate at {base_url} is unreachable ({exc}).") from None
    if response.status_code != 200:
        raise UsageError(
            f"{base_url} does not judge client traffic (GET {GATE_PREFIX}/part answered {response.status_code}); "
            "start it with `conformance serve --judge-client`, or leave --clientgate-url unset to start one in-process."
        )
    return dict(response.json())
