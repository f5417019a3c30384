"""Replay re-checks recorded property traffic: it rebuilds the recorded cases instead of generating new ones.

One property operation (Thanx revokeIssuanceJob, whose responses the registered THANX-202-STATE-REVOKING
check judges) is recorded once from the reference sandbox; each test replays a copy of that recording.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recording.conftest import REPO, run_conformance

pytestmark = pytest.mark.slow
OPERATION = "test_thanx and issuance_jobs and revoke and POST"
NODE = "test_thanx[POST /partner/issuance_jobs/{id}/revoke]"
RULE = "THANX-202-STATE-REVOKING"
PROPERTY_MODULES = ("conformance/suite/properties/test_thanx.py", "conformance/suite/properties/test_juspay.py")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("recorded")
    result = run_conformance(tmp, "--target", "record", "--cassette-dir", str(tmp / "cassettes"), "-k", OPERATION)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout, result.stdout[-3000:]
    return tmp / "cassettes"


@pytest.fixture
def cassettes(recording: Path, tmp_path: Path) -> Path:
    """A private copy of the recording, so a test may alter it."""
    return Path(shutil.copytree(recording, tmp_path / "cassettes"))


def the_cassette(cassettes: Path) -> Path:
    (cassette,) = (cassettes / "reference" / "test_thanx").glob("*.yaml")
    return cassette


def replay(tmp_path: Path, cassettes: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_conformance(tmp_path, "--target", "replay", "--cassette-dir", str(cassettes), "-k", OPERATION, env=env)


def rule_row(tmp_path: Path) -> dict[str, object]:
    matrix = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    row: dict[str, object] = next(r for r in matrix["rows"] if r["rule_id"] == RULE)
    return row


def test_the_sidecar_keeps_each_cases_generation_and_a_seed_free_replay_key(cassettes: Path) -> None:
    meta = json.loads(the_cassette(cassettes).with_suffix(".meta.json").read_text())
    assert meta["fingerprint"]["replay_key"] == {"replay": "recorded cases", "format": 1}
    cases = [e for e in meta["exchanges"] if e["phase"] == "test"]
    assert cases, "the operation's generated cases were recorded"
    assert all(e["meta"]["generation_mode"] in ("positive", "negative") for e in cases)
    assert all(e["meta"]["generation_phase"] in ("examples", "fuzzing", "coverage") for e in cases)
    assert [e["interaction"] for e in meta["exchanges"]] == list(range(len(meta["exchanges"])))


def test_a_recorded_operation_replays_green_and_re_judges_its_responses(tmp_path: Path, cassettes: Path) -> None:
    result = replay(tmp_path, cassettes)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    row = rule_row(tmp_path)
    assert row["verdict"] == "verified"
    assert row["evidence"] == [f"replay:{the_cassette(cassettes)}"]


def test_another_seed_replays_the_same_recording(tmp_path: Path, cassettes: Path) -> None:
    # A generating replay would send other requests for another seed and miss the cassette.
    result = replay(tmp_path, cassettes, env={"CONFORMANCE_SEED": "424242"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "stale cassette" not in result.stdout
    assert rule_row(tmp_path)["verdict"] == "verified"


def test_an_altered_recorded_response_violates_the_bound_rule(tmp_path: Path, cassettes: Path) -> None:
    cassette = the_cassette(cassettes)
    text = cassette.read_text()
    assert '"state":"revoking"' in text
    cassette.write_text(text.replace('"state":"revoking"', '"state":"processing"'))
    result = replay(tmp_path, cassettes)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    row = rule_row(tmp_path)
    assert row["verdict"] == "violated"
    assert "processing" in json.dumps(row["received"])


def test_a_property_cassettes_staleness_ignores_seed_and_source_but_not_the_replay_format(cassettes: Path) -> None:
    import conformance.suite.properties.test_thanx  # noqa: F401 - registers the test as replaying recorded cases
    from conformance.errors import UsageError
    from conformance.recording import check_replayable
    from conformance.settings import Settings

    nodeid = f"conformance/suite/properties/test_thanx.py::{NODE}"
    cassette = the_cassette(cassettes)
    check_replayable(cassette, Settings(target="replay", cassette_dir=cassettes, seed=1), nodeid)
    sidecar = cassette.with_suffix(".meta.json")
    meta = json.loads(sidecar.read_text())
    meta["fingerprint"]["replay_key"] = {"seed": 1, "test_source": "0" * 64}  # a generating replay's key
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(UsageError, match="stale cassette, re-record with"):
        check_replayable(cassette, Settings(target="replay", cassette_dir=cassettes, seed=1), nodeid)


def collected(target: str, tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    args = ["--co", "-q", "-p", "no:cacheprovider", "--target", target, "--report-dir", str(tmp_path / target)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *PROPERTY_MODULES, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # A --collect-only run of the suite tests nothing: exit 5 (README, 'Exit codes'); collection itself succeeded.
    assert done.returncode == 5, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_replay_keeps_the_node_ids_of_a_generating_run(tmp_path: Path) -> None:
    generating, replaying = collected("reference", tmp_path), collected("replay", tmp_path)
    assert any(line.endswith(NODE) for line in generating)
    assert replaying == generating
