"""The plan of a run and its destructive budget, known before anything is sent.

What each selected test sends is read from its recording of the reference sandbox (the committed
``cassettes/reference``): the exchanges per API, the resources its setup creates, the revokes and
reversals that succeed, and the states of the pre-provisioned ids it needs. A test without a
recording is counted as unknown, and an unknown count never passes a budget silently.

At run time :class:`DestructiveBudget` holds the cap across xdist workers: a revoke or reversal
over the cap is never sent, and its test is skipped naming the budget.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from filelock import FileLock

from conformance.apis import APIS, REPO_ROOT, revoking
from conformance.errors import PreconditionUnavailable, UsageError
from conformance.live.hosts import is_loopback, live_urls
from conformance.provisioners.base import Creation
from conformance.provisioners.control import PREFIX as CONTROL_PREFIX
from conformance.provisioners.manifest import Ledger, load_manifest
from conformance.provisioners.registry import creations
from conformance.recording import cassette_path
from conformance.settings import Settings

DEFAULT_VENDOR_BUDGET = 25


def control_creates() -> dict[str, tuple[str, str]]:
    """Control route -> (API, what it creates): the setup calls each API's provisioning registers."""
    return {CONTROL_PREFIX + c.control_route: (api, c.noun) for api, c in creations() if c.control_route is not None}


def vendor_creates() -> dict[str, tuple[str, str]]:
    """Vendor setup operation -> (API, what it creates)."""
    return {c.vendor_operation: (api, c.noun) for api, c in creations() if c.vendor_operation is not None}


def manifest_kinds() -> dict[str, Creation]:
    """Control route -> the creation of a resource a manifest lists by state (the state its request names)."""
    return {
        CONTROL_PREFIX + c.control_route: c
        for _api, c in creations()
        if c.control_route is not None and c.manifest_kind is not None
    }


def is_destructive(operation: str | None, body: bytes | str | None) -> bool:
    """A revoke or reversal: the calls a vendor sandbox cannot take back (every API's revoke operation, and of
    an operation running several commands, only the revoking one)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body or ""
    return revoking(operation, dict(parse_qsl(text)))


def succeeded(api: str, status: int, body: str) -> bool:
    if not 200 <= status < 300:
        return False
    # An API answering 200 with its outcome in status.code succeeded only if status.success says so.
    descriptor = APIS.get(api)  # the sandbox's control API has no descriptor
    if descriptor is None or descriptor.rejection != "status-code":
        return True
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and bool((parsed.get("status") or {}).get("success"))


@dataclass
class ApiPlan:
    exchanges: int = 0  # calls to the vendor API itself
    # The provisioner's calls for this API's tests (setup and state reads), through the sandbox's control API in
    # the reference recording; a vendor provisioner makes them through the vendor's own setup endpoints instead.
    control: int = 0
    created: Counter[str] = field(default_factory=Counter)
    revokes_attempted: int = 0
    revoked: int = 0
    needs: Counter[str] = field(default_factory=Counter)  # manifest kind → ids needed
    manifest_ids: list[str] = field(default_factory=list)
    unknown_tests: list[str] = field(default_factory=list)


@dataclass
class Plan:
    apis: dict[str, ApiPlan]

    @property
    def destructive(self) -> int:
        return sum(p.revoked for p in self.apis.values())

    @property
    def unknown(self) -> int:
        return sum(len(p.unknown_tests) for p in self.apis.values())

    @property
    def exchanges(self) -> int:
        """Every exchange of the run: the vendor calls and the provisioner's calls."""
        return sum(p.exchanges + p.control for p in self.apis.values())

    def as_json(self) -> dict[str, Any]:
        return {
            api: {
                "exchanges": p.exchanges,
                "control_exchanges": p.control,
                "created": dict(p.created),
                "revokes_attempted": p.revokes_attempted,
                "revoked": p.revoked,
                "manifest_needs": dict(p.needs),
                "manifest_ids": p.manifest_ids,
                "tests_without_recording": p.unknown_tests,
            }
            for api, p in self.apis.items()
        }

    def render(self, provisioner_for: Callable[[str], str] | None = None) -> str:
        lines = ["plan (nothing was sent; counts from the reference recording of each selected test):"]
        for api, p in self.apis.items():
            created = ", ".join(f"{n} {kind}" for kind, n in sorted(p.created.items())) or "nothing"
            lines.append(
                f"  {api}: {p.exchanges + p.control} exchanges ({p.exchanges} vendor calls, {p.control} provisioner "
                f"calls); creates {created}; revokes {p.revoked}"
            )
            lines.append(f"    (of {p.revokes_attempted} revoke calls, the rest are refusals the rules expect)")
            if p.needs and provisioner_for is not None and provisioner_for(api) == "manifest":
                needs = ", ".join(f"{n} {kind}" for kind, n in sorted(p.needs.items()))
                lines.append(f"    manifest: needs {needs}; would use {', '.join(p.manifest_ids) or 'none'}")
            if p.unknown_tests:
                lines.append(f"    {len(p.unknown_tests)} test(s) without a recording: counts unknown")
        vendor = sum(p.exchanges for p in self.apis.values())
        lines.append(
            f"  exchanges in all: {self.exchanges} ({vendor} vendor calls, {self.exchanges - vendor} provisioner calls)"
        )
        lines.append(f"  destructive total: {self.destructive} (revokes and reversals that take effect)")
        return "\n".join(lines)


