"""The suite, live, against a sandbox that chose otherwise at every doc gap and offers only the control API for setup.

``conformance serve --gap-profile alternate --no-vendor-setup`` stands in for a server we did not
write: other doc-compatible choices wherever the pages are silent, and no vendor setup endpoints, so
``--provisioner control`` must make every precondition. The run must find no violation and crash
nowhere (a scenario whose precondition cannot be made skips with its reason).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.tools.stcli import ServeProcess, serving
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alternate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    log: Path = tmp_path_factory.mktemp("serve-alternate") / "serve.log"
    with serving(log, extra=("--gap-profile", "alternate", "--no-vendor-setup")) as server:
        yield server


def test_the_server_really_is_the_alternate_one_without_vendor_setup(alternate: ServeProcess) -> None:
    assert "gap profile alternate, vendor setup endpoints off" in alternate.output()
    earn = httpx.post(f"{alternate.base_url}/api_gateway/v1/badges/customer/earn", json={}, timeout=5)
    assert earn.status_code == 404
    campaign = httpx.post(f"{alternate.base_url}/_sandbox/thanx/campaigns", json={}, timeout=5)
    assert campaign.status_code == 201


def test_the_suite_passes_live_against_the_alternate_sandbox_with_the_control_provisioner(
    tmp_path: Path, alternate: ServeProcess
) -> None:
    result = run_conformance(tmp_path, "--target", "live", "--base-url", alternate.base_url, "--provisioner", "control")
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    totals = matrix["totals"]["all"]
    assert totals["violated"] == 0, output
    assert totals.get("violated_inferred", 0) == 0, output
    assert matrix["tests"].get("defects") in (None, []), matrix["tests"]
    assert totals["verified"] >= totals["rules"] // 2, totals
