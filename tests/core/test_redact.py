from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

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


def test_credentials_learned_from_the_control_api_are_redacted_everywhere_after() -> None:
    redactor = Redactor()
    answer = (
        '{"capillary": {"basic_username": "canary_till_7Q", "oauth_token": "canary-oauth-3F"},'
        ' "thanx": {"noscope_access_token": "canary-noscope-5K", "merchant_id": "m_public"}}'
    )
    written = redactor.text(answer)
    assert "canary" not in written
    assert '"merchant_id": "m_public"' in written, "only credential-named fields are secrets"
    later = "curl -H 'Authorization: Bearer canary-noscope-5K' 'https://x/?t=canary-oauth-3F&u=canary_till_7Q'"
    assert "canary" not in redactor.text(later)
    assert redactor.leaks(redactor.text(later)) == []


def test_a_token_from_an_oauth_token_response_is_redacted_in_every_encoding() -> None:
    redactor = Redactor()
    redactor.text('{"data": {"accessToken": "tok+en/from=oauth", "expiresIn": 3600}}')
    blob = "tok+en/from=oauth tok%2Ben%2Ffrom%3Doauth tok%2Ben%2Ffrom%3Doauth"
    assert redactor.text(blob) == " ".join([REDACTED] * 3)


def test_a_json_body_recorded_as_an_escaped_string_is_learned_too() -> None:
    redactor = Redactor()
    assert "secret-token-1" not in redactor.text('"{\\"access_token\\": \\"secret-token-1\\"}"')
    assert redactor.text("secret-token-1") == REDACTED


@pytest.mark.slow
def test_credentials_a_run_fetches_from_the_control_api_never_reach_disk(tmp_path: Path) -> None:
    """With Thanx credentials configured, the no-scope token scenario asks the control API for credentials
    mid-test (its answer also carries the Capillary user name and OAuth token); cassette and Allure stay clean."""
    from conformance.sandbox import create_app
    from conformance.sandbox.auth import SandboxCredentials
    from conformance.sandbox.server import run_in_thread
    from tests.recording.conftest import CANARIES, run_conformance

    creds = SandboxCredentials(**CANARIES)
    with run_in_thread(create_app(seed=3, credentials=creds)) as base_url:
        result = run_conformance(
            tmp_path,
            "--target",
            "record",
            "--base-url",
            base_url,
            "--apis",
            "thanx",
            "--cassette-dir",
            str(tmp_path / "cassettes"),
            "--",
            "-k",
            "token_without_the_rewards_issue_scope",
            env={
                "CONFORMANCE_THANX_ACCESS_TOKEN": creds.thanx_access_token,
                "CONFORMANCE_THANX_CLIENT_ID": creds.thanx_client_id,
            },
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".yaml", ".json", ".txt", ".md", ".xml")]
    assert any(p.suffix == ".yaml" for p in written), "a cassette was recorded"
    assert any("_sandbox/credentials" in p.read_text(errors="replace") for p in written), "fetched mid-test"
    assert any("attachment" in p.name for p in written), "Allure attachments were written"
    canaries = [creds.thanx_noscope_token, creds.capillary_oauth_token, creds.capillary_username]
    leaks = [f"{c} in {p.name}" for p in written for c in canaries if c in p.read_text(errors="replace")]
    assert leaks == []


def test_digits_inside_a_hex_digest_are_not_masked_as_a_card() -> None:
    digest = "7a4c994c311d2aec96f1434f5b613efba77ddb18ad0150304931918270c508d5"
    assert Redactor.pii(digest) == digest
    assert Redactor.pii('"4591500000000055"') != '"4591500000000055"'
