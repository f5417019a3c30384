"""The per-API client: auth, tenant, rate limit, safe retries, redaction and exchange observers in one place."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance import waits
from conformance.errors import TargetUnreachable
from conformance.http.auth import AuthVariant, auth_headers
from conformance.http.exchange import Exchange, Phase
from conformance.http.ratelimit import RateLimiter
from conformance.http.redact import Redactor
from conformance.http.replay import is_replayed

Observer = Callable[[Exchange], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries apply to reads and idempotent setup calls only; a revoke is never blindly re-sent."""

    attempts: int = 4
    backoff_s: float = 0.2
    max_wait_s: float = 30.0

    def wait_for(self, response: httpx.Response, attempt: int) -> float:
        retry_after: str | None = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return min(float(retry_after), self.max_wait_s)
            except ValueError:
                pass
        return min(self.backoff_s * 2.0**attempt, self.max_wait_s)


def retryable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


class ApiClient:
    """Sends requests to one API of one target and reports every exchange to the observers."""

    def __init__(
        self,
        api: str,
        base_url: str,
        credentials: Mapping[str, str],
        *,
        http: httpx.Client,
        redactor: Redactor,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        tenant: str | None = None,
        observers: list[Observer] | None = None,
        token: Callable[[], str] | None = None,
        guard: Callable[[httpx.Request, str | None], None] | None = None,
        audit: Observer | None = None,
    ) -> None:
        self.api = api
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials)
        self.http = http
        self.redactor = redactor
        self.limiter = limiter
        self.retry_policy = retry or RetryPolicy()
        self.tenant = tenant
        self.observers = observers if observers is not None else []
        # A generated OAuth token (Capillary), fetched or refreshed as each request is built.
        self.token = token
        # Called before a request is first sent (the destructive budget); it raises to keep it unsent.
        self.guard = guard
        # Sees every exchange, even while a test buffers its observers (the record of touched resources).
        self.audit = audit

    def headers(self, extra: Mapping[str, str] | None, auth: AuthVariant | None) -> dict[str, str]:
        headers: dict[str, str] = {"Accept": "application/json"}
        if auth is not None:
            creds = self.credentials
            if self.token is not None and auth == "valid":
                creds = {**creds, "oauth_token": self.token()}
            headers.update(auth_headers(self.api, creds, auth))
        if self.tenant is not None:
            headers["X-Sandbox-Tenant"] = self.tenant
        headers.update(extra or {})
        return headers

    def call(
        self,
        method: str,
        path: str,
        *,
        operation: str | None = None,
        phase: Phase = "test",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: AuthVariant | None = "valid",
        retry: bool = False,
        rule_ids: tuple[str, ...] = (),
    ) -> Exchange:
        """Send one request. ``retry`` is for reads and idempotent setup calls only."""
        request = self.http.build_request(
            method,
            self.base_url + path,
            params=params,
            json=json,
            data=data,
            content=content,
            headers=self.headers(headers, auth),
        )
        return self.send(request, operation=operation, phase=phase, retry=retry, rule_ids=rule_ids)

    def send(
        self,
        request: httpx.Request,
        *,
        operation: str | None,
        phase: Phase,
        retry: bool = False,
        rule_ids: tuple[str, ...] = (),
    ) -> Exchange:
        if self.guard is not None:
            self.guard(request, operation)
        attempt = 0
        while True:
            exchange = self._send_once(request, operation, phase, rule_ids)
            response = exchange.response
            if not retry or response is None or not retryable(response) or attempt + 1 >= self.retry_policy.attempts:
                return exchange
            attempt += 1
            if is_replayed(response):
                continue  # the wait it asked for passed when it was recorded: a replay never waits
            waits.sleep(
                f"a retry of {self.api} {request.method} {request.url.path} after HTTP {response.status_code}",
                self.retry_policy.wait_for(response, attempt - 1),
            )

    def _send_once(
        self, request: httpx.Request, operation: str | None, phase: Phase, rule_ids: tuple[str, ...]
    ) -> Exchange:
        if self.limiter is not None:
            self.limiter.acquire()
        started = time.perf_counter()
        response: httpx.Response | None = None
        error: str | None = None
        try:
            response = self.http.send(request)
            response.read()
        except httpx.ConnectError as exc:
            raise TargetUnreachable(
                f"Cannot connect to {self.api} at {self.base_url} ({exc}). Check the base URL "
                f"(--base-url, CONFORMANCE_{self.api.upper().replace('-', '_')}_BASE_URL or the targets file) "
                "and that the server is running."
            ) from None
        except httpx.TimeoutException as exc:
            error = f"timeout: {type(exc).__name__}"
        exchange = Exchange(
            api=self.api,
            operation=operation,
            phase=phase,
            request=request,
            response=response,
            redactor=self.redactor,
            error=error,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            rule_ids=rule_ids,
        )
        if self.audit is not None:
            self.audit(exchange)
        for observer in self.observers:
            observer(exchange)
        return exchange
