"""The property layer's plumbing: schemas, the send path through conformance.http, built-in checks.

Every generated case goes out through the project's ``ApiClient`` (auth, tenant, redaction,
recording, and the registered checks as observers); Schemathesis only generates and judges. A
built-in failure listed in ``conformance.checks.hygiene`` is recorded as HYGIENE; any other fails.

In replay nothing is generated: each operation's item rebuilds the cases its cassette holds, in
recorded order, and runs them through the same ``run_case`` (provisioning, send, checks, ledger),
so a new Hypothesis or an edited spec re-judges the recorded traffic instead of asking for other
requests. The generation mode recorded beside each case restores the negative-case judgement.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from conformance import yamlcache
from conformance.apis import APIS
from conformance.checks.hygiene import NOT_RUN, hygiene_id, hygiene_reason
from conformance.context import ScenarioContext
from conformance.errors import PreconditionUnavailable
from conformance.http.exchange import Exchange
from conformance.recording import RecordedExchange, json_safe, recorded_exchanges, register_case_replay
from conformance.rules import SCHEMA_OPERATIONS, active_rules, schema_rule_id
from conformance.settings import Settings
from conformance.verdicts import hygiene

# Headers Schemathesis adds for its own transport; the client decides these (or they are random per case).
TRANSPORT_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "x-schemathesis-testcaseid"})
# Credentials are the client's alone: generated values for the security schemes are never sent.
AUTH_HEADERS = frozenset({"authorization", "x-cap-api-oauth-token", "x-clientid"})
# The same on every target: a reference run sends the cases a live run sends and a recording holds, so
# the one run predicts the other (--plan) and a replay re-judges all of it. Deeper exploration is asked
# for (--max-examples N, --property-coverage); CI runs such a pass against the reference sandbox.
MAX_EXAMPLES = 5
# The coverage phase costs ~40 deterministic boundary cases per operation; it runs on the reference
# target only when asked (--property-coverage, CONFORMANCE_PROPERTY_COVERAGE=1) to keep the layer well under 25 s.


@dataclass
class RunConfig:
    """What generation depends on; filled from the run's settings by the properties conftest."""

    seed: int = Settings().seed
    target: str = "reference"
    coverage: bool = False
    max_examples: int | None = None  # --max-examples; None: MAX_EXAMPLES

    @property
    def is_live(self) -> bool:
        return self.target in ("live", "record")


RUN = RunConfig()


def configure(settings: Settings) -> None:
    """Take the seed, target and coverage phase from the run's settings (CLI > env > targets file > default)."""
    RUN.seed = settings.seed
    RUN.target = settings.target
    RUN.max_examples = settings.max_examples
    RUN.coverage = settings.property_coverage


def schema_config() -> Any:
    phases = ["examples", "fuzzing"] + (["coverage"] if RUN.coverage and not RUN.is_live else [])
    return schemathesis.Config.from_dict(
        {
            "seed": RUN.seed,
            "generation": {
                "database": "none",
                "mode": "all",
                "max-examples": RUN.max_examples or MAX_EXAMPLES,
                "no-shrink": RUN.is_live,
            },
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
            "analysis": {"constants": {"enabled": False}},
        }
    )


# id(schema) → its API, for replay to tell the headers the API's client sets from generated ones.
SCHEMA_API: dict[int, str] = {}


def load_schema(api: str) -> Any:
    """The spec of ``api`` with the run's seed; the base URL is the session target's, set at call time."""
    path = APIS[api].spec_path
    # The document Schemathesis' own (pure-Python) YAML loader would give, parsed once per content by libyaml
    # and cached across processes and xdist workers: a quarter of a second per process.
    schema = schemathesis.openapi.from_dict(yamlcache.load_path(path), config=schema_config())
    schema.location = path.absolute().as_uri()
    schema.config.update(base_url="http://conformance.invalid")
    SCHEMA_API[id(schema)] = api
    schema.hooks.register_hook_with_name(collect_check_results, "after_validate")
    return schema


