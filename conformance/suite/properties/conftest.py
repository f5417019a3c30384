"""Property-layer setup: seed and target from the run's settings, frozen generation inputs, success reach."""

from __future__ import annotations

from typing import Any

import hypothesis.internal.conjecture.providers as _providers
import pytest
from hypothesis.internal.constants_ast import Constants

from conformance.stash import SETTINGS_KEY, worker_name
from conformance.suite.properties import outcomes, support

# Hypothesis draws ~5% of literals from the constants of every local module in sys.modules, so
# editing any project file would change generated data for the same seed. Freeze the pool (an
# internal hook, verified on hypothesis 6.170.15 — re-check on upgrade).
_providers._get_local_constants = lambda: Constants()

RUN_ID_KEY = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    support.configure(config.stash[SETTINGS_KEY])
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    settings = config.stash[SETTINGS_KEY]
    config.stash[RUN_ID_KEY] = str(workerinput["testrunuid"]) if workerinput else outcomes.new_run_id(settings.run_id)
    if workerinput is None:
        # The controller (or a serial run) starts before any worker: drop the previous run's figures.
        outcomes.clear(config.stash[SETTINGS_KEY].report_dir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Replayed property items name their operation as Schemathesis' items do (Allure's feature label)."""
    from schemathesis.schemas import APIOperation

    for item in items:
        callspec = getattr(item, "callspec", None)
        operation = callspec.params.get("case") if callspec is not None else None
        if isinstance(operation, APIOperation) and not hasattr(item, "operation_label"):
            item.operation_label = operation.label  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    outcomes.LEDGER.write(config.stash[SETTINGS_KEY].report_dir, worker_name(config), config.stash[RUN_ID_KEY])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if worker_name(config) != "main":
        return
    path = config.stash[SETTINGS_KEY].report_dir / "success-reach.json"
    if not path.is_file():
        return
    terminalreporter.write_sep("=", "property success reach (positive revoke cases reaching the vendor's success)")
    for line in outcomes.render(path):
        terminalreporter.write_line(line)
