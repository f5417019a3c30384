"""Judging one recorded exchange against its operation: the same vendor-aware logic as the suite, imported.

What counts as the vendor's success and its documented rejection comes from the property
layer's outcome predicates (a Capillary rewards 200 whose ``status.code`` is an error is a
rejection); the registered checks run unchanged on the rebuilt exchange, so every rule they
enforce is enforced here, and every gap they observe is reported as a question. On top of that
the audit compares the exchange with the spec itself: statuses, fields, types, error codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from conformance.apis import APIS
from conformance.checks.hygiene import hygiene_reason
from conformance.checks.registry import Check, checks_for
from conformance.drift.cassettes import Interaction
from conformance.drift.schemadiff import differences, missing_shown_fields
from conformance.drift.specindex import Citation, Operation, SpecIndex
from conformance.errors import InternalError
from conformance.findings import Finding as RuleFinding
from conformance.findings import show
from conformance.http.exchange import Exchange
from conformance.rules import Rule
from conformance.suite.properties.outcomes import SUCCESS, documented_rejection, request_command
from conformance.verdicts import Recorder, VerdictRecord, recording


@dataclass(frozen=True)
class Observation:
    """One difference seen on one exchange, before aggregation."""

    kind: str
    api: str
    operation: str
    pointer: str
    detail: str  # what identifies this difference beyond its kind and pointer (a code, a status, a gap id)
    received: str
    documented: str
    citation: Citation
    behavioural: bool
    fuzzed: bool
    rules: tuple[str, ...] = ()
    gap: str = ""
    question: str = ""
    rule_sources: tuple[Citation, ...] = ()  # the page, section and quote of each rule in ``rules``


@dataclass
class Judged:
    interaction: Interaction
    operation: Operation | None
    observations: list[Observation] = field(default_factory=list)
    skipped: str = ""


def error_codes(api: str, body: Any) -> list[Any]:
    """The vendor error codes an answer carries, read where the API's descriptor says it writes them."""
    descriptor = APIS.get(api)
    return values_at(body, descriptor.error_codes) if descriptor is not None else []


def values_at(value: Any, pointer: str) -> list[Any]:
    """Every value at a JSON pointer whose ``*`` segments stand for each item of a list."""
    values = [value]
    for part in pointer.strip("/").split("/"):
        found: list[Any] = []
        for item in values:
            if part == "*" and isinstance(item, list):
                found += [child for child in item if isinstance(child, dict)]
            elif isinstance(item, dict) and part in item:
                found.append(item[part])
        values = found
    return values


def code_pointer(api: str) -> str:
    descriptor = APIS.get(api)
    return descriptor.error_codes if descriptor is not None else "/errors/*/code"


class Judge:
    """Judges interactions with one spec index and one rule catalogue."""

    def __init__(self, index: SpecIndex, catalogue: dict[str, Rule]) -> None:
        self.index = index
        self.catalogue = catalogue

    def judge(self, interaction: Interaction) -> Judged:
        sidecar = interaction.sidecar
        api = sidecar.get("api")
        if api == "control" or sidecar.get("phase") == "control":
            return Judged(interaction, None, skipped="the sandbox control API (ours, not a vendor's)")
        path = urlsplit(interaction.uri).path
        op = self.index.find(api, sidecar.get("operation"), interaction.method, path)
        if op is None:
            return Judged(interaction, None, skipped=f"no documented operation for {interaction.method} {path}")
        exchange = interaction.exchange(op.api, op.id)
        judged = Judged(interaction, op)
        context = _Context(op, exchange, interaction, self.catalogue, self.index.notes_pages)
        for step in (_checks, _status, _schema, _codes, _invalid_accepted):
            judged.observations += step(context)
        judged.observations = fold_rules(judged.observations)
        return judged