# Hypothesis settings for every property test: the ctx fixture (one tenant per operation) is shared
# by all examples of one operation by design.
PROPERTY_SETTINGS = hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
    deadline=None,
)


PropertyTest = Callable[[Any, ScenarioContext], None]


def property_test(schema: Any) -> Callable[[PropertyTest], PropertyTest]:
    """One pytest item per operation: ``@schema.parametrize()`` with the layer's Hypothesis settings.

    In replay the items keep their ids (``test_x[METHOD /path]``) but generate nothing: each runs
    ``test`` once per case its cassette recorded (``replay_recorded_cases``).
    """

    def decorate(test: PropertyTest) -> PropertyTest:
        register_case_replay(test)
        if RUN.target == "replay":
            return replaying(schema, test)
        wrapped: PropertyTest = schema.parametrize()(PROPERTY_SETTINGS(test))
        return wrapped

    return decorate


def operation_label(error: Any) -> str:
    """The id Schemathesis gives the item of an operation it could not load (``METHOD /path``)."""
    method = getattr(error, "method", None)
    return f"{method.upper()} {error.path}" if method else str(error.path)


def replaying(schema: Any, test: PropertyTest) -> PropertyTest:
    """``test`` parametrized over the schema's operations with Schemathesis' ids, replaying recordings."""
    operations: list[Any] = []
    ids: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
            ids.append(result.ok().label)
        else:
            operations.append(result.err())
            ids.append(operation_label(result.err()))

    api = SCHEMA_API[id(schema)]

    @functools.wraps(test)
    def replayed(case: Any, ctx: ScenarioContext) -> None:
        if isinstance(case, Exception):
            raise case  # the operation could not be loaded from the spec, as in a generating run
        replay_recorded_cases(ctx, api, case, test)

    parametrized: PropertyTest = pytest.mark.parametrize("case", operations, ids=ids)(replayed)
    return parametrized


def operation_id(case: Any) -> str:
    return str(case.operation.definition.raw["operationId"])


def owned_headers(ctx: ScenarioContext, api: str) -> frozenset[str]:
    """Header names the client decides: transport, credentials, tenant, and the vendor's fixed headers."""
    client_names = {name.lower() for name in ctx.client(api).headers(None, "valid")}
    return TRANSPORT_HEADERS | AUTH_HEADERS | client_names


def neutralised(case: Any, owned: frozenset[str]) -> bool:
    """A negative case whose only mutation sits in headers the client overrides never reaches the target."""
    from schemathesis.generation.meta import negated_parameters

    meta = case.meta
    if meta is None:
        return False
    negative = {loc.value for loc, info in meta.components.items() if info.mode.value == "negative"}
    names = [name for name, _ in negated_parameters(meta)]
    for mutation in getattr(meta.phase.data, "mutations", ()):
        if "required" in mutation.keywords and isinstance(mutation.original_value, list | tuple):
            names += [str(name) for name in mutation.original_value]  # the required headers it dropped
    return negative == {"header"} and bool(names) and all(name.lower() in owned for name in names)


def build_request(ctx: ScenarioContext, api: str, case: Any) -> httpx.Request:
    """The generated case as an httpx request, with the client's auth, tenant and Accept headers."""
    client = ctx.client(api)
    kwargs = case.as_transport_kwargs(base_url=client.base_url)
    owned = client.headers(None, "valid")
    dropped = owned_headers(ctx, api)
    generated = {k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in dropped}
    headers = {**generated, **owned}
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        body["content"] = kwargs["data"]
    elif "data" in kwargs:
        body["data"] = kwargs["data"]
    if kwargs.get("files"):
        body["files"] = kwargs["files"]
    return client.http.build_request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params") or None, headers=headers, **body
    )


