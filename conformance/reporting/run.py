"""End of a run: merge every worker's verdicts into one matrix, write the reports, summarise.

Under pytest-xdist only the controller ("main") gets here; the workers have each written their verdicts
(``verdicts/gwN.jsonl``) and bindings, and the controller, which sees every test report, writes the test
outcomes (``verdicts/main.outcomes.json``) before merging.
"""

from __future__ import annotations

import importlib.metadata
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import ConformanceError
from conformance.reporting.allure_bridge import write_allure_metadata
from conformance.reporting.history import append_history
from conformance.reporting.matrix import CaseOutcome, Matrix, build_matrix, is_finding, load_run, write_json
from conformance.reporting.render import render_markdown, render_questions, render_summary
from conformance.rules import Rule, active_rules

if TYPE_CHECKING:
    from conformance.settings import Settings

# Set by an embedder (or the project's own tests) to judge against another catalogue than specs/rules/.
CATALOGUE_KEY = pytest.StashKey[dict[str, Rule]]()
OUTPUTS = ("conformance.json", "conformance.md", "questions-for-vendor.md")


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


def collect_outcomes(stats: dict[str, list[Any]]) -> dict[str, CaseOutcome]:
    """One outcome per test node from the terminal reporter's reports (the controller's, under xdist)."""
    outcomes: dict[str, CaseOutcome] = {}
    for reports in stats.values():
        for report in reports:
            if not isinstance(report, (pytest.TestReport, pytest.CollectReport)) or not report.nodeid:
                continue
            if isinstance(report, pytest.TestReport) and "conformance" not in report.keywords:
                continue  # only the suite's tests (marked ``conformance``) have outcomes in the matrix
            if isinstance(report, pytest.CollectReport) and not report.failed:
                continue
            when = getattr(report, "when", "collect")
            current = outcomes.get(report.nodeid)
            if report.failed:
                kind = "failed" if when == "call" else "error"
                outcomes[report.nodeid] = CaseOutcome(outcome=kind, finding=is_finding(report.longreprtext))
            elif report.skipped and (current is None or current.outcome == "passed"):
                outcomes[report.nodeid] = CaseOutcome(outcome="skipped", reason=_skip_reason(report))  # type: ignore[arg-type]
            elif report.passed and when == "call" and current is None:
                outcomes[report.nodeid] = CaseOutcome(outcome="passed")
    return outcomes


def write_outcomes(config: pytest.Config, directory: Path) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats: dict[str, list[Any]] = getattr(reporter, "stats", {}) or {}
    outcomes = collect_outcomes(stats)
    if not outcomes:
        return
    directory.mkdir(parents=True, exist_ok=True)
    payload = {k: v.model_dump(exclude_defaults=True) | {"outcome": v.outcome} for k, v in sorted(outcomes.items())}
    (directory / "main.outcomes.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def write_reports(matrix: Matrix, report_dir: Path) -> list[Path]:
    """``conformance.json``, ``conformance.md`` and ``questions-for-vendor.md`` under ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path, questions_path = (report_dir / name for name in OUTPUTS)
    write_json(matrix, json_path)
    md_path.write_text(render_markdown(matrix), encoding="utf-8")
    questions_path.write_text(render_questions(matrix), encoding="utf-8")
    return [json_path, md_path, questions_path]


def finish_run(settings: Settings, config: pytest.Config) -> str | None:
    directory = settings.report_dir / "verdicts"
    data = load_run(directory)
    if not data.records and not data.bindings:
        return None  # not a conformance run (the project's own tests)
    write_outcomes(config, directory)
    data = load_run(directory)
    try:
        catalogue = config.stash.get(CATALOGUE_KEY, None) or active_rules()
    except ConformanceError as exc:
        return f"no conformance matrix: {exc}"
    matrix = build_matrix(
        catalogue,
        data.records,
        data.bindings,
        outcomes=data.outcomes,
        target=settings.target,
        seed=settings.seed,
        apis=list(settings.apis),
        generated_at=now(),
        suite_version=suite_version(),
        strict=settings.strict,
    )
    paths = write_reports(matrix, settings.report_dir)
    paths.append(append_history(settings.report_dir, matrix))
    alluredir = config.getoption("allure_report_dir", None)
    if alluredir:
        write_allure_metadata(Path(alluredir), settings)
        paths.append(Path(alluredir))
    if (junit := config.getoption("xmlpath", None)) is not None:
        paths.append(Path(junit))
    return render_summary(matrix, paths)
