"""Scenario-layer hook: the observer's findings are raised once the scenario has judged its own rules.

A registered check judges every answer as it arrives; a scenario then judges its own rules on the same
answer (BADGE-RESPONSE-CUSTOMERID-NUMERIC after BADGE-SCHEMA-REVOKE-200 judged the body). Raising the
check's finding at once would stop the scenario before its judge recorded anything, so the context defers
it to the end of the test function. A scenario that then crashes on the malformed answer reports the
violation, not a defect of the suite.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from conformance.context import ScenarioContext
from conformance.findings import Finding


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    ctx = pyfuncitem.funcargs.get("ctx")
    if not isinstance(ctx, ScenarioContext):
        return (yield)
    ctx.defer_check_findings = True
    try:
        result = yield
    except Finding as own:
        for other in ctx.pending:
            own.add_note(f"Also violated: {other.rule_id}")
        raise
    except Exception as crash:
        deferred = ctx.first_pending()
        if deferred is not None:
            raise deferred from crash
        raise
    deferred = ctx.first_pending()
    if deferred is not None:
        raise deferred
    return result
