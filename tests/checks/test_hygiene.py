"""The hygiene table names real built-in checks, real APIs and a reason for each entry."""

from __future__ import annotations

import re

from schemathesis.checks import CHECKS, load_all_checks

from conformance.apis import APIS
from conformance.checks.hygiene import HYGIENE, NOT_RUN, hygiene_id, hygiene_reason


def test_every_entry_names_a_built_in_check_and_known_apis() -> None:
    load_all_checks()
    builtins = {check.__name__ for check in CHECKS.get_all()}
    for entry in HYGIENE:
        assert entry.check in builtins
        assert set(entry.apis) <= set(APIS)
        assert len(entry.reason) > 40
    assert set(NOT_RUN) <= builtins


def test_one_entry_per_check_and_api() -> None:
    pairs = [(entry.check, api) for entry in HYGIENE for api in entry.apis]
    assert len(pairs) == len(set(pairs))


def test_hygiene_ids_have_the_rule_id_shape() -> None:
    assert hygiene_id("negative_data_rejection") == "HYGIENE-NEGATIVE-DATA-REJECTION"
    assert re.fullmatch(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$", hygiene_id("status_code_conformance"))


def test_checks_outside_the_table_are_findings() -> None:
    assert hygiene_reason("response_schema_conformance", "thanx") is None
    assert hygiene_reason("not_a_server_error", "capillary-rewards") is None
    assert hygiene_reason("status_code_conformance", "juspay") is None
    assert hygiene_reason("negative_data_rejection", "capillary-rewards") is not None
