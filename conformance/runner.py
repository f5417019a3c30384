"""``conformance run``: the suite under pytest with the plugin, which decides the documented exit code.

Exit codes (README, 'Exit codes'): 0 no violation, 1 violations, 2 usage error, 3 target unreachable or
pre-flight failed, 4 internal error (a defect in the suite), 5 nothing tested (or an index below
``--min-index``), 130 interrupted by SIGINT, 143 by SIGTERM. The plugin's collector sets the code as pytest's
exit status, so ``pytest -p conformance.pytest_plugin`` gives the same one.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import libraries
from conformance.errors import ConformanceError, ExitCode
from conformance.settings import OPTIONS, build_settings, from_cli, report_dir_hint

SUITE_DIR = Path(__file__).resolve().parent / "suite"
OK, VIOLATIONS, USAGE, UNREACHABLE, INTERNAL = (
    ExitCode.OK,
    ExitCode.VIOLATIONS,
    ExitCode.USAGE,
    ExitCode.UNREACHABLE,
    ExitCode.INTERNAL,
)
NOTHING_TESTED = ExitCode.NOTHING_TESTED


@dataclass
class OutcomeSink:
    """Handed to pytest as a plugin: the conformance plugin leaves the run's exit code and reason here."""

    __name__ = "conformance-outcome-sink"
    code: int | None = None
    reason: str = ""
    printed: bool = False  # the message is on the terminal already (an input error)


@dataclass
class RunOptions:
    """What ``conformance run`` was given: option values by flag ``dest`` (None = not given), and pytest's own."""

    values: Mapping[str, Any] = field(default_factory=dict)
    workers: str | None = None
    select: str | None = None
    extra: list[str] = field(default_factory=list)

    def pytest_args(self, report_dir: Path) -> list[str]:
        args = [
            str(SUITE_DIR),
            "-p",
            "conformance.libraries",  # first: see conformance.libraries
            "-p",
            "conformance.pytest_plugin",
            "-c",
            str(SUITE_DIR / "conformance.ini"),
            "--rootdir",
            str(SUITE_DIR.parent.parent),
            "-q",
            "--alluredir",
            str(report_dir / "allure-results"),
            "--clean-alluredir",
            "--junitxml",
            str(report_dir / "junit.xml"),
            "-o",
            "junit_family=xunit2",
            "--report-dir",
            str(report_dir),
            *libraries.PRELOADED_WARNINGS,
        ]
        for option in OPTIONS:
            value = self.values.get(option.dest)
            if value is None or option.name == "report_dir":
                continue
            if option.kind == "bool":
                args.append(option.flag if value else f"--no-{option.flag[2:]}")
            else:
                args += [option.flag, ",".join(value) if isinstance(value, list) else str(value)]
        if self.workers:
            args += ["-n", self.workers]
        if self.select:
            args += ["-k", self.select]
        return args + self.extra


def run(options: RunOptions) -> int:
    try:
        # Only for where the reports go; the plugin builds the same settings again and checks every input.
        settings = build_settings(from_cli(options.values))
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)  # noqa: T201
        stale = report_dir_hint(options.values.get("report_dir"))
        for name in ("conformance.json", "junit.xml"):  # never left to be read as this run's verdict
            with contextlib.suppress(OSError):
                (stale / name).unlink(missing_ok=True)
        return exc.exit_code
    sink = OutcomeSink()
    libraries.preload()  # imported before pytest marks them for rewriting: see conformance.libraries
    # What is loaded so far (the libraries, the project) lives as long as the process: the collector need
    # not walk it again in every full collection (pytest's own at its end among them).
    gc.freeze()
    code = int(pytest.main(options.pytest_args(settings.report_dir), plugins=[sink]))
    if sink.code is not None:
        if sink.reason and not sink.printed:
            print(f"conformance: exit {sink.code}: {sink.reason}")  # noqa: T201
        return sink.code
    # pytest stopped before the plugin could decide (its own usage errors, an internal error).
    mapped: dict[int, int] = {pytest.ExitCode.USAGE_ERROR: USAGE, pytest.ExitCode.INTERRUPTED: ExitCode.SIGINT}
    final = mapped.get(code, INTERNAL if code != OK else OK)
    print(f"conformance: exit {final}: pytest ended with exit code {code}", file=sys.stderr)  # noqa: T201
    return final


def exit_code_for(pytest_code: int, report_dir: Path, baseline: Path | None) -> tuple[int, str]:
    """The documented exit code of a finished matrix (a merged one, in a CI gate job), with a one-line reason.

    A run decides its own code from its reports; this judges a ``conformance.json`` written by other jobs.
    """
    from conformance.reporting.matrix import load_matrix
    from conformance.reporting.outcome import RunState, decide

    path = report_dir / "conformance.json"
    matrix = load_matrix(path) if path.is_file() else None
    if matrix is not None and matrix.outcome != "complete":
        codes = {"interrupted (SIGINT)": ExitCode.SIGINT, "interrupted (SIGTERM)": ExitCode.SIGTERM}
        code = codes.get(matrix.outcome, NOTHING_TESTED if matrix.outcome.startswith("nothing") else INTERNAL)
        return code, f"the run did not complete: {matrix.outcome}"
    final = decide(int(pytest_code), matrix, RunState(), baseline, min_index=None)
    return final.code, final.reason
