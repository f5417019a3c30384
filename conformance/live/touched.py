"""``touched.json``: every resource a live run created, revoked or reversed, with ids and outcomes.

Each worker appends what its clients saw to a JSON-lines file of the run under the state dir; the
controller merges them into ``<report dir>/touched.json`` (temp file + rename) at the end, for
clean-up and audit. Only what the target answered is listed: an unanswered request touched nothing
that the suite can name.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.apis import resource_in_path
from conformance.http.exchange import Exchange
from conformance.live.plan import control_creates, is_destructive, succeeded, vendor_creates

ID_KEYS = ("mandate_id", "earnedBadgeId", "transactionId", "txnId", "redemptionId", "redemption_id", "id")


def resource_id(value: Any, depth: int = 0) -> str | None:
    """The id a creation answer names: a known id key at the top or one level down."""
    if not isinstance(value, dict) or depth > 2:
        return None
    for key in ID_KEYS:
        if isinstance(value.get(key), str | int) and not isinstance(value.get(key), bool):
            return str(value[key])
    for child in value.values():
        if (found := resource_id(child, depth + 1)) is not None:
            return found
    return None


def touched_entry(exchange: Exchange, run_id: str) -> dict[str, Any] | None:
    """What ``exchange`` touched, or None when it created and revoked nothing."""
    if exchange.response is None:
        return None
    path = urlsplit(str(exchange.request.url)).path
    status = exchange.response.status_code
    body = exchange.request.content
    if is_destructive(exchange.operation, body):
        answer = exchange.response.text
        return {
            "run_id": run_id,
            "action": "revoked",
            "api": exchange.api,
            "operation": exchange.operation,
            "resource": resource_in_path(exchange.api, path) or resource_id(_json(body)),
            "method": exchange.request.method,
            "path": path,
            "status": status,
            "outcome": "succeeded" if succeeded(exchange.api, status, answer) else "refused",
        }
    made = control_creates().get(path) if exchange.request.method == "POST" else None
    made = made or vendor_creates().get(str(exchange.operation))
    if made is None or not 200 <= status < 300:
        return None
    return {
        "run_id": run_id,
        "action": "created",
        "api": made[0],
        "kind": made[1],
        "resource": resource_id(exchange.json()),
        "method": exchange.request.method,
        "path": path,
        "status": status,
        "outcome": "created",
    }


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


class TouchedLog:
    """An exchange observer writing touched resources to this process's file of the run."""

    def __init__(self, state_dir: Path, run_id: str, worker: str) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.path = state_dir / f"touched-{safe(run_id)}-{safe(worker)}.jsonl"
        self.lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        entry = touched_entry(exchange, self.run_id)
        if entry is None:
            return
        with self.lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", name)[:40]


def merge_touched(state_dir: Path, run_id: str, report_dir: Path) -> Path:
    """Merge every worker's entries into ``touched.json`` (an empty list when the run touched nothing)."""
    parts = sorted(state_dir.glob(f"touched-{safe(run_id)}-*.jsonl")) if state_dir.is_dir() else []
    entries = [json.loads(line) for part in parts for line in part.read_text().splitlines() if line.strip()]
    entries.sort(key=lambda e: (e["api"], e["action"], str(e.get("resource")), e["path"]))
    summary: dict[str, dict[str, int]] = {}
    for entry in entries:
        counts = summary.setdefault(entry["api"], {"created": 0, "revoked": 0, "refused": 0})
        key = "created" if entry["action"] == "created" else entry["outcome"].replace("succeeded", "revoked")
        counts[key] += 1
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "touched.json"
    temp = path.with_suffix(".json.tmp")
    payload = {"run_id": run_id, "summary": summary, "resources": entries}
    temp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temp, path)
    for part in parts:
        part.unlink()
    return path
