"""Vendor authentication, with test credentials that a client can be configured with.

Each scheme is checked the way the vendor documents it, so a client that sends a plaintext
Capillary password, forgets Juspay's trailing colon or omits Thanx's ``X-ClientId`` fails here
exactly as it would against the vendor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.decide import Point, point
from conformance.sandbox.web import Call, Gate, json_response

THANX_SCOPE = "rewards.issue"
TOKEN_PATH = "/v3/oauth/token/generate"


class TokenIssuer:
    """Capillary's token/generate: key and secret in, a token valid for ``ttl_s`` out; counts what it issued."""

    def __init__(self, key: str, secret: str, ttl_s: float) -> None:
        self.key, self.secret, self.ttl_s = key, secret, ttl_s
        self.expiry: dict[str, float] = {}
        self.issued = 0
        self.lock = threading.Lock()

    def issue(self, key: str, secret: str) -> str | None:
        if not (_equal(key, self.key) and _equal(secret, self.secret)):
            return None
        token = "cap-oauth-" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued += 1
            self.expiry[token] = time.monotonic() + self.ttl_s
        return token

    def valid(self, token: str) -> bool:
        with self.lock:
            expires = self.expiry.get(token)
        return expires is not None and time.monotonic() < expires


class SandboxCredentials(BaseModel):
    """The credentials the sandbox accepts; defaults are the documented conformance test values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capillary_username: str = "conformance_till"
    capillary_password: str = "conformance-pass"
    capillary_oauth_token: str = "conformance-oauth-token"
    thanx_access_token: str = "conformance-thanx-token"
    thanx_noscope_token: str = "conformance-thanx-noscope-token"
    thanx_client_id: str = "conformance-client-id"
    thanx_accept_version: str = "v4.0"
    juspay_api_key: str = "conformance_juspay_key"
    juspay_merchant_id: str = "conformance_merchant"
    capillary_client_key: str = "conformance-client-key"
    capillary_client_secret: str = "conformance-client-secret"
    # Lifetime of tokens from POST /v3/oauth/token/generate; short ones let a test see a refresh mid-run.
    capillary_oauth_ttl_s: float = 300.0
    # Capillary accepts only generated OAuth tokens: Basic and the static token are refused.
    capillary_require_oauth: bool = False
    # Thanx's main test token lacks rewards.issue (what a wrongly provisioned credential looks like).
    thanx_scope_missing: bool = False
    _issuer: TokenIssuer = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._issuer = TokenIssuer(self.capillary_client_key, self.capillary_client_secret, self.capillary_oauth_ttl_s)

    @property
    def issuer(self) -> TokenIssuer:
        return self._issuer

    def capillary_authorization(self) -> str:
        digest = hashlib.md5(self.capillary_password.encode()).hexdigest()
        token = base64.b64encode(f"{self.capillary_username}:{digest}".encode()).decode()
        return f"Basic {token}"

    def juspay_authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.juspay_api_key}:".encode()).decode()

    def describe(self, apis: tuple[str, ...]) -> dict[str, object]:
        capillary = {
            "basic_username": self.capillary_username,
            "basic_password": self.capillary_password,
            "basic_password_md5": hashlib.md5(self.capillary_password.encode()).hexdigest(),
            "authorization": self.capillary_authorization(),
            "oauth_header": "X-CAP-API-OAUTH-TOKEN",
            "oauth_token": self.capillary_oauth_token,
            "client_key": self.capillary_client_key,
            "client_secret": self.capillary_client_secret,
            "token_endpoint": TOKEN_PATH,
            "token_ttl_seconds": self.capillary_oauth_ttl_s,
            "required": "oauth" if self.capillary_require_oauth else "basic or oauth",
        }
        if self.capillary_require_oauth:
            for name in ("basic_username", "basic_password", "basic_password_md5", "authorization", "oauth_token"):
                del capillary[name]
        every: dict[str, object] = {
            "capillary-badges": capillary,
            "capillary-points": capillary,
            "capillary-rewards": capillary,
            "thanx": {
                "access_token": self.thanx_access_token,
                "scope": "" if self.thanx_scope_missing else THANX_SCOPE,
                "noscope_access_token": self.thanx_noscope_token,
                "client_id": self.thanx_client_id,
                "accept_version": self.thanx_accept_version,
            },
            "juspay": {
                "api_key": self.juspay_api_key,
                "password": "",
                "authorization": self.juspay_authorization(),
                "merchant_id": self.juspay_merchant_id,
            },
        }
        return {api: every[api] for api in apis}


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def basic_pair(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def capillary_credentials(api: str) -> Point[[Call, SandboxCredentials], bool]:
    """The point "are these Capillary credentials valid?" of one API: Basic with md5(password) or the OAuth token."""

    def valid(call: Call, creds: SandboxCredentials) -> bool:
        token = call.headers.get("x-cap-api-oauth-token")
        if token is not None and _equal(token, creds.capillary_oauth_token):
            return True
        digest = hashlib.md5(creds.capillary_password.encode()).hexdigest()
        pair = basic_pair(call.headers.get("authorization"))
        return pair is not None and _equal(pair[0], creds.capillary_username) and _equal(pair[1].lower(), digest)

    return point(f"{api}.credentials-valid")(valid)


def presence_only(call: Call, creds: SandboxCredentials) -> bool:
    """Any credential header passes: only its absence is refused (the auth-presence-only deviations)."""
    return "x-cap-api-oauth-token" in call.headers or "authorization" in call.headers


def capillary_gate(
    creds: SandboxCredentials, refuse: Callable[[Call], Response], valid: Point[[Call, SandboxCredentials], bool]
) -> Gate:
    """Either documented scheme suffices; ``refuse`` renders the refusal in the API's own shape."""

    def gate(call: Call) -> Response | None:
        token = call.headers.get("x-cap-api-oauth-token")
        if token is not None and creds.issuer.valid(token):  # a token generated from the client key and secret
            return None
        if creds.capillary_require_oauth:
            return refuse(call)
        return None if valid(call.state, call, creds) else refuse(call)

    return gate


