"""Real auth end to end against ``conformance serve``, and the doctor's pre-flight table."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.tools.stcli import ServeProcess
from tests.live.conftest import request_log, run_live, vendor_requests
from tests.recording.conftest import REPO

pytestmark = pytest.mark.slow


def doctor(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "conformance.cli", "doctor", *args]
    return subprocess.run(
        cmd, cwd=tmp_path, env={**_clean_env(), **(env or {})}, capture_output=True, text=True, timeout=120, check=False
    )


def _clean_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def test_a_whole_run_passes_with_two_second_oauth_tokens_refreshed_mid_run(
    tmp_path: Path, oauth_served: ServeProcess
) -> None:
    request_log(oauth_served, clear=True)
    started = time.monotonic()
    result = run_live(
        tmp_path,
        oauth_served.base_url,
        "control",
        "--apis",
        # The three Capillary APIs: enough calls that two workers outlive a token (a run of fewer exchanges
        # can finish inside one token's two seconds).
        "capillary-badges,capillary-points,capillary-rewards",
        "-n",
        "2",
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-4000:]
    log = request_log(oauth_served)
    # Two workers for many seconds on 2-second tokens: refreshed mid-run, yet one refresh serves both.
    assert log["tokens_issued"] >= 2, log["tokens_issued"]
    assert log["tokens_issued"] <= elapsed + 2, f"{log['tokens_issued']} tokens in {elapsed:.0f} s: not shared"
    token_calls = [r for r in log["requests"] if r["path"] == "/v3/oauth/token/generate"]
    assert len(token_calls) == log["tokens_issued"]
    refused = [r for r in vendor_requests(log) if r["status"] == 401 and r["path"] != "/v3/oauth/token/generate"]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert matrix["totals"]["all"]["violated"] == 0
    auth_tests = 6  # the negative-auth scenarios (missing and wrong credential) of the three APIs
    assert len(refused) <= auth_tests, "an expired token reached the sandbox"
    leaked = [p for p in (tmp_path / "reports").rglob("*") if p.is_file() and b"cap-oauth-" in p.read_bytes()]
    assert leaked == [], "a generated token reached the reports"


def test_doctor_reports_a_missing_scope_and_exits_3(tmp_path: Path, noscope_served: ServeProcess) -> None:
    result = doctor(tmp_path, "--base-url", noscope_served.base_url, "--apis", "thanx,juspay")
    assert result.returncode == 3, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if "scope rewards.issue" in line)
    assert "FAIL" in row
    assert "lacks the rewards.issue scope" in row
    assert "juspay" in result.stdout
    assert "credentials accepted" in result.stdout


def test_doctor_passes_on_a_good_target_and_reads_back_manifest_ids(tmp_path: Path, served: ServeProcess) -> None:
    import httpx
    import yaml

    mandate = httpx.post(f"{served.base_url}/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json()
    manifest = tmp_path / "manifest.yaml"
    entry = {"mandate_id": mandate["mandate_id"], "customer_id": mandate["customer_id"]}
    manifest.write_text(yaml.safe_dump({"juspay_mandates": {"ACTIVE": [entry], "PAUSED": [entry]}}))
    result = doctor(tmp_path, "--base-url", served.base_url, "--apis", "juspay", "--manifest", str(manifest))
    assert result.returncode == 3, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if mandate["mandate_id"] in line]
    assert any("ok" in line and "is ACTIVE" in line for line in lines), lines
    assert any("FAIL" in line and "listed as PAUSED, is ACTIVE" in line for line in lines), lines


def test_a_run_against_an_unreachable_host_consumes_no_id(tmp_path: Path) -> None:
    import yaml

    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump({"juspay_mandates": {"ACTIVE": [{"mandate_id": f"m{i}", "customer_id": "c"} for i in range(4)]}})
    )
    result = run_live(
        tmp_path,
        "http://127.0.0.1:9",
        "manifest",
        "--manifest",
        str(manifest),
        "--apis",
        "juspay",
        env={"CONFORMANCE_JUSPAY_API_KEY": "k", "CONFORMANCE_JUSPAY_MERCHANT_ID": "m"},
    )
    assert result.returncode == 3, result.stdout[-3000:]
    assert "Pre-flight failed" in result.stdout
    assert not (tmp_path / "manifest.yaml.ledger.jsonl").exists(), "an unreachable host consumed an id"
