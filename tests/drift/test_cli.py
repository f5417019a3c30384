"""``conformance drift``: exit codes, the written artifacts, --since, the baseline, bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from conformance.cli import main
from tests.drift.conftest import CassetteCopies, Interaction, Row, body, revoke, set_body

POINTS = "test_capillary_points/test_an_unknown_redemption_is_refused.yaml"
BADGES = "test_capillary_badges/test_a_revoked_earn_reads_back_inactive.yaml"


def _to_999(interaction: Interaction, _row: Row) -> None:
    value = body(interaction)
    value["errors"][0]["code"] = 999
    set_body(interaction, value)


@pytest.fixture
def clean(copies: CassetteCopies) -> Path:
    copies.copy(POINTS)
    copies.copy(BADGES)
    return copies.root


@pytest.fixture
def drifted(copies: CassetteCopies) -> Path:
    copies.edit(POINTS, revoke("reversePoints", 400), _to_999)
    copies.copy(BADGES)
    return copies.root


def drift(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = tmp_path / "out"
    code = main(["drift", *args, "--report-dir", str(out)])
    report = json.loads((out / "drift.json").read_text()) if (out / "drift.json").is_file() else {}
    return code, report


def test_clean_recordings_exit_0_and_every_artifact_agrees(tmp_path: Path, clean: Path) -> None:
    code, report = drift(tmp_path, str(clean))
    assert code == 0
    assert report["exit_code"] == 0
    assert report["findings"] == []
    assert report["conflicts"]
    results = [json.loads(p.read_text()) for p in (tmp_path / "out" / "allure-results").glob("*-result.json")]
    assert len(results) == len(report["questions"]) + len(report["conflicts"])  # type: ignore[arg-type]
    assert not [r for r in results if r["status"] == "failed"]
    assert "0 behavioural findings" in (tmp_path / "out" / "drift.md").read_text()


def test_a_new_behavioural_finding_exits_1(tmp_path: Path, drifted: Path) -> None:
    code, report = drift(tmp_path, str(drifted))
    assert code == 1
    assert report["exit_code"] == 1
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [f["kind"] for f in findings] == ["undocumented-error-code"]
    failed = [
        json.loads(p.read_text())
        for p in (tmp_path / "out" / "allure-results").glob("*-result.json")
        if json.loads(p.read_text())["status"] == "failed"
    ]
    assert [r["testCaseId"] for r in failed] == [findings[0]["id"]]
    markdown = (tmp_path / "out" / "drift.md").read_text()
    assert findings[0]["id"] in markdown
    assert "API Specific Error Code" in markdown


def test_conflicts_fail_the_run_only_when_asked(tmp_path: Path, clean: Path) -> None:
    assert drift(tmp_path, str(clean))[0] == 0
    code, report = drift(tmp_path, str(clean), "--fail-on-conflicts")
    assert code == 1
    assert report["fail_on_conflicts"] is True


def _baseline(tmp_path: Path, rule: str, expires: dt.date) -> Path:
    path = tmp_path / "accepted.yaml"
    path.write_text(f"- rule: {rule}\n  reason: Vendor ticket 42\n  expires: {expires.isoformat()}\n")
    return path


def test_a_baseline_accepts_a_finding_by_its_id_or_by_the_rule_it_breaks(tmp_path: Path, drifted: Path) -> None:
    _code, report = drift(tmp_path, str(drifted))
    finding_id = report["findings"][0]["id"]  # type: ignore[index]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    for name in (finding_id, "POINTS-ERROR-CODES-DOCUMENTED"):
        code, accepted = drift(tmp_path, str(drifted), "--baseline", str(_baseline(tmp_path, name, tomorrow)))
        assert code == 0
        assert accepted["findings"][0]["accepted"].startswith(name)  # type: ignore[index]


def test_an_expired_acceptance_counts_again(tmp_path: Path, drifted: Path) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)
    code, report = drift(
        tmp_path, str(drifted), "--baseline", str(_baseline(tmp_path, "POINTS-ERROR-CODES-DOCUMENTED", yesterday))
    )
    assert code == 1
    assert "expired" in str(report["baseline"])


def test_since_lists_new_and_resolved_findings(tmp_path: Path, clean: Path, copies: CassetteCopies) -> None:
    drift(tmp_path, str(clean))
    old = tmp_path / "old.json"
    (tmp_path / "out" / "drift.json").rename(old)
    copies.edit(POINTS, revoke("reversePoints", 400), _to_999)
    _code, report = drift(tmp_path, str(clean), "--since", str(old))
    since = report["since"]
    assert isinstance(since, dict)
    finding_id = report["findings"][0]["id"]  # type: ignore[index]
    assert since["findings"]["new"] == [finding_id]
    assert since["findings"]["resolved"] == []
    newer = tmp_path / "newer.json"
    (tmp_path / "out" / "drift.json").rename(newer)
    copies.copy(POINTS)  # the vendor fixed it
    code, fixed = drift(tmp_path, str(clean), "--since", str(newer))
    assert code == 0
    assert [r["id"] for r in fixed["since"]["findings"]["resolved"]] == [finding_id]  # type: ignore[index]
    assert fixed["since"]["findings"]["new"] == []  # type: ignore[index]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("interactions: [unclosed\n", "its YAML is corrupt at line"),
        ("just: a mapping\n", "has no `interactions` list"),
        ("interactions:\n- request: {method: GET, uri: /x}\n  response: {status: {}}\n", "no integer response status"),
    ],
    ids=["missing", "corrupt-yaml", "not-a-cassette", "no-status"],
)
def test_bad_input_is_one_paragraph_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "reference" / "mod" / "case.yaml"
    if content is not None:
        path.parent.mkdir(parents=True)
        path.write_text(content)
    code, _report = drift(tmp_path, str(path))
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_a_bad_baseline_or_old_report_is_refused_before_anything_is_written(
    tmp_path: Path, clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: not an id\n")
    assert drift(tmp_path, str(clean), "--baseline", str(bad))[0] == 2
    not_drift = tmp_path / "other.json"
    not_drift.write_text('{"format": "something else"}')
    assert drift(tmp_path, str(clean), "--since", str(not_drift))[0] == 2
    assert "not a drift report" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_drift_needs_paths_or_live(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert drift(tmp_path)[0] == 2
    assert "needs cassette paths" in capsys.readouterr().err


@pytest.mark.slow
def test_live_records_a_fresh_run_then_judges_it(tmp_path: Path) -> None:
    """Against the configured target (here the reference sandbox): a recording run, then the audit of its cassettes."""
    keep = tmp_path / "fresh"
    code, report = drift(tmp_path, "--live", "--apis", "juspay", "--cassette-dir", str(keep))
    assert code == 0
    inputs = report["inputs"]
    assert isinstance(inputs, dict)
    assert inputs["judged"] > 0
    assert list(keep.glob("reference/*/*.yaml"))
    assert report["findings"] == []


def test_cassette_dir_needs_live(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert drift(tmp_path, str(tmp_path), "--cassette-dir", str(tmp_path / "x"))[0] == 2
    assert "--cassette-dir is where --live" in capsys.readouterr().err


def test_reports_survive_lone_surrogates_of_fuzzed_values(tmp_path: Path) -> None:
    from conformance.drift.report import write_atomic

    target = tmp_path / "r.md"
    write_atomic(target, "mutation was \ud800 here")
    assert target.read_text(encoding="utf-8") == "mutation was \\ud800 here"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]  # no temp file left behind


def test_a_cassette_named_twice_is_judged_once(tmp_path: Path, drifted: Path) -> None:
    file = next(drifted.rglob("test_an_unknown_redemption_is_refused.yaml"))
    _code, once = drift(tmp_path, str(drifted))
    _code, twice = drift(tmp_path, str(drifted), str(file))
    assert twice["inputs"] == {**once["inputs"], "paths": [str(drifted), str(file)]}  # type: ignore[dict-item]
    assert twice["findings"][0]["count"] == 1  # type: ignore[index]


@pytest.mark.slow
def test_a_recording_of_a_deviating_sandbox_drifts(tmp_path: Path) -> None:
    """Recorded from the sandbox with a deliberate deviation (FAILED instead of FAILURE), the audit finds it."""
    import subprocess
    import sys

    cassettes = tmp_path / "cassettes"
    run = [sys.executable, "-m", "conformance.cli", "run", "--target", "record", "--apis", "juspay"]
    run += [
        "--deviation",
        "juspay-status-failed",
        "--cassette-dir",
        str(cassettes),
        "--report-dir",
        str(tmp_path / "r"),
    ]
    subprocess.run(run, check=False, capture_output=True, timeout=300)
    code, report = drift(tmp_path, str(cassettes))
    assert code == 1
    findings = report["findings"]
    assert isinstance(findings, list)
    assert {(f["kind"], f["pointer"]) for f in findings} == {("enum-mismatch", "/mandate_status")}
    assert findings[0]["received"] == "FAILED"


def test_a_check_that_cannot_read_a_recording_is_a_suite_defect(
    tmp_path: Path, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.checks.registry import REGISTRY, load_all

    load_all()
    broken = REGISTRY["points_envelope"]

    def crash(_exchange: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setitem(REGISTRY, "points_envelope", dataclasses.replace(broken, fn=crash))
    code, _report = drift(tmp_path, str(clean))
    err = capsys.readouterr().err
    assert code == 4
    assert "points_envelope failed on" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
