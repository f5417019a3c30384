"""Refused before any request: a production host, an unlisted host, an over-budget plan; --plan sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.tools.stcli import ServeProcess
from tests.live.conftest import request_log
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow
USAGE = 2
ENV = {"JK": "a-test-api-key"}


def one_paragraph(result_text: str, *needles: str) -> None:
    assert "Traceback" not in result_text
    for needle in needles:
        assert needle in result_text, result_text[-3000:]


def test_a_production_host_is_refused_naming_the_api_and_host(tmp_path: Path) -> None:
    targets = _targets(tmp_path, "https://api.juspay.in")
    result = run_conformance(tmp_path, "--target", "live", "--apis", "juspay", "--targets-file", str(targets), env=ENV)
    assert result.returncode == USAGE, result.stdout[-3000:]
    one_paragraph(result.stdout + result.stderr, "juspay against api.juspay.in", "production", "--allow-production")
    assert not (tmp_path / "reports" / "conformance.json").exists(), "nothing half-written"


def test_an_unlisted_host_is_refused_and_allow_host_admits_it(tmp_path: Path) -> None:
    targets = _targets(tmp_path, "https://example.invalid")
    result = run_conformance(tmp_path, "--target", "live", "--apis", "juspay", "--targets-file", str(targets), env=ENV)
    assert result.returncode == USAGE, result.stdout[-3000:]
    one_paragraph(result.stdout + result.stderr, "juspay against example.invalid", "--allow-host example.invalid")
    listed = run_conformance(
        tmp_path,
        "--target",
        "live",
        "--apis",
        "juspay",
        "--targets-file",
        str(targets),
        "--allow-host",
        "example.invalid",
        "--plan",
        env=ENV,
    )
    assert listed.returncode == 0, listed.stdout[-3000:]


def test_an_over_budget_plan_is_refused_before_any_request(tmp_path: Path, served: ServeProcess) -> None:
    request_log(served, clear=True)
    result = run_conformance(
        tmp_path, "--target", "live", "--base-url", served.base_url, "--apis", "juspay", "--max-destructive", "2"
    )
    assert result.returncode == USAGE, result.stdout[-3000:]
    one_paragraph(result.stdout + result.stderr, "more than the destructive budget of 2", "juspay")
    assert request_log(served)["requests"] == [], "refused before any request"


def test_plan_sends_nothing_and_lists_per_api_what_it_would_do(tmp_path: Path, served: ServeProcess) -> None:
    request_log(served, clear=True)
    result = run_conformance(
        tmp_path, "--target", "live", "--base-url", served.base_url, "--apis", "juspay,thanx", "--plan", "-n", "2"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert request_log(served)["requests"] == [], "--plan sent a request"
    plan = json.loads((tmp_path / "reports" / "plan.json").read_text())
    assert set(plan) == {"juspay", "thanx"}
    for api in ("juspay", "thanx"):
        assert plan[api]["exchanges"] > 0
        assert plan[api]["revoked"] > 0
        assert sum(plan[api]["created"].values()) > 0
    assert "juspay:" in result.stdout
    assert "revokes" in result.stdout


def _targets(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(f'[vendors.juspay]\nbase_url = "{url}"\napi_key = "${{JK}}"\nmerchant_id = "m"\n', encoding="utf-8")
    return path
