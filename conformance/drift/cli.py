"""``conformance drift`` and ``conformance docs diff|pin``: the auditor's commands.

Exit codes of ``drift``: 0 no behavioural finding outside the baseline (questions and conflicts
reported), 1 a behavioural finding not accepted by the baseline (or a documentation conflict with
``--fail-on-conflicts``), 2 bad input, 3 ``--live`` could not reach its target, 4 a defect in the suite.
Exit codes of ``docs diff``: 0 no quote went stale, 1 some rule or spec node quotes words that
changed or vanished, 2 bad input. ``docs pin``: 0 pinned, 1 refused (stale quotes remain), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.errors import InternalError, TargetUnreachable, UsageError

if TYPE_CHECKING:
    from conformance.drift.pages import PageDiff


def _out(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text if text.endswith("\n") else text + "\n")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``drift`` and ``docs`` to the ``conformance`` command."""
    drift = sub.add_parser(
        "drift",
        help="judge recorded exchanges (cassettes) against the specs: documentation drift, offline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    drift.add_argument("paths", nargs="*", metavar="PATH", help="cassette files or directories of them")
    drift.add_argument("--live", action="store_true", help="record a fresh run (conformance run --target record) first")
    drift.add_argument("--targets-file", help="--live: the targets file of the recording run")
    drift.add_argument("--base-url", help="--live: the base URL of the recording run")
    drift.add_argument("--apis", help="--live: the APIs to record")
    drift.add_argument(
        "--cassette-dir", help="--live: keep the fresh recording here (default: a temporary directory, removed after)"
    )
    drift.add_argument("--specs-dir", default=None, help="the specs to judge against (default: specs/)")
    drift.add_argument("--report-dir", default="reports/drift", help="where drift.json, drift.md, allure-results go")
    drift.add_argument("--since", help="an earlier drift.json: list new and resolved findings")
    drift.add_argument("--baseline", help="YAML of accepted findings {rule: FINDING-OR-RULE-ID, reason, expires}")
    drift.add_argument("--fail-on-conflicts", action="store_true", help="documentation conflicts also exit 1")
    drift.set_defaults(func=drift_command)

    docs = sub.add_parser("docs", help="vendor page snapshots").add_subparsers(dest="docs_command", required=True)
    diff = docs.add_parser(
        "diff", help="fresh page copies against the pinned snapshots: changed sections, stale quotes"
    )
    diff.add_argument("copies", nargs="+", metavar="NEW_COPY", help="saved vendor pages (HTML or Markdown)")
    diff.add_argument("--as", dest="as_page", help="the pinned page a single copy replaces (default: by file name)")
    diff.add_argument("--specs-dir", default=None)
    diff.add_argument("--output", help="also write the result as Markdown and JSON with this path stem")
    diff.set_defaults(func=docs_diff_command)
    pin = docs.add_parser("pin", help="adopt a fresh page copy as the snapshot (refused while quotes would go stale)")
    pin.add_argument("copy", metavar="NEW_COPY")
    pin.add_argument("--as", dest="as_page")
    pin.add_argument("--specs-dir", default=None)
    pin.set_defaults(func=docs_pin_command)


def _specs_dir(value: str | None) -> Path:
    from conformance.apis import SPECS_DIR

    path = Path(value) if value else SPECS_DIR
    if not (path / "rules").is_dir() or not (path / "sources").is_dir():
        raise UsageError(f"--specs-dir {path}: not a specs directory (it needs rules/ and sources/ beside the specs).")
    return path


def drift_command(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.drift.engine import DriftOptions, run_drift

    if not args.paths and not args.live:
        raise UsageError("conformance drift needs cassette paths (for example cassettes/) or --live.")
    options = DriftOptions(
        paths=[Path(p) for p in args.paths],
        specs_dir=_specs_dir(args.specs_dir),
        report_dir=Path(args.report_dir),
        since=Path(args.since) if args.since else None,
        baseline=Path(args.baseline) if args.baseline else None,
        fail_on_conflicts=args.fail_on_conflicts,
    )
    if args.cassette_dir and not args.live:
        raise UsageError(
            "--cassette-dir is where --live keeps its recording; without --live, pass the cassettes as PATH."
        )
    if args.live and args.cassette_dir:
        keep = Path(args.cassette_dir)
        if keep.exists() and any(keep.iterdir()):
            raise UsageError(f"--cassette-dir {keep} is not empty; --live records a fresh run into an empty directory.")
        options.paths.append(record_live(keep, args))
        return run_drift(options)
    if args.live:
        with tempfile.TemporaryDirectory(prefix="conformance-drift-") as scratch:
            options.paths.append(record_live(Path(scratch), args))
            return run_drift(options)
    return run_drift(options)


def record_live(scratch: Path, args: argparse.Namespace) -> Path:
    """Record a fresh run into ``scratch`` with the suite's own record target; its verdicts do not matter here."""
    command = [sys.executable, "-m", "conformance.cli", "run", "--target", "record", "--cassette-dir", str(scratch)]
    scratch.mkdir(parents=True, exist_ok=True)
    command += ["--report-dir", str(scratch / ".run-reports")]
    for option, value in (("--targets-file", args.targets_file), ("--base-url", args.base_url), ("--apis", args.apis)):
        if value:
            command += [option, value]
    _out(f"conformance drift: recording a live run into a temporary cassette directory ({' '.join(command[3:])})")
    code = subprocess.run(command, check=False).returncode
    if code == 2:
        raise UsageError("The recording run for --live refused its settings (exit 2, message above).")
    if code == 3:
        raise TargetUnreachable("The recording run for --live could not reach its target (exit 3, message above).")
    if code not in (0, 1):
        raise InternalError(f"The recording run for --live failed with exit code {code} (message above).")
    if not any(scratch.rglob("*.yaml")):
        raise UsageError("The recording run for --live wrote no cassette; nothing to judge.")
    return scratch


def docs_diff_command(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.drift.pages import diff_page

    specs_dir = _specs_dir(args.specs_dir)
    if args.as_page and len(args.copies) > 1:
        raise UsageError("--as names the pinned page of one copy; pass one NEW_COPY with it.")
    results = [diff_page(Path(copy), specs_dir, args.as_page) for copy in args.copies]
    text = render_page_diffs(results)
    _out(text)
    if args.output:
        from conformance.drift.report import write_atomic

        stem = Path(args.output)
        write_atomic(stem.with_suffix(".md"), text)
        payload = {"format": "conformance-docs-diff/1", "pages": [r.as_dict() for r in results]}
        write_atomic(stem.with_suffix(".json"), json.dumps(payload, indent=1) + "\n")
    return 1 if any(r.stale for r in results) else 0


def render_page_diffs(results: Sequence[PageDiff]) -> str:
    lines = ["# Vendor pages against the pinned snapshots", ""]
    for result in results:
        lines += [f"## {result.page} (copy: {result.copy.as_posix()})", ""]
        if not result.changed_sections:
            lines += ["No section changed.", ""]
        for section in result.changed_sections:
            lines.append(f"- section **{section['section']}** {section['status']}")
            lines += [f"    - {change}" for change in section.get("diff", [])]
        counts = Counter(q.kind for q in result.stale)
        summary = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items())) or "nothing"
        lines += ["", f"Stale ({summary}; {result.checked} quotes checked):"]
        lines += [f"- {q.kind} `{q.id}`: \u201c{' '.join(q.quote.split())[:200]}\u201d" for q in result.stale] or [
            "- none"
        ]
        lines.append("")
    return "\n".join(lines)


def docs_pin_command(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.drift.pages import pin_page

    result = pin_page(Path(args.copy), _specs_dir(args.specs_dir), args.as_page)
    if result.stale:
        _out(
            f"conformance docs pin: refused: {len(result.stale)} quote(s) of {result.page} are not on the new copy; "
            "update those rules and spec nodes first, then pin again:",
            err=True,
        )
        for quoter in result.stale:
            _out(f"  {quoter.kind} {quoter.id}: \u201c{' '.join(quoter.quote.split())[:160]}\u201d", err=True)
        return 1
    _out(f"conformance docs pin: {result.page} pinned from {result.copy} ({result.checked} quotes still hold).")
    return 0
