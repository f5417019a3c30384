"""What a cassette stores and how a request finds its recording: redaction before anything is written,
and the matchers that compare a sent request with a recorded one.

Recording runs these as vcrpy hooks; replay (``player``) runs the same functions on its own index, so a
request matches in replay exactly what it matched when vcrpy replayed it.
"""

from __future__ import annotations

import json
import re
from collections.abc import MutableMapping
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from conformance.http.redact import CARD, EMAIL, PHONE, REDACTED, SENSITIVE_HEADERS, TEN_DIGITS, Redactor

RECORDED_ORIGIN = "http://recorded.target"
# Headers that only describe the transport or the moment; they are dropped so replays stay byte-stable.
VOLATILE_HEADERS = frozenset(
    {"date", "server", "content-length", "user-agent", "x-sandbox-tenant", "host", "connection", "accept-encoding"}
)
# Idempotency keys are unique per run by design (a vendor remembers them), so they never repeat in a replay.
IDEMPOTENCY_FIELDS = frozenset({"requestId", "external_reference_number", "externalReferenceNumber"})


class StoredRequest(Protocol):
    """A request as a cassette holds it: vcrpy's ``Request``, or the replay index's own."""

    method: str
    uri: str
    body: Any
    headers: MutableMapping[str, Any]


R = TypeVar("R", bound=StoredRequest)

# A number token outside JSON strings that starts with 0 and another digit (strings are matched so they are skipped).
_LEADING_ZERO = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+-])(-?)0(?=\d)')


def json_safe(masked: str) -> str:
    """``masked`` with every number that masking gave a leading zero starting with 1 instead.

    Masking a phone-like JSON number (an id of 10 to 12 digits) keeps its length but can start it
    with 0, which JSON does not allow: the recording would no longer parse where the original did.
    """
    return _LEADING_ZERO.sub(lambda m: m.group(0) if m.group(0).startswith('"') else f"{m.group(1)}1", masked)


def redact_json_text(redactor: Redactor, text: str) -> str:
    """Redact ``text``; if it was JSON, the redacted text is JSON too."""
    redacted = redactor.text(text)
    if redacted == text:
        return redacted
    try:
        json.loads(text)
    except ValueError:
        return redacted
    try:
        json.loads(redacted)
    except ValueError:
        return json_safe(redacted)
    return redacted


def _text_of(body: Any) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


class CassetteFilters:
    """vcrpy hooks that redact secrets and PII and normalise the origin before a request is stored or matched."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def request(self, request: R) -> R:
        parts = urlsplit(request.uri)
        origin = urlsplit(RECORDED_ORIGIN)
        request.uri = self.redactor.text(urlunsplit((origin.scheme, origin.netloc, parts.path, parts.query, "")))
        for name in list(request.headers):
            if name.lower() in VOLATILE_HEADERS:
                del request.headers[name]
            elif name.lower() in SENSITIVE_HEADERS:
                request.headers[name] = REDACTED
            else:
                request.headers[name] = self.redactor.text(str(request.headers[name]))
        if request.body:
            request.body = redact_json_text(self.redactor, _text_of(request.body)).encode("utf-8")
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = {}
        for name, values in response.get("headers", {}).items():
            if name.lower() in VOLATILE_HEADERS:
                continue
            headers[name] = [REDACTED if name.lower() in SENSITIVE_HEADERS else self.redactor.text(v) for v in values]
        response["headers"] = headers
        body = response.get("body", {}).get("string", b"")
        if body:
            response["body"]["string"] = redact_json_text(self.redactor, _text_of(body)).encode("utf-8")
        return response


def pii_shape(text: str) -> str:
    """``text`` with every email, card and phone number reduced to its shape (length, domain, card ends).

    Masking is not idempotent: a value a replayed test read from a masked response (a provisioned
    customer's mobile) or rebuilt from a masked request is masked again on its way to the matcher.
    Masking keeps the shape, so comparing shapes matches it with its recording either way. (Ones,
    not zeros, so that a masked JSON number is a JSON number again.)
    """
    if "@" in text:
        text = EMAIL.sub(lambda m: "e" * len(m.group(1)) + "@" + m.group(2), text)
    if TEN_DIGITS.search(text) is None:  # no card and no phone number: the usual text
        return text
    text = CARD.sub(lambda m: m.group(0)[:6] + "1" * (len(m.group(0)) - 10) + m.group(0)[-4:], text)
    return PHONE.sub(lambda m: ("+" if m.group(0).startswith("+") else "") + "1" * len(m.group(0).lstrip("+")), text)


def path_shape(request: StoredRequest) -> str:
    return pii_shape(urlsplit(request.uri).path)


def query_shape(request: StoredRequest) -> list[tuple[str, str]]:
    return sorted((pii_shape(k), pii_shape(v)) for k, v in parse_qsl(urlsplit(request.uri).query, True))


def _without_idempotency_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_idempotency_keys(v) for k, v in value.items() if k not in IDEMPOTENCY_FIELDS}
    if isinstance(value, list):
        return [_without_idempotency_keys(v) for v in value]
    return value


def body_shape(request: StoredRequest) -> Any:
    """The body as the matcher compares it: JSON without idempotency keys, form pairs sorted, else the text."""
    body = request.body
    if not body:
        return None
    text = pii_shape(_text_of(body))
    try:
        return _without_idempotency_keys(json.loads(text))
    except ValueError:
        form = "x-www-form-urlencoded" in str(request.headers.get("content-type", "")).lower()
        return sorted(parse_qsl(text, keep_blank_values=True)) if form else text


def _match_path(r1: StoredRequest, r2: StoredRequest) -> None:
    if path_shape(r1) != path_shape(r2):
        raise AssertionError(f"path differs: recorded {urlsplit(r2.uri).path!r}, sent {urlsplit(r1.uri).path!r}")


def _match_query(r1: StoredRequest, r2: StoredRequest) -> None:
    if query_shape(r1) != query_shape(r2):
        raise AssertionError(f"query differs: recorded {urlsplit(r2.uri).query!r}, sent {urlsplit(r1.uri).query!r}")


def _match_body(r1: StoredRequest, r2: StoredRequest) -> None:
    if body_shape(r1) != body_shape(r2):
        raise AssertionError(f"body differs: recorded {r2.body!r}, sent {r1.body!r}")


def _match_method(r1: StoredRequest, r2: StoredRequest) -> None:
    if r1.method != r2.method:
        raise AssertionError(f"method differs: recorded {r2.method}, sent {r1.method}")


# The matchers in the order vcrpy applies them (its own "method", then ours), by the names misses report.
MATCHERS = {"method": _match_method, "path": _match_path, "query": _match_query, "body": _match_body}


def route_key(request: StoredRequest) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Method, path and query as the matchers compare them: requests that match share this key."""
    return request.method, path_shape(request), tuple(query_shape(request))
