"""The ``conformance`` command: run, serve, specs check, report, matrix diff."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.errors import ConformanceError, UsageError

GAP_PROFILES = ("faithful", "alternate")  # conformance.sandbox.gaps.PROFILES, without importing the sandbox


def _deviation(name: str | None) -> str | None:
    """``--deviation``, checked against the sandbox's catalogue: an unknown name is a usage error (exit 2)."""
    from conformance.sandbox.deviations import UnknownDeviation, check_name

    try:
        check_name(name)
    except UnknownDeviation as exc:
        raise UsageError(str(exc)) from None
    return name


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.runner import RunOptions, run

    options = RunOptions(
        target=args.target,
        base_url=args.base_url,
        provisioner=args.provisioner,
        seed=args.seed,
        report_dir=Path(args.report_dir),
        targets_file=args.targets_file,
        manifest=args.manifest,
        apis=args.apis,
        # Checked where the sandbox starts: importing it here would load anyio before pytest does.
        deviation=args.deviation,
        gap_profile=args.gap_profile,
        cassette_dir=args.cassette_dir,
        allow_production=args.allow_production,
        strict=args.strict,
        baseline=Path(args.baseline) if args.baseline else None,
        shard=args.shard,
        workers=args.workers,
        select=args.select,
        extra=extra,
    )
    return run(options)


def _serve(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.sandbox.server import serve

    apis = [a.strip() for a in args.api.split(",")] if args.api else None
    serve(
        host=args.host,
        port=args.port,
        apis=apis,
        seed=args.seed,
        deviation=_deviation(args.deviation),
        gap_profile=args.gap_profile,
        vendor_setup=not args.no_vendor_setup,
    )
    return 0


def _specs_check(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.speccheck.cli import main as speccheck_main

    argv = ["check", "--specs-dir", args.specs_dir] + (["--no-lint"] if args.no_lint else [])
    return speccheck_main(argv)


def _report(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.reporting.html import report_command

    return int(report_command(Path(args.report_dir), [Path(p) for p in args.merge or []]))


def _matrix_diff(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.reporting.history import diff_command

    return int(diff_command(Path(args.old), Path(args.new), Path(args.output) if args.output else None))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run the conformance suite and write its reports (extra args after -- go to pytest)"
    )
    run.add_argument("--target", choices=["reference", "live", "record", "replay"])
    run.add_argument("--base-url")
    run.add_argument("--provisioner", choices=["control", "vendor", "manifest"])
    run.add_argument("--seed", type=int)
    run.add_argument("--report-dir", default="reports")
    run.add_argument("--targets-file")
    run.add_argument("--manifest")
    run.add_argument("--apis", help="comma-separated: capillary-badges,capillary-points,capillary-rewards,thanx,juspay")
    run.add_argument("--deviation", help="reference target only: start the sandbox with this deviation")
    run.add_argument(
        "--gap-profile", choices=GAP_PROFILES, help="reference target only: the sandbox's choices at doc gaps"
    )
    run.add_argument("--cassette-dir", help="where cassettes are recorded and replayed (default: cassettes/)")
    run.add_argument("--allow-production", action="store_true", help="allow hosts the specs mark as production")
    run.add_argument(
        "--strict", action="store_true", help="violations of inferred/assumed rules (violated-inferred) gate the run"
    )
    run.add_argument("--baseline", help="YAML of accepted deviations (rule, reason, expires)")
    run.add_argument("--shard", help="K/N: run a deterministic slice")
    run.add_argument("-n", "--workers", help="pytest-xdist workers (e.g. 2 or auto)")
    run.add_argument("-k", "--select", help="pytest -k expression")
    run.set_defaults(func=_run)

    serve = sub.add_parser("serve", help="serve the reference sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api", help="comma-separated APIs to mount (default: all five)")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--deviation")
    serve.add_argument("--gap-profile", choices=GAP_PROFILES, default="faithful", help="the choices at doc gaps")
    serve.add_argument("--no-vendor-setup", action="store_true", help="leave the vendors' setup endpoints unmounted")
    serve.set_defaults(func=_serve)

    specs = sub.add_parser("specs", help="spec tooling").add_subparsers(dest="specs_command", required=True)
    check = specs.add_parser("check", help="validate, lint and trace every spec back to its page")
    check.add_argument("--specs-dir", default="specs")
    check.add_argument("--no-lint", action="store_true")
    check.set_defaults(func=_specs_check)

    report = sub.add_parser("report", help="merge shard results and render the Allure HTML report")
    report.add_argument("--report-dir", default="reports")
    report.add_argument("--merge", nargs="*", help="report dirs of shards to merge into --report-dir")
    report.set_defaults(func=_report)

    matrix = sub.add_parser("matrix", help="conformance matrix tools").add_subparsers(
        dest="matrix_command", required=True
    )
    diff = matrix.add_parser("diff", help="rules whose verdict changed between two matrices")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--output", help="write the Markdown and JSON changelog with this path stem")
    diff.set_defaults(func=_matrix_diff)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args, extra))
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
