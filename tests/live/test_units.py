"""Units of the live-run rails: sealed token cache, allow-list, budget, plan, touched entries, stale ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from conformance.errors import PreconditionUnavailable
from conformance.http.exchange import Exchange
from conformance.http.oauth import OAuthTokens, export_run_secrets, remove_run_secrets, seal, unseal
from conformance.http.redact import Redactor
from conformance.live.hosts import host_refusal
from conformance.live.plan import DestructiveBudget, build_plan, is_destructive
from conformance.live.touched import touched_entry
from conformance.provisioners.manifest import Ledger, Manifest, ManifestStock
from conformance.provisioners.thanx import JobEntry, ManifestThanx
from conformance.sandbox import SandboxCredentials, create_app
from conformance.sandbox.server import run_in_thread
from conformance.settings import Settings


def test_a_sealed_token_opens_only_with_the_run_key() -> None:
    sealed = seal(b"k" * 32, b"secret-token")
    assert b"secret-token" not in sealed
    assert unseal(b"k" * 32, sealed) == b"secret-token"
    assert unseal(b"x" * 32, sealed) is None


def test_two_caches_of_one_run_share_one_token_and_never_write_it_in_clear() -> None:
    env: dict[str, str] = {}
    directory = export_run_secrets(env)
    assert directory is not None
    learned: list[str] = []
    creds = SandboxCredentials(capillary_oauth_ttl_s=30)
    try:
        with run_in_thread(create_app(credentials=creds)) as base:
            first = OAuthTokens(
                base, creds.capillary_client_key, creds.capillary_client_secret, on_token=learned.append, env=env
            )
            second = OAuthTokens(
                base, creds.capillary_client_key, creds.capillary_client_secret, on_token=learned.append, env=env
            )
            token = first.token()
            assert second.token() == token
            assert creds.issuer.issued == 1, "a second worker refreshed again"
            files = [p for p in directory.iterdir() if p.suffix == ".sealed"]
            assert len(files) == 1
            assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
            assert token.encode() not in files[0].read_bytes()
            assert set(learned) == {token}, "every token is handed to the redactor"
    finally:
        remove_run_secrets(directory, env)
    assert not directory.exists()


def test_a_token_is_refreshed_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    env: dict[str, str] = {}
    directory = export_run_secrets(env)
    creds = SandboxCredentials(capillary_oauth_ttl_s=3)
    try:
        with run_in_thread(create_app(credentials=creds)) as base:
            tokens = OAuthTokens(
                base, creds.capillary_client_key, creds.capillary_client_secret, on_token=lambda _t: None, env=env
            )
            first = tokens.token()
            import time
            from types import SimpleNamespace

            import conformance.http.oauth as oauth

            # The client's clock moves past half the lifetime (1.6 of 3 s) without the test waiting for it;
            # the sandbox's clock does not, so the first token is still valid: refreshed, not yet expired.
            monkeypatch.setattr(oauth, "time", SimpleNamespace(time=lambda: time.time() + 1.6))
            assert tokens.token() != first
            assert creds.issuer.valid(first), "the old token was still valid: the refresh came before expiry"
    finally:
        remove_run_secrets(directory, env)


@pytest.mark.parametrize(
    ("api", "url", "allowed", "refused_with"),
    [
        ("juspay", "http://127.0.0.1:8080", [], None),
        ("juspay", "https://sandbox.juspay.in", [], None),
        ("thanx", "https://sandbox.juspay.in", [], "not a known thanx sandbox host"),
        ("juspay", "https://api.juspay.in", ["api.juspay.in"], "production"),
        ("thanx", "https://stub.example.com", [], "--allow-host stub.example.com"),
        ("thanx", "https://stub.example.com", ["stub.example.com"], None),
    ],
)
def test_the_allow_list(api: str, url: str, allowed: list[str], refused_with: str | None) -> None:
    reason = host_refusal(Settings(target="live", allow_hosts=allowed), api, url)
    if refused_with is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused_with in reason
        assert api in reason


def test_the_budget_is_shared_and_refuses_the_call_over_it(tmp_path: Path) -> None:
    one, other = DestructiveBudget(2, tmp_path, "run"), DestructiveBudget(2, tmp_path, "run")
    one.spend("juspay", "mandateCommand")
    other.spend("juspay", "mandateCommand")
    with pytest.raises(PreconditionUnavailable, match="cap is 2"):
        one.spend("juspay", "mandateCommand")


def test_only_revokes_and_reversals_are_destructive() -> None:
    assert is_destructive("mandateCommand", b"command=revoke")
    assert not is_destructive("mandateCommand", b"command=check_status")
    assert is_destructive("reversePoints", b"{}")
    assert not is_destructive("getIssuanceJob", None)


def test_the_plan_counts_from_the_reference_recordings() -> None:
    nodeid = "conformance/suite/scenarios/test_juspay.py::test_revoking_an_active_mandate_revokes_it"
    plan = build_plan(Settings(apis=["juspay"]), [(nodeid, "juspay")]).apis["juspay"]
    assert plan.created["mandate"] == 1
    assert plan.revoked == 1
    assert plan.needs["juspay mandate ACTIVE"] == 1
    assert plan.unknown_tests == []
    # The revoke and its check_status read-back reach the vendor; the mandate's setup and the routing-id
    # read of the control API are the provisioner's calls, counted beside them.
    assert (plan.exchanges, plan.control) == (2, 2)


def test_a_touched_entry_names_the_resource_and_outcome() -> None:
    request = httpx.Request("POST", "http://h/mandates/M1", content=b"command=revoke")
    response = httpx.Response(200, json={"mandate_status": "REVOKED", "mandate_id": "M1"}, request=request)
    exchange = Exchange(
        api="juspay", operation="mandateCommand", phase="test", request=request, response=response, redactor=Redactor()
    )
    entry = touched_entry(exchange, "run-1")
    assert entry is not None
    assert (entry["action"], entry["resource"], entry["outcome"], entry["run_id"]) == (
        "revoked",
        "M1",
        "succeeded",
        "run-1",
    )


def test_a_stale_id_goes_to_the_ledger_and_the_next_one_is_handed_out(tmp_path: Path) -> None:
    manifest = Manifest(thanx_jobs={"failed": [JobEntry(id="j1", merchant_id="m"), JobEntry(id="j2", merchant_id="m")]})
    states = {"j1": "revoking", "j2": "failed"}
    ledger = Ledger(tmp_path / "ledger.jsonl")
    provisioner = ManifestThanx(ManifestStock(manifest, ledger, "scenarios/t", lambda _api, rid, _owner: states[rid]))
    assert provisioner.thanx_job("failed").id == "j2"
    assert [e["id"] for e in ledger.stale_entries()] == ["thanx job failed:j1"]
    with pytest.raises(PreconditionUnavailable):
        provisioner.thanx_job("failed")
    assert os.path.getsize(ledger.path) > 0


@pytest.mark.parametrize(
    ("target", "given", "expected"),
    [("reference", None, 5), ("live", None, 5), ("reference", 40, 40), ("live", 40, 40)],
)
def test_max_examples_sets_the_generated_cases_per_operation(target: str, given: int | None, expected: int) -> None:
    from conformance.suite.properties import support

    saved = (support.RUN.seed, support.RUN.target, support.RUN.max_examples)
    try:
        support.configure(Settings(target=target, max_examples=given))
        assert support.schema_config().projects.default.generation.max_examples == expected
    finally:
        support.RUN.seed, support.RUN.target, support.RUN.max_examples = saved


def test_a_max_examples_below_one_is_a_usage_error() -> None:
    from conformance.errors import UsageError
    from conformance.settings import build_settings

    with pytest.raises(UsageError, match="max_examples"):
        build_settings({"max_examples": 0}, env={})


def test_doctor_reports_refused_oauth_client_credentials(tmp_path: Path) -> None:
    from conformance.live.doctor import run_doctor
    from conformance.targets import open_target

    creds = SandboxCredentials(capillary_require_oauth=True)
    with run_in_thread(create_app(credentials=creds, apis=["capillary-badges"])) as base:
        vendor = {"base_url": base, "client_key": creds.capillary_client_key, "client_secret": "wrong-secret"}
        settings = Settings.model_validate(
            {"target": "live", "apis": ["capillary-badges"], "vendors": {"capillary": vendor}}
        )
        with open_target(settings, tmp_path) as target:
            checks = {c.what: c for c in run_doctor(target)}
    assert checks["host answers"].ok is True
    assert checks["credentials accepted"].ok is False
    assert "refused to generate an OAuth token" in checks["credentials accepted"].detail
