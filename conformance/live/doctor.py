"""``conformance doctor``: a read-only pre-flight of a live target, one row per check and API.

Per API: the host answers; the credentials are accepted; the scope and flags are read where the
vendor documents a read (Thanx ``rewards.issue``, Capillary ``REVOKE_ENABLE``); every manifest id
exists in its stated state. Nothing here creates, revokes or reverses anything. A check the vendor
gives no read for is reported as "not readable", never as passed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from conformance.apis import get_api
from conformance.errors import ConformanceError, TargetUnreachable
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.provisioners.manifest import Ledger, Manifest, load_manifest
from conformance.provisioners.registry import current_state, provisioning_of, registered
from conformance.settings import Settings, build_settings
from conformance.targets import Target, open_target


@dataclass(frozen=True)
class Check:
    api: str
    what: str
    ok: bool | None  # None: not readable on this vendor, reported as such
    detail: str

    @property
    def status(self) -> str:
        return {True: "ok", False: "FAIL", None: "not readable"}[self.ok]


def refused(exchange: Exchange) -> bool:
    """401/403, or Capillary's always-200 envelope carrying 401 in ``status.code``."""
    if exchange.status in (401, 403):
        return True
    body = exchange.json()
    status = body.get("status") if isinstance(body, dict) else None
    return isinstance(status, dict) and status.get("code") in (401, 403)


def probe(client: ApiClient, api: str) -> Iterator[Check]:
    descriptor = get_api(api)
    (method, path), form = descriptor.probe, dict(descriptor.probe_form) or None
    try:
        exchange = client.call(method, path, data=form, operation=f"doctor {api}", phase="control", retry=True)
    except TargetUnreachable as exc:
        yield Check(api, "host answers", False, str(exc))
        return
    except ConformanceError as exc:  # e.g. the token endpoint refused the client key and secret
        yield Check(api, "host answers", True, client.base_url)
        yield Check(api, "credentials accepted", False, str(exc))
        return
    if exchange.response is None:
        yield Check(api, "host answers", False, f"{client.base_url}: {exchange.error}")
        return
    yield Check(api, "host answers", True, f"{client.base_url} answered HTTP {exchange.status}")
    if refused(exchange):
        yield Check(api, "credentials accepted", False, f"{method} {path} gave HTTP {exchange.status}")
    else:
        yield Check(api, "credentials accepted", True, f"{method} {path} gave HTTP {exchange.status}")


def api_reads(client: ApiClient, api: str, settings: Settings) -> Iterator[Check]:
    """The API's own pre-flight reads (a scope, a flag), as its provisioning registers them."""
    for read in provisioning_of(api).preflight:
        ok, detail = read.read(client, settings.vendor(api).setup)
        yield Check(api, read.what, ok, detail)


def manifest_ids(manifest: Manifest) -> Iterator[tuple[str, str, str, str, str]]:
    """(api, kind, id, stated state, owner id) of every manifest entry with a documented read."""
    for api, provisioning in registered():
        if provisioning.read_state is None:
            continue
        for section in provisioning.sections:
            for state, entries in manifest.by_state(section):
                for entry in entries:
                    yield api, section.kind_in(state), section.id_of(entry), state or "", section.owner_of(entry)


def manifest_checks(clients: Callable[[str], ApiClient], manifest: Manifest, apis: list[str]) -> Iterator[Check]:
    for api, kind, resource_id, stated, owner in manifest_ids(manifest):
        if api not in apis:
            continue
        seen = current_state(clients(api), api, resource_id, owner)
        if seen == stated:
            yield Check(api, f"manifest {resource_id}", True, f"{kind}: is {stated}")
        else:
            yield Check(api, f"manifest {resource_id}", False, f"{kind}: listed as {stated}, is {seen or 'not found'}")


