"""History and `conformance matrix diff`: which rules changed verdict, and since when."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting.history import append_history
from conformance.reporting.matrix import Matrix, RuleInfo, build_matrix, write_json
from conformance.verdicts import Status, VerdictRecord

INFOS = [
    RuleInfo(
        api="thanx",
        rule_id=f"THANX-{name}",
        claim=f"claim {name}",
        kind="transition",
        operation="op",
        severity="critical",
        source="p § s",
        confidence="documented",
    )
    for name in ("A", "B", "C")
]


def matrix(at: str, **verdicts: Status) -> Matrix:
    records = [
        VerdictRecord(rule_id=f"THANX-{k}", status=v, test="t", evidence=f"live:h@{at}") for k, v in verdicts.items()
    ]
    return build_matrix(INFOS, records, {"t": [i.rule_id for i in INFOS]}, target="live", seed=1, generated_at=at)


def save(directory: Path, m: Matrix, history: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(m, directory / "conformance.json")
    if history:
        append_history(directory, m)
    return directory / "conformance.json"


def test_diff_with_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "reports"
    save(runs, matrix("2026-01-01T00:00:00Z", A="verified", B="violated", C="verified"))
    old = save(tmp_path / "old", matrix("2026-01-02T00:00:00Z", A="verified", B="violated", C="verified"), False)
    save(runs, matrix("2026-01-02T00:00:00Z", A="verified", B="violated", C="verified"))
    save(runs, matrix("2026-01-03T00:00:00Z", A="violated", B="verified", C="verified"))
    new = save(runs, matrix("2026-01-04T00:00:00Z", A="violated", B="verified", C="verified"))
    assert main(["matrix", "diff", str(old), str(new), "--output", str(tmp_path / "out" / "changes")]) == 0
    out = capsys.readouterr().out
    assert "| thanx | THANX-A | verified → violated | regression | 2026-01-02T00:00:00Z | 2026-01-03T00:00:00Z |" in out
    assert "| thanx | THANX-B | violated → verified | improvement |" in out
    assert "THANX-C" not in out
    data = json.loads((tmp_path / "out" / "changes.json").read_text())
    assert [(c["rule_id"], c["old"], c["new"]) for c in data["changes"]] == [
        ("THANX-A", "verified", "violated"),
        ("THANX-B", "violated", "verified"),
    ]
    assert data["changes"][0]["new_first_seen"] == "2026-01-03T00:00:00Z"
    assert data["history_used"] is True
    assert (tmp_path / "out" / "changes.md").read_text() in out


def test_diff_without_history_uses_the_matrix_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = save(tmp_path / "a", matrix("2026-01-01T00:00:00Z", A="verified", B="skipped"), False)
    new = save(tmp_path / "b", matrix("2026-02-01T00:00:00Z", A="verified", B="violated"), False)
    assert main(["matrix", "diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "| thanx | THANX-B | skipped → violated | regression | 2026-01-01T00:00:00Z | 2026-02-01T00:00:00Z |" in out
    assert "no history.jsonl found" in out


def test_diff_rejects_what_is_not_a_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text('{"version": 99}')
    assert main(["matrix", "diff", str(bogus), str(bogus)]) == 2
    assert "not a conformance matrix of version 1" in capsys.readouterr().err


def test_diff_across_different_api_selections_says_so_and_compares_only_shared_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    juspay = RuleInfo(
        api="juspay",
        rule_id="JUSPAY-A",
        claim="claim",
        kind="transition",
        operation="op",
        severity="critical",
        source="p § s",
        confidence="documented",
    )
    records = [
        VerdictRecord(rule_id=r, status="verified", test="t", evidence="reference") for r in ("THANX-A", "JUSPAY-A")
    ]
    wide = build_matrix([*INFOS, juspay], records, {"t": ["THANX-A", "JUSPAY-A"]}, target="live", seed=1)
    narrow = matrix("2026-01-02T00:00:00Z", A="violated", B="untested", C="untested")
    old = save(tmp_path / "old", wide, False)
    new = save(tmp_path / "new", narrow, False)
    assert main(["matrix", "diff", str(old), str(new), "--output", str(tmp_path / "out" / "d")]) == 0
    out = capsys.readouterr().out
    assert "covered different APIs or rules (only the old run covered juspay)" in out
    assert "1 rule(s) present in only one of them are not compared" in out
    assert "JUSPAY-A" not in out.split("|", 1)[-1], "an absent row is never listed as a change"
    data = json.loads((tmp_path / "out" / "d.json").read_text())
    assert [(c["rule_id"], c["kind"]) for c in data["changes"]] == [("THANX-A", "regression")]
    assert data["not_compared"] == ["JUSPAY-A"]
