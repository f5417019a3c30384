"""One drift audit: read every cassette, judge every exchange, aggregate, compare, write, and say how it went."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conformance.drift.cassettes import cassette_files, read_all
from conformance.drift.findings import aggregate, conflicts, gaps
from conformance.drift.judge import Judge, Judged
from conformance.drift.report import DriftReport, apply_baseline, compare, load_old_report, write_all
from conformance.drift.specindex import SpecIndex
from conformance.rules import load_catalogue
from conformance.speccheck.load import display


@dataclass
class DriftOptions:
    paths: list[Path]
    specs_dir: Path
    report_dir: Path = Path("reports/drift")
    since: Path | None = None
    baseline: Path | None = None
    fail_on_conflicts: bool = False
    write: bool = True
    quiet: bool = False
    extra: list[str] = field(default_factory=list)


def build_report(options: DriftOptions) -> DriftReport:
    """Everything is read and checked first (cassettes, specs, rules, the old report, the baseline)."""
    old = load_old_report(options.since) if options.since else None
    if options.baseline is not None:
        from conformance.reporting.baseline import load_baseline

        load_baseline(options.baseline)
    files = cassette_files(options.paths)
    interactions = read_all(options.paths)
    index = SpecIndex(options.specs_dir)
    judge = Judge(index, load_catalogue(options.specs_dir))
    judged: list[Judged] = [judge.judge(interaction) for interaction in interactions]
    found = aggregate(judged)
    skipped = Counter(item.skipped for item in judged if item.skipped)
    report = DriftReport(
        findings=[f for f in found if f.category == "behaviour"],
        questions=[f for f in found if f.category == "question"],
        conflicts=conflicts(index, judged),
        gaps=gaps(index, found),
        inputs={
            "paths": [p.as_posix() for p in options.paths],
            "cassettes": len(files),
            "interactions": len(interactions),
            "judged": sum(1 for item in judged if not item.skipped),
            "skipped": sum(skipped.values()),
            "skipped_why": dict(skipped),
            "specs": {spec.name: display(spec.path) for spec in index.specs.values()},
            "evidence": sorted({i.evidence.label().split("@")[0] for i in interactions}),
        },
        fail_on_conflicts=options.fail_on_conflicts,
    )
    if options.baseline is not None:
        apply_baseline(report, options.baseline)
    if old is not None and options.since is not None:
        compare(report, old, options.since)
    return report


def run_drift(options: DriftOptions) -> int:
    started = time.monotonic()
    report = build_report(options)
    written = write_all(report, options.report_dir) if options.write else []
    if not options.quiet:
        for line in terminal_summary(report, written, time.monotonic() - started):
            sys.stdout.write(line + "\n")
    return report.exit_code


def terminal_summary(report: DriftReport, written: list[Path], seconds: float) -> list[str]:
    s = report.summary()
    lines = [
        f"conformance drift: {report.inputs['judged']} exchanges from {report.inputs['cassettes']} cassettes "
        f"judged in {seconds:.1f} s",
        f"  behavioural findings: {s['behavioural']} ({s['behavioural_valid_traffic']} valid traffic, "
        f"{s['behavioural_fuzzed_input']} fuzzed input, {s['accepted_by_baseline']} accepted by the baseline)",
        f"  questions for the vendor: {s['questions']} · documentation conflicts: {s['conflicts']} · "
        f"gaps observed: {s['gaps_observed']}/{s['gaps']}",
    ]
    for finding in report.gating[:10]:
        lines.append(f"  {finding.id} {finding.kind} {finding.api} {finding.operation} {finding.pointer}".rstrip())
    if report.since:
        new = report.since["findings"]["new"]
        resolved = report.since["findings"]["resolved"]
        lines.append(f"  since {report.since['report']}: {len(new)} new, {len(resolved)} resolved findings")
    if report.baseline:
        lines.append(f"  baseline: {report.baseline}")
    lines += [f"  wrote {path.as_posix()}" for path in written]
    lines.append(f"  exit code {report.exit_code}")
    return lines
