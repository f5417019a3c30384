"""The bench's goal table and its serve-throughput measurement: structure and arithmetic, never a speed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.tools import bench_goals
from conformance.tools.bench_serve import percentile, serve_throughput


def suite_row(name: str, median: float, exchanges: int = 0, verified: int = 0) -> dict[str, Any]:
    run = {"exchanges": exchanges, "verified_rules": verified}
    return {"name": name, "wall_s": {"min": median, "median": median, "max": median}, "runs": [run]}


def serve(judge: bool, rate: float) -> dict[str, Any]:
    return {"judge_client": judge, "requests_per_s": rate, "requests": 2000, "connections": 50, "wall_s": 1.0,
            "p50_ms": 1.0, "p99_ms": 2.0, "load_1min": [1.0, 1.0]}  # fmt: skip


def test_ratios_come_from_medians_of_the_same_bench_and_goals_are_judged() -> None:
    report = {
        "suite": [suite_row("reference", 12.0), suite_row("replay", 3.0), suite_row("reference-n2", 15.0),
                  suite_row("live", 10.0, exchanges=600, verified=150)],
        "collect_only_wall_s": 1.2,
        "serve": [serve(True, 1600.0), serve(False, 1.0)],
        "sessions": {"mutants": {"wall_s": 300.0, "exit_code": 0, "load_1min": [1.0, 1.0]}},
    }  # fmt: skip
    rows = {row["what"].split(" (")[0].split(",")[0]: row for row in bench_goals.goals(report)}

    assert rows["replay speed-up"]["value"] == 4.0
    assert rows["replay speed-up"]["met"] is True
    assert rows["`-n 2` speed-up"]["value"] == 0.8
    assert rows["`-n 2` speed-up"]["met"] is False
    assert rows["fixed cost"]["met"] is True
    assert rows["`conformance run`"]["met"] is False
    assert rows["exchanges per verified rule"]["value"] == 4.0
    assert rows["exchanges per verified rule"]["met"] is True
    assert rows["`nox -s mutants`"]["met"] is False
    assert rows["`nox -s tests`"] == {**rows["`nox -s tests`"], "measured": "not measured", "met": None}
    assert rows["`conformance serve --judge-client`"]["value"] == 1600.0  # the judged run, not the other
    assert "| fixed cost (`conformance run -- --collect-only`), s | 1.2 s | ≤ 1.5 s | yes |" in bench_goals.markdown(
        report
    )


def test_the_live_exchanges_are_tabled_per_api_with_their_verified_rules() -> None:
    run = {
        "per_api": {"juspay": {"vendor": 30, "control": 10}, "thanx": {"vendor": 5}},
        "verified_per_api": {"juspay": 10},
    }
    report = {"suite": [{"name": "live", "runs": [run]}]}

    lines = bench_goals.exchanges_per_api(report)

    assert "| juspay | 30 | 10 | 40 | 10 | 4.00 |" in lines
    assert "| thanx | 5 | 0 | 5 | 0 | — |" in lines
    assert bench_goals.exchanges_per_api({}) == []


def test_verified_rules_are_counted_per_api_from_the_matrix(tmp_path: Path) -> None:
    rows = [{"api": "juspay", "verdict": "verified"}, {"api": "thanx", "verdict": "violated"},
            {"api": "juspay", "verdict": "verified"}]  # fmt: skip
    (tmp_path / "conformance.json").write_text(json.dumps({"rows": rows}))
    assert bench_goals.verified_per_api(tmp_path) == {"juspay": 2}


def test_an_empty_report_measures_nothing_and_claims_nothing() -> None:
    assert all(row["met"] is None and row["measured"] == "not measured" for row in bench_goals.goals({}))


def test_verified_rules_are_counted_from_the_matrix(tmp_path: Path) -> None:
    rows = [{"verdict": "verified"}, {"verdict": "violated"}, {"verdict": "verified"}]
    (tmp_path / "conformance.json").write_text(json.dumps({"rows": rows}))
    assert bench_goals.verified_rules(tmp_path) == 2
    assert bench_goals.verified_rules(tmp_path / "missing") == 0


def test_percentile() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([1.0, 2.0], 0.99) == 2.0


def test_serve_throughput_sends_every_revoke_twice_through_the_judge() -> None:
    result = serve_throughput(per_api=2, connections=3, judge=True)
    assert result["requests"] == 2 * 2 * 5
    assert sum(result["statuses"].values()) == result["requests"]
    assert result["requests_per_s"] > 0
    assert result["p99_ms"] >= result["p50_ms"] > 0


def test_the_timed_sessions_run_modules_that_exist() -> None:
    import importlib.util

    from conformance.tools.bench import SESSION_MODULES

    for name, module in SESSION_MODULES.items():
        assert importlib.util.find_spec(module) is not None, f"the {name} session runs python -m {module}"
    noxfile = (Path(__file__).resolve().parents[2] / "noxfile.py").read_text()
    assert f'"{SESSION_MODULES["mutants"]}"' in noxfile, "the bench times what nox -s mutants runs"