@dataclass(frozen=True)
class Generation:
    """How a case was generated, as ``run_case`` judged it before its resource was provisioned."""

    negative: bool
    neutralised: bool  # negative only in headers the client overrides, so sent as a valid case

    @classmethod
    def of(cls, ctx: ScenarioContext, api: str, case: Any) -> Generation:
        negative = is_negative(case)
        return cls(negative, negative and neutralised(case, owned_headers(ctx, api)))

    @classmethod
    def recorded(cls, meta: dict[str, Any]) -> Generation:
        negative = meta.get("generation_mode") == "negative"
        return cls(negative, negative and bool(meta.get("neutralised")))


# The recorded generation of the case being replayed; None while cases are generated.
REPLAYED: ContextVar[Generation | None] = ContextVar("replayed_generation", default=None)


def generation_meta(case: Any, generation: Generation) -> dict[str, Any]:
    """What the sidecar keeps of a generated case: its mode and phase and Schemathesis' own metadata."""
    meta: dict[str, Any] = {
        "generation_mode": ("negative" if generation.negative else "positive") if case.meta is not None else "explicit",
        "generation_phase": phase_of(case),
        "neutralised": generation.neutralised,
    }
    if case.meta is not None:
        with_default = json.dumps(case.meta.to_dict(), default=str, sort_keys=True)
        meta["case"] = json.loads(with_default)
    return meta


# Methods whose repetition changes nothing on the target (RFC 9110 safe methods): an identical request sent
# again in the same test can only get the same answer, so it is judged on the first one instead.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RequestKey = tuple[str, str, tuple[tuple[str, str], ...], bytes]
# Per test (one tenant each): the answers of the safe requests it sent, by request key.
SENT: weakref.WeakKeyDictionary[ScenarioContext, dict[RequestKey, Exchange]] = weakref.WeakKeyDictionary()


def request_key(request: httpx.Request) -> RequestKey:
    """What the target sees of a request: method, URL with query, every header, body."""
    headers = tuple(sorted((name.lower(), value) for name, value in request.headers.items()))
    return request.method, str(request.url), headers, request.read()


def already_sent(ctx: ScenarioContext, request: httpx.Request) -> tuple[RequestKey | None, Exchange | None]:
    """The earlier answer to the same safe request in this test (generated cases repeat: Schemathesis'
    examples and fuzzing meet the same parameterless GET many times), and the request's key."""
    if request.method not in SAFE_METHODS or REPLAYED.get() is not None:
        return None, None
    key = request_key(request)
    return key, SENT.setdefault(ctx, {}).get(key)


def send(ctx: ScenarioContext, api: str, case: Any, generation: Generation | None = None) -> Exchange:
    """Send ``case`` through the API's client; the registered checks run on the exchange as observers.

    A safe request identical to one this test already sent is not sent again: the case is judged on the
    earlier answer and counted as ``deduplicated`` in the success-reach ledger (success-reach.json).
    """
    from conformance.suite.properties.outcomes import LEDGER

    client = ctx.client(api)
    # Schemathesis' own reproductions (curl in failure messages) must name the target too.
    case.operation.schema.config.update(base_url=client.base_url)
    # The coverage phase also sends methods the spec does not declare: such a request is not the
    # operation, and no check of the operation may judge its answer.
    declared = case.method.upper() == case.operation.method.upper()
    operation = operation_id(case) if declared else f"{operation_id(case)} (undeclared {case.method.upper()})"
    request = build_request(ctx, api, case)
    key, earlier = already_sent(ctx, request)
    if earlier is not None:
        LEDGER.deduplicated(operation_id(case))
        return earlier
    exchange = client.send(request, operation=operation, phase="test")
    exchange.meta = generation_meta(case, generation or Generation.of(ctx, api, case))
    if key is not None and exchange.response is not None:
        SENT.setdefault(ctx, {})[key] = exchange
    if exchange.response is None:
        raise AssertionError(f"{case.operation.label}: no response ({exchange.error})\n{exchange.curl()}")
    return exchange


@cache
def builtin_checks() -> tuple[Callable[..., Any], ...]:
    load_all_checks()
    return tuple(c for c in CHECKS.get_all() if not isinstance(c, type) and c.__name__ not in NOT_RUN)


