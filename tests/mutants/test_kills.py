"""A deviation of each kind makes ``conformance run`` exit 1 with its rule violated (collateral only within its API); the faithful sandbox exits 0 under both gap profiles.

The whole catalogue is the mutation run's job (``nox -s mutants``); these are its smoke test. Runs use
``--strict`` and count ``violated-inferred`` as violated, as the mutation run does: several rules
broken here are inferred or assumed, and without ``--strict`` they do not gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.sandbox.deviations import DEVIATIONS

ROOT = Path(__file__).resolve().parents[2]
# One deviation per kind, on the quicker APIs; the Thanx one (asynchronous, polls) is marked slow.
SAMPLE = [
    "juspay-race-unlocked",  # race: the lock is a no-op
    "points-second-reversal-credited",  # money: a fully reversed redemption is credited again
    "points-lock-ignored",  # precondition
    "badges-auth-presence-only",  # auth
    "juspay-errors-as-html",  # content type
    "points-four-decimals-truncated",  # decimal limit
    pytest.param("thanx-revocation-rolls-back", marks=pytest.mark.slow),  # async transition
    pytest.param("thanx-revocation-never-finishes", marks=pytest.mark.slow),  # a job stuck in revoking
    # Schema-level: a documented response field missing or mistyped, one per API.
    "badges-isactive-as-string",
    "points-reversalid-numeric",
    "rewards-status-without-message",
    pytest.param("thanx-revoke-without-variant-id", marks=pytest.mark.slow),
    "juspay-refusal-without-status",
]
CAUGHT = ("violated", "violated-inferred")


def conformance_run(report_dir: Path, *args: str) -> tuple[int, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--strict", "--report-dir", str(report_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    matrix = json.loads((report_dir / "conformance.json").read_text())
    violated = sorted(row["rule_id"] for row in matrix["rows"] if row["verdict"] in CAUGHT)
    return done.returncode, violated, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize("name", SAMPLE)
def test_a_deviation_makes_the_run_exit_1_with_its_rule_violated(name: str, tmp_path: Path) -> None:
    deviation = DEVIATIONS[name]
    code, violated, output = conformance_run(tmp_path, "--apis", deviation.api, "--deviation", name)
    assert code == 1, output
    assert deviation.rule_id in violated, output
    # Collateral (rules whose claims overlap the broken one, e.g. a schema rule) stays within the API.
    prefix = deviation.rule_id.split("-", 1)[0]
    assert all(rule.split("-", 1)[0] == prefix for rule in violated), (violated, output)


@pytest.mark.parametrize("profile", ["faithful", "alternate"])
def test_the_faithful_sandbox_exits_0(tmp_path: Path, profile: str) -> None:
    code, violated, output = conformance_run(tmp_path, "--apis", "juspay,capillary-points", "--gap-profile", profile)
    assert (code, violated) == (0, []), output
