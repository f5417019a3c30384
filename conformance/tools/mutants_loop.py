"""The mutation run inside one pytest process: collect the suite once, try every deviation on it.

Loaded with ``-p conformance.tools.mutants_loop`` by :mod:`conformance.tools.mutants`. The session
first runs every collected test against the faithful sandbox, exactly as ``conformance run`` does (its
collector writes that run's ``conformance.json``). Then, with the run's collectors set aside, for each
deviation it gives the running sandbox that deviation (every tenant forgotten, as in a fresh sandbox)
and runs again only the tests that judged the deviation's rule in the faithful part (all the tests of
the deviation's API when none did). Each deviation's reports are judged on their own, as a matrix of
their own, and written to ``--mutants-out`` as JSON. A deviation that survives here is tried again in
a fresh process by the caller, so a result of this loop can only ever be confirmed, never trusted alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.files import write_text_atomic
from conformance.pytest_plugin import item_api
from conformance.reporting.matrix import Matrix
from conformance.reporting.outcome import RunState, decide
from conformance.reporting.run import RunCollector
from conformance.rules import active_rules
from conformance.sandbox import redeviate
from conformance.sandbox.deviations import DEVIATIONS
from conformance.stash import SETTINGS_KEY

CAUGHT = ("violated", "violated-inferred")
# The run's own report consumers: they see the faithful part only, so its outputs are that run's.
SET_ASIDE = ("conformance-collector", "conformance-success-reach")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance mutants")
    group.addoption("--mutants-deviations", default="", help="comma-separated deviations to try after the run")
    group.addoption("--mutants-out", default=None, help="where the deviations' results go (JSON)")


def pytest_configure(config: pytest.Config) -> None:
    out = config.getoption("mutants_out")
    if out:
        names = [name for name in str(config.getoption("mutants_deviations")).split(",") if name]
        config.pluginmanager.register(Loop(config, Path(out), names), "conformance-mutants-loop")


class Bucket:
    """The reports of one pass (the faithful one, or one deviation's), collected as the run's collector does."""

    def __init__(self, config: pytest.Config) -> None:
        self.collector = RunCollector(config, config.stash[SETTINGS_KEY], RunState(), suite_run=True)
        self.error = ""

    def add(self, report: pytest.TestReport) -> None:
        self.collector.pytest_runtest_logreport(report)

    @property
    def failed(self) -> bool:
        return any(outcome.outcome in ("failed", "error") for outcome in self.collector.data.outcomes.values())

    def matrix(self) -> Matrix:
        return self.collector.build(active_rules())


class Loop:
    def __init__(self, config: pytest.Config, out: Path, deviations: list[str]) -> None:
        self.config = config
        self.out = out
        self.deviations = deviations
        self.bucket: Bucket | None = None
        self.sandbox: Any = None
        self.current: str | None = None

    def _next_bucket(self) -> Bucket:
        """The reports so far; later reports go to a new bucket."""
        done, self.bucket = self.bucket, Bucket(self.config)
        assert done is not None
        return done

    def _current_bucket(self) -> Bucket:
        assert self.bucket is not None
        return self.bucket

    def pytest_sessionstart(self) -> None:
        self.bucket = Bucket(self.config)  # the run's settings are known from here on

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.bucket is not None:
            self.bucket.add(report)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        target = (getattr(item, "funcargs", None) or {}).get("conformance_target")
        if target is not None:
            if self.sandbox is None:
                self.sandbox = target.sandbox
            if target.sandbox is not self.sandbox or getattr(target.sandbox, "deviation", None) != self.current:
                # The session's sandbox was started again (its fixtures torn down): this run proves nothing.
                self._current_bucket().error = (
                    f"{item.nodeid} ran against a sandbox without the deviation {self.current}"
                )
        return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
        items = list(session.items)
        # The faithful part keeps the session's fixtures up (the sandbox above all) for what follows.
        self._run(session, items, keep_up=bool(self.deviations))
        judged = tests_by_rule(self._next_bucket().matrix())
        plugins = session.config.pluginmanager
        aside = [(name, plugins.unregister(name=name)) for name in SET_ASIDE if plugins.get_plugin(name)]
        results: dict[str, Any] = {}
        try:
            for index, name in enumerate(self.deviations):
                last = index == len(self.deviations) - 1
                results[name] = self._try(session, name, chosen_items(items, name, judged), keep_up=not last)
                if session.shouldstop or session.shouldfail:
                    break
        finally:
            for name, plugin in aside:
                plugins.register(plugin, name)
            if self.sandbox is not None:
                redeviate(self.sandbox, None)  # the session's teardown finds the sandbox as it started
        write_text_atomic(self.out, json.dumps({"deviations": results}, indent=1) + "\n")
        return True

    def _run(self, session: pytest.Session, items: list[pytest.Item], *, keep_up: bool) -> None:
        """Run ``items``; ``keep_up`` keeps the session's fixtures (the sandbox) up after the last one."""
        if items:
            # The item run before was told another next item: tear down what this one does not share.
            session._setupstate.teardown_exact(items[0])
        for index, item in enumerate(items):
            nextitem = items[index + 1] if index + 1 < len(items) else None
            if nextitem is None and keep_up:
                # pytest tears down what the next item does not share; never the item itself, or it is
                # not set up again when it runs next.
                nextitem = next((other for other in session.items if other is not item), None)
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            if session.shouldfail or session.shouldstop:
                raise session.Interrupted(str(session.shouldfail or session.shouldstop))

    def _try(self, session: pytest.Session, name: str, items: list[pytest.Item], *, keep_up: bool) -> Any:
        if self.sandbox is None:
            return {"error": "no reference sandbox was started by the faithful part"}
        redeviate(self.sandbox, name)
        self.current = name
        started = time.monotonic()
        try:
            self._run(session, items, keep_up=keep_up)
        finally:
            self.current = None
        bucket = self._next_bucket()
        if bucket.error:
            return {"error": bucket.error}
        matrix = bucket.matrix()
        final = decide(int(bucket.failed), matrix, RunState(), None, min_index=None)
        return {
            "verdicts": {row.rule_id: row.verdict for row in matrix.rows if row.verdict != "untested"},
            "exit_code": final.code,
            "seconds": round(time.monotonic() - started, 2),
            "tests": [item.nodeid for item in items],
            "defects": list(matrix.tests.defects),
        }


def tests_by_rule(matrix: Matrix) -> dict[str, list[str]]:
    return {row.rule_id: list(row.tests) for row in matrix.rows if row.tests}


def chosen_items(items: list[pytest.Item], deviation: str, judged: dict[str, list[str]]) -> list[pytest.Item]:
    """The tests that judged the deviation's rule in the faithful part; else every test of its API."""
    wanted = set(judged.get(DEVIATIONS[deviation].rule_id) or ())
    if wanted:
        return [item for item in items if item.nodeid in wanted]
    return [item for item in items if item_api(item) == DEVIATIONS[deviation].api]