def is_negative(case: Any) -> bool:
    meta = case.meta
    return bool(meta is not None and meta.generation.mode.value == "negative")


def phase_of(case: Any) -> str:
    return str(case.meta.phase.name.value) if case.meta is not None else "explicit"


@dataclass
class Judgement:
    hygiene: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


NEGATIVE_CHECKS = frozenset({"negative_data_rejection", "missing_required_header"})
SCHEMA_CHECK = "response_schema_conformance"
STATUS_CHECK = "status_code_conformance"


def schema_owned(exchange: Exchange) -> bool:
    """The answer's schema is judged by its schema rule's check (one judge per rule), not by Schemathesis."""
    operation = exchange.operation or ""
    if exchange.api not in APIS or " " in operation or exchange.status is None:
        return False
    return schema_rule_id(exchange.api, operation, str(exchange.status)) in active_rules()


# The per-check outcomes of the validate_response call in progress, filled by the schemas' after_validate hook.
CHECK_RESULTS: ContextVar[list[Any] | None] = ContextVar("check_results", default=None)


def collect_check_results(context: Any, case: Any, response: Any, results: list[Any]) -> None:
    """Schemathesis' documented ``after_validate`` hook: one entry per check run, one per failure it kept."""
    collected = CHECK_RESULTS.get()
    if collected is not None:
        collected.extend(results)


def failures_by_check(case: Any, exchange: Exchange, checks: list[Callable[..., Any]]) -> dict[str, list[Any]]:
    """Every built-in check run once on the answer, its kept failures named by the check that raised them."""
    assert exchange.response is not None
    results: list[Any] = []
    token = CHECK_RESULTS.set(results)
    try:
        case.validate_response(exchange.response, checks=checks, headers=dict(exchange.request.headers))
    except FailureGroup:
        pass  # the hook saw each failure with its check's name (a failure class may belong to several checks)
    finally:
        CHECK_RESULTS.reset(token)
    failed: dict[str, list[Any]] = {}
    for result in results:
        if result.failure is not None:
            failed.setdefault(result.name, []).append(result.failure)
    return failed


def judge_builtin(case: Any, exchange: Exchange, documented_rejection: bool, *, negative: bool = False) -> Judgement:
    """Run every built-in check on the response; hygiene per the table, the rest are failures.

    A negative case answered with the vendor's documented rejection (a status.code in a 200
    envelope, an errors item, a 4xx) is rejected, whatever negative_data_rejection expects; so is
    a neutralised one (its only mutation was in headers the client sets), which the caller passes
    as ``documented_rejection`` since the target never saw the mutation. ``negative``: the target saw
    a request that broke the documented request schema (the table's ``negative_only`` entries apply).
    """
    judgement = Judgement()
    checks = [c for c in builtin_checks() if not (c.__name__ == SCHEMA_CHECK and schema_owned(exchange))]
    for name, failures in failures_by_check(case, exchange, checks).items():
        if name in NEGATIVE_CHECKS and documented_rejection:
            continue
        if name == STATUS_CHECK and (exchange.status or 0) >= 500:
            continue  # a 5xx is undocumented everywhere: one fact, judged once, by not_a_server_error
        reason = hygiene_reason(name, exchange.api, negative=negative)
        if reason is None:
            judgement.failures.append(f"{name}: " + "; ".join(str(failure) for failure in failures))
            continue
        message = "; ".join(failure.title for failure in failures)
        hygiene(hygiene_id(name), check=name, message=f"{case.operation.label}: {message}", exchange=exchange)
        judgement.hygiene.append(name)
    return judgement


def validate(case: Any, exchange: Exchange, documented_rejection: bool, *, negative: bool = False) -> Judgement:
    judgement = judge_builtin(case, exchange, documented_rejection, negative=negative)
    if judgement.failures:
        raise AssertionError("\n\n".join(judgement.failures) + f"\n\nReproduce with:\n    {exchange.curl()}")
    return judgement


