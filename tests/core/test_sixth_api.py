"""A toy sixth API, added by touching only what ARCHITECTURE.md's "Adding an API" lists.

Its own files (a spec, a rule file, a check) live here; its registrations are its descriptor and its
check. Nothing else in the suite is told about it, yet it is selectable, its rules are in the
catalogue and the matrix, its checks judge its exchanges, and auth, credentials, rate limit and
rejection come from the descriptor.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml

from conformance import apis
from conformance.apis import SPECS_DIR, Api, api_named_in, api_of_rule, get_api, parse_api_list, register_api
from conformance.checks import registry
from conformance.checks.judge import Judge
from conformance.findings import Finding
from conformance.http.auth import auth_headers
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor
from conformance.pytest_plugin import item_api
from conformance.reporting.matrix import build_matrix
from conformance.rules import load_catalogue
from conformance.suite.properties.outcomes import documented_rejection
from conformance.verdicts import Recorder

KEY, OPERATION = "toy-vouchers", "voidVoucher"
PAGE = "toy-vouchers-void.md"
QUOTE = "A voided voucher is answered with its state VOID."

TOY = Api(
    key=KEY,
    title="Toy vouchers: void voucher",
    vendor="toy",
    revoke_operation=OPERATION,
    rule_prefix="TOY",
    auth_scheme="bearer-client-id",
    credentials=(("access_token", "client_id"),),
    rate_limit=2.0,
    rejection="http-4xx",
    checks=__name__,
)

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Toy vouchers", "version": "1"},
    "paths": {
        "/vouchers/{id}/void": {
            "post": {
                "operationId": OPERATION,
                "responses": {
                    "200": {
                        "description": "The voided voucher.",
                        "x-source": {"page": PAGE, "section": "Response"},
                        "x-source-quote": QUOTE,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["state"],
                                    "properties": {"state": {"type": "string", "enum": ["VOID"]}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}
RULES: dict[str, Any] = {
    "api": KEY,
    "spec": f"{KEY}.yaml",
    "rules": [
        {
            "id": "TOY-VOID-STATE",
            "claim": "A void answers the voucher in state VOID.",
            "kind": "transition",
            "confidence": "documented",
            "operation": OPERATION,
            "source": {"page": PAGE, "section": "Response"},
            "quote": QUOTE,
        }
    ],
}


def toy_void_answers_void(exchange: Exchange, judge: Judge) -> None:
    """A void answers the voucher in state VOID."""
    body = exchange.json()
    state = body.get("state") if isinstance(body, dict) else None
    judge.verdict("TOY-VOID-STATE", ok=state == "VOID", received=state, documented="VOID", exchange=exchange)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Register the toy API and its check; return a specs directory holding the five APIs and the toy."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    (specs / f"{KEY}.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    (specs / "rules" / f"{KEY}.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    registry.load_all()
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))
    register_api(TOY)
    try:
        registry.check(api=KEY, operations=[OPERATION], rules=["TOY-VOID-STATE"])(toy_void_answers_void)
        yield specs
    finally:
        del apis.APIS[KEY]


def exchange(status: int, body: dict[str, Any]) -> Exchange:
    request = httpx.Request("POST", "http://127.0.0.1:1/vouchers/v-1/void")
    response = httpx.Response(status, json=body, request=request)
    return Exchange(api=KEY, operation=OPERATION, phase="test", request=request, response=response, redactor=Redactor())


class _Marker:
    def __init__(self, *args: str) -> None:
        self.args = args


class _Item:
    """The two things item_api reads of a collected test: its rules markers and its node id."""

    def __init__(self, nodeid: str, rules: tuple[str, ...] = ()) -> None:
        self.nodeid = nodeid
        self.rules = rules

    def iter_markers(self, name: str) -> list[_Marker]:
        return [_Marker(*self.rules)] if name == "rules" and self.rules else []


def test_the_toy_api_is_selectable(toy: Path) -> None:
    assert parse_api_list(KEY) == [KEY]
    assert KEY in parse_api_list(None)
    assert api_of_rule("TOY-VOID-STATE") == KEY
    assert api_named_in("conformance/suite/scenarios/test_toy_vouchers.py::test_void") == KEY
    assert item_api(cast(pytest.Item, _Item("suite/test_anything.py::t", ("TOY-VOID-STATE",)))) == KEY
    assert item_api(cast(pytest.Item, _Item("suite/properties/test_toy_vouchers.py::t"))) == KEY


def test_a_second_api_with_the_same_rule_prefix_is_refused(toy: Path) -> None:
    with pytest.raises(ValueError, match="TOY"):
        register_api(Api(**{**TOY.__dict__, "key": "toy-other"}))


def test_the_toy_rules_are_in_the_catalogue_and_the_matrix(toy: Path) -> None:
    catalogue = load_catalogue(toy)
    assert catalogue["TOY-VOID-STATE"].api == KEY
    assert catalogue["TOY-SCHEMA-REVOKE-200"].api == KEY
    assert {"BADGE", "POINTS", "REWARDS", "THANX", "JUSPAY"} <= {rid.split("-")[0] for rid in catalogue}
    recorder = Recorder("tests::toy", catalogue, lambda _exchange: "reference")
    registry.run_checks(exchange(200, {"state": "VOID"}), recorder)
    matrix = build_matrix(catalogue, recorder.records, {"tests::toy": ["TOY-VOID-STATE"]}, target="reference", seed=0)
    rows = {row.rule_id: row for row in matrix.rows if row.api == KEY}
    assert set(rows) == {"TOY-VOID-STATE", "TOY-SCHEMA-REVOKE-200"}
    assert rows["TOY-VOID-STATE"].verdict == "verified"
    assert rows["TOY-SCHEMA-REVOKE-200"].verdict == "untested"
    assert KEY in matrix.apis
    assert matrix.totals[KEY].verified == 1


def test_the_toy_check_judges_its_exchanges_and_a_broken_answer_is_a_finding(toy: Path) -> None:
    catalogue = load_catalogue(toy)
    assert [c.name for c in registry.checks_for(exchange(200, {}))] == ["toy_void_answers_void"]
    recorder = Recorder("tests::toy", catalogue, lambda _exchange: "reference")
    with pytest.raises(Finding, match="TOY-VOID-STATE"):
        registry.run_checks(exchange(200, {"state": "ACTIVE"}), recorder)
    assert [(r.rule_id, r.status) for r in recorder.records] == [("TOY-VOID-STATE", "violated")]


def test_auth_credentials_and_rejection_come_from_the_descriptor(toy: Path) -> None:
    headers = auth_headers(KEY, {"access_token": "t0k", "client_id": "c1"})
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["X-ClientId"] == "c1"
    assert get_api(KEY).missing_credentials({"client_id": "c1"}) == ["access_token"]
    assert apis.default_rate_limits()["toy"] == 2.0
    assert documented_rejection(KEY, OPERATION, exchange(404, {}))
    assert not documented_rejection(KEY, OPERATION, exchange(200, {"state": "VOID"}))
