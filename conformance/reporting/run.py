"""The run's one collector: every test report arrives here (on the controller, under xdist too).

Each suite test's report carries, as ``report.conformance``, its verdict records, bound rules and the
type of its failure (set by the plugin where the test ran; xdist serialises the attribute with the
report). The collector builds the matrix once, decides the documented exit code, sets it as the
session's exit status, and writes the outputs once, atomically. Nothing written is read back.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import ConformanceError, ExitCode
from conformance.files import write_text_atomic
from conformance.reporting.allure_bridge import write_allure_metadata
from conformance.reporting.history import append_history
from conformance.reporting.junit import mark_junit
from conformance.reporting.matrix import CaseOutcome, Matrix, build_matrix, write_json
from conformance.reporting.outcome import Final, RunState, decide
from conformance.reporting.render import render_markdown, render_questions, render_summary
from conformance.rules import Rule, active_rules
from conformance.verdicts import VerdictRecord

if TYPE_CHECKING:
    from conformance.settings import Settings

# Set by an embedder (or the project's own tests) to judge against another catalogue than specs/rules/.
CATALOGUE_KEY = pytest.StashKey[dict[str, Rule]]()
OUTPUTS = ("conformance.json", "conformance.md", "questions-for-vendor.md")
# What the plugin attaches to a suite test's report (plain JSON, so xdist carries it).
REPORT_ATTR = "conformance"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def suite_version() -> str:
    try:
        return importlib.metadata.version("conformance")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    wasxfail = getattr(report, "wasxfail", None)
    return f"xfail: {wasxfail}" if wasxfail is not None else "skipped"


def write_reports(matrix: Matrix, report_dir: Path) -> list[Path]:
    """``conformance.json``, ``conformance.md`` and ``questions-for-vendor.md`` under ``report_dir``."""
    json_path, md_path, questions_path = (report_dir / name for name in OUTPUTS)
    markdown = render_markdown(matrix)
    if matrix.outcome != "complete":
        markdown = f"> **Run {matrix.outcome}**: this matrix is partial and must not gate a release.\n\n{markdown}"
    write_text_atomic(md_path, markdown)
    write_text_atomic(questions_path, render_questions(matrix))
    from conformance.reporting.dashboard import write_dashboard  # Pillow loads only when a matrix is written

    pictures = write_dashboard(matrix, report_dir)
    write_json(matrix, json_path)  # last: a gate that sees the new matrix sees the new Markdown too
    return [json_path, md_path, questions_path, *pictures]


def write_run_data(report_dir: Path, data: RunData) -> Path:
    """``verdicts/``: the run's records, bindings and outcomes, for ``conformance report --merge`` of shards."""
    final = report_dir / "verdicts"
    staging = report_dir / ".verdicts.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    lines = "".join(record.model_dump_json() + "\n" for record in data.records)
    write_text_atomic(staging / "main.jsonl", lines)
    write_text_atomic(staging / "main.bindings.json", json.dumps(data.bindings, indent=1, sort_keys=True))
    outcomes = {
        k: v.model_dump(exclude_defaults=True) | {"outcome": v.outcome} for k, v in sorted(data.outcomes.items())
    }
    write_text_atomic(staging / "main.outcomes.json", json.dumps(outcomes, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final


@dataclass
class RunData:
    """What the reports of one run carried."""

    records: list[VerdictRecord] = field(default_factory=list)
    bindings: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, CaseOutcome] = field(default_factory=dict)
    # Per test id, the worker that ran it ("main" when serial).
    workers: dict[str, str] = field(default_factory=dict)


class RunCollector:
    """Registered on the controller only: builds the matrix from the reports and sets the exit status."""

    def __init__(self, config: pytest.Config, settings: Settings, state: RunState, *, suite_run: bool) -> None:
        self.config = config
        self.settings = settings
        self.state = state
        self.data = RunData()
        self.matrix: Matrix | None = None
        self.summary: str | None = None
        # The suite was asked for (or a suite test reported): from here on the run's outcome is this collector's.
        self.suite_seen = suite_run
        self.ran_settings: dict[str, Any] = {}

    # ------------------------------------------------------------------------------ reports in

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if item.get_closest_marker("conformance") is not None:
                self.suite_seen = True
                self.data.bindings[item.nodeid] = [r for m in item.iter_markers("rules") for r in m.args]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        bindings = getattr(node, "workeroutput", {}).get("conformance_bindings") or {}
        if bindings:
            self.suite_seen = True
            self.data.bindings.update(bindings)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and report.nodeid:
            self.data.outcomes[report.nodeid] = CaseOutcome(outcome="error")
            self.state.collection_errors.append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, REPORT_ATTR, None)
        if not isinstance(payload, dict):
            return
        self.suite_seen = True
        self.data.records += [VerdictRecord.model_validate(r) for r in payload.get("records", [])]
        if "rules" in payload:
            self.data.bindings[report.nodeid] = list(payload["rules"])
        self.data.workers[report.nodeid] = str(payload.get("worker", "main"))
        self.ran_settings = self.ran_settings or dict(payload.get("settings") or {})
        if error := payload.get("run_error"):
            self.state.run_errors.append((int(error["exit_code"]), str(error["message"])))
        if payload.get("interrupted"):
            self.state.interrupt(int(payload["interrupted"]))
        self._outcome(report, payload)

    def _outcome(self, report: pytest.TestReport, payload: dict[str, Any]) -> None:
        nodeid, current = report.nodeid, self.data.outcomes.get(report.nodeid)
        if report.failed:
            if payload.get("interrupted") or (self.state.signal and payload.get("failure") != "finding"):
                return  # cut short by the interrupt: neither a finding nor a defect, simply unfinished
            kind = "failed" if report.when == "call" else "error"
            self.data.outcomes[nodeid] = CaseOutcome(outcome=kind, finding=payload.get("failure") == "finding")
        elif report.skipped and (current is None or current.outcome == "passed"):
            self.data.outcomes[nodeid] = CaseOutcome(outcome="skipped", reason=_skip_reason(report))
        elif report.passed and report.when == "call" and current is None:
            self.data.outcomes[nodeid] = CaseOutcome(outcome="passed")

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # A run error stops the session the same way, and so does xdist's -x (a KeyboardInterrupt subclass):
        # neither is an interrupt.
        if not self.state.run_errors and type(excinfo.value) is KeyboardInterrupt:
            self.state.interrupt(self.state.signal or 2)

    # ------------------------------------------------------------------------------ outcome out

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.settings.plan and not self.state.run_errors and not self.state.signal:
            # --plan runs nothing by design: its output is plan.json, and no matrix may say otherwise.
            self.state.final = Final(int(ExitCode.OK), "plan", "plan written to plan.json; nothing was sent")
            session.exitstatus = self.state.final.code
            return
        if not self.suite_seen and not self.state.run_errors:
            if self.state.signal:  # interrupted before any suite test reported: still 130 / 143, nothing written
                self.state.final = decide(int(exitstatus), None, self.state, None, min_index=None)
                session.exitstatus = self.state.final.code
            return  # not a conformance run (the project's own tests): pytest's status stands
        try:
            catalogue = self.config.stash.get(CATALOGUE_KEY, None) or active_rules()
        except ConformanceError as exc:
            self.state.run_errors.append((exc.exit_code, f"no conformance matrix: {exc}"))
            catalogue = {}
        self.matrix = self.build(catalogue) if catalogue else None
        verdict = decide(
            int(exitstatus), self.matrix, self.state, self.settings.baseline, min_index=self.settings.min_index
        )
        session.exitstatus = verdict.code
        self.state.final = verdict
        if self.matrix is not None:
            self.matrix.outcome = verdict.outcome
        self.summary = self._write(verdict.outcome)

    def build(self, catalogue: dict[str, Rule]) -> Matrix:
        """The matrix of the reports collected so far."""
        return build_matrix(
            catalogue,
            self.data.records,
            self.data.bindings,
            outcomes=self.data.outcomes,
            target=str(self.ran_settings.get("target", self.settings.target)),
            seed=int(self.ran_settings.get("seed", self.settings.seed)),
            apis=list(self.settings.apis),
            generated_at=now(),
            suite_version=suite_version(),
            strict=self.settings.strict,
        )

    def _write(self, outcome: str) -> str | None:
        """The outputs of this run; an aborted run writes no matrix (and removes a previous run's)."""
        report_dir = self.settings.report_dir
        junit = self.config.getoption("xmlpath", None)
        if junit:
            mark_junit(self.config, None if outcome == "complete" else outcome)
        if outcome.startswith("aborted") or self.matrix is None:
            from conformance.reporting.dashboard import OUTPUTS as PICTURES

            for name in (*OUTPUTS, *PICTURES):  # a previous run's dashboard would pose as this run's
                (report_dir / name).unlink(missing_ok=True)
            return None
        paths = write_reports(self.matrix, report_dir)
        if outcome == "complete":
            write_run_data(report_dir, self.data)
            paths.append(append_history(report_dir, self.matrix))
        alluredir = self.config.getoption("allure_report_dir", None)
        if alluredir:
            write_allure_metadata(Path(alluredir), self.settings)
            paths.append(Path(alluredir))
        if junit:
            paths.append(Path(junit))
        return render_summary(self.matrix, paths) if outcome == "complete" else None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        final = self.state.final
        if final is None:
            return
        terminalreporter.write_sep("=", "conformance")
        if final.outcome == "plan":
            terminalreporter.write_line(final.reason)
            return
        if self.summary and final.outcome == "complete":
            terminalreporter.write_line(self.summary)
        elif final.outcome.startswith("aborted"):
            terminalreporter.write_line(f"run {final.outcome}")
            terminalreporter.write_line("no matrix was written: nothing of this run may be read as a result")
        elif final.outcome.startswith("interrupted"):
            done = sum(1 for o in self.data.outcomes.values() if o.outcome != "error")
            where = self.settings.report_dir / OUTPUTS[0]
            terminalreporter.write_line(
                f"run {final.outcome}: {done} test(s) finished, their results (marked so) in {where}"
            )
        else:
            terminalreporter.write_line(
                f"run {final.outcome}; the matrix, marked so, is in {self.settings.report_dir / OUTPUTS[0]}"
            )