def fold_rules(observations: list[Observation]) -> list[Observation]:
    """A rule the exchange broke is named on the contract differences of that exchange, not listed twice.

    Only when the exchange shows no behavioural difference from the spec does a broken rule stand as
    a finding of its own (a counter that does not add up, a state the answer should have had).
    """
    broken = [o for o in observations if o.kind == "rule-violated"]
    structural = [o for o in observations if o.kind != "rule-violated" and o.behavioural]
    if not broken or not structural:
        return observations
    rules = tuple(sorted({rule for o in broken for rule in o.rules}))
    sources = tuple(o.citation for o in sorted(broken, key=lambda o: o.detail))
    return [
        replace(o, rules=tuple(sorted({*o.rules, *rules})), rule_sources=sources) if o in structural else o
        for o in observations
        if o.kind != "rule-violated"
    ]


@dataclass
class _Context:
    op: Operation
    exchange: Exchange
    interaction: Interaction
    catalogue: dict[str, Rule]
    notes_pages: frozenset[str] = frozenset()
    records: list[VerdictRecord] = field(default_factory=list)
    recorder: Recorder | None = None  # the recorder the checks judge into, set while they run
    status_asked: bool = False  # the undocumented status was asked about, error code included

    @property
    def fuzzed(self) -> bool:
        return self.interaction.fuzzed

    def observation(
        self, kind: str, pointer: str, detail: str, received: Any, documented: str, **kw: Any
    ) -> Observation:
        citation = kw.pop("citation", None) or self.op.citation()
        return Observation(
            kind=kind,
            api=self.op.api,
            operation=self.op.id,
            pointer=pointer,
            detail=detail,
            received=show(received),
            documented=documented,
            citation=citation,
            fuzzed=self.fuzzed,
            **kw,
        )

    def gaps_observed(self) -> list[VerdictRecord]:
        return [r for r in self.records if r.status == "undocumented-behaviour"]

    def rejected(self) -> bool:
        return documented_rejection(self.op.api, self.op.id, self.exchange)

    def succeeded(self) -> bool:
        """The vendor's own success: the suite's predicate for a revoke, else a 2xx that carries no error."""
        predicate: Callable[[Exchange], bool] | None = SUCCESS.get(self.op.id)
        if predicate is not None:
            return predicate(self.exchange)
        return self._ok_status() and not self._failed_envelope() and not self.rejected()

    def no_error(self) -> bool:
        """A 2xx whose body carries no error in the vendor's envelope (whatever the operation's own success)."""
        codes = [c for c in error_codes(self.op.api, self.exchange.json()) if not self.success_code(c)]
        return self._ok_status() and not self._failed_envelope() and not codes and not self.rejected()

    def _ok_status(self) -> bool:
        return 200 <= (self.exchange.status or 0) < 300

    def _failed_envelope(self) -> bool:
        body = self.exchange.json()
        envelope = body.get("status") if isinstance(body, dict) else None
        return isinstance(envelope, dict) and envelope.get("success") is False

    def success_code(self, code: Any) -> bool:
        """An API may report success in the same field as its error codes (Capillary rewards: status.code 200)."""
        descriptor = APIS.get(self.op.api)
        return descriptor is not None and descriptor.success_code is not None and code == descriptor.success_code

    def partial(self, citation: Citation) -> bool:
        """True when ``citation`` rests on the project's notes, which record only what the suite needs."""
        return citation.page in self.notes_pages


def _checks(ctx: _Context) -> list[Observation]:
    """Run every registered check that applies; violated rules and observed gaps become observations."""
    recorder = Recorder(ctx.interaction.where, ctx.catalogue, lambda _e: ctx.interaction.evidence.label())
    ctx.recorder = recorder
    with recording(recorder):
        for registered in checks_for(ctx.exchange):
            _run_check(registered, ctx)
    ctx.records = recorder.records
    out: list[Observation] = []
    for record in recorder.records:
        if record.status.startswith("violated"):
            out.append(_rule_observation(ctx, record))
        elif record.status == "undocumented-behaviour":
            out.append(_gap_observation(ctx, record))
    return out