def skip_unserved_setup(ctx: ScenarioContext, api: str, operation: str, exchange: Exchange) -> None:
    """A setup operation a live target does not serve (a bare 404 without a JSON body) cannot be judged: skip.

    A server tested with ``--provisioner control`` need not implement the vendors' setup endpoints; the
    operations under test are always judged, and the embedded sandbox serves everything.
    """
    settings = ctx.settings
    live_control = settings.is_networked and not settings.uses_reference_sandbox
    live_control = live_control and settings.provisioner_for(api) == "control"
    under_test = operation in SCHEMA_OPERATIONS.get(api, set())
    if live_control and not under_test and exchange.status == 404 and exchange.json() is None:
        raise PreconditionUnavailable(f"the setup operation {operation}", "the target does not serve it (bare 404)")


def run_case(ctx: ScenarioContext, api: str, case: Any) -> Exchange:
    """One generated (or replayed) example: fresh resource (revokes), send, count the outcome, judge built-ins."""
    from conformance.suite.properties.outcomes import LEDGER, SUCCESS, documented_rejection, is_revoke_attempt
    from conformance.suite.properties.resources import provision, settle

    operation = operation_id(case)
    generation = REPLAYED.get() or Generation.of(ctx, api, case)
    negative = generation.negative and not generation.neutralised
    provision(ctx, operation, case)
    exchange = send(ctx, api, case, generation)
    skip_unserved_setup(ctx, api, operation, exchange)
    rejected = documented_rejection(api, operation, exchange)
    # A refused example, or one that asked for no revoke, left its resource as provisioned: the next may take it.
    settle(ctx, untouched=rejected or not is_revoke_attempt(operation, exchange))
    if negative:
        LEDGER.record(operation, negative=True, reached=rejected)
    elif not is_negative(case) and is_revoke_attempt(operation, exchange):
        succeeded = SUCCESS.get(operation)
        reached = succeeded(exchange) if succeeded else (exchange.status or 0) < 300 and not rejected
        LEDGER.record(operation, negative=False, reached=reached)
    # A neutralised negative case is sent as a valid one: negative_data_rejection has nothing to judge.
    # ``negative``: the target saw the request break its schema (a neutralised case's mutation never left).
    validate(case, exchange, (negative and rejected) or (is_negative(case) and not negative), negative=negative)
    return exchange


# ---------------------------------------------------------------------------------------------------
# Replay: rebuild each recorded case and run it through run_case again.


def recorded_operation(exchange: RecordedExchange) -> str:
    """The operationId a recorded test exchange was sent as (``op (undeclared GET)`` names ``op``)."""
    return (exchange.operation or "").split(" (undeclared ", 1)[0]


def recorded_cases(ctx: ScenarioContext, operation: Any) -> list[RecordedExchange]:
    """The generated cases of ``operation`` this test's cassette holds, in recorded order."""
    op_id = str(operation.definition.raw["operationId"])
    return [
        exchange
        for exchange in recorded_exchanges(ctx.settings, ctx.recorder.test_id)
        if exchange.phase == "test" and "generation_mode" in exchange.meta and recorded_operation(exchange) == op_id
    ]


def path_parameters(template: str, path: str) -> dict[str, str]:
    """The values of ``template``'s ``{name}`` segments in a recorded ``path``, still URL-encoded."""
    names: list[str] = []
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
        pattern += re.escape(literal)
        if name:
            names.append(name)
            pattern += f"(?P<p{len(names)}>[^/]*)"
    match = re.search(pattern + "$", path)
    if match is None:
        raise AssertionError(f"The recorded path {path!r} does not fit the operation's template {template!r}")
    # Schemathesis keeps path parameters URL-encoded in the case, as they were sent.
    return {name: match.group(f"p{i}") for i, name in enumerate(names, 1)}


