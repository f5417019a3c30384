"""The vendor-API provisioner, driven for real: the sandbox implements the vendors' own setup endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.recording.conftest import run_conformance

pytestmark = pytest.mark.slow


def setup_ids(base_url: str) -> str:
    """What an operator would configure for a live sandbox: existing customer, merchant, campaign."""
    with httpx.Client(base_url=base_url) as client:
        customer = client.post("/_sandbox/capillary/customers", json={}).json()
        thanx = client.get("/_sandbox/credentials").json()["thanx"]
        headers = {
            "Authorization": f"Bearer {thanx['access_token']}",
            "X-ClientId": thanx["client_id"],
            "Accept-Version": "v4.0",
        }
        merchant = client.get("/partner/merchants", headers=headers).json()["merchants"][0]["id"]
        template = client.get("/partner/reward_templates", params={"merchant_id": merchant}, headers=headers).json()
        window = {
            "start_at": "2026-01-01T00:00:00Z",
            "end_at": "2027-01-01T00:00:00Z",
            "redeemable_from": "2026-01-01T00:00:00Z",
            "redeemable_to": "2027-01-01T00:00:00Z",
        }
        variant = {"name": "A", "reward_template_id": template["reward_templates"][0]["id"]}
        campaign = client.post(
            "/partner/campaigns",
            headers=headers,
            json={"campaign": {"merchant_id": merchant, "name": "conformance", **window, "variants": [variant]}},
        ).json()["campaign"]
    return f"""
[vendors.capillary.setup]
badge_meta_id = "653ddb33b3cda7078c7c68e9"
badge_reference_id = "conformance"
customer_id = "{customer["customerId"]}"
customer_mobile = "{customer["mobile"]}"
customer_email = "{customer["email"]}"
program_id = "1"
reward_id = "101"
brand = "CONFORMANCE"
brand_id = "1"
[vendors.thanx.setup]
merchant_id = "{merchant}"
campaign_id = "{campaign["id"]}"
variant_id = "{campaign["variants"][0]["id"]}"
identifier_emails = "a@example.com,b@example.com"
"""


def test_the_vendor_provisioner_builds_what_the_vendors_apis_can(tmp_path: Path, canary_server) -> None:
    base_url, _ = canary_server
    targets = tmp_path / "targets.toml"
    targets.write_text(setup_ids(base_url))
    result = run_conformance(
        tmp_path,
        "--target",
        "live",
        "--base-url",
        base_url,
        "--provisioner",
        "vendor",
        "--targets-file",
        str(targets),
        "--",
        "-rs",
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "the vendor provisioner cannot provide it on this target" in result.stdout
    rows = {r["rule_id"]: r for r in json.loads((tmp_path / "reports" / "conformance.json").read_text())["rows"]}
    # Made through the vendors' own setup calls: a badge earn, a points redemption, an issued reward, a Thanx job.
    for rule in (
        "BADGE-REVOKE-INACTIVE",
        "POINTS-PARTIAL-REVERSAL",
        "REWARDS-SECOND-REVOKE-13003",
        "THANX-REVOKE-COMPLETED-202",
    ):
        assert rows[rule]["verdict"] == "verified", rows[rule]
    # What only a control API can make is skipped, never failed and never verified.
    assert rows["THANX-REVOKE-PROCESSING-422"]["verdict"] == "skipped"
