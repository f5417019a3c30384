"""Record against ``conformance serve``, then replay with the same options: green, and offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.tools.stcli import serving
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def test_record_any_host_then_replay_with_the_same_options(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with serving(tmp_path / "serve.log") as server:
        options = ("--base-url", server.base_url, "--apis", "juspay", "--cassette-dir", str(cassettes))
        recorded = run_conformance(tmp_path, "--target", "record", *options, "--", "-k", "scenarios")
        assert recorded.returncode == 0, recorded.stdout[-4000:]
    assert list((cassettes / "127.0.0.1").rglob("*.yaml")), "recorded under the host's name"
    replayed = run_conformance(tmp_path, "--target", "replay", *options, "--", "-k", "scenarios")
    assert replayed.returncode == 0, replayed.stdout[-4000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert matrix["totals"]["all"]["verified"] > 0
    assert all(e.startswith("replay:") for row in matrix["rows"] for e in row["evidence"])


def test_cassette_name_chooses_the_folder_for_record_and_replay(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with serving(tmp_path / "serve.log") as server:
        common = ("--apis", "juspay", "--cassette-dir", str(cassettes), "--cassette-name", "team-stub")
        recorded = run_conformance(
            tmp_path, "--target", "record", "--base-url", server.base_url, *common, "--", "-k", "bad_api_key"
        )
        assert recorded.returncode == 0, recorded.stdout[-4000:]
    assert list((cassettes / "team-stub").rglob("*.yaml"))
    replayed = run_conformance(tmp_path, "--target", "replay", *common, "--", "-k", "bad_api_key")
    assert replayed.returncode == 0, replayed.stdout[-4000:]
