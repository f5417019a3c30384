"""Capillary OAuth: a token from the client key and secret, refreshed before it expires, shared by workers.

Every xdist worker of a run asks the same :class:`OAuthTokens` cache, so one refresh serves them
all: a file lock serialises the refresh and the token is kept in a 0600 file in a directory of the
run (``SHARED_DIR_ENV``), removed when the run ends. The file never holds the token in clear: it is
sealed with a key that lives only in the run's environment (``RUN_KEY_ENV``), never on disk.
Token requests bypass the recorded client, so cassettes never hold a token exchange; every token
is handed to the redactor before it is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path

import httpx
from filelock import FileLock

from conformance.errors import TargetUnreachable, UsageError

TOKEN_PATH = "/v3/oauth/token/generate"
SHARED_DIR_ENV = "CONFORMANCE_RUN_SECRETS_DIR"
RUN_KEY_ENV = "CONFORMANCE_RUN_KEY"


def _environment(env: MutableMapping[str, str] | None) -> MutableMapping[str, str]:
    from conformance.settings import process_environment  # the one reader of the environment

    return process_environment() if env is None else env


def run_secrets(env: MutableMapping[str, str] | None = None) -> tuple[Path, bytes, bool]:
    """The run's secrets directory and sealing key; created (and owned by the caller) when not inherited."""
    env = _environment(env)
    if (where := env.get(SHARED_DIR_ENV)) and (key := env.get(RUN_KEY_ENV)) and Path(where).is_dir():
        return Path(where), bytes.fromhex(key), False
    directory = Path(tempfile.mkdtemp(prefix="conformance-run-"))
    directory.chmod(0o700)
    return directory, secrets.token_bytes(32), True


def export_run_secrets(env: MutableMapping[str, str] | None = None) -> Path | None:
    """Create the run's secrets directory and key in ``env`` for the workers to inherit; None if inherited."""
    env = _environment(env)
    directory, key, created = run_secrets(env)
    if not created:
        return None
    env[SHARED_DIR_ENV] = str(directory)
    env[RUN_KEY_ENV] = key.hex()
    return directory


def remove_run_secrets(directory: Path | None, env: MutableMapping[str, str] | None = None) -> None:
    if directory is None:
        return
    shutil.rmtree(directory, ignore_errors=True)
    env = _environment(env)
    if env.get(SHARED_DIR_ENV) == str(directory):
        env.pop(SHARED_DIR_ENV, None)
        env.pop(RUN_KEY_ENV, None)


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hashlib.sha256(key + nonce + i.to_bytes(4, "big")).digest() for i in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def seal(key: bytes, plain: bytes) -> bytes:
    nonce = secrets.token_bytes(16)
    body = bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)), strict=True))
    tag = hmac.new(key, nonce + body, hashlib.sha256).digest()
    return base64.b64encode(nonce + tag + body)


def unseal(key: bytes, sealed: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(sealed, validate=True)
    except ValueError:
        return None
    nonce, tag, body = raw[:16], raw[16:48], raw[48:]
    if not hmac.compare_digest(tag, hmac.new(key, nonce + body, hashlib.sha256).digest()):
        return None
    return bytes(a ^ b for a, b in zip(body, _stream(key, nonce, len(body)), strict=True))


def refresh_margin(ttl_s: float) -> float:
    """Refresh this long before expiry: half of a short lifetime, a minute of a long one."""
    return min(60.0, ttl_s / 2)


class OAuthTokens:
    """Tokens for one Capillary host and client key; ``token()`` returns one valid for a while yet."""

    def __init__(
        self,
        base_url: str,
        key: str,
        secret: str,
        *,
        on_token: Callable[[str], None],
        timeout_s: float = 15.0,
        env: MutableMapping[str, str] | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + TOKEN_PATH
        self.key, self.secret = key, secret
        self.on_token = on_token
        self.timeout_s = timeout_s
        self.directory, self.seal_key, self.owned = run_secrets(env)
        name = hashlib.sha256(f"{self.url}\n{key}".encode()).hexdigest()[:16]
        self.path = self.directory / f"capillary-oauth-{name}.sealed"
        self.lock = FileLock(str(self.directory / f"capillary-oauth-{name}.lock"))
        self.cached: tuple[str, float, float] | None = None  # token, expires at (wall clock), lifetime
        self.fetched = 0

    def token(self) -> str:
        if self.cached is None or not self._fresh(self.cached):
            with self.lock:
                shared = self._read()
                self.cached = shared if shared is not None and self._fresh(shared) else self._fetch()
            self.on_token(self.cached[0])
        return self.cached[0]

    @staticmethod
    def _fresh(entry: tuple[str, float, float]) -> bool:
        return time.time() < entry[1] - refresh_margin(entry[2])

    def _read(self) -> tuple[str, float, float] | None:
        try:
            plain = unseal(self.seal_key, self.path.read_bytes())
        except OSError:
            return None
        if plain is None:
            return None
        data = json.loads(plain)
        return str(data["token"]), float(data["expires_at"]), float(data["ttl"])

    def _fetch(self) -> tuple[str, float, float]:
        started = time.time()
        response = self._post()
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        data = body.get("data") if isinstance(body, dict) else None
        token = data.get("accessToken") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise UsageError(
                f"Capillary refused to generate an OAuth token at {self.url} (HTTP {response.status_code}): check "
                "the client key and secret (CONFORMANCE_CAPILLARY_CLIENT_KEY, CONFORMANCE_CAPILLARY_CLIENT_SECRET)."
            )
        ttl = float(data.get("ttlSeconds") or 300) if isinstance(data, dict) else 300.0
        self.on_token(token)
        entry = (token, started + ttl, ttl)
        sealed = seal(self.seal_key, json.dumps({"token": token, "expires_at": entry[1], "ttl": ttl}).encode())
        temp = self.path.with_suffix(".tmp")
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(sealed)
        temp.replace(self.path)
        self.fetched += 1
        return entry

    def _post(self) -> httpx.Response:
        # A bare transport, not the run's client: the exchange must never be recorded into a cassette.
        timeout = {"timeout": httpx.Timeout(self.timeout_s).as_dict()}
        request = httpx.Request("POST", self.url, json={"key": self.key, "secret": self.secret}, extensions=timeout)
        try:
            with httpx.HTTPTransport() as transport:
                response = transport.handle_request(request)
                response.read()
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"Capillary's token endpoint {self.url} did not answer ({exc}).") from None
        return response

    def close(self) -> None:
        if self.owned:
            shutil.rmtree(self.directory, ignore_errors=True)
