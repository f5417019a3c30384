"""Targets: where the suite sends its requests (the reference sandbox, a live server, or cassettes)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance import yamlcache
from conformance.apis import APIS
from conformance.errors import TargetUnreachable, UsageError
from conformance.http.auth import secrets_of, uses_oauth
from conformance.http.client import ApiClient, Observer
from conformance.http.exchange import Exchange
from conformance.http.oauth import OAuthTokens
from conformance.http.ratelimit import RateLimiter
from conformance.http.redact import Redactor, secret_variants
from conformance.http.replay import ReplayTransport
from conformance.live.hosts import refuse_hosts
from conformance.settings import DEFAULT_RATE_LIMITS, VENDOR_OF, Settings, missing_settings, xdist_worker

CONTROL = "control"
# The run's id, made by the controller and inherited by xdist workers, so they share one budget and record.


@dataclass
class Target:
    """A resolved target: base URLs and credentials per API, one HTTP client, one redactor."""

    settings: Settings
    base_urls: dict[str, str]
    credentials: dict[str, dict[str, str]]
    http: httpx.Client
    redactor: Redactor
    started_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    state_dir: Path = Path(".conformance")
    cassette: str | None = None
    # Unique per run: idempotency keys built from it never collide with an earlier run's on a live vendor.
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Capillary OAuth tokens, one cache per (host, client key), shared by every client and worker.
    tokens: dict[str, OAuthTokens] = field(default_factory=dict)
    budget: Any = None  # the run's DestructiveBudget, made on first use
    touched: Any = None  # the run's TouchedLog on a live target
    sandbox: Any = None  # the reference sandbox's state, when this run started one

    @property
    def name(self) -> str:
        return self.settings.target

    def evidence(self, exchange: Exchange | None) -> str:
        """Where a verdict's evidence came from; a replayed verdict never poses as a live one."""
        if self.settings.uses_reference_sandbox:
            return "reference"
        if self.settings.target == "replay":
            return f"replay:{self.cassette or 'cassettes'}"
        host = urlsplit(str(exchange.request.url)).netloc if exchange is not None else "unknown"
        return f"live:{host}@{self.started_at}"

    def client(self, api: str, *, tenant: str | None, observers: list[Observer]) -> ApiClient:
        limiter = None
        if self.settings.is_networked and api != CONTROL and not self.settings.uses_reference_sandbox:
            vendor = VENDOR_OF[api]
            # The documented vendor limits guard vendor hosts; a --base-url server (a team's stub, a local
            # sandbox) is limited only when the user configures a rate for it.
            default = None if self.settings.base_url else DEFAULT_RATE_LIMITS[vendor]
            rate = self.settings.vendor(api).rate_limit or default
            limiter = RateLimiter(vendor, rate, self.state_dir / "ratelimit") if rate else None
        return ApiClient(
            api,
            self.base_urls[api],
            self.credentials.get(api, {}),
            http=self.http,
            redactor=self.redactor,
            limiter=limiter,
            tenant=tenant,
            observers=observers,
            token=tokens.token if (tokens := self.token_source(api)) else None,
            guard=self.destructive_guard(api),
            audit=self.touched,
        )

    def destructive_guard(self, api: str) -> Callable[[httpx.Request, str | None], None] | None:
        """Counts revokes and reversals against the run's budget before they are sent; None when uncapped."""
        from conformance.live.plan import DestructiveBudget, budget_of, is_destructive

        limit = budget_of(self.settings)
        if limit is None or api == CONTROL:
            return None
        if self.budget is None:
            self.budget = DestructiveBudget(limit, self.state_dir, self.run_id)
        budget = self.budget

        def guard(request: httpx.Request, operation: str | None) -> None:
            if is_destructive(operation, request.content):
                budget.spend(api, operation)

        return guard

    def token_source(self, api: str) -> OAuthTokens | None:
        """The OAuth token cache of a Capillary API given a client key and secret (no static token)."""
        creds = self.credentials.get(api, {})
        descriptor = APIS.get(api)  # the sandbox's control API has no descriptor
        if not (descriptor and descriptor.auth_scheme == "capillary" and uses_oauth(creds) and creds.get("client_key")):
            return None
        if self.settings.target == "replay":
            return None
        key = f"{self.base_urls[api]}\n{creds['client_key']}"
        if key not in self.tokens:
            self.tokens[key] = OAuthTokens(
                self.base_urls[api],
                creds["client_key"],
                creds.get("client_secret", ""),
                on_token=self.learn_secret,
                timeout_s=self.settings.timeout_s,
            )
        return self.tokens[key]

    def learn_secret(self, secret: str) -> None:
        """A secret learned at run time (a generated token) is redacted from then on, in every encoding."""
        known = set(self.redactor.secrets)
        fresh = secret_variants(secret) - known
        if fresh:
            self.redactor.secrets = sorted(known | fresh, key=len, reverse=True)

    def close(self) -> None:
        for tokens in self.tokens.values():
            tokens.close()


