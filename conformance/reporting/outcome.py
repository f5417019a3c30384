"""The run's outcome and its documented exit code, decided once from what the run's reports carried."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.errors import ExitCode
from conformance.reporting.matrix import Matrix


@dataclass(frozen=True)
class Final:
    code: int
    outcome: str  # "complete", "interrupted (SIGINT)", "nothing tested: ...", "aborted: ..."
    reason: str


@dataclass
class RunState:
    """What the controller learns while the run goes: an interrupt, run-level errors, the final outcome."""

    signal: int = 0
    run_errors: list[tuple[int, str]] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    final: Final | None = None

    def interrupt(self, signum: int) -> None:
        self.signal = self.signal or signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _aborted(code: int, reason: str) -> Final:
    return Final(code, f"aborted: {reason}", reason)


def _nothing_tested(matrix: Matrix) -> str | None:
    tests = matrix.tests
    if tests.passed + tests.failed == 0:
        if tests.total == 0:
            return "no test ran (a --collect-only run, or every test was deselected)"
        if tests.skipped == tests.total:
            return "every test skipped (see the reasons in the matrix): nothing was tested"
    apis = [api for api in matrix.apis if api in matrix.totals]
    if apis and all(matrix.totals[api].index == 0 for api in apis):
        return f"no rule of {', '.join(apis)} reached a verdict (index 0)"
    return None


def _below_min_index(matrix: Matrix, min_index: float) -> list[str]:
    return [
        f"{api} {matrix.totals[api].index * 100:.0f}%"
        for api in matrix.apis
        if api in matrix.totals and matrix.totals[api].index * 100 < min_index
    ]


def decide(
    pytest_status: int, matrix: Matrix | None, state: RunState, baseline: Path | None, *, min_index: float | None
) -> Final:
    """Map the run to the documented exit code, with the outcome the artifacts carry and a one-line reason."""
    if state.signal:
        name = signal_name(state.signal)
        return Final(128 + state.signal, f"interrupted ({name})", f"interrupted by {name}; finished results kept")
    if state.run_errors:
        # Unreachable outranks usage: a run that could not reach its target says so first.
        code, message = max(state.run_errors, key=lambda e: e[0] == ExitCode.UNREACHABLE)
        return _aborted(code, message)
    if pytest_status == pytest.ExitCode.USAGE_ERROR:
        return _aborted(ExitCode.USAGE, "usage error (see the message above)")
    if pytest_status == pytest.ExitCode.NO_TESTS_COLLECTED:
        return _aborted(ExitCode.USAGE, "no test was selected (check --apis, --shard and -k)")
    if pytest_status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or matrix is None:
        return _aborted(ExitCode.INTERNAL, f"pytest ended with exit code {pytest_status}")
    return _judge(matrix, baseline, min_index)


def _judge(matrix: Matrix, baseline: Path | None, min_index: float | None) -> Final:
    violated = list(matrix.gating)  # violated, and violated-inferred under --strict
    message = ""
    if baseline is not None:
        from conformance.reporting.baseline import apply_baseline

        violated, message = apply_baseline(violated, baseline)
    suffix = f"; {message}" if message else ""
    if violated:
        return Final(
            ExitCode.VIOLATIONS, "complete", f"{len(violated)} rule(s) violated: {', '.join(violated)}{suffix}"
        )
    if matrix.tests.defects:
        return Final(
            ExitCode.INTERNAL,
            "complete",
            "tests failed without a rule violation: a defect in the suite (see the failures above)",
        )
    if nothing := _nothing_tested(matrix):
        return Final(ExitCode.NOTHING_TESTED, f"nothing tested: {nothing}", f"nothing tested: {nothing}")
    if min_index is not None and (low := _below_min_index(matrix, min_index)):
        reason = f"index below --min-index {min_index:g}%: {', '.join(low)}"
        return Final(ExitCode.NOTHING_TESTED, "complete", reason)
    return Final(ExitCode.OK, "complete", "no violation" + suffix)
