"""One process runs the faithful suite, then tries deviation after deviation on its running sandbox.

What must hold for the shared process to stand in for a fresh process per deviation: each deviation is
caught there as in a process of its own, only its rule's tests run again, the faithful part's matrix is
the faithful run's (no deviation's report reaches it), and a deviation the shared process does not
catch is tried again in a process of its own before it counts as a survivor.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from conformance.sandbox.deviations import DEVIATIONS
from conformance.tools import mutants
from conformance.tools.mutants import Plan, RunResult, run_suite

# The Juspay one is judged by the first test of its module (the item run again must be set up again);
# the schema one by a property test as well; two APIs, so a pass moves between modules and directories.
TRIED = ("juspay-revoke-202", "juspay-refusal-without-status", "points-lock-ignored", "points-reversalid-numeric")
APIS = "capillary-points,juspay"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    report_dir = tmp_path_factory.mktemp("shared")
    plan = Plan("faithful + deviations", "faithful", seed=mutants.SEEDS[0], apis=APIS, loop=TRIED)
    return run_suite(plan, report_dir), report_dir


def test_every_deviation_is_caught_in_the_shared_process(shared: tuple[RunResult, Path]) -> None:
    result, _ = shared
    assert set(result.loop) == set(TRIED), result.error
    for name in TRIED:
        tried = result.loop[name]
        assert tried.caught(DEVIATIONS[name].rule_id), (name, tried)


def test_a_deviation_runs_again_only_the_tests_that_judged_its_rule(shared: tuple[RunResult, Path]) -> None:
    result, _ = shared
    for name in TRIED:
        judges = set(result.tests[DEVIATIONS[name].rule_id])
        assert judges, name
        assert set(result.loop[name].ran) == judges, name


def test_the_faithful_part_writes_the_faithful_run_matrix(shared: tuple[RunResult, Path]) -> None:
    result, report_dir = shared
    matrix = json.loads((report_dir / "conformance.json").read_text())
    assert result.exit_code == 0
    assert not result.violated
    assert not result.defects
    assert matrix["outcome"] == "complete"
    # The deviation passes failed tests; none of those reports reached the run's collector.
    assert matrix["tests"]["failed"] == matrix["tests"]["error"] == 0
    assert matrix["tests"]["passed"] > 0


def test_the_shared_process_agrees_with_a_process_of_its_own(shared: tuple[RunResult, Path], tmp_path: Path) -> None:
    result, _ = shared
    name = "points-lock-ignored"
    alone = run_suite(Plan(name, "faithful", seed=mutants.SEEDS[0], deviation=name, apis="capillary-points"), tmp_path)
    rule = DEVIATIONS[name].rule_id
    assert alone.verdicts[rule] == result.loop[name].verdicts[rule]
    assert alone.exit_code == result.loop[name].exit_code == 1


def test_a_deviation_the_shared_process_missed_is_tried_in_a_process_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    caught, missed = DEVIATIONS["juspay-revoke-202"], DEVIATIONS["points-lock-ignored"]
    own: list[str | None] = []

    def fake_suite(plan: Plan, report_dir: Path) -> RunResult:
        if plan.loop:
            tried = {
                caught.name: RunResult(caught.name, 1, 0.1, {caught.rule_id: "violated"}),
                missed.name: RunResult(missed.name, 4, 0.1, {}, defects=["t"]),
            }
            return RunResult(plan.label, 0, 1.0, loop=tried)
        if plan.deviation:
            own.append(plan.deviation)
            return RunResult(plan.label, 1, 2.0, {missed.rule_id: "violated"})
        return RunResult(plan.label, 0, 1.0)

    monkeypatch.setattr(mutants, "run_suite", fake_suite)
    args = argparse.Namespace(workers=1, isolated=False, select=None)
    rows, outcomes = mutants.run_all([caught, missed], ["faithful"], [1, 2], args, tmp_path)
    assert own == [missed.name]
    assert {o.deviation: (o.killed, o.process) for o in outcomes} == {
        caught.name: (True, "shared process"),
        missed.name: (True, "own process"),
    }
    assert [row["seed"] for row in rows] == [1, 2]