def reference_cassettes(settings: Settings) -> Settings:
    """Settings that locate the reference recordings: the run's cassette dir, else the repository's."""
    directory = settings.cassette_dir if (settings.cassette_dir / "reference").is_dir() else REPO_ROOT / "cassettes"
    return settings.model_copy(update={"target": "replay", "cassette_name": "reference", "cassette_dir": directory})


# Generated cases per operation in the committed recordings (live-sized); --max-examples scales them.
RECORDED_EXAMPLES = 5


def plan_test(plan: dict[str, ApiPlan], api: str, recorded: Settings, nodeid: str, max_examples: int | None) -> None:
    path = cassette_path(recorded, nodeid)
    meta = path.with_suffix(".meta.json")
    if not (path.is_file() and meta.is_file()):
        plan[api].unknown_tests.append(nodeid)
        return
    counted = {name: ApiPlan() for name in plan}
    count_recording(counted, api, path, meta)
    factor = max_examples / RECORDED_EXAMPLES if max_examples and "/properties/" in nodeid else 1.0
    for name, part in counted.items():
        merge_into(plan[name], part, factor)


def merge_into(total: ApiPlan, part: ApiPlan, factor: float) -> None:
    def scaled(n: int) -> int:
        return math.ceil(n * factor)

    total.exchanges += scaled(part.exchanges)
    total.control += scaled(part.control)
    total.revokes_attempted += scaled(part.revokes_attempted)
    total.revoked += scaled(part.revoked)
    for kind, n in part.created.items():
        total.created[kind] += scaled(n)
    for kind, n in part.needs.items():
        total.needs[kind] += scaled(n)


def count_recording(plan: dict[str, ApiPlan], api: str, path: Path, meta: Path) -> None:
    rows = json.loads(meta.read_text(encoding="utf-8"))["exchanges"]
    from vcr.serialize import deserialize  # only --plan reads recordings: not on every run's import path
    from vcr.serializers import yamlserializer

    requests, responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    creates, vendor_made, listed_kinds = control_creates(), vendor_creates(), manifest_kinds()
    for row in rows:
        index = row.get("interaction")
        if index is None or not 0 <= index < len(requests):
            continue
        request, response = requests[index], responses[index]
        url_path = urlsplit(request.uri).path
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body or ""
        owner = row.get("api") or api
        if owner in plan:
            plan[owner].exchanges += 1
        elif api in plan:  # the provisioner's call for this test: the sandbox's control API, never a vendor
            plan[api].control += 1
        made = creates.get(url_path) if request.method == "POST" else vendor_made.get(str(row.get("operation")))
        if made is not None and made[0] in plan:
            plan[made[0]].created[made[1]] += 1
            listed = listed_kinds.get(url_path)
            if listed is not None:
                state = (json.loads(body or "{}") or {}).get(listed.state_field, listed.default_state)
                plan[made[0]].needs[f"{listed.manifest_kind} {state}"] += 1
        if owner in plan and is_destructive(row.get("operation"), body):
            plan[owner].revokes_attempted += 1
            answer = response["body"]["string"]
            text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
            plan[owner].revoked += int(succeeded(owner, int(response["status"]["code"]), text))


