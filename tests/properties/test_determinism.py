"""Same seed → same generated requests, serially and under -n 2; another seed → other requests.

Each run sends the property layer's revoke operations to the reference sandbox with Allure on, so
every exchange is attached; the (method, path, body) multiset of the test-phase requests is compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELECTION = "revoke or reverse or mandates"
pytestmark = pytest.mark.slow


def run_layer(tmp: Path, name: str, seed: int, *extra: str) -> tuple[Counter[tuple[str, str, str]], Path]:
    reports, allure = tmp / f"{name}-reports", tmp / f"{name}-allure"
    env = {**os.environ, "CONFORMANCE_SEED": str(seed)}
    env.pop("CONFORMANCE_RUN_ID", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "conformance/suite/properties",
            "-k",
            SELECTION,
            "-q",
            "-p",
            "no:cacheprovider",
            "--report-dir",
            str(reports),
            "--alluredir",
            str(allure),
            "--seed",
            str(seed),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    requests: Counter[tuple[str, str, str]] = Counter()
    for path in allure.glob("*-attachment.json"):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        if exchange.get("phase") == "test":
            request = exchange["request"]
            url = request["url"].split("/", 3)[-1]  # drop scheme and host: the sandbox port differs per run
            requests[(request["method"], url, request["body"])] += 1
    return requests, reports


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Counter[tuple[str, str, str]], Path]]:
    tmp = tmp_path_factory.mktemp("determinism")
    return {
        "serial": run_layer(tmp, "serial", 7),
        "again": run_layer(tmp, "again", 7),
        "xdist": run_layer(tmp, "xdist", 7, "-n", "2"),
        "other-seed": run_layer(tmp, "other", 8),
    }


def test_the_same_seed_sends_the_same_requests_twice(
    runs: dict[str, tuple[Counter[tuple[str, str, str]], Path]],
) -> None:
    assert runs["serial"][0]
    assert runs["serial"][0] == runs["again"][0]


def test_the_same_seed_sends_the_same_requests_under_xdist(
    runs: dict[str, tuple[Counter[tuple[str, str, str]], Path]],
) -> None:
    assert runs["serial"][0] == runs["xdist"][0]


def test_another_seed_sends_other_requests(runs: dict[str, tuple[Counter[tuple[str, str, str]], Path]]) -> None:
    assert runs["serial"][0] != runs["other-seed"][0]


def test_every_revoke_operation_reaches_the_vendors_success_in_30_percent(
    runs: dict[str, tuple[Counter[tuple[str, str, str]], Path]],
) -> None:
    for name in ("serial", "xdist"):
        reach = json.loads((runs[name][1] / "success-reach.json").read_text(encoding="utf-8"))
        revokes = {op: row for op, row in reach["operations"].items() if row["revoke"]}
        assert set(revokes) == {
            "revokeUserReward",
            "revokeEarn",
            "reversePoints",
            "revokeIssuanceJob",
            "mandateCommand",
        }
        assert {op: row["success_share"] for op, row in revokes.items() if row["success_share"] < 0.3} == {}


def test_success_reach_merges_the_workers(runs: dict[str, tuple[Counter[tuple[str, str, str]], Path]]) -> None:
    serial = json.loads((runs["serial"][1] / "success-reach.json").read_text(encoding="utf-8"))
    xdist = json.loads((runs["xdist"][1] / "success-reach.json").read_text(encoding="utf-8"))
    assert serial["operations"] == xdist["operations"]
