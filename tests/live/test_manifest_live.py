"""Manifest runs against ``conformance serve``: scenarios get the ids, a stale id is skipped, never judged."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from conformance.tools.stcli import ServeProcess
from tests.live.conftest import run_live
from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def test_a_stale_id_is_skipped_not_violated(tmp_path: Path, served: ServeProcess) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        job = client.post("/_sandbox/thanx/issuance_jobs", json={"state": "revoking"}).json()
    manifest = tmp_path / "manifest.yaml"
    listed = {"id": job["issuance_job"]["id"], "merchant_id": job["merchant_id"]}
    manifest.write_text(yaml.safe_dump({"thanx_jobs": {"failed": [listed]}}))
    result = run_live(
        tmp_path,
        served.base_url,
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
    # Every selected test skipped: nothing was tested, which is never a pass (exit 5), and never a violation.
    assert result.returncode == 5, result.stdout[-4000:]
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
    result = run_live(
        tmp_path,
        served.base_url,
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


def provision_needs(base_url: str, needs: dict[str, int]) -> dict[str, dict[str, list[dict[str, str]]]]:
    """One id per need the plan counted ("juspay mandate ACTIVE": 3), made outside any tenant."""
    manifest: dict[str, dict[str, list[dict[str, str]]]] = {"juspay_mandates": {}, "thanx_jobs": {}}
    with httpx.Client(base_url=base_url) as client:
        for kind, count in needs.items():
            state = kind.rsplit(" ", 1)[1]
            for _ in range(count):
                if kind.startswith("juspay"):
                    m = client.post("/_sandbox/juspay/mandates", json={"status": state}).json()
                    entry = {"mandate_id": m["mandate_id"], "customer_id": m["customer_id"]}
                    manifest["juspay_mandates"].setdefault(state, []).append(entry)
                else:
                    j = client.post("/_sandbox/thanx/issuance_jobs", json={"state": state}).json()
                    entry = {"id": j["issuance_job"]["id"], "merchant_id": j["merchant_id"]}
                    manifest["thanx_jobs"].setdefault(state, []).append(entry)
    return manifest


def verdicts_of(report_dir: Path) -> dict[str, dict[str, str]]:
    matrix = json.loads((report_dir / "conformance.json").read_text())
    return {row["rule_id"]: row for row in matrix["rows"]}


def test_a_manifest_of_exactly_the_planned_ids_verifies_what_control_verifies(
    tmp_path: Path, served: ServeProcess
) -> None:
    for name in ("plan", "control", "manifest"):
        (tmp_path / name).mkdir()
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    live = ("--target", "live", "--base-url", served.base_url, "--apis", "juspay,thanx")
    planned = run_conformance(tmp_path / "plan", *live, "--provisioner", "manifest", "--manifest", str(empty), "--plan")
    assert planned.returncode == 0, planned.stdout[-3000:]
    plan = json.loads((tmp_path / "plan" / "reports" / "plan.json").read_text())
    needs: dict[str, int] = {}
    for api in ("juspay", "thanx"):
        needs.update(plan[api]["manifest_needs"])
    assert needs, "the scenarios need pre-provisioned ids"
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(provision_needs(served.base_url, needs)))

    control = run_conformance(tmp_path / "control", *live, "--provisioner", "control", "--", "-k", "scenarios")
    assert control.returncode == 0, control.stdout[-3000:]
    listed = run_conformance(
        tmp_path / "manifest",
        *live,
        "--provisioner",
        "manifest",
        "--manifest",
        str(manifest),
        "--",
        "-k",
        "scenarios",
        "-rs",
    )
    assert listed.returncode == 0, listed.stdout[-4000:]
    assert "no unused" not in listed.stdout, "a scenario was starved of an id"
    by_control, by_manifest = (
        verdicts_of(tmp_path / "control" / "reports"),
        verdicts_of(tmp_path / "manifest" / "reports"),
    )
    for rule, row in by_control.items():
        if row["verdict"] != "verified":
            continue
        theirs = by_manifest[rule]
        if theirs["verdict"] == "verified":
            continue
        # Only what no list of ids can hold (an injected fault, chosen counters) is skipped, with that reason.
        assert theirs["verdict"] == "skipped", (rule, theirs)
        reason = json.dumps(theirs)
        assert "fault injection" in reason or "chosen counters" in reason, (rule, theirs)
