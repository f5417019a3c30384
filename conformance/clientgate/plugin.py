"""The client gate as a pytest plugin, loaded through the ``pytest11`` entry point ``conformance_clientgate``.

Inert unless a test asks for the ``conformance_sandbox`` fixture or the session passes ``--clientgate``:
it then judges every request the client library sends, fails the session on any breach, prints the
breaches and the coverage table, and writes the verdict (JSON and JUnit XML). Every project that
installs the package loads this module, so it imports nothing of the package until it is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.clientgate.session import ClientSandbox

URL_ENV = "CONFORMANCE_CLIENTGATE_URL"
OUTPUT_KEY = "conformance_clientgate"


class _Gate:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.sandbox: ClientSandbox | None = None
        self.parts: list[dict[str, Any]] = []
        self.urls: set[str] = set()
        self.verdict: dict[str, Any] | None = None
        self.files: tuple[Path, Path] | None = None
        self.error: str | None = None

    def url(self) -> str | None:
        from conformance.settings import environment_value

        return self.config.getoption("clientgate_url") or environment_value(URL_ENV)

    def collect(self) -> None:
        """Take what this process's sandbox saw, once, and stop it."""
        if self.sandbox is None:
            return
        sandbox, self.sandbox = self.sandbox, None
        # Stop first: the server lets requests still in flight (a revoke the client gave up on) finish.
        sandbox.close()
        if sandbox.judge is not None:
            self.parts.append(sandbox.judge.part())
        else:
            self.urls.add(sandbox.base_url)

    @property
    def used(self) -> bool:
        return bool(self.parts or self.urls)


GATE = pytest.StashKey[_Gate]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clientgate", "judge a client library against the conformance sandbox")
    group.addoption(
        "--clientgate", action="store_true", default=False, help="gate this session even if no test uses the fixture"
    )
    group.addoption(
        "--clientgate-url",
        default=None,
        help=f"use a running `conformance serve --judge-client` at this URL instead of an in-process one (env {URL_ENV})",
    )
    group.addoption(
        "--clientgate-verdict",
        default="clientgate-verdict.json",
        help="where the verdict JSON goes; the JUnit XML is written beside it with .xml (default: %(default)s)",
    )
    group.addoption(
        "--clientgate-min-coverage",
        type=float,
        default=None,
        help="fail the session when fewer than this percentage of the documented vendor behaviours were produced",
    )


def pytest_configure(config: pytest.Config) -> None:
    minimum = config.getoption("clientgate_min_coverage")
    if minimum is not None and not 0 <= minimum <= 100:
        raise pytest.UsageError(
            f"--clientgate-min-coverage {minimum} is not a percentage; give a number from 0 to 100."
        )
    config.stash[GATE] = _Gate(config)


@pytest.fixture(scope="session")
def conformance_sandbox(request: pytest.FixtureRequest) -> Iterator[ClientSandbox]:
    """A judged reference sandbox: ``base_url``, ``credentials`` and ``control`` (a typed control API client)."""
    from conformance.clientgate.session import connect, start_in_process

    gate = request.config.stash[GATE]
    url = gate.url()
    gate.sandbox = connect(url) if url else start_in_process()
    yield gate.sandbox
    gate.collect()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: each worker hands its part of the verdict to the controller."""
    gate = node.config.stash.get(GATE, None)
    raw = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
    if gate is not None and raw:
        payload = json.loads(raw)
        gate.parts.extend(payload["parts"])
        gate.urls.update(payload["urls"])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    gate = config.stash.get(GATE, None)
    if gate is None:
        return
    gate.collect()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        if gate.used:
            workeroutput[OUTPUT_KEY] = json.dumps({"parts": gate.parts, "urls": sorted(gate.urls)})
        return
    if gate.url() and config.getoption("clientgate"):
        gate.urls.add(gate.url() or "")
    if not gate.used and not config.getoption("clientgate"):
        return
    _finish(session, gate)


def _finish(session: pytest.Session, gate: _Gate) -> None:
    from conformance.clientgate.session import fetch_part
    from conformance.clientgate.verdict import build_verdict, merge_parts, write_verdict
    from conformance.errors import ConformanceError

    try:
        # A server judged every worker's traffic: ask it once, or each worker's share would count twice.
        parts = gate.parts + [fetch_part(url.rstrip("/")) for url in sorted(gate.urls)]
    except ConformanceError as exc:
        # No verdict rather than a partial one: the gate could not see all the traffic.
        gate.error = str(exc)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    verdict = build_verdict(merge_parts(parts), min_coverage=session.config.getoption("clientgate_min_coverage"))
    path = Path(session.config.getoption("clientgate_verdict"))
    if not path.is_absolute():
        path = session.config.invocation_params.dir / path
    gate.verdict, gate.files = verdict, write_verdict(verdict, path)
    if not verdict["passed"] and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    gate = config.stash.get(GATE, None)
    if gate is not None and gate.error is not None:
        terminalreporter.section("conformance client gate")
        terminalreporter.write_line(f"no verdict written: {gate.error}")
    if gate is None or gate.verdict is None:
        return
    from conformance.clientgate.verdict import render

    terminalreporter.section("conformance client gate")
    terminalreporter.write_line(render(gate.verdict))
    if gate.files:
        terminalreporter.write_line(f"verdict: {gate.files[0]} and {gate.files[1]}")