def assign_manifest_ids(plan: dict[str, ApiPlan], settings: Settings) -> None:
    """Which listed ids the run would take, in hand-out order, skipping ids the ledger already gave out."""
    if settings.manifest is None:
        return
    manifest = load_manifest(settings.manifest)
    used = Ledger(settings.manifest.with_name(settings.manifest.name + ".ledger.jsonl")).used()
    offered = manifest.ids_by_kind()
    for api, p in plan.items():
        if settings.provisioner_for(api) != "manifest":
            continue
        for kind, count in sorted(p.needs.items()):
            free = [i for i in offered.get(kind, []) if f"{kind}:{i}" not in used]
            p.manifest_ids += free[:count]


def item_api_of(nodeid: str, apis: list[str]) -> str | None:
    name = nodeid.replace("_", "-")
    return next((api for api in sorted(apis, key=len, reverse=True) if api in name), None)


def build_plan(settings: Settings, tests: list[tuple[str, str | None]]) -> Plan:
    """The plan of ``tests`` as (node id, API) pairs."""
    recorded = reference_cassettes(settings)
    plan = {api: ApiPlan() for api in settings.apis}
    for nodeid, api in tests:
        if api in plan:
            plan_test(plan, api, recorded, nodeid, settings.max_examples)
    assign_manifest_ids(plan, settings)
    return Plan(plan)


def budget_of(settings: Settings) -> int | None:
    """The cap on revokes and reversals: the user's, else a safe default when a vendor host is targeted."""
    if settings.max_destructive is not None:
        return settings.max_destructive
    if not settings.is_networked or settings.uses_reference_sandbox:
        return None
    hosts = [urlsplit(url).hostname or "" for url in live_urls(settings).values()]
    return None if all(is_loopback(h) for h in hosts) else DEFAULT_VENDOR_BUDGET


def budget_refusal(settings: Settings, plan: Plan) -> str | None:
    budget = budget_of(settings)
    if budget is None:
        return None
    if plan.destructive <= budget:
        return None
    per_api = ", ".join(f"{api} {p.revoked}" for api, p in plan.apis.items() if p.revoked)
    return (
        f"Refusing the run: it would revoke or reverse {plan.destructive} resource(s) ({per_api}), more than the "
        f"destructive budget of {budget} per run (--max-destructive, CONFORMANCE_MAX_DESTRUCTIVE; "
        f"{DEFAULT_VENDOR_BUDGET} by default on vendor hosts). Narrow the run with --apis or -k, or raise "
        "--max-destructive if the sandbox can afford it; `conformance run --plan` lists what each API would do."
    )


class DestructiveBudget:
    """The run's count of revokes and reversals, shared by workers through a file under the state dir."""

    def __init__(self, limit: int, state_dir: Path, run_id: str) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9]", "", run_id)[:32]
        self.limit = limit
        self.path = state_dir / f"destructive-{safe}.count"
        self.lock = FileLock(str(self.path) + ".lock")

    def spend(self, api: str, operation: str | None) -> None:
        with self.lock:
            spent = int(self.path.read_text() or 0) if self.path.is_file() else 0
            if spent >= self.limit:
                raise PreconditionUnavailable(
                    "destructive budget",
                    f"{spent} revokes/reversals already sent this run, the cap is {self.limit} (--max-destructive); "
                    f"{api} {operation} was not sent",
                )
            temp = self.path.with_suffix(".tmp")
            temp.write_text(str(spent + 1))
            os.replace(temp, self.path)


def write_plan(settings: Settings, plan: Plan) -> Path:
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    path = settings.report_dir / "plan.json"
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(plan.as_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


def refuse_budget(settings: Settings, plan: Plan) -> None:
    if (reason := budget_refusal(settings, plan)) is not None:
        raise UsageError(reason)
