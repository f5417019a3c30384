"""Generated cases for every operation of capillary-rewards, one pytest item per operation."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.context import ScenarioContext
from conformance.suite.properties.support import load_schema, property_test, run_case

pytestmark = pytest.mark.conformance
API = "capillary-rewards"
schema = load_schema(API)


@property_test(schema)
def test_capillary_rewards(case: Any, ctx: ScenarioContext) -> None:
    run_case(ctx, API, case)
