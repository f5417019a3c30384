"""Property-layer setup: seed and target from the run's settings, frozen generation inputs."""

from __future__ import annotations

import hypothesis.internal.conjecture.providers as _providers
import pytest
from hypothesis.internal.constants_ast import Constants

from conformance.stash import SETTINGS_KEY
from conformance.suite.properties import support

# Hypothesis draws ~5% of literals from the constants of every local module in sys.modules, so
# editing any project file would change generated data for the same seed. Freeze the pool (an
# internal hook, verified on hypothesis 6.170.15 — re-check on upgrade).
_providers._get_local_constants = lambda: Constants()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    support.configure(config.stash[SETTINGS_KEY])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Replayed property items name their operation as Schemathesis' items do (Allure's feature label)."""
    from schemathesis.schemas import APIOperation

    for item in items:
        callspec = getattr(item, "callspec", None)
        operation = callspec.params.get("case") if callspec is not None else None
        if isinstance(operation, APIOperation) and not hasattr(item, "operation_label"):
            item.operation_label = operation.label  # type: ignore[attr-defined]
