"""Throughput of ``conformance serve`` under a client library's tests: requests per second on loopback.

A client's test suite makes resources through the control API and revokes them, often twice (the second
revoke is a documented error). Here: ``per_api`` resources of each API are made first (not timed), then
``connections`` concurrent keep-alive connections send every revoke twice, in an interleaved order,
while the server judges each request (``--judge-client``) unless ``judge`` is off. The figure is the
number of timed requests over the wall time of the timed phase, with the latency percentiles.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from conformance.tools.stcli import auth_headers, serving

Request = tuple[str, str, dict[str, Any]]


def _badge(earn: Any) -> Request:
    body = {k: earn[k] for k in ("badgeMetaId", "customerId", "earnedBadgeId")}
    return "POST", "/api_gateway/v1/badges/customer/revokeEarn", {"json": body}


def _points(redemption: Any) -> Request:
    identifier = {"type": "ID", "value": str(redemption["customerId"])}
    body = {"redemptionId": redemption["redemptionId"], "identifier": identifier}
    return "POST", "/v2/points/reverse", {"json": body}


def _rewards(txn: Any) -> Request:
    return "POST", "/api_gateway/rewards/core/v1/user/reward/revoke", {"json": {"txnId": txn["txnId"]}}


def _thanx(job: Any) -> Request:
    path = f"/partner/issuance_jobs/{job['issuance_job']['id']}/revoke"
    return "POST", path, {"json": {"merchant_id": job["merchant_id"]}}


def _juspay(mandate: Any) -> Request:
    headers = {"x-routing-id": mandate["customer_id"]}
    return "POST", f"/mandates/{mandate['mandate_id']}", {"data": {"command": "revoke"}, "headers": headers}


# api → (control path that makes a resource, its body, the revoke of that resource)
MAKERS: dict[str, tuple[str, dict[str, Any], Callable[[Any], Request]]] = {
    "capillary-badges": ("/capillary/badges/earns", {"badgeMetaId": "bench-badge"}, _badge),
    "capillary-points": ("/capillary/points/redemptions", {"points": 100}, _points),
    "capillary-rewards": ("/capillary/rewards/transactions", {"rewards": [{"points": 100}]}, _rewards),
    "thanx": ("/thanx/issuance_jobs", {"state": "completed"}, _thanx),
    "juspay": ("/juspay/mandates", {"status": "ACTIVE"}, _juspay),
}


def _requests(base_url: str, per_api: int) -> list[tuple[str, Request]]:
    """Every resource made (untimed); each revoke listed twice, the APIs interleaved."""
    made: list[tuple[str, Request]] = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(per_api):
            for api, (path, body, revoke) in MAKERS.items():
                response = client.post(f"/_sandbox{path}", json=body)
                response.raise_for_status()
                made.append((api, revoke(response.json())))
    return made + made


def _raw(host: str, api: str, request: Request) -> bytes:
    """The HTTP/1.1 request as bytes: the load generator must cost less than the server it measures."""
    method, path, kwargs = request
    if "json" in kwargs:
        body, kind = json.dumps(kwargs["json"]).encode(), "application/json"
    else:
        body, kind = urlencode(kwargs.get("data", {})).encode(), "application/x-www-form-urlencoded"
    headers = {"Host": host, **auth_headers(api), **kwargs.get("headers", {})}
    headers |= {"Content-Type": kind, "Content-Length": str(len(body))}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def _fire(base_url: str, work: list[bytes], connections: int) -> tuple[list[float], list[int]]:
    address = urlsplit(base_url)
    pending = list(reversed(work))
    latencies: list[float] = []
    statuses: list[int] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            while pending:
                raw = pending.pop()
                started = time.perf_counter()
                statuses.append(await _exchange(reader, writer, raw))
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return latencies, statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def serve_throughput(per_api: int = 200, connections: int = 50, judge: bool = True) -> dict[str, Any]:
    """One measurement against a fresh ``conformance serve`` subprocess."""
    with tempfile.TemporaryDirectory(prefix="conformance-bench-serve-") as scratch:
        extra = ["--judge-client", "--verdict", str(Path(scratch) / "verdict.json")] if judge else []
        with serving(Path(scratch) / "serve.log", extra=extra) as server:
            work = _requests(server.base_url, per_api)
            started = time.perf_counter()
            host = urlsplit(server.base_url).netloc
            raw = [_raw(host, api, request) for api, request in work]
            latencies, statuses = asyncio.run(_fire(server.base_url, raw, connections))
            wall = time.perf_counter() - started
    return {
        "judge_client": judge,
        "connections": connections,
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "statuses": dict(sorted(Counter(statuses).items())),
    }


if __name__ == "__main__":
    import sys

    judge_on = "--no-judge" not in sys.argv
    print(json.dumps(serve_throughput(judge=judge_on)))  # noqa: T201
