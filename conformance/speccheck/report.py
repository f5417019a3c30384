"""The result of ``specs check``: per-API counts and findings, and its plain-text rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.speccheck.lint import LintResult
from conformance.speccheck.provenance import DocNote

CONFIDENCES = ("documented", "inferred", "assumed")


@dataclass
class ApiReport:
    key: str
    spec: str = ""
    operations: int = 0
    examples: int = 0
    example_failures: list[str] = field(default_factory=list)
    rules_by_confidence: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONFIDENCES, 0))
    rules_withdrawn: int = 0
    notes: list[DocNote] = field(default_factory=list)
    uncovered_rows: list[str] = field(default_factory=list)
    table_rows: int = 0
    quote_failures: list[str] = field(default_factory=list)
    provenance_missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lint: LintResult = field(default_factory=lambda: LintResult("skipped", "not run"))

    @property
    def conflicts(self) -> list[str]:
        return [note.id for note in self.notes if note.kind == "conflict"]

    @property
    def gaps(self) -> list[str]:
        return [note.id for note in self.notes if note.kind == "gap"]

    @property
    def lint_errors(self) -> list[str]:
        return self.lint.errors

    @property
    def lint_warnings(self) -> list[str]:
        return self.lint.warnings

    def findings(self) -> list[tuple[str, list[str]]]:
        """The failing checks, each with its messages; empty when this API is ok."""
        groups = [
            ("spec and rule problems", self.problems),
            ("quotes not found", self.quote_failures),
            ("nodes without provenance", self.provenance_missing),
            ("table rows without a spec node or x-not-modelled entry", self.uncovered_rows),
            ("examples that do not match their schema", self.example_failures),
            ("lint errors", self.lint.errors),
        ]
        return [(title, items) for title, items in groups if items]

    @property
    def ok(self) -> bool:
        return not self.findings()


@dataclass
class CheckReport:
    specs_dir: Path
    apis: list[ApiReport] = field(default_factory=list)
    manifest_problems: list[str] = field(default_factory=list)
    global_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.manifest_problems and not self.global_problems and all(api.ok for api in self.apis)

    @property
    def lint_skipped(self) -> str | None:
        """The reason lint was skipped, if it was skipped for any API."""
        reasons = [api.lint.reason for api in self.apis if api.lint.status == "skipped"]
        return reasons[0] if reasons else None

    def api(self, key: str) -> ApiReport:
        for api in self.apis:
            if api.key == key:
                return api
        raise KeyError(key)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return lines


def _lint_cell(lint: LintResult) -> str:
    return "skipped" if lint.status == "skipped" else f"{len(lint.errors)}E/{len(lint.warnings)}W"


def render(report: CheckReport) -> str:
    """A per-API table, every finding, then the full list of documented conflicts and gaps."""
    headers = ["API", "ops", "examples", "rules d/i/a", "conflicts", "gaps", "uncovered", "quotes", "lint", "result"]
    rows = []
    for api in report.apis:
        confidence = "/".join(str(api.rules_by_confidence.get(name, 0)) for name in CONFIDENCES)
        examples = f"{api.examples}" + (f" ({len(api.example_failures)} bad)" if api.example_failures else "")
        rows.append(
            [
                api.key,
                str(api.operations),
                examples,
                confidence,
                str(len(api.conflicts)),
                str(len(api.gaps)),
                f"{len(api.uncovered_rows)}/{api.table_rows}",
                str(len(api.quote_failures)),
                _lint_cell(api.lint),
                "ok" if api.ok else "FAIL",
            ]
        )
    lines = [f"specs check: {report.specs_dir}", "", *_table(headers, rows)]
    skipped = report.lint_skipped
    if skipped:
        lines += ["", f"lint: skipped: {skipped}"]
    if report.manifest_problems:
        lines += ["", "source manifest:", *(f"  - {problem}" for problem in report.manifest_problems)]
    if report.global_problems:
        lines += ["", "across APIs:", *(f"  - {problem}" for problem in report.global_problems)]
    for api in report.apis:
        for title, items in api.findings():
            lines += ["", f"{api.key}: {title} ({len(items)}):", *(f"  - {item}" for item in items)]
        for title, items in (("warnings", api.warnings), ("lint warnings", api.lint.warnings)):
            if items:
                lines += ["", f"{api.key}: {title} ({len(items)}):", *(f"  - {item}" for item in items)]
    for kind, title in (("conflict", "Documented conflicts (x-doc-conflict)"), ("gap", "Documented gaps (x-doc-gap)")):
        notes = [(api.key, note) for api in report.apis for note in api.notes if note.kind == kind]
        lines += ["", f"{title}: {len(notes)}"]
        label = "resolution" if kind == "conflict" else "sandbox choice"
        for key, note in notes:
            lines += [f"  {note.id} [{key}]: {note.summary}", f"      {label}: {note.decision}"]
    verdict = "ok" if report.ok else "FINDINGS: see above"
    lines += ["", f"result: {verdict}"]
    return "\n".join(lines) + "\n"
