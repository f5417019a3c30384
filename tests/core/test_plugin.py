"""The plugin's contract: verdicts are recorded, never inferred; unavailable preconditions skip with a reason."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\naddopts = -p conformance.pytest_plugin\n")
    return pytester


def run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makepyfile(
        test_story="import pytest\nfrom conformance.verdicts import expect_equal\n"
        "from conformance.errors import PreconditionUnavailable\n"
        "pytestmark = pytest.mark.conformance\n" + body
    )
    return pytester.runpytest_subprocess(
        "--report-dir", str(pytester.path / "reports"), "-p", "no:cacheprovider", "-rs"
    )


def rows(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    matrix = json.loads((pytester.path / "reports" / "conformance.json").read_text())
    return {row["rule_id"]: row for row in matrix["rows"]}


def test_a_bound_rule_without_a_verdict_is_an_error(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
@pytest.mark.rules("THANX-REVOKE-PENDING-422")
def test_passes_silently(ctx):
    pass
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bound to THANX-REVOKE-PENDING-422 but recorded no verdict*"])
    assert rows(suite)["THANX-REVOKE-PENDING-422"]["verdict"] == "untested"


def test_a_recorded_verdict_verifies_its_rule(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
@pytest.mark.rules("THANX-REVOKE-PENDING-422")
def test_records(ctx):
    expect_equal("THANX-REVOKE-PENDING-422", 422, 422)
""",
    )
    result.assert_outcomes(passed=1)
    row = rows(suite)["THANX-REVOKE-PENDING-422"]
    assert row["verdict"] == "verified"
    assert row["evidence"] == ["reference"]


def test_a_violation_fails_with_received_and_documented(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
@pytest.mark.rules("THANX-REVOKE-PENDING-422")
def test_records(ctx):
    expect_equal("THANX-REVOKE-PENDING-422", 202, 422)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Received: 202*", "*Documented: 422*"])
    assert rows(suite)["THANX-REVOKE-PENDING-422"]["verdict"] == "violated"


def test_an_unavailable_precondition_skips_naming_rule_and_capability(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
@pytest.mark.rules("JUSPAY-REVOKE-ACTIVE")
def test_needs_a_mandate(ctx):
    raise PreconditionUnavailable("Juspay mandate in status ACTIVE", "no manifest entry left")
""",
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*JUSPAY-REVOKE-ACTIVE: precondition not available on this target*ACTIVE*"])
    row = rows(suite)["JUSPAY-REVOKE-ACTIVE"]
    assert row["verdict"] == "skipped"
    assert "no manifest entry left" in str(row["detail"])


def test_an_overridden_conformance_settings_fixture_is_what_the_run_reports(suite: pytest.Pytester) -> None:
    suite.makeconftest(
        """
import pytest
from conformance.settings import Settings


@pytest.fixture(scope="session")
def conformance_settings(pytestconfig):
    return Settings(seed=7, apis=["thanx"])
"""
    )
    result = run(
        suite,
        """
@pytest.mark.rules("THANX-REVOKE-PENDING-422")
def test_records(ctx):
    assert ctx.target.settings.seed == 7
    expect_equal("THANX-REVOKE-PENDING-422", 422, 422)
""",
    )
    result.assert_outcomes(passed=1)
    matrix = json.loads((suite.path / "reports" / "conformance.json").read_text())
    assert matrix["seed"] == 7
    assert rows(suite)["THANX-REVOKE-PENDING-422"]["verdict"] == "verified"
