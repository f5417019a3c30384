"""Each vendor's real authentication, built from per-API credentials."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Literal

from conformance.apis import APIS
from conformance.http.redact import secret_variants

AuthVariant = Literal["valid", "missing", "wrong"]
WRONG = "conformance-wrong-credential"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def auth_headers(api: str, creds: Mapping[str, str], variant: AuthVariant = "valid") -> dict[str, str]:
    """Headers that authenticate (or, for negative tests, fail to authenticate) a call to ``api``."""
    descriptor = APIS.get(api)
    if descriptor is None or descriptor.auth_scheme not in SCHEMES:
        raise ValueError(f"no auth scheme for {api}")
    return SCHEMES[descriptor.auth_scheme](creds, variant)


def uses_oauth(creds: Mapping[str, str]) -> bool:
    """Capillary OAuth is used when a token or a client key is given and no till user is."""
    return bool(creds.get("oauth_token") or creds.get("client_key")) and not creds.get("username")


def _capillary(creds: Mapping[str, str], variant: AuthVariant) -> dict[str, str]:
    if variant == "missing":
        return {}
    if uses_oauth(creds):
        token = creds.get("oauth_token", "") if variant == "valid" else WRONG
        return {"X-CAP-API-OAUTH-TOKEN": token}
    password = creds.get("password", "") if variant == "valid" else WRONG
    # Capillary's Basic scheme carries the md5 of the till password, never the password itself.
    return {"Authorization": _basic(creds.get("username", ""), hashlib.md5(password.encode()).hexdigest())}


def _thanx(creds: Mapping[str, str], variant: AuthVariant) -> dict[str, str]:
    headers = {"X-ClientId": creds.get("client_id", ""), "Accept-Version": "v4.0"}
    if variant == "valid":
        headers["Authorization"] = f"Bearer {creds.get('access_token', '')}"
    elif variant == "wrong":
        headers["Authorization"] = f"Bearer {WRONG}"
    return headers


def _juspay(creds: Mapping[str, str], variant: AuthVariant) -> dict[str, str]:
    headers = {"x-merchantid": creds.get("merchant_id", "")}
    if variant == "valid":
        headers["Authorization"] = _basic(creds.get("api_key", ""), "")
    elif variant == "wrong":
        headers["Authorization"] = _basic(WRONG, "")
    return headers


# An API descriptor's ``auth_scheme`` names one of these.
SCHEMES: dict[str, Callable[[Mapping[str, str], AuthVariant], dict[str, str]]] = {
    "capillary": _capillary,
    "bearer-client-id": _thanx,
    "basic-api-key": _juspay,
}


def secrets_of(api: str, creds: Mapping[str, str]) -> set[str]:
    """Every encoding of ``api``'s secrets that a request could carry."""
    raw = [v for k, v in creds.items() if k not in {"merchant_id", "username"} and v]
    pairs: list[tuple[str, str]] = []
    if creds.get("username"):
        pairs.append((creds["username"], creds.get("password", "")))
    if creds.get("api_key"):
        pairs.append((creds["api_key"], ""))
    return secret_variants(*raw, pairs=pairs)
