"""Under -n 2 and a 5 req/s limit the sandbox never sees more than 5 requests in a second, and
touched.json equals the sandbox's own record of what was created and revoked."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conformance.tools.stcli import ServeProcess
from tests.live.conftest import request_log, run_live

pytestmark = pytest.mark.slow


def most_in_one_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_rate_limit_holds_across_workers_and_touched_matches_the_sandbox(tmp_path: Path, served: ServeProcess) -> None:
    request_log(served, clear=True)
    result = run_live(
        tmp_path,
        served.base_url,
        "control",
        "--apis",
        "thanx",
        "-n",
        "2",
        "--",
        "-k",
        "scenarios",
        # Rate-limited polls on a loaded machine need more than the 10 s loopback deadline.
        env={"CONFORMANCE_THANX_RATE_LIMIT": "5", "CONFORMANCE_POLL_DEADLINE": "60"},
    )
    assert result.returncode == 0, result.stdout[-4000:]
    log = request_log(served)["requests"]
    vendor = [r["at"] for r in log if r["path"].startswith("/partner/")]
    assert len(vendor) > 20
    assert most_in_one_second(vendor) <= 5

    touched = json.loads((tmp_path / "reports" / "touched.json").read_text())
    revoked = Counter(
        e["path"] for e in touched["resources"] if e["action"] == "revoked" and e["outcome"] == "succeeded"
    )
    sandbox_revoked = Counter(
        r["path"] for r in log if r["path"].endswith("/revoke") and r["status"] is not None and 200 <= r["status"] < 300
    )
    assert revoked == sandbox_revoked
    assert revoked
    created = Counter(e["path"] for e in touched["resources"] if e["action"] == "created")
    creating = {"/_sandbox/thanx/issuance_jobs", "/partner/campaigns/issue", "/partner/campaigns"}
    sandbox_created = Counter(
        r["path"] for r in log if r["method"] == "POST" and r["path"] in creating and 200 <= (r["status"] or 0) < 300
    )
    assert created == sandbox_created
    assert created
    assert {e["run_id"] for e in touched["resources"]} == {touched["run_id"]}
