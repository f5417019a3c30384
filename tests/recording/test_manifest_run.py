"""A live target given only a manifest: the suite runs what it can and never reuses an id."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def provision(base_url: str) -> dict[str, object]:
    """Pre-provision, outside any test tenant, what an operator would hand the suite."""
    with httpx.Client(base_url=base_url) as client:
        mandates = [client.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json() for _ in range(8)]
        jobs = [client.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed"}).json() for _ in range(6)]
    return {
        "juspay_mandates": {
            "ACTIVE": [{"mandate_id": m["mandate_id"], "customer_id": m["customer_id"]} for m in mandates]
        },
        "thanx_jobs": {"completed": [{"id": j["issuance_job"]["id"], "merchant_id": j["merchant_id"]} for j in jobs]},
    }


def test_a_manifest_only_target_runs_what_it_can(tmp_path: Path, canary_server) -> None:
    base_url, _ = canary_server
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(provision(base_url)))
    args = (
        "--target",
        "live",
        "--base-url",
        base_url,
        "--provisioner",
        "manifest",
        "--manifest",
        str(manifest),
        "--apis",
        "juspay,thanx",
        "--",
        "-k",
        "scenarios",
        "-rs",
    )
    result = run_conformance(tmp_path, *args)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "precondition not available on this target" in result.stdout
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    verdicts = {row["rule_id"]: row["verdict"] for row in matrix["rows"] if row["api"] in ("juspay", "thanx")}
    assert "verified" in verdicts.values()
    assert verdicts["THANX-REVOKE-PENDING-422"] == "skipped", "no pending job was offered"
    ledger = [json.loads(line)["id"] for line in (tmp_path / "manifest.yaml.ledger.jsonl").read_text().splitlines()]
    assert len(ledger) == len(set(ledger)) > 0
    offered = {
        f"juspay mandate ACTIVE:{m['mandate_id']}"
        for m in yaml.safe_load(manifest.read_text())["juspay_mandates"]["ACTIVE"]
    }
    assert {i for i in ledger if i.startswith("juspay")} <= offered

    second = run_conformance(tmp_path, *args)
    assert second.returncode == 0, second.stdout[-4000:]
    again = [json.loads(line)["id"] for line in (tmp_path / "manifest.yaml.ledger.jsonl").read_text().splitlines()]
    assert len(again) == len(set(again)), "a second run must never hand out an id the first one used"
