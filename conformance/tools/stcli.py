"""Schemathesis' own CLI (``st run``) against ``conformance serve``, one spec at a time.

The driver starts ``conformance serve`` on a free loopback port in a subprocess, provisions, per
API and in its own tenant, the resources the generated revokes can name (the sandbox is seeded, so
their ids are the ones the committed ``schemathesis.toml`` lists as dictionaries), then runs::

    st --config-file schemathesis.toml run specs/<api>.yaml --url <base> -H <vendor auth> \\
       -H x-sandbox-tenant:st-<api> --report ndjson --report-dir <dir>

and reads the NDJSON events back into a status mix per operation. ``python -m conformance.tools.stcli``
(or ``nox -s stcli``) prints, per spec, the exact command, the st exit code, the failures and the
mix; ``--print-dictionaries`` prints the ``[dictionaries]`` block for the current sandbox.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from conformance.apis import APIS, get_api
from conformance.http import auth
from conformance.sandbox.auth import SandboxCredentials
from conformance.settings import child_environment

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
API_KEYS = tuple(APIS)
SEED = 0
TENANT_HEADER = "x-sandbox-tenant"
RESOURCES_PER_API = 8
BADGE_META_ID = "st-badge-meta"
STARTUP_TIMEOUT_S = 20.0
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UNDECLARED = "(undeclared methods, coverage probes)"


def tenant(api: str) -> str:
    return f"st-{api}"


def auth_headers(api: str) -> dict[str, str]:
    """The sandbox's documented test credentials, as the vendor expects them."""
    vendor = f"{get_api(api).vendor}_"
    creds = {
        name.removeprefix(vendor): value
        for name, value in SandboxCredentials().model_dump().items()
        if name.startswith(vendor) and isinstance(value, str)
    }
    return auth.auth_headers(api, creds)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServeProcess:
    """A running ``conformance serve`` subprocess; its output goes to ``log``."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def serve_command(port: int, seed: int, extra: Sequence[str] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "conformance.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        str(seed),
        *extra,
    ]


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"conformance serve exited with {process.returncode} before it served {base_url}")
        try:
            if httpx.get(f"{base_url}/_sandbox/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"conformance serve did not answer on {base_url} within {timeout:.0f} s")


@contextmanager
def serving(log: Path, seed: int = SEED, extra: Sequence[str] = ()) -> Iterator[ServeProcess]:
    """``conformance serve`` on a free 127.0.0.1 port; stopped with SIGINT (Ctrl-C) on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(serve_command(port, seed, extra), stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    running = ServeProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_healthy(running.base_url, process)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _control(client: httpx.Client, method: str, path: str, api: str, body: dict[str, Any] | None = None) -> Any:
    response = client.request(method, f"/_sandbox{path}", json=body, headers={TENANT_HEADER: tenant(api)})
    if response.status_code >= 300:
        raise RuntimeError(f"control {method} {path} for {api}: {response.status_code} {response.text}")
    return response.json()


def _thanx(client: httpx.Client, api: str, count: int) -> dict[str, list[Any]]:
    jobs = [_control(client, "POST", "/thanx/issuance_jobs", api, {"state": "completed"}) for _ in range(count)]
    return {
        "thanx-job-ids": [job["issuance_job"]["id"] for job in jobs],
        "thanx-merchant-ids": sorted({job["merchant_id"] for job in jobs}),
    }


def _juspay(client: httpx.Client, api: str, count: int) -> dict[str, list[Any]]:
    mandates = [_control(client, "POST", "/juspay/mandates", api, {"status": "ACTIVE"}) for _ in range(count)]
    return {"juspay-mandate-ids": [mandate["mandate_id"] for mandate in mandates]}


def _customer(client: httpx.Client, api: str) -> Any:
    return _control(client, "POST", "/capillary/customers", api, {})["customerId"]


def _badges(client: httpx.Client, api: str, count: int) -> dict[str, list[Any]]:
    customer_id = _customer(client, api)
    body = {"customerId": customer_id, "badgeMetaId": BADGE_META_ID}
    earns = [_control(client, "POST", "/capillary/badges/earns", api, body) for _ in range(count)]
    return {"badges-earned-badge-ids": [earn["earnedBadgeId"] for earn in earns], "badges-customer-ids": [customer_id]}


def _points(client: httpx.Client, api: str, count: int) -> dict[str, list[Any]]:
    customer_id = _customer(client, api)
    body = {"customerId": customer_id, "points": 1000}
    redemptions = [_control(client, "POST", "/capillary/points/redemptions", api, body) for _ in range(count)]
    return {
        "points-redemption-ids": [item["redemptionId"] for item in redemptions],
        "points-customer-ids": [str(customer_id)],
    }


def _rewards(client: httpx.Client, api: str, count: int) -> dict[str, list[Any]]:
    customer_id = _customer(client, api)
    _control(client, "PUT", "/capillary/rewards/flags", api, {"REVOKE_ENABLE": True})
    body = {"customerId": customer_id}
    txns = [_control(client, "POST", "/capillary/rewards/transactions", api, body) for _ in range(count)]
    return {"rewards-txn-ids": [txn["txnId"] for txn in txns], "rewards-customer-ids": [str(customer_id)]}


# How each API's revocable resources are made on a fresh sandbox tenant (the sandbox's control API).
PROVISION: dict[str, Callable[[httpx.Client, str, int], dict[str, list[Any]]]] = {
    "capillary-badges": _badges,
    "capillary-points": _points,
    "capillary-rewards": _rewards,
    "thanx": _thanx,
    "juspay": _juspay,
}


def provision(base_url: str, api: str, count: int = RESOURCES_PER_API) -> dict[str, list[Any]]:
    """Create ``count`` revocable resources of ``api`` in its st tenant; return the dictionaries naming them."""
    if api not in PROVISION:
        raise ValueError(f"unknown api {api}; choose from {', '.join(API_KEYS)}")
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        _control(client, "POST", "/reset", api, {})
        return PROVISION[api](client, api, count)


def configured_dictionaries(config: Path = CONFIG) -> dict[str, list[Any]]:
    with config.open("rb") as handle:
        data = tomllib.load(handle)
    return {name: list(entry.get("values", [])) for name, entry in data.get("dictionaries", {}).items()}


def dictionaries_toml(found: dict[str, list[Any]]) -> str:
    lines = []
    for name, values in found.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = " + json.dumps(values))
    return "\n".join(lines) + "\n"


def check_dictionaries(found: dict[str, list[Any]], config: Path = CONFIG) -> None:
    """The committed dictionaries must name exactly what this sandbox provisioned (same seed, same calls)."""
    committed = configured_dictionaries(config)
    stale = {name: values for name, values in found.items() if committed.get(name) != values}
    if stale:
        raise RuntimeError(
            f"{config.name} dictionaries differ from what seed {SEED} provisions (did the sandbox's id "
            "derivation change?). Replace them with the output of `python -m conformance.tools.stcli "
            "--print-dictionaries`:\n" + dictionaries_toml(stale)
        )


def st_executable() -> str:
    beside = Path(sys.executable).with_name("st")
    return str(beside) if beside.exists() else "st"


def st_command(
    api: str, base_url: str, report_dir: Path, config: Path = CONFIG, extra: Sequence[str] = ()
) -> list[str]:
    headers = {**auth_headers(api), TENANT_HEADER: tenant(api)}
    command = [st_executable(), "--config-file", str(config), "run", str(ROOT / "specs" / f"{api}.yaml")]
    command += ["--url", base_url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["--report", "ndjson,junit", "--report-dir", str(report_dir)]
    return command + list(extra)


@dataclass
class OperationMix:
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # rewards: status.code inside an HTTP 200

    def two_xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    def render(self) -> str:
        mix = ", ".join(f"{status}×{count}" for status, count in sorted(self.statuses.items()))
        if self.outcomes:
            mix += " | status.code " + ", ".join(f"{code}×{n}" for code, n in sorted(self.outcomes.items()))
        return mix


@dataclass
class SpecResult:
    api: str
    command: list[str]
    exit_code: int
    failures: list[str]
    operations: dict[str, OperationMix]
    stdout: str
    elapsed_s: float

    @property
    def cases(self) -> int:
        return sum(sum(mix.statuses.values()) for mix in self.operations.values())

    def render(self) -> str:
        lines = [
            f"== {self.api}: st exit {self.exit_code}, {len(self.failures)} failures, "
            f"{self.cases} responses, {self.elapsed_s:.1f} s",
            "   " + shlex.join(self.command),
        ]
        for label, mix in sorted(self.operations.items()):
            lines.append(f"   {label:<90} {mix.render()}")
        lines += [f"   FAILURE {failure}" for failure in self.failures]
        return "\n".join(lines)


def _body_code(content: dict[str, Any] | None) -> str | None:
    if not content or "$base64" not in content:
        return None
    try:
        body = json.loads(base64.b64decode(content["$base64"]))
    except ValueError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    return str(status.get("code")) if isinstance(status, dict) and "code" in status else None


def operation_table(api: str) -> list[tuple[str, str, re.Pattern[str]]]:
    """(METHOD, path template, regex) of every operation of the spec, literal paths first."""
    with (ROOT / "specs" / f"{api}.yaml").open() as handle:
        paths: dict[str, dict[str, Any]] = yaml.safe_load(handle)["paths"]
    table = []
    for template, item in paths.items():
        parts = re.split(r"\{[^}]+\}", template)
        pattern = re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")
        table += [(method.upper(), template, pattern) for method in item if method in HTTP_METHODS]
    return sorted(table, key=lambda row: row[1].count("{"))


def operation_label(table: list[tuple[str, str, re.Pattern[str]]], method: str, path: str) -> str:
    for declared, template, pattern in table:
        if declared == method and pattern.match(path):
            return f"{method} {template}"
    return UNDECLARED


def parse_ndjson(path: Path, api: str) -> tuple[dict[str, OperationMix], list[str]]:
    """Status mix per declared operation (undeclared-method probes pooled) and every failed check."""
    table = operation_table(api)
    operations: dict[str, OperationMix] = {}
    failures: list[str] = []
    for line in path.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response") or {}
            if "status_code" not in response:
                continue
            request = interaction["request"]
            label = operation_label(table, request["method"].upper(), httpx.URL(request["uri"]).path)
            mix = operations.setdefault(label, OperationMix())
            mix.statuses[int(response["status_code"])] += 1
            # An API that answers 200 with its outcome in status.code: count the codes of its revokes.
            if (
                get_api(api).rejection == "status-code"
                and label.startswith("POST ")
                and label.endswith("/user/reward/revoke")
            ):
                code = _body_code(response.get("content"))
                if code is not None:
                    mix.outcomes[code] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check.get("status") == "failure":
                    info = (check.get("failure_info") or {}).get("failure") or {}
                    title = f"{info.get('code', '?')} {info.get('title', '')}: {info.get('message', '')}"
                    failures.append(f"{recorder['label']} [case {case_id}] {check['name']} {title}".strip())
    return operations, failures


def run_spec(
    api: str, base_url: str, report_root: Path, config: Path = CONFIG, extra: Sequence[str] = (), timeout: float = 600
) -> SpecResult:
    report_dir = report_root / api
    report_dir.mkdir(parents=True, exist_ok=True)
    for stale in report_dir.glob("*"):
        if stale.is_file():
            stale.unlink()
    command = st_command(api, base_url, report_dir, config, extra)
    started = time.monotonic()
    env = child_environment(NO_COLOR="1", COLUMNS="120")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env)
    elapsed = time.monotonic() - started
    ndjson = sorted(report_dir.glob("*.ndjson"))
    if not ndjson:
        raise RuntimeError(f"st wrote no NDJSON report for {api} (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    operations, failures = parse_ndjson(ndjson[-1], api)
    return SpecResult(api, command, done.returncode, failures, operations, done.stdout + done.stderr, elapsed)


def run_all(
    apis: Sequence[str] = API_KEYS,
    report_root: Path = ROOT / "reports" / "st",
    config: Path = CONFIG,
    extra: Sequence[str] = (),
    check: bool = True,
) -> list[SpecResult]:
    """Serve once, provision every API in its own tenant, then ``st run`` each spec in turn."""
    results = []
    with serving(report_root / "serve.log") as server:
        found: dict[str, list[Any]] = {}
        for api in apis:
            found.update(provision(server.base_url, api))
        if check:
            check_dictionaries(found, config)
        for api in apis:
            results.append(run_spec(api, server.base_url, report_root, config, extra))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.stcli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", help="comma-separated APIs (default: all five)")
    parser.add_argument("--report-dir", default=str(ROOT / "reports" / "st"))
    parser.add_argument("--config-file", default=str(CONFIG))
    parser.add_argument("--print-dictionaries", action="store_true", help="print the [dictionaries] block and exit")
    parser.add_argument("st_args", nargs="*", help="extra `st run` options (after --), e.g. -n 20")
    args = parser.parse_args(argv)
    apis = [api.strip() for api in args.api.split(",")] if args.api else list(API_KEYS)
    report_root = Path(args.report_dir)
    if args.print_dictionaries:
        with serving(report_root / "serve.log") as server:
            found: dict[str, list[Any]] = {}
            for api in apis:
                found.update(provision(server.base_url, api))
        sys.stdout.write(dictionaries_toml(found))
        return 0
    results = run_all(apis, report_root, Path(args.config_file), args.st_args)
    for result in results:
        sys.stdout.write(result.render() + "\n")
    failed = [result.api for result in results if result.exit_code != 0 or result.failures]
    sys.stdout.write(f"st: {len(results) - len(failed)}/{len(results)} specs without failures\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
