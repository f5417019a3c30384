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
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from conformance.sandbox.decide import Point, point
from conformance.sandbox.web import Call, Gate, json_response

THANX_SCOPE = "rewards.issue"


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
        }
        every: dict[str, object] = {
            "capillary-badges": capillary,
            "capillary-points": capillary,
            "capillary-rewards": capillary,
            "thanx": {
                "access_token": self.thanx_access_token,
                "scope": THANX_SCOPE,
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
        return None if valid(call.state, call, creds) else refuse(call)

    return gate


def thanx_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


@point("thanx.scope-granted")
def scope_granted(token: str, creds: SandboxCredentials) -> bool:
    """Only the token issued with rewards.issue may use the issuance endpoints."""
    return _equal(token, creds.thanx_access_token)


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
