"""Generated cases for every operation of juspay, one pytest item per operation."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.context import ScenarioContext
from conformance.suite.properties.support import load_schema, property_test, run_case

pytestmark = pytest.mark.conformance
API = "juspay"
schema = load_schema(API)


@property_test(schema)
def test_juspay(case: Any, ctx: ScenarioContext) -> None:
    run_case(ctx, API, case)