def _run_check(registered: Check, ctx: _Context) -> None:
    try:
        assert ctx.recorder is not None  # set by the caller before any check runs
        registered.run(ctx.exchange, ctx.recorder)
    except RuleFinding:
        pass  # a violation raises after the recorder has kept it; the other checks still run
    except Exception as exc:  # a check that cannot read a recorded answer is a defect of the suite
        raise InternalError(
            f"The check {registered.name} failed on {ctx.interaction.where} ({type(exc).__name__}: {exc}); "
            "this is a defect in the suite, please report it with that cassette."
        ) from exc


def _rule_observation(ctx: _Context, record: VerdictRecord) -> Observation:
    """A broken rule; only a plain ``violated`` gates (another violated-* status is reported, as the run does)."""
    rule = ctx.catalogue[record.rule_id]
    citation = Citation(f"rules/{rule.api}.yaml", rule.id, rule.source.page, rule.source.section, _one(rule.quote))
    gating = record.status == "violated"
    return ctx.observation(
        "rule-violated",
        "",
        rule.id,
        record.received,
        record.documented,
        citation=citation,
        behavioural=gating,
        rules=(rule.id,),
        question="" if gating else f"{rule.id} ({record.status}): {_one(rule.claim)} Received: {record.received}",
    )


def _gap_observation(ctx: _Context, record: VerdictRecord) -> Observation:
    note = next((n for n in ctx.op.spec.notes() if n.id == record.rule_id), None)
    citation = ctx.op.spec.citation(note.pointer) if note else ctx.op.citation()
    behaviour = _behaviour(ctx.exchange, ctx.op.api)
    summary = note.summary if note else (record.detail or "")
    return ctx.observation(
        "doc-gap",
        "",
        f"{record.rule_id} {behaviour}",
        behaviour,
        "(the documentation is silent)",
        citation=citation,
        behavioural=False,
        gap=record.rule_id,
        question=f"{summary} Observed: {behaviour}. Is that the intended behaviour?",
    )


def _behaviour(exchange: Exchange, api: str) -> str:
    codes = error_codes(api, exchange.json())
    return f"HTTP {exchange.status}" + (f" with code {', '.join(map(str, codes))}" if codes else "")


def _one(text: str) -> str:
    return " ".join(text.split())


def _status(ctx: _Context) -> list[Observation]:
    status = ctx.exchange.status or 0
    if ctx.op.response(status) is not None:
        return []
    documented = f"one of {', '.join(ctx.op.documented_statuses())}"
    gaps = ctx.gaps_observed()
    reason = hygiene_reason("status_code_conformance", ctx.op.api, negative=ctx.fuzzed) if status < 500 else None
    if gaps or reason or ctx.fuzzed:
        gap = gaps[0].rule_id if gaps else ""
        why = (
            gaps[0].detail
            if gaps and gaps[0].detail
            else (reason or "the page does not say how it answers invalid input")
        )
        ctx.status_asked = True
        behaviour = _behaviour(ctx.exchange, ctx.op.api)
        return [
            ctx.observation(
                "undocumented-status",
                "",
                behaviour,
                behaviour,
                documented,
                behavioural=False,
                gap=gap,
                question=f"{ctx.op.id} answered {behaviour}; its documentation lists {documented}: "
                f"which answer is documented for this case? ({_one(why)[:240]})",
            )
        ]
    return [ctx.observation("undocumented-status", "", str(status), status, documented, behavioural=True)]


