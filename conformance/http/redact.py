"""Redaction: secrets never reach disk, in any encoding a request could carry them."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-cap-api-oauth-token", "x-clientid", "cookie", "set-cookie", "x-api-key", "proxy-authorization"}
)
SENSITIVE_FIELDS = frozenset({"password", "api_key", "apikey", "client_secret", "access_token", "token", "secret"})
# JSON field names (lower case, without "_" and "-") whose string value is a credential wherever it appears:
# the control API's GET /_sandbox/credentials, OAuth token responses. A value seen under one of them joins
# the redaction set at once, so it is removed from everything written afterwards, in every encoding.
CREDENTIAL_KEYS = frozenset(
    {
        "password",
        "basicpassword",
        "basicusername",
        "username",
        "apikey",
        "clientsecret",
        "clientid",
        "secret",
        "token",
        "accesstoken",
        "noscopeaccesstoken",
        "oauthtoken",
        "refreshtoken",
        "idtoken",
    }
)
JSON_STRING_FIELD = re.compile(r'\\?"(?P<key>[A-Za-z][A-Za-z0-9_-]*)\\?"\s*:\s*\\?"(?P<value>[^"\\]{4,})\\?"')

EMAIL = re.compile(r"\b([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# Card numbers (13–19 digits) before phones (10–12 digits, optional +), so a card is never half-masked; a run
# of digits inside a word (a hex digest, an id) is neither.
CARD = re.compile(r"(?<![\w.])\d{13,19}(?![\w.])")
PHONE = re.compile(r"(?<![\w.])\+?\d{10,12}(?![\w.])")
# Neither a card nor a phone number fits in a text without ten digits in a row: the usual text skips both.
TEN_DIGITS = re.compile(r"\d{10}")
# Remembered redactions per redactor: bounded by total size, since bodies are keys too.
MEMO_CHARS = 4_000_000


def secret_variants(*secrets: str, pairs: Iterable[tuple[str, str]] = ()) -> set[str]:
    """Every form in which a secret may travel: raw, md5, URL-encoded, and base64 of ``user:password`` pairs."""
    out: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        md5 = hashlib.md5(secret.encode()).hexdigest()
        out |= {secret, md5, quote(secret, safe=""), quote_plus(secret)}
        out.add(base64.b64encode(f"{secret}:".encode()).decode())
    for user, password in pairs:
        for pw in {password, hashlib.md5(password.encode()).hexdigest() if password else ""}:
            token = base64.b64encode(f"{user}:{pw}".encode()).decode()
            out |= {token, token.rstrip("=")}
    return {v for v in out if len(v) >= 4}


def _digits(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return "".join(str(int(ch, 16) % 10) for ch in (digest * 4)[:length])


def _letters(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return (digest * 4)[:length]


class Redactor:
    """Removes configured secrets everywhere and masks PII consistently and format-preservingly.

    ``text`` is a pure function of the value and the secret set, so its results are remembered until
    the set changes: an exchange's URL, headers and bodies are redacted several times (the cassette
    filter, the Allure rendering, the curl), and most header values repeat across every exchange.
    """

    def __init__(self, secrets: Iterable[str] = (), *, mask_pii: bool = True) -> None:
        self._memo: dict[str, str] = {}
        self._memo_chars = 0
        self.mask_pii = mask_pii
        # Longest first, so a base64 token is replaced before a secret it happens to contain.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    @property
    def secrets(self) -> list[str]:
        return self._secrets

    @secrets.setter
    def secrets(self, value: list[str]) -> None:
        self._secrets = value
        self._forget()

    @property
    def mask_pii(self) -> bool:
        return self._mask_pii

    @mask_pii.setter
    def mask_pii(self, value: bool) -> None:
        self._mask_pii = value
        self._forget()

    def _forget(self) -> None:
        self._memo.clear()
        self._memo_chars = 0

    def learn(self, *secrets: str, pairs: Iterable[tuple[str, str]] = ()) -> None:
        """Add credentials that arrived at run time (every encoding of them) to the redaction set."""
        fresh = secret_variants(*(s for s in secrets if REDACTED not in s), pairs=pairs) - set(self.secrets)
        if fresh:
            self.secrets = sorted({*self.secrets, *fresh}, key=len, reverse=True)

    def learn_from(self, text: str) -> None:
        """Learn every credential-named JSON string field of ``text`` (a response body, a cassette entry)."""
        if '"' not in text:
            return  # no JSON string field in it
        found = [
            m.group("value")
            for m in JSON_STRING_FIELD.finditer(text)
            if m.group("key").lower().replace("_", "").replace("-", "") in CREDENTIAL_KEYS
        ]
        if found:
            self.learn(*found)

    def text(self, value: str) -> str:
        known = self._memo.get(value)
        if known is not None:
            # Learning from the same value again would add nothing: the set is what it was then.
            return known
        # Learn first: the first rendering of a credentials answer is already written without its values.
        self.learn_from(value)
        redacted = value
        for secret in self.secrets:
            if secret in redacted:
                redacted = redacted.replace(secret, REDACTED)
        if self.mask_pii:
            redacted = self.pii(redacted)
        if self._memo_chars + len(value) > MEMO_CHARS:
            self._forget()
        self._memo[value] = redacted
        self._memo_chars += len(value) + len(redacted)
        return redacted

    @staticmethod
    def pii(value: str) -> str:
        """Mask emails, card numbers and phone numbers; the same input always gives the same mask."""
        if "@" in value:
            value = EMAIL.sub(lambda m: f"{_letters(m.group(1), max(len(m.group(1)), 1))}@{m.group(2)}", value)
        if TEN_DIGITS.search(value) is None:  # after the emails: a masked address may bring digits
            return value
        value = CARD.sub(lambda m: m.group(0)[:6] + _digits(m.group(0), len(m.group(0)) - 10) + m.group(0)[-4:], value)
        return PHONE.sub(
            lambda m: ("+" if m.group(0).startswith("+") else "") + _digits(m.group(0), len(m.group(0).lstrip("+"))),
            value,
        )

    def header(self, name: str, value: str) -> str:
        return REDACTED if name.lower() in SENSITIVE_HEADERS else self.text(value)

    def headers(self, items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header(name, value)) for name, value in items]

    def leaks(self, blob: str) -> list[str]:
        """The configured secrets (in any encoding) found in ``blob``; used by tests and pre-write guards."""
        return [s for s in self.secrets if s in blob]
