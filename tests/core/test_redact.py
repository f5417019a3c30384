from __future__ import annotations

import base64
import hashlib

from conformance.http.auth import auth_headers, secrets_of
from conformance.http.redact import REDACTED, Redactor


def test_every_encoding_of_a_secret_is_removed() -> None:
    creds = {"username": "till", "password": "p+a/ss=1"}
    redactor = Redactor(secrets_of("capillary-points", creds))
    header = auth_headers("capillary-points", creds)["Authorization"]
    md5 = hashlib.md5(b"p+a/ss=1").hexdigest()
    raw = base64.b64encode(b"till:p+a/ss=1").decode()
    blob = f"{header} {md5} p%2Ba%2Fss%3D1 p+a/ss=1 {raw}"
    cleaned = redactor.text(blob)
    assert redactor.leaks(cleaned) == []
    assert cleaned.count(REDACTED) == 5


def test_juspay_key_colon_form_is_removed() -> None:
    redactor = Redactor(secrets_of("juspay", {"api_key": "key_123", "merchant_id": "m"}))
    token = base64.b64encode(b"key_123:").decode()
    assert token not in redactor.text(f"Basic {token}")


def test_pii_is_masked_consistently_and_keeps_its_format() -> None:
    text = "tom.sawyer@example.com 9876543210 4591500000000055"
    once, twice = Redactor.pii(text), Redactor.pii(text)
    assert once == twice
    email, phone, card = once.split()
    assert (email.endswith("@example.com"), len(email), email != "tom.sawyer@example.com") == (True, 22, True)
    assert (phone.isdigit(), len(phone), phone != "9876543210") == (True, 10, True)
    assert (card[:6], card[-4:], len(card), card != "4591500000000055") == ("459150", "0055", 16, True)


def test_sensitive_headers_are_always_redacted() -> None:
    redactor = Redactor()
    assert redactor.header("X-CAP-API-OAUTH-TOKEN", "anything") == REDACTED
    assert redactor.header("Content-Type", "application/json") == "application/json"