def _schema(ctx: _Context) -> list[Observation]:
    status = ctx.exchange.status or 0
    descriptor = APIS.get(ctx.op.api)
    command = request_command(ctx.exchange) if descriptor is not None and descriptor.command_field else None
    schema = ctx.op.response_schema(status, command)
    body = ctx.exchange.json()
    if schema is None or body is None:
        return []
    out: list[Observation] = []
    partial: dict[str, list[str]] = {}
    # The pages' examples are of successes: only a success is held to the fields they all show.
    examples = ctx.op.response_examples(status) if ctx.no_error() and command is None else []
    shown = missing_shown_fields(body, schema, examples)
    known = {diff.pointer for diff in differences(body, schema)}
    for diff in [*differences(body, schema), *(d for d in shown if d.pointer not in known)]:
        citation = ctx.op.spec.citation(diff.schema_pointer) if diff.schema_pointer else ctx.op.citation()
        if diff.kind == "undocumented-field" and ctx.partial(citation):
            parent, _, name = diff.pointer.rpartition("/")
            partial.setdefault(parent, []).append(name)
            continue
        out.append(
            ctx.observation(
                diff.kind, diff.pointer, diff.kind, diff.received, diff.documented, citation=citation, behavioural=True
            )
        )
    for parent, names in partial.items():
        # The notes capture only the fields the suite needs: fields beyond them are one question, not drift.
        fields = ", ".join(sorted(names))
        citation = ctx.op.citation()
        out.append(
            ctx.observation(
                "undocumented-field",
                parent or "/",
                fields,
                fields,
                "fields the project's notes record",
                citation=citation,
                behavioural=False,
                question=f"{ctx.op.id} answered with fields at {parent or '/'} ({fields}) that the documentation "
                f"the spec was derived from ({citation.page}) does not describe: are they documented?",
            )
        )
    return out


def _codes(ctx: _Context) -> list[Observation]:
    documented = ctx.op.error_codes()
    if not documented or ctx.succeeded():
        return []
    known = {code for code, _citation in documented}
    listed = f"one of {', '.join(str(c) for c in sorted(known, key=str))}"
    citation = _table_citation(ctx.op, documented[0][1])
    response = ctx.op.response(ctx.exchange.status or 0)
    covering = [r.rule_id for r in ctx.gaps_observed()]
    covering += [n.id for n in ctx.op.notes("gap") if response and n.pointer.startswith(response[0] + "/")]
    out: list[Observation] = []
    for code in error_codes(ctx.op.api, ctx.exchange.json()):
        if code in known or ctx.success_code(code):
            continue
        at_gap = bool(covering) or ctx.fuzzed or all(ctx.partial(c) for _code, c in documented)
        if at_gap and ctx.status_asked:
            continue
        question = (
            f"{ctx.op.id} answered with error code {code}, which the documentation does not list ({listed}): "
            "what does it mean, and should the page list it?"
        )
        out.append(
            ctx.observation(
                "undocumented-error-code",
                code_pointer(ctx.op.api),
                str(code),
                code,
                listed,
                citation=citation,
                behavioural=not at_gap,
                gap=covering[0] if covering else "",
                question=question if at_gap else "",
            )
        )
    return out


def _table_citation(op: Operation, first: Citation) -> Citation:
    """The error-code table of ``op``: its page and section, quoted by its first row."""
    return Citation(first.spec, f"{op.pointer}/x-error-codes", first.page, first.section, first.quote)


def _invalid_accepted(ctx: _Context) -> list[Observation]:
    """A fuzzed invalid request that got the vendor's own success (state changed on input the docs refuse)."""
    # Only a revoke's success changes state; a read that tolerates a stray parameter breaks nothing documented.
    if not ctx.fuzzed or ctx.op.id not in SUCCESS or not ctx.succeeded() or ctx.rejected():
        return []
    # One finding per kind of invalidity (``body: violates `type` at /properties/txnId``), not per generated case.
    mutation = ctx.interaction.mutation_kind
    components = ((ctx.interaction.sidecar.get("meta") or {}).get("case") or {}).get("components") or {}
    negative = {str(k).lower() for k, v in components.items() if v == "negative"}
    dropped_header = negative == {"header"} and "`required`" in mutation
    excuse = hygiene_reason("missing_required_header", ctx.op.api) if dropped_header else None
    body_node = f"{ctx.op.pointer}/requestBody"
    citation = ctx.op.spec.citation(body_node) if "body" in negative else ctx.op.citation()
    return [
        ctx.observation(
            "invalid-request-accepted",
            "",
            mutation[:200],
            _behaviour(ctx.exchange, ctx.op.api),
            "a refusal of a request that breaks the documented request schema",
            citation=citation,
            behavioural=excuse is None,
            question=(
                f"{ctx.op.id} carried out a request that {ctx.interaction.mutation[:160]}: is that header really "
                "required? "
                f"({_one(excuse)[:240]})"
            )
            if excuse
            else "",
        )
    ]
