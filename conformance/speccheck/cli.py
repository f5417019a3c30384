"""``conformance specs check [--specs-dir DIR] [--no-lint]``: exit 0 ok, 1 findings, 2 malformed or usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from conformance.errors import ConformanceError, UsageError
from conformance.speccheck.check import run_check
from conformance.speccheck.node import repo_root
from conformance.speccheck.report import render


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conformance specs", description="Check the vendor specs in specs/ against their sources.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", help="check specs, rules, sources, examples and lint")
    check.add_argument("--specs-dir", type=Path, default=None, help="the specs directory (default: <repo>/specs)")
    check.add_argument("--no-lint", action="store_true", help="skip the Spectral lint (reported as skipped)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``specs check``; ``argv`` may start with ``specs`` (as typed after ``conformance``) or with ``check``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["specs"]:
        args_list = args_list[1:]
    try:
        args = build_parser().parse_args(args_list)
        specs_dir = args.specs_dir if args.specs_dir is not None else repo_root() / "specs"
        report = run_check(specs_dir, lint=not args.no_lint)
    except ConformanceError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    skipped = report.lint_skipped
    if skipped and not args.no_lint:
        sys.stderr.write(f"warning: spec lint skipped: {skipped}\n")
    sys.stdout.write(render(report))
    return 0 if report.ok else 1