def _fetch_sandbox_credentials(http: httpx.Client, base_url: str) -> dict[str, dict[str, str]]:
    try:
        response = http.get(base_url + "/_sandbox/credentials")
    except httpx.HTTPError as exc:
        raise TargetUnreachable(f"The sandbox at {base_url} did not answer /_sandbox/credentials ({exc}).") from None
    if response.status_code != 200:
        raise TargetUnreachable(
            f"{base_url} does not implement the sandbox control API (GET /_sandbox/credentials gave "
            f"{response.status_code}); give vendor credentials or use --provisioner vendor|manifest."
        )
    body = response.json()
    return {api: _credential_names(body.get(api) or {}) for api in APIS}


# The control API's names for test credentials, mapped onto the suite's (the settings' field names).
SANDBOX_NAMES = {
    "basic_username": "username",
    "basic_password": "password",
    "access_token": "access_token",
    "noscope_access_token": "noscope_access_token",
    "client_id": "client_id",
    "api_key": "api_key",
    "merchant_id": "merchant_id",
    "client_key": "client_key",
    "client_secret": "client_secret",
}


def _credential_names(raw: dict[str, object]) -> dict[str, str]:
    return {SANDBOX_NAMES[k]: str(v) for k, v in raw.items() if k in SANDBOX_NAMES and v not in (None, "")}


def _live_urls_and_credentials(settings: Settings) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    urls: dict[str, str] = {}
    creds: dict[str, dict[str, str]] = {}
    for api in APIS:
        vendor = settings.vendor(api)
        urls[api] = (vendor.base_url or settings.base_url or "").rstrip("/")
        creds[api] = vendor.credentials()
    urls[CONTROL] = (settings.base_url or "").rstrip("/")
    return urls, creds


def production_hosts() -> dict[str, str]:
    """Hosts the specs mark ``x-environment: production``, mapped to the spec that says so."""
    hosts: dict[str, str] = {}
    for api in APIS.values():
        spec = yamlcache.load_path(api.spec_path)
        for server in spec.get("servers") or []:
            if server.get("x-environment") == "production" and (host := urlsplit(server["url"]).hostname):
                hosts[host] = api.spec_path.name
    return hosts


def refuse_production(settings: Settings, urls: dict[str, str]) -> None:
    """A safety rail: revokes are destructive, so a production host needs an explicit --allow-production."""
    if settings.allow_production:
        return
    production = production_hosts()
    for api, url in urls.items():
        host = urlsplit(url).hostname or ""
        if host in production:
            raise UsageError(
                f"Refusing to run revoke tests for {api} against {host}, which specs/{production[host]} marks as a "
                "production server: the suite revokes, reverses and cancels for real. Point it at the vendor's "
                "sandbox, or pass --allow-production (CONFORMANCE_ALLOW_PRODUCTION=1) if the org is a test org."
            )


@contextlib.contextmanager
def open_target(settings: Settings, state_dir: Path, *, join_sandbox: bool = True) -> Iterator[Target]:
    """Resolve ``settings`` into a usable Target, starting the reference sandbox when asked to.

    ``join_sandbox=False`` does not wait for the sandbox's server to wind down at the end (a test
    session's target, whose process ends with it).
    """
    # A replay's answers come from the cassette each test plays (conformance.recording.player), never a socket.
    transport = ReplayTransport() if settings.target == "replay" else None
    http = httpx.Client(timeout=settings.timeout_s, follow_redirects=False, transport=transport)
    with http, contextlib.ExitStack() as stack:
        sandbox: Any = None
        if settings.uses_reference_sandbox:
            from conformance.sandbox import create_app
            from conformance.sandbox.server import run_in_thread

            try:
                app = create_app(seed=settings.seed, deviation=settings.deviation, gap_profile=settings.gap_profile)
            except ValueError as exc:  # an unknown --deviation: the message lists the known names
                raise UsageError(str(exc)) from None
            base = stack.enter_context(run_in_thread(app, join=join_sandbox))
            sandbox = app.state.sandbox
            urls = dict.fromkeys([*APIS, CONTROL], base)
            creds = _fetch_sandbox_credentials(http, base)
        elif settings.target == "replay":
            base = "http://replay.invalid"
            urls = dict.fromkeys([*APIS, CONTROL], base)
            # Placeholders take the code paths a recording took; requests never match on credentials.
            creds = {api: dict.fromkeys(SANDBOX_NAMES.values(), "replayed-credential") for api in APIS}
        else:
            urls, creds = _live_urls_and_credentials(settings)
            refuse_hosts(settings)
            if settings.base_url and not any(creds.values()):
                creds = _fetch_sandbox_credentials(http, settings.base_url.rstrip("/"))
            elif missing := missing_settings(settings):
                raise UsageError(
                    "The live target is missing settings: " + "; ".join(missing) + ". Set them in the environment or "
                    "the targets file (secrets as ${VAR}); see README, 'Running against a live sandbox'."
                )
        secrets: set[str] = set()
        for api, values in creds.items():
            secrets |= secrets_of(api, values)
        run_id = settings.run_id or uuid.uuid4().hex
        target = Target(settings, urls, creds, http, Redactor(secrets), state_dir=state_dir, run_id=run_id)
        target.sandbox = sandbox
        if settings.is_networked and not settings.uses_reference_sandbox:
            from conformance.live.touched import TouchedLog

            target.touched = TouchedLog(state_dir, target.run_id, xdist_worker())
        try:
            yield target
        finally:
            target.close()
