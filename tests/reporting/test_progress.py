"""Progress lines: one per API as its last test completes (serial and under xdist), one per long wait, none with -q."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from conformance import waits
from conformance.cli import main
from conformance.http.client import ApiClient, RetryPolicy
from conformance.http.ratelimit import SAFETY, RateLimiter
from conformance.http.redact import Redactor
from tests.reporting.conftest import run_fake

API_LINE = re.compile(
    r"progress: (\S+): done, (\d+) tests in [\d.]+ s; rules so far: (\d+) verified, (\d+) violated, (\d+) skipped"
)
WAIT_TEST = """
from conformance import waits
from conformance.cli import main


def test_polls_a_slow_job():
    waits.Poll("the fake job to reach revoked", 600).tick(5.0)


def test_sleeps_for_a_retry_after():
    waits.sleep("a retry after HTTP 429", 0.0)  # short: no line
"""


def _api_lines(text: str) -> dict[str, tuple[int, ...]]:
    lines = [m.groups() for m in API_LINE.finditer(text)]
    found = {api: tuple(int(n) for n in counts) for api, *counts in lines}
    assert len(found) == len(lines), "one line per API, once"
    return found


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_one_line_per_api_with_the_rules_so_far(
    fake_suite: pytest.Pytester, tmp_path: Path, workers: list[str]
) -> None:
    reports = tmp_path / "reports"
    result = run_fake(fake_suite, reports, *workers)
    lines = _api_lines(result.stdout.str())
    matrix = json.loads((reports / "conformance.json").read_text())
    tests_per_api = {"capillary-badges": 2, "capillary-points": 1, "capillary-rewards": 2, "thanx": 2, "juspay": 5}
    assert set(lines) == set(matrix["apis"]) == set(tests_per_api)
    for api, (tests, verified, violated, skipped) in lines.items():
        totals = matrix["totals"][api]
        assert (tests, verified, violated, skipped) == (
            tests_per_api[api],
            totals["verified"],
            totals["violated"],
            totals["skipped"],
        ), api


def test_no_progress_silences_the_api_lines(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    result = run_fake(fake_suite, tmp_path / "reports", "--no-progress")
    assert "progress:" not in result.stdout.str()


def _until(text: str) -> datetime:
    match = re.search(r"until (\d\d):(\d\d):(\d\d) UTC", text)
    assert match, text
    now = datetime.now(UTC)
    clock = now.replace(hour=int(match[1]), minute=int(match[2]), second=int(match[3]), microsecond=0)
    return clock if clock >= now - timedelta(hours=12) else clock + timedelta(days=1)


def test_a_long_poll_says_what_it_waits_for_how_long_and_until_when(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_wait=WAIT_TEST)
    started = datetime.now(UTC)
    result = pytester.runpytest("-p", "conformance.pytest_plugin", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
    [line] = [x for x in result.stdout.lines if "waiting" in x]
    assert line.startswith("progress: waiting for the fake job to reach revoked: 5 s so far, at most 595 s more")
    assert abs((_until(line) - (started + timedelta(seconds=595))).total_seconds()) < 30


def test_under_xdist_a_worker_prints_its_wait_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_wait=WAIT_TEST)
    result = pytester.runpytest_subprocess("-p", "conformance.pytest_plugin", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
    lines = [x for x in result.stderr.lines + result.stdout.lines if "waiting for the fake job" in x]
    assert len(lines) == 1
    assert re.match(r"\[gw\d\] progress: waiting for the fake job to reach revoked: 5 s so far", lines[0])


def test_quiet_runs_print_no_wait_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_wait=WAIT_TEST)
    result = pytester.runpytest("-p", "conformance.pytest_plugin", "-p", "no:cacheprovider", "--no-progress")
    result.assert_outcomes(passed=2)
    assert "waiting" not in result.stdout.str()


@pytest.fixture(autouse=True)
def no_outer_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session running these tests has its own progress listener: keep it out of the unit tests' waits."""
    monkeypatch.setattr("conformance.waits._listeners", [])


def test_sleep_announces_only_waits_longer_than_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    seen: list[waits.Wait] = []
    monkeypatch.setattr("time.sleep", slept.append)
    unsubscribe = waits.subscribe(seen.append)
    try:
        waits.sleep("the client-side rate limit of thanx", 0.5)
        waits.sleep("a retry of thanx GET /x after HTTP 429", 30.0)
    finally:
        unsubscribe()
    waits.sleep("after unsubscribing", 10.0)
    assert slept == [0.5, 30.0, 10.0]
    [wait] = seen
    assert wait.line().startswith("waiting 30 s for a retry of thanx GET /x after HTTP 429 (until ")
    assert abs((wait.until - datetime.now(UTC)).total_seconds() - 30) < 5


def test_a_poll_is_announced_once_after_the_threshold() -> None:
    seen: list[waits.Wait] = []
    unsubscribe = waits.subscribe(seen.append)
    try:
        poll = waits.Poll("job j-1 to reach revoked", 600)
        for elapsed in (0.1, 1.0, waits.THRESHOLD_S + 0.5, 20.0, 40.0):
            poll.tick(elapsed)
    finally:
        unsubscribe()
    [wait] = seen
    assert wait.upto
    assert wait.seconds == pytest.approx(600 - waits.THRESHOLD_S - 0.5)


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[waits.Wait], list[float]]]:
    """The waits announced and the sleeps taken (not slept: time.sleep records instead)."""
    seen: list[waits.Wait] = []
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    unsubscribe = waits.subscribe(seen.append)
    yield seen, slept
    unsubscribe()


def test_a_retry_after_announces_the_wait_of_the_http_client(announced: tuple[list[waits.Wait], list[float]]) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "12"}), httpx.Response(200, json={"ok": True})])
    client = ApiClient(
        "thanx",
        "http://thanx.test",
        {"access_token": "t", "client_id": "c"},
        http=httpx.Client(transport=httpx.MockTransport(lambda request: next(answers))),
        redactor=Redactor([]),
        retry=RetryPolicy(attempts=3),
    )
    assert client.call("GET", "/partner/issuance_jobs/j", retry=True).status == 200
    seen, slept = announced
    assert slept == [12.0]
    [wait] = seen
    assert wait.line().startswith("waiting 12 s for a retry of thanx GET /partner/issuance_jobs/j after HTTP 429")


def test_the_client_side_rate_limit_announces_a_long_wait(
    tmp_path: Path, announced: tuple[list[waits.Wait], list[float]]
) -> None:
    limiter = RateLimiter("thanx", 0.1, tmp_path)  # one call every 10 s, spaced by the limiter's safety margin
    limiter.acquire()
    limiter.acquire()
    seen, slept = announced
    assert len(slept) == 1
    assert slept[0] > 9
    [wait] = seen
    expected = round(10 * SAFETY)
    assert wait.line().startswith(f"waiting {expected} s for the client-side rate limit of thanx (until ")


def test_run_q_passes_no_progress_to_the_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(
        "conformance.runner.run", lambda options: seen.append(options.pytest_args(Path("reports"))) or 0
    )
    assert main(["run", "-q", "--", "-x"]) == 0
    assert main(["run"]) == 0
    quiet, loud = seen
    assert quiet[-2:] == ["--no-progress", "-x"]
    assert "--no-progress" not in loud
