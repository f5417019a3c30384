"""``run_check``: every spec check over a specs directory, gathered into a :class:`CheckReport`."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import UsageError
from conformance.speccheck.coverage import check_coverage
from conformance.speccheck.examples import check_examples
from conformance.speccheck.lint import LintResult, lint_spec, ruleset_for
from conformance.speccheck.load import Spec, load_spec
from conformance.speccheck.provenance import check_provenance
from conformance.speccheck.report import CONFIDENCES, ApiReport, CheckReport
from conformance.speccheck.rules import check_rules
from conformance.speccheck.sources import check_manifest
from conformance.speccheck.text import SourcePages
from conformance.speccheck.walk import iter_operations


def spec_files(specs_dir: Path) -> list[Path]:
    """The vendor specs: ``specs/*.yaml`` (not the hidden lint ruleset, not ``control/``)."""
    return sorted(path for path in specs_dir.glob("*.yaml") if not path.name.startswith("."))


def run_check(specs_dir: Path, *, lint: bool = True) -> CheckReport:
    """Check every spec, rule catalogue and source page under ``specs_dir``.

    A malformed spec or rule file raises :class:`~conformance.speccheck.load.SpecError`; everything
    else is a finding in the returned report.
    """
    if not specs_dir.is_dir():
        raise UsageError(f"{specs_dir} is not a directory: --specs-dir must name the specs/ directory.")
    specs = [load_spec(path) for path in spec_files(specs_dir)]
    by_key = {spec.key: spec for spec in specs}
    pages = SourcePages(specs_dir / "sources")
    report = CheckReport(specs_dir=specs_dir)
    report.manifest_problems = check_manifest(pages.directory)
    rules = check_rules(specs_dir / "rules", by_key, pages)
    coverage = check_coverage(specs, pages)
    report.global_problems += rules.global_problems
    unassigned = coverage.pop("", None)
    if unassigned is not None:
        report.global_problems += [f"{row}: no spec cites this page" for row in unassigned.uncovered]
    keys = sorted(set(by_key) | set(rules.by_confidence) | set(coverage))
    ruleset = ruleset_for(specs_dir)
    for key in keys:
        api = ApiReport(key=key)
        spec = by_key.get(key)
        if spec is None:
            api.problems.append(f"no spec {key}.yaml in {specs_dir.name}/ (rules or source pages name this API)")
        else:
            _check_spec(api, spec, pages, ruleset if lint else None)
        if key not in rules.by_confidence:
            api.problems.append(f"no rule catalogue rules/{key}.yaml")
        counts = rules.by_confidence.get(key)
        api.rules_by_confidence = {name: counts[name] if counts else 0 for name in CONFIDENCES}
        api.rules_withdrawn = rules.withdrawn.get(key, 0)
        api.problems += rules.problems.get(key, [])
        if key in coverage:
            api.table_rows = coverage[key].rows_checked
            api.uncovered_rows = [str(row) for row in coverage[key].uncovered]
            api.problems += coverage[key].problems
            api.warnings += coverage[key].warnings
        report.apis.append(api)
    return report


def _check_spec(api: ApiReport, spec: Spec, pages: SourcePages, ruleset: Path | None) -> None:
    api.spec = spec.path.name
    api.operations = sum(1 for _ in iter_operations(spec.doc))
    provenance = check_provenance(spec.doc, pages)
    api.notes = provenance.notes
    api.quote_failures = provenance.quote_failures
    api.provenance_missing = provenance.missing
    api.problems += provenance.problems
    examples = check_examples(spec.doc)
    api.examples = examples.checked
    api.example_failures = examples.failures
    api.lint = lint_spec(spec.path, ruleset) if ruleset is not None else LintResult("skipped", "--no-lint was given")
