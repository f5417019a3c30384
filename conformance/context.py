"""What a conformance test holds: its target, tenant, clients, provisioners and verdict recorder."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from conformance import waits
from conformance.checks.registry import rule_owners, run_checks
from conformance.errors import InternalError, PreconditionUnavailable, UsageError
from conformance.findings import Finding
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.provisioners.base import ApiProvisioner
from conformance.provisioners.control import ControlChannel
from conformance.provisioners.manifest import Ledger, ManifestStock, load_manifest
from conformance.provisioners.means import Means
from conformance.provisioners.registry import provisioning_of, state_reader
from conformance.provisioners.vendor import VendorSetup
from conformance.targets import CONTROL, Target
from conformance.verdicts import Recorder, VerdictRecord, note_exchange, observe, verdict

T = TypeVar("T")
P = TypeVar("P", bound=ApiProvisioner)


class DeadlineExceeded(PreconditionUnavailable):
    """A precondition's asynchronous transition did not happen in time: the scenario cannot start, it skips.

    A passed deadline of a documented eventual state is not this: ``poll(rule=...)`` records it as a
    violation of that rule.
    """

    def __init__(self, message: str) -> None:
        super().__init__("an asynchronous precondition", message)


class UnreadableShape(Exception):
    """A read-back's value sits where no page documents it and a tolerant search did not find it."""


