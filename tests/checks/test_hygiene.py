"""The hygiene table names real built-in checks, real APIs and a reason for each entry."""

from __future__ import annotations

import datetime
import re

import pytest
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


def test_checks_outside_the_table_fail_the_test() -> None:
    assert hygiene_reason("response_headers_conformance", "thanx") is None
    assert hygiene_reason("use_after_free", "juspay") is None
    # Juspay documents the statuses of what it describes: an answer outside them is drift, judged by drift.
    assert hygiene_reason("status_code_conformance", "juspay") is None
    assert hygiene_reason("missing_required_header", "capillary-points") is None
    assert hygiene_reason("negative_data_rejection", "capillary-rewards") is not None


@pytest.mark.parametrize("api", sorted(APIS))
def test_what_no_page_promises_is_hygiene_on_every_api(api: str) -> None:
    # A foreign server answering a generated request with a 5xx or an undocumented media type, or a setup
    # operation's body of another shape, breaks no documented claim: never a defect of the suite (exit 4).
    for check in ("not_a_server_error", "content_type_conformance", "response_schema_conformance"):
        assert hygiene_reason(check, api) is not None, check


def test_every_required_header_the_client_does_not_own_has_an_entry() -> None:
    from conformance import yamlcache
    from conformance.suite.properties.support import AUTH_HEADERS

    for api in APIS:
        spec = yamlcache.load_path(APIS[api].spec_path)
        components = (spec.get("components") or {}).get("parameters") or {}
        for item in spec["paths"].values():
            for operation in item.values():
                if not isinstance(operation, dict):
                    continue
                for parameter in operation.get("parameters") or []:
                    if "$ref" in parameter:
                        parameter = components[parameter["$ref"].rsplit("/", 1)[-1]]
                    required_header = parameter.get("in") == "header" and parameter.get("required")
                    if required_header and parameter["name"].lower() not in AUTH_HEADERS:
                        assert hygiene_reason("missing_required_header", api) is not None, (api, parameter["name"])


def test_a_server_error_on_a_generated_case_is_recorded_as_hygiene_not_failed() -> None:
    from conformance.suite.properties import support
    from tests.checks.exchanges import make_exchange, recorder

    schema = support.load_schema("juspay")
    operation = schema.find_operation_by_label("POST /mandates/{mandate_id}")
    case = operation.Case(path_parameters={"mandate_id": "m1"}, body={"command": "revoke"})
    exchange = make_exchange("juspay", "mandateCommand", path="/mandates/m1", status=503, raw=b"<html>busy</html>")
    assert exchange.response is not None
    exchange.response.headers["content-type"] = "text/html"
    exchange.response.elapsed = datetime.timedelta(milliseconds=3)  # what a sent request's answer carries
    with recorder() as rec:
        judgement = support.judge_builtin(case, exchange, documented_rejection=False)
    assert judgement.failures == []
    assert "not_a_server_error" in judgement.hygiene
    assert "HYGIENE-NOT-A-SERVER-ERROR" in {record.rule_id for record in rec.records}


def test_an_undocumented_juspay_status_is_hygiene_only_for_a_request_that_broke_its_schema() -> None:
    from conformance.suite.properties import support
    from tests.checks.exchanges import make_exchange, recorder

    schema = support.load_schema("juspay")
    operation = schema.find_operation_by_label("POST /mandates/{mandate_id}")
    case = operation.Case(path_parameters={"mandate_id": "m1"}, body={"command": "revoke"})
    for negative, failed in ((True, False), (False, True)):
        exchange = make_exchange("juspay", "mandateCommand", path="/mandates/m1", status=422, body={"error": "x"})
        assert exchange.response is not None
        exchange.response.elapsed = datetime.timedelta(milliseconds=3)
        with recorder():
            judgement = support.judge_builtin(case, exchange, documented_rejection=False, negative=negative)
        assert any(f.startswith("status_code_conformance") for f in judgement.failures) is failed
        assert ("status_code_conformance" in judgement.hygiene) is not failed