def thanx_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


@point("thanx.scope-granted")
def scope_granted(token: str, creds: SandboxCredentials) -> bool:
    """Only the token issued with rewards.issue may use the issuance endpoints (unless serve was told the
    test token lacks that scope, to show what a wrongly provisioned credential looks like)."""
    return _equal(token, creds.thanx_access_token) and not creds.thanx_scope_missing


@point("thanx.scope-refusal", gap="THANX-GAP-MISSING-SCOPE")
def scope_refusal() -> Response:
    return thanx_error(403, "FORBIDDEN", f"The access token lacks the required scope {THANX_SCOPE}.")


@point("thanx.accept-version-refusal", gap="THANX-GAP-ACCEPT-VERSION")
def accept_version_refusal(expected: str) -> Response | None:
    return thanx_error(400, "BAD_REQUEST", f"Accept-Version header must be {expected}.")


def thanx_gate(creds: SandboxCredentials, *, scope_required: bool) -> Gate:
    def gate(call: Call) -> Response | None:
        header = call.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        known = _equal(token, creds.thanx_access_token) or _equal(token, creds.thanx_noscope_token)
        client_ok = _equal(call.headers.get("x-clientid", ""), creds.thanx_client_id)
        if not token or not known or not client_ok:
            return thanx_error(401, "AUTHENTICATION_GENERIC", "There was an error authenticating you.")
        if scope_required and not scope_granted(call.state, token, creds):
            return scope_refusal(call.state)
        if call.headers.get("accept-version") != creds.thanx_accept_version:
            return accept_version_refusal(call.state, creds.thanx_accept_version)
        return None

    return gate


JUSPAY_UNAUTHORIZED = {
    "status": "error",
    "error_code": "access_denied",
    "error_info": {
        "user_message": "Unauthorized.",
        "developer_message": "Invalid API Key. Please pass a valid and active api key.",
        "code": "UNAUTHORIZED",
        "category": "USER_ERROR",
    },
}


def juspay_gate(creds: SandboxCredentials) -> Gate:
    def gate(call: Call) -> Response | None:
        pair = basic_pair(call.headers.get("authorization"))
        if pair is None or not _equal(pair[0], creds.juspay_api_key) or pair[1] != "":
            return json_response(JUSPAY_UNAUTHORIZED, 401)
        return None

    return gate


def token_route(creds: SandboxCredentials) -> Route:
    """``POST /v3/oauth/token/generate`` with ``{"key", "secret"}``; no other authentication (documented)."""

    async def generate(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_response(
                {"data": None, "errors": [{"code": 400, "message": "key and secret are required"}]}, 400
            )
        token = creds.issuer.issue(str(body.get("key", "")), str(body.get("secret", "")))
        if token is None:
            return json_response({"data": None, "errors": [{"code": 401, "message": "Invalid key or secret"}]}, 401)
        ttl = creds.capillary_oauth_ttl_s
        ttl_out: float = int(ttl) if ttl == int(ttl) else ttl
        return json_response({"data": {"accessToken": token, "ttlSeconds": ttl_out}, "errors": None, "warnings": None})

    return Route(TOKEN_PATH, generate, methods=["POST"])


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
LOG_PATH = "/_sandbox/requests"


class RequestLog:
    """One entry per request (wall time, method, path, status), readable and clearable at
    ``/_sandbox/requests``, so a client's tests can count its requests and its token refreshes."""

    def __init__(self, creds: SandboxCredentials) -> None:
        self.creds = creds
        # Bounded, so a long-running serve keeps the most recent requests instead of growing without end.
        self.entries: deque[dict[str, Any]] = deque(maxlen=100_000)
        self.lock = threading.Lock()

    def snapshot(self, *, clear: bool = False) -> dict[str, Any]:
        with self.lock:
            body = {"requests": list(self.entries), "tokens_issued": self.creds.issuer.issued}
            if clear:
                self.entries.clear()
        return body


class RequestLogMiddleware:
    """ASGI middleware writing every request to a :class:`RequestLog` and serving the log itself."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == LOG_PATH:
            await self._answer(scope, send)
            return
        entry: dict[str, Any] = {"at": time.time(), "method": scope["method"], "path": scope["path"], "status": None}

        async def observe(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        with self.log.lock:
            self.log.entries.append(entry)
        await self.app(scope, receive, observe)

    async def _answer(self, scope: Scope, send: Send) -> None:
        payload = json.dumps(self.log.snapshot(clear=scope["method"] == "DELETE")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
