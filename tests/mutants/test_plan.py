"""The mutation run's plan: both gap profiles, only the tests bound to a deviation's rule, and what counts as a kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.sandbox.deviations import DEVIATIONS
from conformance.tools import mutants
from conformance.tools.mutants import Plan, RunResult, deviation_plan, judge, pytest_command, selectable

SCENARIO = "conformance/suite/scenarios/test_capillary_points.py::test_each_reversal_gets_its_own_reversal_id"
PROPERTY = "conformance/suite/properties/test_capillary_points.py::test_capillary_points[POST /v2/points/reverse]"


def test_a_deviation_runs_only_the_tests_that_judged_its_rule_in_the_faithful_run() -> None:
    deviation = DEVIATIONS["points-reversalid-per-redemption"]
    faithful = RunResult("f", 0, 1.0, tests={deviation.rule_id: [SCENARIO, PROPERTY, SCENARIO]})
    plan = deviation_plan(deviation, "alternate", faithful, None)
    assert plan.tests == ("conformance/suite/properties/test_capillary_points.py", SCENARIO)
    assert (plan.profile, plan.deviation, plan.apis) == ("alternate", deviation.name, "capillary-points")
    command = pytest_command(Path("out"), plan)
    assert command[command.index("--gap-profile") + 1] == "alternate"
    assert "--strict-inferred" in command
    assert str(mutants.SUITE) not in command


def test_a_deviation_whose_rule_no_test_judged_runs_its_whole_api() -> None:
    deviation = DEVIATIONS["juspay-race-unlocked"]
    plan = deviation_plan(deviation, "faithful", RunResult("f", 0, 1.0), "scenarios")
    assert plan.tests == ()
    command = pytest_command(Path("out"), plan)
    assert str(mutants.SUITE) in command
    assert command[command.index("--apis") + 1] == "juspay"
    assert command[command.index("-k") + 1] == "scenarios"


def test_schemathesis_items_are_selected_through_their_module() -> None:
    assert selectable(PROPERTY) == "conformance/suite/properties/test_capillary_points.py"
    assert selectable(SCENARIO) == SCENARIO
    sequence = "conformance/suite/properties/test_sequences.py::test_thanx_issue_get_revoke_get"
    assert selectable(sequence) == sequence


@pytest.mark.parametrize(
    ("verdict", "exit_code", "killed"),
    [("violated", 1, True), ("violated-inferred", 1, True), ("verified", 0, False), ("violated-inferred", 0, False)],
)
def test_a_kill_is_the_rule_caught_and_the_run_exiting_1(verdict: str, exit_code: int, killed: bool) -> None:
    deviation = DEVIATIONS["points-lock-ignored"]
    plan = Plan("x", "faithful", deviation=deviation.name)
    result = RunResult("x", exit_code, 2.0, verdicts={deviation.rule_id: verdict, "POINTS-OTHER": "violated"})
    outcome = judge(deviation, plan, result)
    assert outcome.killed is killed
    assert outcome.collateral == ["POINTS-OTHER"]
    assert bool(outcome.why) is not killed


def test_an_unknown_profile_or_deviation_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown gap profile"):
        mutants.chosen_profiles("faithful,bogus")
    with pytest.raises(SystemExit, match="unknown deviation"):
        mutants.chosen("bogus")
    assert mutants.chosen_profiles("alternate") == ["alternate"]
    assert mutants.PROFILES == ("faithful", "alternate")


@pytest.mark.parametrize(("exit_code", "alarm"), [(0, False), (5, True), (130, True), (4, True)])
def test_a_faithful_run_that_did_not_pass_is_never_read_as_no_false_violation(exit_code: int, alarm: bool) -> None:
    row = mutants.faithful_row("faithful", 1, RunResult("f", exit_code, 1.0))
    assert ("error" in row) is alarm