class ScenarioContext:
    def __init__(
        self,
        target: Target,
        tenant: str,
        recorder: Recorder,
    ) -> None:
        self.target = target
        self.settings = target.settings
        self.tenant = tenant
        self.recorder = recorder
        # A rule owned by a registered check is judged by it alone: one judge per rule.
        recorder.owners = rule_owners()
        self.exchanges: list[Exchange] = []
        self.observers: list[Callable[[Exchange], None]] = [self._remember, self._check]
        self._clients: dict[str, ApiClient] = {}
        # Scenarios judge their own rules after the observer judged the answer: a check's finding waits until
        # the scenario is done, so every judge of the answer records its verdict (raise_pending).
        self.defer_check_findings = False
        self.pending: list[Finding] = []
        self._keys = 0
        self._provisioners: dict[str, ApiProvisioner] = {}
        self._stock: ManifestStock | None = None

    def unique_key(self, purpose: str) -> str:
        """An idempotency key never used before: per run on a networked target (vendors remember keys), per
        tenant and call order elsewhere, so reference runs stay deterministic."""
        self._keys += 1
        live = self.settings.is_networked and not self.settings.uses_reference_sandbox
        salt = self.target.run_id if live else self.tenant
        return f"{purpose}-{hashlib.sha256(f'{salt}:{purpose}:{self._keys}'.encode()).hexdigest()[:16]}"

    def _check(self, exchange: Exchange) -> None:
        try:
            run_checks(exchange, self.recorder)
        except Finding as finding:
            if not self.defer_check_findings:
                raise
            self.pending.append(finding)

    def first_pending(self) -> Finding | None:
        """The first deferred finding of the observer's checks, naming the others."""
        if not self.pending:
            return None
        first = self.pending[0]
        for other in self.pending[1:]:
            first.add_note(f"Also violated: {other.rule_id}")
        self.pending = []
        return first

    def _remember(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        note_exchange(exchange)

    def client(self, api: str) -> ApiClient:
        if api not in self._clients:
            # Tenants partition a sandbox's state per test; pre-provisioned (manifest) or vendor-made resources
            # live outside any tenant, so only control-provisioned runs send one.
            controlled = api == CONTROL or self.settings.provisioner_for(api) == "control"
            tenant = self.tenant if controlled else None
            self._clients[api] = self.target.client(api, tenant=tenant, observers=self.observers)
        return self._clients[api]

    def provisioner(self, protocol: type[P]) -> P:
        """``protocol``'s API's provisioner of the kind chosen for it on this target (control, vendor or manifest).

        The API's descriptor names its provisioning; ``protocol`` is that API's protocol, so a scenario
        reads as its rule's story: ``ctx.provisioner(ThanxProvisioner).thanx_job("completed")``.
        """
        api = protocol.api
        if api not in self._provisioners:
            kind = self.settings.provisioner_for(api)
            self._provisioners[api] = provisioning_of(api).build(kind, self._means(api))
        provisioner = self._provisioners[api]
        if not isinstance(provisioner, protocol):
            raise InternalError(f"The provisioning of {api} does not implement {protocol.__name__}.")
        return provisioner

    def _means(self, api: str) -> Means:
        return Means(
            control=lambda: ControlChannel(self.client(CONTROL)),
            vendor=lambda: VendorSetup(
                self.client(api),
                self.settings.vendor(api).setup,
                self._poll_exchange,
                self.recorder.test_id,
                self.target.run_id,
            ),
            manifest=self._manifest_stock,
        )

    def _poll_exchange(self, read: Callable[[], Exchange], done: Callable[[Exchange], bool], what: str) -> Exchange:
        return self.poll(read, done, what=what, describe=lambda ex: f"HTTP {ex.status} {ex.json()!r}")

    def _manifest_stock(self) -> ManifestStock:
        if self._stock is None:
            path = self.settings.manifest
            if path is None:
                raise UsageError("The manifest provisioner needs --manifest FILE (or CONFORMANCE_MANIFEST).")
            ledger = Ledger(path.with_name(path.name + ".ledger.jsonl"))
            self._stock = ManifestStock(load_manifest(path), ledger, self.recorder.test_id, state_reader(self.client))
        return self._stock

    def poll(
        self,
        read: Callable[[], T],
        done: Callable[[T], bool],
        *,
        what: str,
        describe: Callable[[T], str] = repr,
        deadline_s: float | None = None,
        rule: str | None = None,
        documented: str = "",
    ) -> T:
        """Read until ``done`` with capped exponential backoff; a passed deadline names what and how long.

        With ``rule`` (the documented eventual state), a passed deadline is a violation of that rule:
        received is the last state seen and for how long. Without, the precondition is unavailable.
        """
        deadline = deadline_s if deadline_s is not None else self.settings.poll_deadline()
        started = time.monotonic()
        interval = self.settings.poll_interval()
        notice = waits.Poll(what, deadline)  # one progress line once the poll has lasted a few seconds
        # A replay reads what was recorded: its pauses pass on a clock of their own, never on the wall.
        replaying, paused = self.settings.target == "replay", 0.0
        while True:
            value = read()
            if done(value):
                return value
            waited = paused if replaying else time.monotonic() - started
            if waited >= deadline:
                message = (
                    f"{what} did not reach its documented state within {deadline:.1f} s "
                    f"(waited {waited:.1f} s); last seen: {describe(value)}"
                )
                if rule is not None:
                    verdict(rule, ok=False, received=message, documented=documented or what)
                raise DeadlineExceeded(message)
            pause = min(interval, max(0.0, deadline - waited))
            if replaying:
                paused += pause
            else:
                notice.tick(waited)
                time.sleep(pause)
            interval = min(interval * 2, 5.0)

    def concurrently(self, *calls: Callable[[], T]) -> list[T]:
        """Run ``calls`` at the same time in threads; their exchanges are reported afterwards, in order."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        buffered: list[Exchange] = []
        lock = threading.Lock()
        saved = list(self.observers)

        def buffer(exchange: Exchange) -> None:
            with lock:
                buffered.append(exchange)

        # Observers (Allure steps, verdict notes) are not thread-safe: buffer and replay them here.
        self.observers[:] = [buffer]
        try:
            barrier = threading.Barrier(len(calls))

            def run(call: Callable[[], T]) -> T:
                barrier.wait()
                return call()

            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                results = list(pool.map(run, calls))
        finally:
            self.observers[:] = saved
        for exchange in buffered:
            for observer in self.observers:
                observer(exchange)
        return results

    def judged(self, rule_id: str) -> None:
        """Ask for ``rule_id``, owned by a registered check, which judged this test's answers as they came.

        The scenario never judges it again (one judge per rule); when no answer was one the check judges,
        the rule is skipped with that reason.
        """
        owner = self.recorder.owners.get(rule_id)
        if owner is None:
            raise InternalError(f"judged({rule_id}) asks for a rule no registered check owns; judge it with verdict().")
        if not self.recorder.verdicts_of(rule_id):
            # The target never gave the answer the check judges (another status, say): the rule cannot be
            # judged here. The reference run, where every rule must be verified, shows a check that never applies.
            reason = f"{rule_id}: no answer of this test was one the check {owner} judges"
            self.recorder.add(
                VerdictRecord(
                    rule_id=rule_id,
                    status="skipped",
                    test=self.recorder.test_id,
                    detail=reason,
                    evidence=self.recorder.evidence(self.recorder.last_exchange),
                )
            )

    def cannot_tell(self, rule_id: str, gap_id: str, *, received: Any, note: str) -> None:
        """The read shape is undocumented and the value was not found: ask (gap), skip the rule with the reason."""
        observe(gap_id, received=received, note=note)
        reason = f"{rule_id} cannot be judged: {note} (asked as {gap_id})"
        self.recorder.add(
            VerdictRecord(
                rule_id=rule_id,
                status="skipped",
                test=self.recorder.test_id,
                detail=self.recorder.redact(reason),
                evidence=self.recorder.evidence(self.recorder.last_exchange),
            )
        )

    def close(self) -> None:
        for provisioner in self._provisioners.values():
            provisioner.close()


def response_field(exchange: Exchange, *path: str) -> Any:
    """Dig into the JSON body; missing keys give None rather than an exception, so verdicts can report them."""
    value: Any = exchange.json()
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def find_entry(value: Any, key: str, wanted: object) -> dict[str, Any] | None:
    """The first object anywhere in ``value`` whose ``key`` is ``wanted`` (the read-back shape is undocumented)."""
    if isinstance(value, dict):
        if value.get(key) == wanted:
            return value
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_entry(child, key, wanted)
        if found is not None:
            return found
    return None
