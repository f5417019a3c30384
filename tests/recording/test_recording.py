"""Record, redact, replay: cassettes carry no secret and replay re-checks what was recorded."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow
THANX_TEST = "test_revoking_a_completed_job_is_accepted_and_starts_revoking"


def canary_forms(creds) -> dict[str, str]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    md5 = hashlib.md5(creds.capillary_password.encode()).hexdigest()
    forms = {
        "capillary basic user:md5": b64(f"{creds.capillary_username}:{md5}"),
        "capillary basic user:password": b64(f"{creds.capillary_username}:{creds.capillary_password}"),
        "capillary md5": md5,
        "juspay key:": b64(f"{creds.juspay_api_key}:"),
    }
    for name in (
        "capillary_password",
        "capillary_oauth_token",
        "thanx_access_token",
        "thanx_noscope_token",
        "thanx_client_id",
        "juspay_api_key",
    ):
        value = getattr(creds, name)
        forms[f"{name} raw"] = value
        forms[f"{name} url-encoded"] = quote(value, safe="")
        forms[f"{name} form-encoded"] = quote_plus(value)
    return forms


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_recording_with_canary_credentials_leaves_no_trace(tmp_path: Path, failing_canary_server) -> None:
    base_url, creds = failing_canary_server
    result = run_conformance(
        tmp_path,
        "--target",
        "record",
        "--base-url",
        base_url,
        "--cassette-dir",
        str(tmp_path / "cassettes"),
        "--",
        "-k",
        "scenarios",
    )
    (tmp_path / "run.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "JUSPAY-REVOKE-ACTIVE" in result.stdout, "the deviation makes recorded tests fail; their cassettes count too"
    cassettes = list((tmp_path / "cassettes").rglob("*.yaml"))
    assert len(cassettes) > 50, "the scenarios should have recorded one cassette per test"
    assert list((tmp_path / "reports" / "allure-results").glob("*-attachment*")), "Allure attachments were written"
    forms = canary_forms(creds)
    leaks = [
        f"{name} in {path.relative_to(tmp_path)}"
        for path in files_under(tmp_path)
        for name, form in forms.items()
        if form in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert leaks == []


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """One scenario recorded from the reference sandbox into a scratch cassette dir."""
    result = run_conformance(
        tmp_path, "--target", "record", "--cassette-dir", str(tmp_path / "cassettes"), "-k", THANX_TEST
    )
    assert result.returncode == 0, result.stdout[-3000:]
    (cassette,) = (tmp_path / "cassettes" / "reference").rglob("*.yaml")
    return cassette


def replay(tmp_path: Path):
    return run_conformance(
        tmp_path, "--target", "replay", "--cassette-dir", str(tmp_path / "cassettes"), "-k", THANX_TEST
    )


def test_a_recording_replays_green_offline(tmp_path: Path, recorded: Path) -> None:
    result = replay(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    row = next(r for r in matrix["rows"] if r["rule_id"] == "THANX-202-STATE-REVOKING")
    assert row["verdict"] == "verified"
    assert row["evidence"] == [f"replay:{recorded}"]


def test_an_altered_response_makes_its_bound_rule_fail(tmp_path: Path, recorded: Path) -> None:
    text = recorded.read_text()
    assert '\\"state\\":\\"revoking\\"' in text or '"state":"revoking"' in text
    recorded.write_text(text.replace('"state":"revoking"', '"state":"processing"'))
    result = replay(tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    row = next(r for r in matrix["rows"] if r["rule_id"] == "THANX-202-STATE-REVOKING")
    assert row["verdict"] == "violated"
    assert row["received"] == "processing"


def test_an_unplayed_interaction_fails(tmp_path: Path, recorded: Path) -> None:
    data = yaml.safe_load(recorded.read_text())
    data["interactions"].append(data["interactions"][-1])
    recorded.write_text(yaml.safe_dump(data))
    result = replay(tmp_path)
    assert result.returncode != 0
    assert "interaction(s) the test never requested" in result.stdout


def test_a_missing_cassette_is_a_clear_usage_error(tmp_path: Path, recorded: Path) -> None:
    shutil.rmtree(recorded.parent)
    result = replay(tmp_path)
    assert result.returncode == 2, result.stdout[-3000:]
    assert "No cassette for" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_stale_cassette_says_how_to_re_record(tmp_path: Path, recorded: Path) -> None:
    sidecar = recorded.with_suffix(".meta.json")
    meta = json.loads(sidecar.read_text())
    meta["fingerprint"]["replay_key"]["seed"] = 1
    sidecar.write_text(json.dumps(meta))
    result = replay(tmp_path)
    assert result.returncode == 2, result.stdout[-3000:]
    assert "stale cassette, re-record with" in result.stdout


def test_a_missing_live_credential_lists_what_is_missing(tmp_path: Path) -> None:
    result = run_conformance(
        tmp_path, "--target", "live", "--apis", "thanx", env={"CONFORMANCE_THANX_BASE_URL": "http://127.0.0.1:9"}
    )
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "thanx access_token — CONFORMANCE_THANX_ACCESS_TOKEN" in out
    assert "Traceback" not in out
