"""A run's outcome is the truth: aborted, interrupted and empty runs never leave a gate-readable pass, and a
failure is a violation or a suite defect by its type, never by its text."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.run.conftest import (
    clean_env,
    fake_command,
    fake_suite_dir,
    json_files_parse,
    junit_outcome,
    left_behind,
    matrix,
    run_cli,
    run_fake,
)

pytestmark = pytest.mark.slow

HEADER = "import pytest\nfrom conformance.errors import PreconditionUnavailable\n"
HEADER += "from conformance.verdicts import expect_equal, observe, verdict\npytestmark = pytest.mark.conformance\n"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_target_aborts_with_3_and_leaves_nothing_green(report_dir: Path) -> None:
    report_dir.mkdir()
    (report_dir / "history.jsonl").write_text('{"a previous": "run"}\n')
    for name in ("dashboard.svg", "dashboard.png", "dashboard.html", "success-reach.json"):
        (report_dir / name).write_text("a previous run's")
    url = f"http://127.0.0.1:{closed_port()}"
    ran = run_cli("run", "--report-dir", str(report_dir), "--target", "live", "--base-url", url, "--apis", "juspay")
    assert ran.code == 3, ran.text[-3000:]
    ran.no_traceback()
    assert f"run aborted: The sandbox at {url} did not answer /_sandbox/credentials" in ran.out
    assert "verified violated" not in ran.out, "an aborted run prints no matrix"
    assert "report: " not in ran.out
    assert left_behind(report_dir) == {
        "conformance.json": False,
        "junit.xml": True,
        "history.jsonl": True,
        "verdicts": False,
    }
    assert (report_dir / "history.jsonl").read_text() == '{"a previous": "run"}\n', "history untouched"
    assert not [p.name for p in report_dir.glob("dashboard.*")], "no earlier dashboard beside an aborted run"
    assert not (report_dir / "success-reach.json").exists()
    assert (junit_outcome(report_dir / "junit.xml") or "").startswith("aborted: The sandbox at")


def _interruptible_suite(tmp_path: Path) -> Path:
    marker = tmp_path / "a-done"
    started = tmp_path / "b-started"
    tests = (
        HEADER
        + f"""
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st


@pytest.mark.rules("BADGE-FAKE-PENDING")
def test_a_finishes(fctx):
    verdict("BADGE-FAKE-PENDING", ok=True, received="pending", documented="pending")
    Path({str(marker)!r}).write_text("done")


