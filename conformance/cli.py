"""The ``conformance`` command: run, doctor, serve, proxy, specs check, report, matrix diff, drift, docs."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from pathlib import Path
from typing import Any

from conformance.errors import ConformanceError, UsageError
from conformance.settings import OPTIONS, check_api_names


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One flag per row of the options table (conformance.settings); None means 'not given'."""
    for option in OPTIONS:
        if option.kind == "bool":
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=None, help=option.help)
        else:
            choices = option.choices or None
            parser.add_argument(option.flag, default=None, help=option.help, metavar=option.metavar, choices=choices)


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

    values = {option.dest: getattr(args, option.dest) for option in OPTIONS}
    workers = None if args.plan else args.workers  # a plan is computed in one process
    extra = (["--no-progress"] if args.quiet else []) + extra  # -q: no progress lines (APIs completed, long waits)
    return run(RunOptions(values=values, workers=workers, select=args.select, extra=extra))


def _doctor(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.live.doctor import doctor_command

    return doctor_command(args)


def _serve(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.clientgate.cli import check_options, serve_judged
    from conformance.sandbox.auth import SandboxCredentials
    from conformance.sandbox.server import serve

    apis = [a.strip() for a in args.api.split(",") if a.strip()] if args.api else None
    if apis is not None:
        check_api_names(apis, "--api")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port; give 0-65535 (0 picks a free one).")
    if args.oauth_token_ttl <= 0:
        raise UsageError(f"--oauth-token-ttl {args.oauth_token_ttl} must be a positive number of seconds, e.g. 2.")
    creds = SandboxCredentials(
        capillary_oauth_ttl_s=args.oauth_token_ttl,
        capillary_require_oauth=args.require_oauth,
        thanx_scope_missing=args.thanx_scope_missing,
    )
    check_options(args, judging=args.judge_client)
    deviation = _deviation(args.deviation)
    if args.judge_client:
        return serve_judged(args, apis, deviation)
    try:
        serve(
            host=args.host,
            port=args.port,
            apis=apis,
            seed=args.seed,
            deviation=deviation,
            credentials=creds,
            gap_profile=args.gap_profile,
            vendor_setup=not args.no_vendor_setup,
        )
    except OSError as exc:
        if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise UsageError(
                f"Cannot listen on {args.host}:{args.port}: {exc.strerror}. Stop what holds that port, or choose "
                "another with --port (--port 0 picks a free one); --host must be an address of this machine."
            ) from None
        raise
    return 0


def _specs_check(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.speccheck.cli import main as speccheck_main

    argv = ["check", "--specs-dir", args.specs_dir] + (["--no-lint"] if args.no_lint else [])
    return speccheck_main(argv)


def _report(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.reporting.html import report_command

    return int(report_command(Path(args.report_dir), [Path(p) for p in args.merge or []], args.format))


def _matrix_diff(args: argparse.Namespace, extra: list[str]) -> int:
    from conformance.reporting.history import diff_command

    return int(diff_command(Path(args.old), Path(args.new), Path(args.output) if args.output else None))


def _clientgate(serve: argparse.ArgumentParser, sub: Any) -> None:
    """The client gate's options: ``serve --judge-client`` and ``proxy``."""
    from conformance.clientgate.cli import add_proxy_parser, add_serve_options

    add_serve_options(serve)
    add_proxy_parser(sub)


def _register_drift(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``drift`` and ``docs``: defined in conformance.drift.cli, imported only when the parser is built."""
    from conformance.drift.cli import register

    register(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run the conformance suite and write its reports (extra args after -- go to pytest)"
    )
    add_setting_options(run)
    # pytest's own options, handed through (not settings of the run).
    run.add_argument("-n", "--workers", help="pytest-xdist workers (e.g. 2 or auto)")
    run.add_argument("-k", "--select", help="pytest -k expression")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress lines (APIs completed, long waits)")
    # The short name of --strict-inferred (pytest itself owns --strict, so the table's flag is the long one).
    run.add_argument("--strict", dest="strict_inferred", action="store_true", default=None, help=argparse.SUPPRESS)
    run.set_defaults(func=_run)

    doctor = sub.add_parser("doctor", help="read-only pre-flight of a live target: hosts, credentials, scopes, ids")
    for flag in ("--target", "--base-url", "--targets-file", "--manifest", "--apis", "--provisioner"):
        doctor.add_argument(flag)
    doctor.add_argument("--allow-host", action="append")
    doctor.add_argument("--allow-production", action="store_true")
    doctor.set_defaults(func=_doctor)

    serve = sub.add_parser("serve", help="serve the reference sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api", help="comma-separated APIs to mount (default: all five)")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--deviation")
    # --- live-run auth ---
    serve.add_argument("--require-oauth", action="store_true", help="Capillary accepts only generated OAuth tokens")
    serve.add_argument(
        "--oauth-token-ttl", type=float, default=300.0, help="lifetime in seconds of generated Capillary tokens"
    )
    serve.add_argument(
        "--thanx-scope-missing", action="store_true", help="the Thanx test token lacks the rewards.issue scope"
    )
    serve.add_argument("--gap-profile", choices=GAP_PROFILES, default="faithful", help="the choices at doc gaps")
    serve.add_argument("--no-vendor-setup", action="store_true", help="leave the vendors' setup endpoints unmounted")
    serve.set_defaults(func=_serve)
    _clientgate(serve, sub)

    specs = sub.add_parser("specs", help="spec tooling").add_subparsers(dest="specs_command", required=True)
    check = specs.add_parser("check", help="validate, lint and trace every spec back to its page")
    check.add_argument("--specs-dir", default="specs")
    check.add_argument("--no-lint", action="store_true")
    check.set_defaults(func=_specs_check)

    report = sub.add_parser("report", help="merge shard results and render the Allure HTML report")
    report.add_argument("--report-dir", default="reports")
    report.add_argument("--merge", nargs="*", help="report dirs of shards to merge into --report-dir")
    report.add_argument("--format", help="comma-separated: html, html-dir, dashboard, matrix (default html,dashboard)")
    report.set_defaults(func=_report)

    matrix = sub.add_parser("matrix", help="conformance matrix tools").add_subparsers(
        dest="matrix_command", required=True
    )
    diff = matrix.add_parser("diff", help="rules whose verdict changed between two matrices")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--output", help="write the Markdown and JSON changelog with this path stem")
    diff.set_defaults(func=_matrix_diff)
    _register_drift(sub)
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
