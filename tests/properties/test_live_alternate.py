"""The suite holds on a server that read every silence otherwise: live, control API only, alternate gap profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.sandbox import create_app
from conformance.sandbox.server import run_in_thread
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("profile", ["alternate", "faithful"])
def test_the_suite_passes_live_with_only_the_control_api(tmp_path: Path, profile: str) -> None:
    app = create_app(seed=0, gap_profile=profile, vendor_setup=False)
    with run_in_thread(app) as base_url:
        result = run_conformance(tmp_path, "--target", "live", "--base-url", base_url, "--provisioner", "control")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    totals = matrix["totals"]["all"]
    assert (totals["violated"], totals["violated_inferred"]) == (0, 0)
    assert matrix["tests"]["defects"] == [], "nothing crashed"
    assert matrix["tests"]["failed"] == matrix["tests"]["error"] == 0
    # Only preconditions a single-merchant server cannot provide may skip; everything else is judged.
    assert totals["verified"] >= totals["rules"] - 2, [
        r["rule_id"] for r in matrix["rows"] if r["verdict"] != "verified"
    ]
