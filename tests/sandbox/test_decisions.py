"""Deviations are overrides of named decision points; the faithful handlers never ask for a deviation."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from conformance.sandbox import SETUP_PATHS, create_app
from conformance.sandbox.decide import POINTS, Choice, around, instead, point, resolve
from conformance.sandbox.deviant import OVERRIDES
from conformance.sandbox.deviations import DEVIATIONS
from conformance.sandbox.rewrites import REWRITES
from tests.sandbox.conftest import CAPILLARY

SANDBOX = Path(__file__).resolve().parents[2] / "conformance" / "sandbox"
OVERRIDING = {"deviant.py", "deviations.py", "alternate.py", "gaps.py", "decide.py", "rewrites.py"}
Serve = Callable[..., AbstractContextManager[httpx.Client]]


def test_each_deviation_overrides_the_one_point_its_row_names() -> None:
    assert set(OVERRIDES) == set(DEVIATIONS)
    for name, deviation in DEVIATIONS.items():
        assert deviation.point in POINTS, f"{name} names an unknown decision point {deviation.point!r}"
        assert OVERRIDES[name].point == deviation.point, name
    wire = {name for name, deviation in DEVIATIONS.items() if deviation.point == "web.answer"}
    assert wire == set(REWRITES)


def test_no_vendor_module_branches_on_a_deviation_name() -> None:
    for path in SANDBOX.glob("*.py"):
        if path.name in OVERRIDING:
            continue
        text = path.read_text(encoding="utf-8")
        assert ".deviates(" not in text, path.name
        named = [name for name in DEVIATIONS if f'"{name}"' in text]
        assert named == [], f"{path.name} mentions deviations {named}"


def test_every_gap_point_says_which_gap_it_decides() -> None:
    gaps = [p.gap for p in POINTS.values() if p.gap]
    assert all(re.fullmatch(r"[A-Z]+-GAP-[A-Z0-9-]+", gap) for gap in gaps), gaps
    assert len(gaps) >= 35


def test_an_around_override_wraps_the_profile_choice_and_an_instead_replaces_it() -> None:
    target = point("test.decision", gap="TEST-GAP-X")(lambda value: value + 1)
    try:
        profile = {"test.decision": instead(target, lambda value: value * 10)}
        assert resolve(profile, around(target, lambda base, value: -base(value)))["test.decision"](2) == -20
        assert resolve(profile, instead(target, lambda value: 0))["test.decision"](2) == 0
        assert resolve({}, None) == {}
        assert Choice("test.decision", abs).bind(lambda: None) is abs
    finally:
        del POINTS["test.decision"]


def test_a_deviation_breaks_its_rule_under_the_alternate_profile_too(serve: Serve) -> None:
    with serve(deviation="badges-unknown-earn-404", gap_profile="alternate") as http:
        made = http.post("/_sandbox/capillary/badges/earns", json={"active": False}).json()
        body = {key: made[key] for key in ("badgeMetaId", "customerId", "earnedBadgeId")}
        refused = http.post("/api_gateway/v1/badges/customer/revokeEarn", json=body, headers=CAPILLARY)
        # The alternate profile answers 814 with HTTP 404; the deviation's 815 still says something else.
        assert (refused.status_code, refused.json()["errors"][0]["code"]) == (404, 814)
    with serve(deviation="badges-second-revoke-other-code", gap_profile="alternate") as http:
        made = http.post("/_sandbox/capillary/badges/earns", json={"active": False}).json()
        body = {key: made[key] for key in ("badgeMetaId", "customerId", "earnedBadgeId")}
        refused = http.post("/api_gateway/v1/badges/customer/revokeEarn", json=body, headers=CAPILLARY)
        assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, 815)


def test_a_job_that_never_finishes_revoking_stays_revoking_even_when_advanced(serve: Serve) -> None:
    with serve(deviation="thanx-revocation-never-finishes") as http:
        made = http.post("/_sandbox/thanx/issuance_jobs", json={"state": "revoking"}).json()
        job = made["issuance_job"]["id"]
        assert http.post(f"/_sandbox/thanx/issuance_jobs/{job}/advance").json()["issuance_job"]["state"] == "revoking"


@pytest.mark.parametrize("vendor_setup", [True, False])
def test_vendor_setup_endpoints_can_be_switched_off_while_the_control_api_stays(
    serve: Serve, vendor_setup: bool
) -> None:
    paths = {getattr(route, "path", "") for route in create_app(vendor_setup=vendor_setup).routes}
    assert paths >= SETUP_PATHS | {"/v2/points/reverse", "/partner/campaigns/issue", "/_sandbox/thanx/campaigns"}
    with serve(vendor_setup=vendor_setup) as http:
        earn = http.post("/api_gateway/v1/badges/customer/earn", json={}, headers=CAPILLARY)
        assert (earn.status_code == 404) is not vendor_setup
        merchants = http.get("/partner/merchants")
        assert (merchants.status_code == 404 and merchants.text == "Not Found") is not vendor_setup
        made = http.post("/_sandbox/thanx/campaigns", json={})
        assert made.status_code == 201
        assert {"merchant_id", "campaign_id", "variant_id"} <= set(made.json())


def test_a_running_sandbox_takes_another_deviation_and_forgets_its_tenants() -> None:
    from conformance.sandbox import redeviate
    from conformance.sandbox.gaps import PROFILES

    state = create_app(seed=3, gap_profile="alternate").state.sandbox
    faithful = dict(state.choices)
    state.tenant("t1")
    redeviate(state, "juspay-revoke-202")
    point_name = DEVIATIONS["juspay-revoke-202"].point
    assert state.deviation == "juspay-revoke-202"
    assert state.choices[point_name] is not faithful.get(point_name)
    assert state.tenants == {}
    assert state.seed == 3
    redeviate(state, None)
    assert state.deviation is None
    assert set(state.choices) == set(resolve(PROFILES["alternate"], None)) == set(faithful)
    with pytest.raises(ValueError, match="juspay-revoke-202"):
        redeviate(state, "no-such-deviation")
