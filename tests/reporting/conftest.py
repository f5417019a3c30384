"""Fixtures of the reporting tests: a small fake suite run through pytester, and a fake catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# pytester's in-process runs forget the modules a run imported, and a C extension is best loaded once per
# process: load the dashboard's image modules before the first fake run draws one.
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont  # noqa: F401
import pytest

from conformance.rules import Rule

GOLDEN = Path(__file__).parent / "golden"

# Two rules per API, one of them never tested, so every verdict shows up in a small matrix.
FAKE_RULES = [
    ("capillary-badges", "BADGE-FAKE-PENDING", "transition", "documented"),
    ("capillary-badges", "BADGE-FAKE-ACTIVE", "transition", "documented"),
    ("capillary-points", "POINTS-FAKE-AMOUNT", "money", "documented"),
    ("capillary-points", "POINTS-FAKE-UNTESTED", "validation", "assumed"),
    ("capillary-rewards", "REWARDS-FAKE-ECHO", "status-envelope", "inferred"),
    ("capillary-rewards", "REWARDS-FAKE-SETUP", "precondition", "documented"),
    ("thanx", "THANX-FAKE-202", "transition", "documented"),
    ("thanx", "THANX-FAKE-ID-ECHO", "status-envelope", "inferred"),
    ("juspay", "JUSPAY-FAKE-REVOKE", "transition", "documented"),
    ("juspay", "JUSPAY-FAKE-ACTIVE-ONLY", "precondition", "documented"),
]


CATALOGUE_SOURCE = """
def fake_catalogue(rules=FAKE_RULES):
    from conformance.rules import Rule, Source

    return {
        rid: Rule(
            id=rid, claim=f"The {rid.lower()} claim | with a pipe.", kind=kind, confidence=confidence,
            operation=f"op{api.split('-')[-1].title()}", source=Source(page=f"{api}.md", section="Section"),
            quote="quote", api=api,
        )
        for api, rid, kind, confidence in rules
    }
"""
namespace: dict[str, Any] = {"FAKE_RULES": FAKE_RULES}
exec(CATALOGUE_SOURCE, namespace)


def fake_catalogue() -> dict[str, Rule]:
    """The fake suite's catalogue (the same code runs inside the fake suite's conftest)."""
    catalogue: dict[str, Rule] = namespace["fake_catalogue"]()
    return catalogue


FAKE_CONFTEST = """
from types import SimpleNamespace

import pytest

from conformance.pytest_plugin import RECORDER_KEY, bound_rules
from conformance.reporting.allure_bridge import label_test
from conformance.reporting.run import CATALOGUE_KEY
from conformance.verdicts import Recorder, recording

pytest_plugins = ["conformance.pytest_plugin"]


def pytest_configure(config):
    config.stash[CATALOGUE_KEY] = fake_catalogue()


@pytest.fixture(scope="session")
def rule_catalogue():
    return fake_catalogue()


@pytest.fixture
def fctx(request, rule_catalogue):
    item = request.node
    recorder = Recorder(item.nodeid, rule_catalogue, lambda exchange: "reference")
    item.stash[RECORDER_KEY] = recorder
    target = SimpleNamespace(name="reference", settings=SimpleNamespace(seed=7))
    label_test(item, [rule_catalogue[r] for r in bound_rules(item) if r in rule_catalogue], target, recorder)
    with recording(recorder):
        yield recorder
"""

FAKE_TESTS = """
import pytest

from conformance.errors import PreconditionUnavailable
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize(
    ("state", "rule"),
    [
        pytest.param("pending", "BADGE-FAKE-PENDING", marks=pytest.mark.rules("BADGE-FAKE-PENDING"), id="pending"),
        pytest.param("active", "BADGE-FAKE-ACTIVE", marks=pytest.mark.rules("BADGE-FAKE-ACTIVE"), id="active"),
    ],
)
def test_badges(fctx, state, rule):
    verdict(rule, ok=True, received=state, documented=state)


@pytest.mark.rules("POINTS-FAKE-AMOUNT")
def test_points_amount(fctx):
    expect_equal("POINTS-FAKE-AMOUNT", 100, 100)
    observe("POINTS-GAP-FAKE-STATUS", received={"status": 200}, note="HTTP status of error 902 is undocumented")


@pytest.mark.rules("REWARDS-FAKE-ECHO")
def test_rewards_echo(fctx):
    expect_equal("REWARDS-FAKE-ECHO", "r-1", "r-1")


@pytest.mark.rules("REWARDS-FAKE-SETUP")
def test_rewards_setup(fctx):
    raise PreconditionUnavailable("vendor-setup", "no issued reward on this target")


@pytest.mark.rules("THANX-FAKE-202")
def test_thanx_202(fctx):
    expect_equal("THANX-FAKE-202", 500, 202)


@pytest.mark.rules("THANX-FAKE-ID-ECHO")
def test_thanx_echo(fctx):
    expect_equal("THANX-FAKE-ID-ECHO", "j-1", "j-1")
    observe("THANX-GAP-FAKE-BODY", received={"error": "x"}, note="422 body shape is undocumented")


@pytest.mark.rules("JUSPAY-FAKE-REVOKE", "JUSPAY-FAKE-ACTIVE-ONLY")
def test_juspay_revoke(fctx):
    verdict("JUSPAY-FAKE-REVOKE", ok=True, received="REVOKED", documented="REVOKED")
    verdict("JUSPAY-FAKE-ACTIVE-ONLY", ok=True, received=400, documented=400)


@pytest.mark.parametrize("n", range(4))
@pytest.mark.rules("JUSPAY-FAKE-REVOKE")
def test_juspay_many(fctx, n):
    verdict("JUSPAY-FAKE-REVOKE", ok=True, received=n, documented=n)
"""


@pytest.fixture
def fake_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A ten-rule, five-API fake suite: verified, violated, skipped, untested and undocumented verdicts."""
    pytester.makeconftest(FAKE_CONFTEST + f"\nFAKE_RULES = {FAKE_RULES!r}\n" + CATALOGUE_SOURCE)
    pytester.makepyfile(test_fake=FAKE_TESTS)
    # The outer session imported the plugin already, so pytest cannot assert-rewrite it again in the fake one.
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n    ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester


def run_fake(pytester: pytest.Pytester, report_dir: Path, *args: str) -> pytest.RunResult:
    # -p, not only the conftest's pytest_plugins: an xdist worker parses --report-dir before it finds conftests.
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "conformance.pytest_plugin", "--report-dir", str(report_dir), *args
    )


def matrix_of(report_dir: Path) -> dict[str, Any]:
    """The matrix without the fields that differ between equivalent runs (time)."""
    data: dict[str, Any] = json.loads((report_dir / "conformance.json").read_text())
    data.pop("generated_at")
    return data


def normalise(text: str, *paths: Path) -> str:
    for path in paths:
        text = text.replace(str(path), "<DIR>")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<TIME>", text)
    return re.sub(r"suite \d+\.\d+\.\d+\S*", "suite <VERSION>", text)