@pytest.mark.rules("BADGE-FAKE-ACTIVE")
@settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.integers())
def test_b_runs_until_interrupted(fctx, n):
    deadline = time.monotonic() + 60
    while not Path({str(marker)!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    Path({str(started)!r}).write_text("started")
    time.sleep(0.2)
"""
    )
    return fake_suite_dir(tmp_path, tests)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_exits_130_or_143_and_keeps_finished_results_marked(
    tmp_path: Path, report_dir: Path, signum: int, code: int, workers: list[str]
) -> None:
    suite = _interruptible_suite(tmp_path)
    report_dir.mkdir()
    process = subprocess.Popen(
        fake_command(suite, report_dir, *workers),
        cwd=suite,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "b-started").exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the suite never reached its Hypothesis test"
        time.sleep(0.1)
    time.sleep(0.5)  # inside Hypothesis' loop
    process.send_signal(signum)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == code, out[-3000:]
    assert "Traceback" not in out
    data = matrix(report_dir)
    name = signal.Signals(signum).name
    assert data["outcome"] == f"interrupted ({name})"
    rows = {row["rule_id"]: row["verdict"] for row in data["rows"]}
    assert rows["BADGE-FAKE-PENDING"] == "verified", "a finished test's result stays"
    assert rows["BADGE-FAKE-ACTIVE"] == "untested", "the interrupted test is neither passed nor failed"
    assert data["tests"]["defects"] == []
    assert junit_outcome(report_dir / "junit.xml") == f"interrupted ({name})"
    assert left_behind(report_dir)["history.jsonl"] is False
    assert left_behind(report_dir)["verdicts"] is False
    assert f"run interrupted ({name})" in out
    assert "verified violated" not in out, "an interrupted run prints no matrix"
    json_files_parse(report_dir)


@pytest.mark.parametrize(
    ("tests", "args", "why"),
    [
        (
            '@pytest.mark.rules("THANX-FAKE-202")\ndef test_skips(fctx):\n'
            '    raise PreconditionUnavailable("a job", "none on this target")\n',
            [],
            "every test skipped",
        ),
        ('@pytest.mark.rules("THANX-FAKE-202")\ndef test_x(fctx):\n    pass\n', ["--collect-only"], "no test ran"),
        (
            'def test_observes_only(fctx):\n    observe("THANX-GAP-X", received=1, note="silent docs")\n',
            [],
            "reached a verdict (index 0)",
        ),
    ],
    ids=["all-skipped", "collect-only", "index-0"],
)
def test_nothing_tested_exits_5_and_says_why(
    tmp_path: Path, report_dir: Path, tests: str, args: list[str], why: str
) -> None:
    ran = run_fake(fake_suite_dir(tmp_path, HEADER + tests), report_dir, *args)
    assert ran.code == 5, ran.text[-3000:]
    ran.no_traceback()
    data = matrix(report_dir)
    assert data["outcome"].startswith("nothing tested: ")
    assert why in data["outcome"]
    assert junit_outcome(report_dir / "junit.xml") == data["outcome"]
    assert left_behind(report_dir)["history.jsonl"] is False
    assert f"run {data['outcome']}" in ran.out


@pytest.mark.slow
def test_collect_only_of_the_real_suite_is_nothing_tested(report_dir: Path) -> None:
    ran = run_cli("run", "--report-dir", str(report_dir), "--apis", "juspay", "--", "--collect-only")
    assert ran.code == 5, ran.text[-3000:]
    assert "conformance: exit 5: nothing tested: no test ran" in ran.out
    assert matrix(report_dir)["outcome"].startswith("nothing tested")


MIN_INDEX_TESTS = (
    HEADER
    + """
@pytest.mark.rules("THANX-FAKE-202")
def test_thanx(fctx):
    expect_equal("THANX-FAKE-202", 202, 202)


@pytest.mark.rules("JUSPAY-FAKE-REVOKE", "JUSPAY-FAKE-ACTIVE-ONLY")
def test_juspay(fctx):
    expect_equal("JUSPAY-FAKE-REVOKE", 1, 1)
    expect_equal("JUSPAY-FAKE-ACTIVE-ONLY", 1, 1)
"""
)


@pytest.mark.parametrize(("pct", "code"), [("50", 0), ("60", 5)])
def test_min_index_demands_coverage_per_api(tmp_path: Path, report_dir: Path, pct: str, code: int) -> None:
    suite = fake_suite_dir(tmp_path, MIN_INDEX_TESTS)
    ran = run_fake(suite, report_dir, "--apis", "thanx,juspay", "--min-index", pct)
    assert ran.code == code, ran.text[-3000:]
    assert matrix(report_dir)["totals"]["thanx"]["index"] == 0.5
    assert matrix(report_dir)["outcome"] == "complete"


CLASSIFIED = (
    HEADER
    + """
from conformance.findings import Finding


@pytest.mark.rules("THANX-FAKE-202")
def test_text_that_looks_like_a_finding(fctx):
    verdict("THANX-FAKE-202", ok=True, received=202, documented=202)
    raise AssertionError("THANX-FAKE-202: the claim\\nReceived: 500\\nDocumented: 202")
"""
)


def test_a_failure_is_classified_by_its_type_not_its_text(tmp_path: Path, report_dir: Path) -> None:
    ran = run_fake(fake_suite_dir(tmp_path, CLASSIFIED), report_dir)
    assert ran.code == 4, "an AssertionError that merely reads like a finding is a defect in the suite"
    data = matrix(report_dir)
    assert data["tests"]["defects"] == ["test_fake.py::test_text_that_looks_like_a_finding"]
    assert {r["rule_id"]: r["verdict"] for r in data["rows"]}["THANX-FAKE-202"] == "verified"


def test_the_collector_reads_no_file_back_and_keeps_the_last_real_run(tmp_path: Path, report_dir: Path) -> None:
    verdicts = report_dir / "verdicts"
    verdicts.mkdir(parents=True)
    (verdicts / "main.jsonl").write_text("not json: a file the run must neither read nor delete\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    (project / "pytest.ini").write_text("[pytest]\n")
    ran = run_fake(project, report_dir)
    assert ran.code == 0, ran.text[-3000:]
    assert (verdicts / "main.jsonl").read_text().startswith("not json"), "the project's own tests keep it"
    assert not (report_dir / "conformance.json").exists()


@pytest.mark.slow
def test_a_violation_shows_finding_rule_and_curl_not_suite_frames(report_dir: Path) -> None:
    ran = run_cli(
        "run",
        "--report-dir",
        str(report_dir),
        "--apis",
        "thanx",
        "--deviation",
        "thanx-id-without-prefix",
        "--strict",  # THANX-ID-ECHO is inferred: its violation gates only a strict run
        "-k",
        "test_revoking_a_completed_job_is_accepted_and_starts_revoking",
    )
    assert ran.code == 1, ran.text[-3000:]
    failures = ran.out[ran.out.index("= FAILURES =") : ran.out.index("= conformance =")]
    assert "THANX-ID-ECHO: " in failures
    assert "Received: " in failures
    assert "Documented: " in failures
    assert "Reproduce with:" in failures
    assert "curl " in failures
    assert "conformance/verdicts.py:" not in failures
    assert "conformance/checks/" not in failures
    assert "def verdict(" not in failures
    rows = {r["rule_id"]: r["verdict"] for r in json.loads((report_dir / "conformance.json").read_text())["rows"]}
    assert rows["THANX-ID-ECHO"] == "violated-inferred"