def run_doctor(target: Target) -> list[Check]:
    settings = target.settings
    clients: dict[str, ApiClient] = {}

    def client(api: str) -> ApiClient:
        if api not in clients:
            clients[api] = target.client(api, tenant=None, observers=[])
        return clients[api]

    checks: list[Check] = []
    for api in settings.apis:
        rows = list(probe(client(api), api))
        checks += rows
        if not all(row.ok for row in rows):
            continue
        checks += api_reads(client(api), api, settings)
    reachable = {c.api for c in checks if c.what == "credentials accepted" and c.ok}
    if settings.manifest is not None:
        checks += manifest_checks(client, load_manifest(settings.manifest), sorted(reachable))
    return checks


def record_stale(settings: Settings, checks: list[Check]) -> None:
    """Stale manifest ids go to the ledger as "stale" with the reason: no test is handed one, none is judged."""
    if settings.manifest is None:
        return
    ledger = Ledger(settings.manifest.with_name(settings.manifest.name + ".ledger.jsonl"))
    manifest = load_manifest(settings.manifest)
    for api, kind, resource_id, _stated, _owner in manifest_ids(manifest):
        for check in stale_ids(checks):
            if check.api == api and check.what == f"manifest {resource_id}":
                ledger.mark_stale(kind, resource_id, check.detail, "conformance doctor")


def render(checks: list[Check]) -> str:
    rows = [("API", "check", "status", "detail")] + [(c.api, c.what, c.status, c.detail) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows]
    return "\n".join(lines)


def blocking(checks: list[Check]) -> list[Check]:
    """Failures that stop a run: hosts, credentials, scope, flags. Stale manifest ids are skipped instead."""
    return [c for c in checks if c.ok is False and not c.what.startswith("manifest ")]


def stale_ids(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.ok is False and c.what.startswith("manifest ")]


def preflight(target: Target) -> list[Check]:
    """The doctor before a live run: a blocking failure ends the run with exit 3 and the table."""
    checks = run_doctor(target)
    if failed := blocking(checks):
        names = "; ".join(f"{c.api}: {c.what}: {c.detail}" for c in failed)
        raise TargetUnreachable(f"Pre-flight failed ({names}). No id was handed out.\n" + render(checks))
    return checks


def preflight_once(target: Target) -> None:
    """The doctor before a live run, once per run (the first worker runs it, the others read its verdict);
    ids it finds stale go to the ledger as "stale", so no test is handed one."""
    settings = target.settings
    if not (settings.is_networked and not settings.uses_reference_sandbox and settings.doctor):
        return
    target.state_dir.mkdir(parents=True, exist_ok=True)
    done = target.state_dir / f"doctor-{target.run_id}.json"
    with FileLock(str(done) + ".lock"):
        if done.is_file():
            failure = json.loads(done.read_text())["failure"]
            if failure:
                raise TargetUnreachable(failure)  # as the first worker's pre-flight did
            return
        try:
            record_stale(settings, preflight(target))
        except ConformanceError as exc:
            done.write_text(json.dumps({"failure": str(exc)}))
            raise
        done.write_text(json.dumps({"failure": None}))


def doctor_command(args: argparse.Namespace) -> int:
    """Print the doctor's table; exit 0 when nothing failed, 3 otherwise (2 for bad settings)."""
    cli: dict[str, Any] = {"target": args.target or "live"}
    for name in ("base_url", "targets_file", "manifest", "provisioner"):
        if (value := getattr(args, name)) is not None:
            cli[name] = value
    if args.apis:
        cli["apis"] = [a.strip() for a in args.apis.split(",") if a.strip()]
    if args.allow_host:
        cli["allow_hosts"] = list(args.allow_host)
    if args.allow_production:
        cli["allow_production"] = True
    settings = build_settings(cli)
    from conformance.live.hosts import refuse_hosts

    refuse_hosts(settings)
    with (
        tempfile.TemporaryDirectory(prefix="conformance-doctor-") as state,
        open_target(settings, Path(state)) as target,
    ):
        checks = run_doctor(target)
    print(render(checks))  # noqa: T201
    failed = [c for c in checks if c.ok is False]
    print(f"doctor: {len(failed)} check(s) failed" if failed else "doctor: every check passed")  # noqa: T201
    return 3 if failed else 0
