"""A toy sixth API, added by touching only what ARCHITECTURE.md's "Adding an API" lists.

Its own files (a spec, a rule file, a check, its provisioning) live here; its registrations are its
descriptor and its check. Nothing else in the suite is told about it, yet it is selectable, its rules
are in the catalogue and the matrix, its checks judge its exchanges, auth, credentials, rate limit and
rejection come from the descriptor, and its own provisioner protocol serves a scenario's context, the
manifest, the doctor, touched.json, the plan and the drift audit.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from conformance import apis
from conformance.apis import SPECS_DIR, Api, api_named_in, api_of_rule, get_api, parse_api_list, register_api
from conformance.checks import registry
from conformance.checks.judge import Judge
from conformance.context import ScenarioContext
from conformance.drift.judge import code_pointer, error_codes
from conformance.errors import PreconditionUnavailable, UsageError
from conformance.findings import Finding
from conformance.http.auth import auth_headers
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor
from conformance.live import doctor
from conformance.live.plan import is_destructive
from conformance.live.touched import touched_entry
from conformance.provisioners.base import ApiProvisioner, Creation, Preflight, Provisioning, Section
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Ledger, Listed, ManifestStock, load_manifest
from conformance.provisioners.registry import provisioning_of, state_reader
from conformance.pytest_plugin import item_api
from conformance.reporting.matrix import build_matrix
from conformance.rules import load_catalogue
from conformance.settings import Settings
from conformance.suite.properties.outcomes import documented_rejection
from conformance.targets import Target
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
    provisioning=__name__,
    probe=("GET", "/vouchers/probe"),
    error_codes="/problems/*/id",
    resource_path="/vouchers/{id}/void",
)


# Its provisioning: its protocol, the kinds it implements, its manifest section, its read and its setup calls.
@dataclass(frozen=True)
class Voucher:
    id: str
    owner: str


class VouchersProvisioner(ApiProvisioner):
    api = KEY

    def voucher(self, state: str = "ISSUED") -> Voucher:
        raise self.unavailable(f"toy voucher {state}")


class ControlVouchers(Controlled, VouchersProvisioner):
    def voucher(self, state: str = "ISSUED") -> Voucher:
        body = self.control.call("POST", "/toy/vouchers", {"state": state})
        return Voucher(body["id"], body["owner"])


class VoucherEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    owner: str


VOUCHERS = Section("toy_vouchers", VoucherEntry, "toy voucher", "id", "owner", ("ISSUED", "VOID"))


class ManifestVouchers(Listed, VouchersProvisioner):
    def voucher(self, state: str = "ISSUED") -> Voucher:
        entry = self.take(VOUCHERS, state)
        return Voucher(entry.id, entry.owner)


def voucher_state(client: ApiClient, voucher_id: str, owner: str) -> str | None:
    body = client.call("GET", f"/vouchers/{voucher_id}", params={"owner": owner}, phase="setup").json()
    return str(body["state"]) if isinstance(body, dict) and "state" in body else None


def voucher_scope(client: ApiClient, setup: Mapping[str, str]) -> tuple[bool | None, str]:
    answer = client.call("GET", "/vouchers/scope", phase="control")
    return answer.status == 200, f"the scoped read answered HTTP {answer.status}"


PROVISIONING = Provisioning(
    VouchersProvisioner,
    kinds=(ControlVouchers, ManifestVouchers),
    sections=(VOUCHERS,),
    read_state=voucher_state,
    creations=(
        Creation("voucher", control_route="/toy/vouchers", manifest_kind="toy voucher", default_state="ISSUED"),
    ),
    preflight=(Preflight("voucher scope", voucher_scope),),
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


def exchange(
    status: int,
    body: dict[str, Any],
    *,
    api: str = KEY,
    operation: str = OPERATION,
    method: str = "POST",
    path: str = "/vouchers/v-1/void",
) -> Exchange:
    request = httpx.Request(method, f"http://127.0.0.1:1{path}", json={})
    response = httpx.Response(status, json=body, request=request)
    return Exchange(api=api, operation=operation, phase="test", request=request, response=response, redactor=Redactor())


class FakeClient:
    """Answers by path, as a toy server would; remembers what was sent."""

    def __init__(self, answers: dict[str, tuple[int, dict[str, Any]]]) -> None:
        self.api = KEY
        self.base_url = "http://127.0.0.1:1"
        self.answers = answers
        self.sent: list[tuple[str, str, Any]] = []

    def call(self, method: str, path: str, **kwargs: Any) -> Exchange:
        self.sent.append((method, path, kwargs.get("json")))
        status, body = self.answers.get(path, (404, {}))
        return exchange(status, body, api=str(kwargs.get("operation", KEY)), method=method, path=path)


def fake(client: FakeClient) -> ApiClient:
    return cast(ApiClient, client)


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


def toy_context(client: FakeClient, settings: Settings) -> ScenarioContext:
    target = SimpleNamespace(settings=settings, run_id="run-1", client=lambda *_a, **_k: fake(client))
    recorder = Recorder("scenarios/test_toy_vouchers.py::t", {}, lambda _exchange: "reference")
    return ScenarioContext(cast(Target, target), "tenant-1", recorder)


def test_the_toy_brings_its_own_provisioner_protocol_to_a_scenarios_context(toy: Path) -> None:
    assert provisioning_of(KEY).protocol is VouchersProvisioner
    control = FakeClient(
        {"/_sandbox/toy/vouchers": (201, {"id": "v-7", "owner": "o-1"}), "/_sandbox/faults": (200, {})}
    )
    ctx = toy_context(control, Settings(provisioner="control"))
    provisioner = ctx.provisioner(VouchersProvisioner)
    assert isinstance(provisioner, ControlVouchers)
    assert provisioner.voucher() == Voucher("v-7", "o-1")
    provisioner.fault("delay", delay_ms=5)
    assert control.sent[-1] == ("POST", "/_sandbox/faults", {"api": KEY, "kind": "delay", "delay_ms": 5})
    # The toy implements no vendor kind: on a vendor target each capability skips, naming itself.
    vendor_ctx = toy_context(FakeClient({}), Settings(provisioner="vendor"))
    with pytest.raises(PreconditionUnavailable, match=r"toy voucher ISSUED.*vendor provisioner"):
        vendor_ctx.provisioner(VouchersProvisioner).voucher()


def test_the_toy_manifest_section_is_validated_handed_out_once_and_read_before_use(toy: Path, tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("toy_vouchers:\n  ISSUED:\n    - {id: v1, owner: o1}\n    - {id: v2, owner: o1}\n")
    manifest = load_manifest(path)
    assert manifest.ids_by_kind()["toy voucher ISSUED"] == ["v1", "v2"]
    assert list(doctor.manifest_ids(manifest)) == [
        (KEY, "toy voucher ISSUED", "v1", "ISSUED", "o1"),
        (KEY, "toy voucher ISSUED", "v2", "ISSUED", "o1"),
    ]
    client = FakeClient({"/vouchers/v1": (200, {"state": "VOID"}), "/vouchers/v2": (200, {"state": "ISSUED"})})
    ledger = Ledger(tmp_path / "ledger.jsonl")
    stock = ManifestStock(manifest, ledger, "scenarios/t", state_reader(lambda _api: fake(client)))
    assert ManifestVouchers(stock).voucher().id == "v2"
    assert [e["id"] for e in ledger.stale_entries()] == ["toy voucher ISSUED:v1"]
    (tmp_path / "bad.yaml").write_text("toy_vouchers:\n  LOST: []\n")
    with pytest.raises(UsageError, match="state 'LOST'; allowed: ISSUED, VOID"):
        load_manifest(tmp_path / "bad.yaml")
    (tmp_path / "unknown.yaml").write_text("toy_coupons: []\n")
    with pytest.raises(UsageError, match=r"toy_vouchers \(by state, entries \{id, owner\}\)"):
        load_manifest(tmp_path / "unknown.yaml")


def test_the_doctor_touched_and_drift_look_the_toy_up(toy: Path) -> None:
    client = FakeClient({"/vouchers/probe": (200, {}), "/vouchers/scope": (403, {})})
    rows = list(doctor.probe(fake(client), KEY))
    assert [(row.what, row.ok) for row in rows] == [("host answers", True), ("credentials accepted", True)]
    assert client.sent[0][:2] == ("GET", "/vouchers/probe")
    scope = list(doctor.api_reads(fake(client), KEY, Settings()))
    assert [(row.api, row.what, row.ok) for row in scope] == [(KEY, "voucher scope", False)]

    assert is_destructive(OPERATION, b"{}")
    revoked = touched_entry(exchange(200, {"state": "VOID"}), "run-1")
    assert revoked is not None
    assert (revoked["action"], revoked["api"], revoked["resource"], revoked["outcome"]) == (
        "revoked",
        KEY,
        "v-1",
        "succeeded",
    )
    creation = exchange(
        201, {"id": "v-9"}, api="control", operation="control /toy/vouchers", path="/_sandbox/toy/vouchers"
    )
    made = touched_entry(creation, "run-1")
    assert made is not None
    assert (made["action"], made["api"], made["kind"], made["resource"]) == ("created", KEY, "voucher", "v-9")

    assert error_codes(KEY, {"problems": [{"id": "V1"}, {"id": "V2"}, "noise"]}) == ["V1", "V2"]
    assert code_pointer(KEY) == "/problems/*/id"
