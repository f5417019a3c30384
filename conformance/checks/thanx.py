"""Checks of thanx's documented conventions: the issuance_job envelope, its state, counters and timestamps."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from conformance.checks.judge import Judge
from conformance.checks.registry import check
from conformance.http.exchange import Exchange

API = "thanx"
JOB_OPERATIONS = ("revokeIssuanceJob", "getIssuanceJob")
PHASES = ("test", "readback")
TIMESTAMPS = ("created_at", "started_at", "completed_at")
# ISO 8601 date and time: the Response table types these "datetime" with "(ISO8601)".
ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$")


def job_of(exchange: Exchange) -> dict[str, Any] | None:
    """The issuance_job of a successful answer, or None for errors and other shapes."""
    status = exchange.status
    body = exchange.json()
    if status is None or not 200 <= status < 300 or not isinstance(body, dict):
        return None
    job = body.get("issuance_job")
    return job if isinstance(job, dict) else None


@check(api=API, operations=JOB_OPERATIONS, rules=["THANX-ENVELOPE"], phases=PHASES)
def thanx_envelope(exchange: Exchange, judge: Judge) -> None:
    """The job in a revoke (and get/issue) response is wrapped in a top-level issuance_job object."""
    status = exchange.status
    if status is None or not 200 <= status < 300:
        return
    body = exchange.json()
    judge.verdict(
        "THANX-ENVELOPE",
        ok=isinstance(body, dict) and isinstance(body.get("issuance_job"), dict),
        received=body if body is not None else exchange.response and exchange.response.text[:200],
        documented="a body {issuance_job: {...}}",
        exchange=exchange,
    )


@check(api=API, operations=["revokeIssuanceJob"], rules=["THANX-202-STATE-REVOKING"], phases=PHASES)
def thanx_202_state_revoking(exchange: Exchange, judge: Judge) -> None:
    """The 202 body is the job with state revoking."""
    job = job_of(exchange)
    if exchange.status != 202 or job is None:
        return
    judge.expect_equal("THANX-202-STATE-REVOKING", job.get("state"), "revoking", exchange)


@check(api=API, operations=JOB_OPERATIONS, rules=["THANX-COUNTERS-CONSISTENT"], phases=PHASES)
def thanx_counters_consistent(exchange: Exchange, judge: Judge) -> None:
    """In every issuance job, processed_count ≤ total_count, success_count + failure_count = processed_count, and progress_percent is between 0 and 100."""
    job = job_of(exchange)
    if job is None:
        return
    names = ("total_count", "processed_count", "success_count", "failure_count", "progress_percent")
    counters = {name: job.get(name) for name in names}
    values = [value for value in counters.values() if isinstance(value, int) and not isinstance(value, bool)]
    ok = len(values) == len(names)
    if ok:
        total, processed, success, failure, progress = values
        ok = min(values) >= 0 and processed <= total and success + failure == processed and progress <= 100
    judge.verdict(
        "THANX-COUNTERS-CONSISTENT",
        ok=ok,
        received=counters,
        documented="non-negative integers with processed ≤ total, success + failure = processed, 0 ≤ progress_percent ≤ 100",
        exchange=exchange,
    )


def iso8601(value: Any) -> bool:
    if not isinstance(value, str) or not ISO8601.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@check(api=API, operations=JOB_OPERATIONS, rules=["THANX-TIMESTAMPS-ISO8601"], phases=PHASES)
def thanx_timestamps_iso8601(exchange: Exchange, judge: Judge) -> None:
    """created_at, started_at and completed_at are ISO 8601 date-time strings (started_at and completed_at null until set)."""
    job = job_of(exchange)
    if job is None:
        return
    present = {name: job[name] for name in TIMESTAMPS if job.get(name) is not None}
    ok = all(iso8601(value) for value in present.values()) and "created_at" in present
    judge.verdict(
        "THANX-TIMESTAMPS-ISO8601",
        ok=ok,
        received={name: job.get(name) for name in TIMESTAMPS},
        documented="ISO 8601 date-times (created_at always; started_at, completed_at once set, else null)",
        exchange=exchange,
    )