def recorded_json(text: str) -> Any:
    """A recorded JSON body (one recorded before masking kept JSON valid is read the way it is now)."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(json_safe(text))


def as_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query or form pairs as a case container: a repeated key becomes a list."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def restore_meta(data: Any) -> Any:
    """Schemathesis' metadata of a recorded case (mode per location, phase, mutations), or None."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation import GenerationMode
    from schemathesis.generation.meta import (
        CaseMetadata,
        ComponentInfo,
        CoverageScenario,
        GenerationInfo,
        PhaseInfo,
        TestPhase,
        build_phase_data,
    )

    if not isinstance(data, dict):
        return None
    try:
        meta = CaseMetadata.from_dict(data)
    except Exception:  # another Schemathesis may read its own format otherwise: keep the modes and the phase
        phase = TestPhase(data["phase"]["name"])
        meta = CaseMetadata(
            generation=GenerationInfo(time=0.0, mode=GenerationMode(data["generation"]["mode"])),
            components={
                ParameterLocation[name]: ComponentInfo(mode=GenerationMode(mode))
                for name, mode in data.get("components", {}).items()
            },
            phase=PhaseInfo.coverage(CoverageScenario(data["phase"]["data"]["scenario"]), "recorded")
            if phase == TestPhase.COVERAGE
            else PhaseInfo(name=phase, data=build_phase_data(phase, None)),
        )
    # The typed snapshots describe the values before the id substitution; the recorded ones are after it.
    meta.raw_containers = {}
    return meta


def rebuild_case(operation: Any, recorded: RecordedExchange, owned: frozenset[str]) -> Any:
    """The recorded request as a Case of ``operation``: path parameters, query, generated headers, body.

    Headers the client sets (``owned``) are left out, as they were of the generated case; so is
    the Content-Type the body's media type implies.
    """
    from schemathesis.core import NOT_SET

    url = urlsplit(recorded.uri)
    sent_type = next((v for k, v in recorded.headers.items() if k.lower() == "content-type"), "")
    media_types = [body.media_type for body in operation.body]
    media_type = next((m for m in media_types if m == sent_type.split(";")[0].strip()), None) or next(
        iter(media_types), None
    )
    declared = {parameter.name.lower(): parameter.name for parameter in operation.headers}
    headers = {
        declared.get(name.lower(), name): value
        for name, value in recorded.headers.items()
        if name.lower() not in owned and not (name.lower() == "content-type" and value == media_type)
    }
    body: Any = NOT_SET
    if recorded.body:
        if media_type is not None and "json" in media_type:
            try:
                body = recorded_json(recorded.body)
            except ValueError:
                body = recorded.body
        elif media_type == "application/x-www-form-urlencoded":
            body = as_params(parse_qsl(recorded.body, keep_blank_values=True))
        else:
            body = recorded.body
    method = recorded.method if recorded.method != operation.method.upper() else None
    return operation.Case(
        method=method,
        path_parameters=path_parameters(operation.path, url.path),
        headers=headers,
        query=as_params(parse_qsl(url.query, keep_blank_values=True)),
        body=body,
        media_type=media_type,
        _meta=restore_meta(recorded.meta.get("case")),
    )


def replay_recorded_cases(ctx: ScenarioContext, api: str, operation: Any, test: PropertyTest) -> None:
    """Run ``test`` on every recorded case of ``operation``; every case runs, the first failure is raised."""
    cases = recorded_cases(ctx, operation)
    owned = owned_headers(ctx, api)
    if not cases:
        pytest.skip(f"The recording of {ctx.recorder.test_id} holds no generated case of {operation.label}.")
    failures: list[AssertionError] = []
    for number, recorded in enumerate(cases, 1):
        token = REPLAYED.set(Generation.recorded(recorded.meta))
        try:
            test(rebuild_case(operation, recorded, owned), ctx)
        except AssertionError as exc:
            exc.add_note(f"Replayed case {number} of {len(cases)} ({recorded.method} {urlsplit(recorded.uri).path}).")
            failures.append(exc)
        finally:
            REPLAYED.reset(token)
    if failures:
        first = failures[0]
        for other in failures[1:]:
            first.add_note(f"Also failed: {str(other).splitlines()[0] if str(other) else type(other).__name__}")
        raise first
