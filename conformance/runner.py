"""``conformance run``: the suite under pytest, then the documented exit code.

Exit codes: 0 no violation, 1 violations, 2 usage error, 3 target unreachable or pre-flight failed,
4 internal error (a defect in the suite).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUITE_DIR = Path(__file__).resolve().parent / "suite"
OK, VIOLATIONS, USAGE, UNREACHABLE, INTERNAL = 0, 1, 2, 3, 4


@dataclass
class RunOptions:
    target: str | None = None
    base_url: str | None = None
    provisioner: str | None = None
    seed: int | None = None
    report_dir: Path = Path("reports")
    targets_file: str | None = None
    manifest: str | None = None
    apis: str | None = None
    deviation: str | None = None
    gap_profile: str | None = None
    cassette_dir: str | None = None
    allow_production: bool = False
    strict: bool = False
    baseline: Path | None = None
    shard: str | None = None
    workers: str | None = None
    select: str | None = None
    extra: list[str] = field(default_factory=list)

    def pytest_args(self) -> list[str]:
        args = [
            str(SUITE_DIR),
            "-p",
            "conformance.pytest_plugin",
            "-c",
            str(SUITE_DIR / "conformance.ini"),
            "--rootdir",
            str(SUITE_DIR.parent.parent),
            "-q",
            "--report-dir",
            str(self.report_dir),
            "--alluredir",
            str(self.report_dir / "allure-results"),
            "--clean-alluredir",
            "--junitxml",
            str(self.report_dir / "junit.xml"),
            "-o",
            "junit_family=xunit2",
        ]
        for name in (
            "target",
            "base_url",
            "provisioner",
            "seed",
            "targets_file",
            "manifest",
            "apis",
            "deviation",
            "gap_profile",
            "cassette_dir",
            "shard",
        ):
            value = getattr(self, name)
            if value is not None:
                args += [f"--{name.replace('_', '-')}", str(value)]
        if self.allow_production:
            args.append("--allow-production")
        if self.strict:
            args.append("--strict-inferred")
        if self.workers:
            args += ["-n", self.workers]
        if self.select:
            args += ["-k", self.select]
        return args + self.extra


def violated_rules(report_dir: Path) -> list[str]:
    path = report_dir / "conformance.json"
    if not path.is_file():
        return []
    matrix = json.loads(path.read_text())
    # violated-inferred gates only when the run was strict (the matrix says so).
    gates = ("violated", "violated-inferred") if matrix.get("strict") else ("violated",)
    return [row["rule_id"] for row in matrix["rows"] if row["verdict"] in gates]


def run_errors(report_dir: Path) -> list[dict[str, object]]:
    errors: list[dict[str, object]] = []
    for path in sorted((report_dir / "verdicts").glob("*.errors.jsonl")):
        errors += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return errors


def suite_defects(report_dir: Path) -> int | None:
    """Failures that are not Findings (a baseline-accepted violation still fails its test); None if unknown."""
    path = report_dir / "conformance.json"
    if not path.is_file():
        return None
    defects = json.loads(path.read_text()).get("tests", {}).get("defects")
    return len(defects) if isinstance(defects, list) else None


def exit_code_for(pytest_code: int, report_dir: Path, baseline: Path | None) -> tuple[int, str]:
    """Map pytest's outcome and the matrix to the documented exit code, with a one-line reason."""
    if errors := run_errors(report_dir):
        # Unreachable outranks usage: a run that could not reach its target says so first.
        worst = max(errors, key=lambda e: int(str(e["exit_code"])) == UNREACHABLE)
        return int(str(worst["exit_code"])), str(worst["message"])
    if pytest_code == pytest.ExitCode.USAGE_ERROR:
        return USAGE, "usage error (see the message above)"
    if pytest_code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return USAGE, "no test was selected (check --apis, --shard and -k)"
    if pytest_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return INTERNAL, f"pytest ended with exit code {pytest_code}"
    violated = violated_rules(report_dir)
    message = ""
    if baseline is not None:
        from conformance.reporting.baseline import apply_baseline

        violated, message = apply_baseline(violated, baseline)
    suffix = f"; {message}" if message else ""
    if violated:
        return VIOLATIONS, f"{len(violated)} rule(s) violated: {', '.join(violated)}{suffix}"
    if pytest_code == pytest.ExitCode.TESTS_FAILED and suite_defects(report_dir) != 0:
        return INTERNAL, "tests failed without a rule violation: a defect in the suite (see the failures above)"
    return OK, "no violation" + suffix


def run(options: RunOptions) -> int:
    if options.baseline is not None:
        from conformance.reporting.baseline import load_baseline

        load_baseline(options.baseline)  # a missing or malformed baseline fails before the run, not after it
    options.report_dir.mkdir(parents=True, exist_ok=True)
    (options.report_dir / "conformance.json").unlink(missing_ok=True)  # never gate on a previous run's matrix
    code = int(pytest.main(options.pytest_args()))
    final, reason = exit_code_for(code, options.report_dir, options.baseline)
    print(f"conformance: exit {final}: {reason}")  # noqa: T201
    return final
