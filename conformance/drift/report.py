"""The drift report: JSON (the record), Markdown (for people), Allure results; new and resolved; the exit code.

Exit codes of ``conformance drift``: 0 no behavioural finding outside the baseline; 1 at least one
(or, with ``--fail-on-conflicts``, a documentation conflict); 2 bad input; 4 a defect in the suite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.drift.findings import Finding
from conformance.errors import UsageError
from conformance.reporting.baseline import load_baseline

FORMAT = "conformance-drift/1"
EXIT_CLEAN, EXIT_DRIFT = 0, 1


@dataclass
class DriftReport:
    findings: list[Finding]
    questions: list[Finding]
    conflicts: list[Finding]
    gaps: list[dict[str, Any]]
    inputs: dict[str, Any]
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    since: dict[str, Any] | None = None
    baseline: str = ""
    fail_on_conflicts: bool = False

    @property
    def gating(self) -> list[Finding]:
        """Behavioural findings the baseline does not accept, and conflicts when asked to fail on them."""
        failing = [f for f in self.findings if not f.accepted]
        return failing + (self.conflicts if self.fail_on_conflicts else [])

    @property
    def exit_code(self) -> int:
        return EXIT_DRIFT if self.gating else EXIT_CLEAN

    def summary(self) -> dict[str, int]:
        return {
            "behavioural": len(self.findings),
            "behavioural_valid_traffic": sum(not f.fuzzed for f in self.findings),
            "behavioural_fuzzed_input": sum(f.fuzzed for f in self.findings),
            "accepted_by_baseline": sum(bool(f.accepted) for f in self.findings),
            "questions": len(self.questions),
            "conflicts": len(self.conflicts),
            "gaps": len(self.gaps),
            "gaps_observed": sum(1 for g in self.gaps if g["observed"]),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "generated": self.generated,
            "inputs": self.inputs,
            "summary": self.summary(),
            "exit_code": self.exit_code,
            "baseline": self.baseline,
            "fail_on_conflicts": self.fail_on_conflicts,
            "since": self.since,
            "findings": [f.as_dict() for f in self.findings],
            "questions": [f.as_dict() for f in self.questions],
            "conflicts": [f.as_dict() for f in self.conflicts],
            "gaps": self.gaps,
        }


def apply_baseline(report: DriftReport, path: Path, today: dt.date | None = None) -> None:
    """Mark findings the baseline accepts, by finding ID or by a rule the finding breaks, until ``expires``."""
    today = today or dt.date.today()
    entries = {entry.rule: entry for entry in load_baseline(path)}
    notes: list[str] = []
    for finding in report.findings:
        for name in (finding.id, *finding.rules):
            entry = entries.get(name)
            if entry is None:
                continue
            if entry.expires >= today:
                finding.accepted = f"{name}: {entry.reason} (until {entry.expires})"
                break
            notes.append(f"{finding.id}: acceptance of {name} expired {entry.expires}")
    used = {name for f in report.findings for name in (f.id, *f.rules)}
    stale = sorted(set(entries) - used)
    if stale:
        notes.append("no longer seen, remove from the baseline: " + ", ".join(stale))
    report.baseline = "; ".join(notes)


def load_old_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--since {path}: the file does not exist; pass a drift.json an earlier run wrote.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--since {path}: not a readable JSON drift report ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(
            f"--since {path}: not a drift report (its format is not {FORMAT!r}); pass the drift.json of an earlier "
            "`conformance drift` run."
        )
    return data


def compare(report: DriftReport, old: dict[str, Any], path: Path) -> None:
    """New and resolved findings and questions against an earlier report."""
    since: dict[str, Any] = {"report": path.as_posix(), "generated": old.get("generated", "")}
    for section, current in (("findings", report.findings), ("questions", report.questions)):
        before = {str(item.get("id")): item for item in old.get(section) or [] if isinstance(item, dict)}
        now = {f.id for f in current}
        since[section] = {
            "new": sorted(now - set(before)),
            "resolved": [
                {
                    "id": key,
                    "kind": item.get("kind"),
                    "operation": item.get("operation"),
                    "pointer": item.get("pointer"),
                }
                for key, item in sorted(before.items())
                if key not in now
            ],
        }
    report.since = since


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # Fuzzed values can hold lone surrogates; they are written escaped rather than failing the report.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(report: DriftReport, out_dir: Path) -> list[Path]:
    """drift.json, drift.md and one Allure result per finding, question and conflict."""
    from conformance.drift.render import allure_results, markdown

    json_path, md_path = out_dir / "drift.json", out_dir / "drift.md"
    write_atomic(json_path, json.dumps(report.as_dict(), indent=1, sort_keys=True) + "\n")
    write_atomic(md_path, markdown(report))
    results = out_dir / "allure-results"
    for stale in results.glob("*-result.json") if results.is_dir() else []:
        stale.unlink()
    for result in allure_results(report):
        write_atomic(results / f"{result['uuid']}-result.json", json.dumps(result, indent=1, sort_keys=True))
    return [json_path, md_path, results]


def new_uuid() -> str:
    return str(uuid.uuid4())
