"""Manifest runs against ``conformance serve``: scenarios get the ids, a stale id is skipped, never judged."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from conformance.stcli import ServeProcess
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def test_a_stale_id_is_skipped_not_violated(tmp_path: Path, served: ServeProcess) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        job = client.post("/_sandbox/thanx/issuance_jobs", json={"state": "revoking"}).json()
    manifest = tmp_path / "manifest.yaml"
    listed = {"id": job["issuance_job"]["id"], "merchant_id": job["merchant_id"]}
    manifest.write_text(yaml.safe_dump({"thanx_jobs": {"failed": [listed]}}))
    result = run_conformance(
        tmp_path,
        "--target",
        "live",
        "--base-url",
        served.base_url,
        "--provisioner",
        "manifest",
        "--manifest",
        str(manifest),
        "--apis",
        "thanx",
        "--no-doctor",
        "--",
        "-k",
        "scenarios and failed",
    )
    assert result.returncode == 0, result.stdout[-4000:]
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    verdicts = {row["rule_id"]: row["verdict"] for row in matrix["rows"]}
    assert verdicts["THANX-REVOKE-FAILED-202"] == "skipped"
    ledger = [json.loads(line) for line in (tmp_path / "manifest.yaml.ledger.jsonl").read_text().splitlines()]
    assert [e["stale"] for e in ledger] == ["listed as failed, read as revoking before use"]


def test_generated_cases_get_only_the_ids_scenarios_leave(tmp_path: Path, served: ServeProcess) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        mandates = [client.post("/_sandbox/juspay/mandates", json={"status": "ACTIVE"}).json() for _ in range(3)]
    manifest = tmp_path / "manifest.yaml"
    entries = [{"mandate_id": m["mandate_id"], "customer_id": m["customer_id"]} for m in mandates]
    manifest.write_text(yaml.safe_dump({"juspay_mandates": {"ACTIVE": entries}}))
    result = run_conformance(
        tmp_path,
        "--target",
        "live",
        "--base-url",
        served.base_url,
        "--provisioner",
        "manifest",
        "--manifest",
        str(manifest),
        "--apis",
        "juspay",
    )
    assert result.returncode == 0, result.stdout[-4000:]
    ledger = [json.loads(line) for line in (tmp_path / "manifest.yaml.ledger.jsonl").read_text().splitlines()]
    assert ledger
    assert all("/scenarios/" in e["test"] for e in ledger), "a generated case took a scenario's id"
