"""The whole suite, as a live run against ``conformance serve`` on loopback: real HTTP, control provisioner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.clientgate.rules import JUDGED_RULES
from conformance.tools.stcli import ServeProcess
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def test_the_suite_passes_live_against_conformance_serve(tmp_path: Path, served: ServeProcess) -> None:
    result = run_conformance(
        tmp_path, "--target", "live", "--base-url", served.base_url, "--provisioner", "control", "-n", "2"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    evidence = {e for row in matrix["rows"] for e in row["evidence"]}
    assert evidence, "verdicts were recorded"
    assert all(e.startswith("live:127.0.0.1:") for e in evidence), evidence
    assert matrix["totals"]["all"]["violated"] == 0
    # Request rules that only the client gate judges (on a client library's traffic) stay untested here.
    gate_only = {row["rule_id"] for row in matrix["rows"] if row["verdict"] == "untested"} & set(JUDGED_RULES)
    assert matrix["totals"]["all"]["verified"] >= matrix["totals"]["all"]["rules"] - 1 - len(gate_only)
