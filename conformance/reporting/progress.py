"""Progress while the suite runs: one line per API as its last test completes, one line per long wait.

A pytest plugin (registered by :mod:`conformance.pytest_plugin`). It works the same with and without
pytest-xdist: each test's final report carries its API, how many tests that API has in the run, and the
(rule, status) pairs its test recorded, so the controller, which sees every report, counts and prints.
Long waits (:mod:`conformance.waits`) happen inside a test, where no report travels: a worker writes its
wait line straight to the stderr it shares with the controller, with capture suspended.

``--no-progress`` (``conformance run -q``) silences both.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest

from conformance import verdicts, waits
from conformance.apis import api_named_in, api_of_rule
from conformance.errors import InternalError

# A rule's standing so far: its worst recorded status (as in the matrix).
PRECEDENCE = ("violated", "violated-inferred", "verified", "skipped", "untested")
SHOWN = ("verified", "violated", "violated-inferred", "skipped")
RULES_KEY = pytest.StashKey[list[tuple[str, str]]]()
API_ATTR, TOTAL_ATTR, RULES_ATTR = "conformance_api", "conformance_api_tests", "conformance_rules"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption(
        "--no-progress",
        action="store_true",
        default=False,
        help="no progress lines (an API completed, a long wait); `conformance run -q`",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("no_progress", False):
        config.pluginmanager.register(Progress(config), "conformance-progress")


def api_of(item: pytest.Item) -> str | None:
    """The API a suite test exercises: from its first bound rule, else from its name."""
    if item.get_closest_marker("conformance") is None:
        return None
    for marker in item.iter_markers("rules"):
        for rule_id in marker.args:
            if api := api_of_rule(str(rule_id)):
                return api
    return api_named_in(item.nodeid)


def standing(statuses: list[str]) -> str:
    return min(statuses, key=lambda s: PRECEDENCE.index(s) if s in PRECEDENCE else len(PRECEDENCE))


class Progress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput = getattr(config, "workerinput", None)
        self.worker = str(workerinput["workerid"]) if workerinput else None
        self.totals: Counter[str] = Counter()
        self.expected: dict[str, int] = {}
        self.finished: Counter[str] = Counter()
        self.rules: dict[str, dict[str, list[str]]] = {}
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.unsubscribe = waits.subscribe(self.on_wait)

    def pytest_unconfigure(self) -> None:
        self.unsubscribe()

    # Where tests run (the only process without xdist, a worker with it).

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.totals = Counter(api for item in session.items if (api := api_of(item)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        # Before the fixtures are torn down the test's recorder is still the current one.
        rules: list[tuple[str, str]] = []
        with contextlib.suppress(InternalError):
            rules = [(r.rule_id, r.status) for r in verdicts.current().records]
        item.stash[RULES_KEY] = rules
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        api = api_of(item)
        if call.when == "teardown" and api is not None:
            # Plain attributes travel with the report from an xdist worker to the controller.
            setattr(report, API_ATTR, api)
            setattr(report, TOTAL_ATTR, self.totals[api])
            setattr(report, RULES_ATTR, [list(pair) for pair in item.stash.get(RULES_KEY, [])])
        return report

    # Where reports are seen (the controller).

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker is not None or report.when != "teardown":
            return
        api = getattr(report, API_ATTR, None)
        if not isinstance(api, str):
            return
        for rule_id, status in getattr(report, RULES_ATTR, None) or []:
            if rule_api := api_of_rule(rule_id):
                self.rules.setdefault(rule_api, {}).setdefault(rule_id, []).append(status)
        self.expected[api] = int(getattr(report, TOTAL_ATTR, 0) or 0)
        self.finished[api] += 1
        if self.finished[api] == self.expected[api]:
            self.write(self.api_line(api))

    def api_line(self, api: str) -> str:
        counts = Counter(standing(s) for s in self.rules.get(api, {}).values())
        shown = ", ".join(f"{counts[s]} {s}" for s in SHOWN if counts[s] or s != "violated-inferred")
        elapsed = time.monotonic() - self.started
        return f"{api}: done, {self.finished[api]} tests in {elapsed:.1f} s; rules so far: {shown}"

    def on_wait(self, wait: waits.Wait) -> None:
        self.write(wait.line())

    def write(self, line: str) -> None:
        with self.lock:
            capman: Any = self.config.pluginmanager.getplugin("capturemanager")
            with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
                if self.worker is not None:
                    sys.stderr.write(f"\n[{self.worker}] progress: {line}\n")
                    sys.stderr.flush()
                    return
                reporter: Any = self.config.pluginmanager.getplugin("terminalreporter")
                if reporter is None:
                    sys.stdout.write(f"progress: {line}\n")
                    return
                if reporter._tw.width_of_current_line:  # a line of pytest's dots is open
                    reporter._tw.line()
                reporter.write_line(f"progress: {line}")
