"""The gate on the command line: ``conformance serve --judge-client`` and ``conformance proxy --to URL``.

Registered into the ``conformance`` parser by two small functions; nothing heavy is imported until a
command runs. Both write the verdict when stopped (Ctrl-C or SIGTERM) and exit 1 on any breach.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

DEFAULT_VERDICT = "clientgate-verdict.json"


def _verdict_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verdict", help=f"verdict JSON written on stop; JUnit XML beside it (.xml) (default: {DEFAULT_VERDICT})"
    )
    parser.add_argument("--min-coverage", type=float, help="also fail below this percentage of vendor behaviours")


def check_options(args: argparse.Namespace, *, judging: bool) -> None:
    """Refuse verdict options that would do nothing, or a coverage bar no run can meet, before anything starts."""
    from conformance.errors import UsageError

    if not judging and (args.verdict is not None or args.min_coverage is not None):
        raise UsageError("--verdict and --min-coverage apply only with --judge-client; add it, or drop them.")
    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        raise UsageError(f"--min-coverage {args.min_coverage} is not a percentage; give a number from 0 to 100.")
    if args.verdict is None:
        args.verdict = DEFAULT_VERDICT


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--judge-client", action="store_true", help="judge every client request; write the verdict when stopped"
    )
    _verdict_options(serve)


def add_proxy_parser(sub: Any) -> None:
    proxy = sub.add_parser("proxy", help="forward a client's traffic to a vendor sandbox and judge both directions")
    proxy.add_argument("--to", required=True, help="base URL of the vendor sandbox (or of `conformance serve`)")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=int, default=8081)
    proxy.add_argument("--cassette", help="record the exchanges, redacted, into this vcrpy cassette (YAML)")
    proxy.add_argument("--allow-production", action="store_true", help="allow forwarding to a production host")
    _verdict_options(proxy)
    proxy.set_defaults(func=run_proxy)


def _finish(judge: Any, args: argparse.Namespace, extra: dict[str, Any] | None = None) -> int:
    from conformance.clientgate.verdict import build_verdict, render, write_verdict

    verdict = build_verdict(judge.part(), min_coverage=args.min_coverage)
    if extra:
        verdict |= extra
        if extra.get("responses", {}).get("violations"):
            verdict["passed"], verdict["exit_code"] = False, 1
    json_path, xml_path = write_verdict(verdict, Path(args.verdict))
    sys.stdout.write(render(verdict) + f"\nverdict written to {json_path} and {xml_path}\n")
    sys.stdout.flush()
    return int(verdict["exit_code"])


def _stop_on_sigterm() -> None:
    """uvicorn re-raises the signal that stopped it; as KeyboardInterrupt it ends the server, not the process."""
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)


def serve_judged(args: argparse.Namespace, apis: list[str] | None, deviation: str | None) -> int:
    from conformance.clientgate.judge import Judge
    from conformance.clientgate.middleware import GateMiddleware
    from conformance.clientgate.session import sandbox_secrets
    from conformance.sandbox.server import serve

    check_options(args, judging=True)
    judge = Judge(sandbox_secrets())
    _stop_on_sigterm()
    serve(
        host=args.host,
        port=args.port,
        apis=apis,
        seed=args.seed,
        deviation=deviation,
        wrap=lambda app: GateMiddleware(app, judge),
    )
    return _finish(judge, args)


def _refuse_production(url: str, allowed: bool) -> None:
    """The suite's safety rail, for the proxy: a client's revokes through it are real revokes."""
    from urllib.parse import urlsplit

    from conformance.errors import UsageError
    from conformance.targets import production_hosts

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--to {url!r} is not an http(s) URL; give the vendor sandbox's base URL, e.g. http://127.0.0.1:8080."
        )
    production = production_hosts()
    if parts.hostname in production and not allowed:
        raise UsageError(
            f"--to {url} is a host that specs/{production[parts.hostname]} marks as production: the client's "
            "revokes would be real. Point the proxy at the vendor's sandbox, or pass --allow-production."
        )


def run_proxy(args: argparse.Namespace, extra: list[str]) -> int:
    import uvicorn

    from conformance.clientgate.judge import Judge
    from conformance.clientgate.middleware import GateMiddleware
    from conformance.clientgate.proxy import CassetteRecorder, ForwardApp, ResponseJudge
    from conformance.http.redact import Redactor

    check_options(args, judging=True)
    _refuse_production(args.to, args.allow_production)
    judge = Judge()
    responses = ResponseJudge(Redactor())
    observers: list[Any] = [lambda seen: responses.observe(seen, args.to.rstrip("/"))]
    cassette = CassetteRecorder(Path(args.cassette), Redactor(), args.to) if args.cassette else None
    if cassette is not None:
        observers.append(cassette.observe)
    app = GateMiddleware(ForwardApp(args.to), judge, observers)
    sys.stdout.write(f"proxy listening on http://{args.host}:{args.port} -> {args.to}\n")
    sys.stdout.flush()
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    _stop_on_sigterm()
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    if cassette is not None:
        cassette.write()
    return _finish(judge, args, {"responses": responses.summary()})
