"""The property layer's plumbing: schemas, the send path through conformance.http, built-in checks.

Every generated case goes out through the project's ``ApiClient`` (auth, tenant, redaction,
recording, and the registered checks as observers); Schemathesis only generates and judges. A
built-in failure listed in ``conformance.checks.hygiene`` is recorded as HYGIENE; any other fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import hypothesis
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from conformance.apis import APIS
from conformance.checks.hygiene import NOT_RUN, hygiene_id, hygiene_reason
from conformance.context import ScenarioContext
from conformance.http.exchange import Exchange
from conformance.settings import Settings
from conformance.verdicts import hygiene

# Headers Schemathesis adds for its own transport; the client decides these (or they are random per case).
TRANSPORT_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "x-schemathesis-testcaseid"})
# Credentials are the client's alone: generated values for the security schemes are never sent.
AUTH_HEADERS = frozenset({"authorization", "x-cap-api-oauth-token", "x-clientid"})
LIVE_MAX_EXAMPLES = 5
REFERENCE_MAX_EXAMPLES = 12
# The coverage phase costs ~40 deterministic boundary cases per operation; it runs on the reference
# target only when asked (CONFORMANCE_PROPERTY_COVERAGE=1) to keep the layer well under 25 s.
COVERAGE_ENV = "CONFORMANCE_PROPERTY_COVERAGE"


@dataclass
class RunConfig:
    """What generation depends on; filled from the run's settings by the properties conftest."""

    seed: int = Settings().seed
    target: str = "reference"
    coverage: bool = False

    @property
    def is_live(self) -> bool:
        return self.target in ("live", "record")


RUN = RunConfig(
    seed=int(os.environ.get("CONFORMANCE_SEED", Settings().seed)),
    target=os.environ.get("CONFORMANCE_TARGET", "reference"),
    coverage=os.environ.get(COVERAGE_ENV, "") == "1",
)


def configure(settings: Settings) -> None:
    """Take the seed and target from the run's settings (CLI > env > targets file > default)."""
    RUN.seed = settings.seed
    RUN.target = settings.target


def schema_config() -> Any:
    phases = ["examples", "fuzzing"] + (["coverage"] if RUN.coverage and not RUN.is_live else [])
    return schemathesis.Config.from_dict(
        {
            "seed": RUN.seed,
            "generation": {
                "database": "none",
                "mode": "all",
                "max-examples": LIVE_MAX_EXAMPLES if RUN.is_live else REFERENCE_MAX_EXAMPLES,
                "no-shrink": RUN.is_live,
            },
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
            "analysis": {"constants": {"enabled": False}},
        }
    )


def load_schema(api: str) -> Any:
    """The spec of ``api`` with the run's seed; the base URL is the session target's, set at call time."""
    schema = schemathesis.openapi.from_path(str(APIS[api].spec_path), config=schema_config())
    schema.config.update(base_url="http://conformance.invalid")
    return schema


# Hypothesis settings for every property test: the ctx fixture (one tenant per operation) is shared
# by all examples of one operation by design.
PROPERTY_SETTINGS = hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
    deadline=None,
)


PropertyTest = Callable[[Any, ScenarioContext], None]


def property_test(schema: Any) -> Callable[[PropertyTest], PropertyTest]:
    """``@schema.parametrize()`` (one pytest item per operation) with the layer's Hypothesis settings."""

    def decorate(test: PropertyTest) -> PropertyTest:
        wrapped: PropertyTest = schema.parametrize()(PROPERTY_SETTINGS(test))
        return wrapped

    return decorate


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


def send(ctx: ScenarioContext, api: str, case: Any) -> Exchange:
    """Send ``case`` through the API's client; the registered checks run on the exchange as observers."""
    client = ctx.client(api)
    # Schemathesis' own reproductions (curl in failure messages) must name the target too.
    case.operation.schema.config.update(base_url=client.base_url)
    # The coverage phase also sends methods the spec does not declare: such a request is not the
    # operation, and no check of the operation may judge its answer.
    declared = case.method.upper() == case.operation.method.upper()
    operation = operation_id(case) if declared else f"{operation_id(case)} (undeclared {case.method.upper()})"
    exchange = client.send(build_request(ctx, api, case), operation=operation, phase="test")
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


def judge_builtin(case: Any, exchange: Exchange, documented_rejection: bool) -> Judgement:
    """Run every built-in check on the response; hygiene per the table, the rest are failures.

    A negative case answered with the vendor's documented rejection (a status.code in a 200
    envelope, an errors item, a 4xx) is rejected, whatever negative_data_rejection expects; so is
    a neutralised one (its only mutation was in headers the client sets), which the caller passes
    as ``documented_rejection`` since the target never saw the mutation.
    """
    judgement = Judgement()
    assert exchange.response is not None
    headers = dict(exchange.request.headers)
    try:
        case.validate_response(exchange.response, checks=list(builtin_checks()), headers=headers)
    except FailureGroup:
        pass  # attribute each failure to its check below (a failure class may belong to several checks)
    else:
        return judgement
    for builtin in builtin_checks():
        name = builtin.__name__
        try:
            case.validate_response(exchange.response, checks=[builtin], headers=headers)
        except FailureGroup as group:
            if name in NEGATIVE_CHECKS and documented_rejection:
                continue
            message = "; ".join(f.title for f in group.exceptions)
            reason = hygiene_reason(name, exchange.api)
            if reason is None:
                judgement.failures.append(f"{name}: {group}")
                continue
            hygiene(hygiene_id(name), check=name, message=f"{case.operation.label}: {message}", exchange=exchange)
            judgement.hygiene.append(name)
    return judgement


def validate(case: Any, exchange: Exchange, documented_rejection: bool) -> Judgement:
    judgement = judge_builtin(case, exchange, documented_rejection)
    if judgement.failures:
        raise AssertionError("\n\n".join(judgement.failures) + f"\n\nReproduce with:\n    {exchange.curl()}")
    return judgement


def run_case(ctx: ScenarioContext, api: str, case: Any) -> Exchange:
    """One generated example: fresh resource (revokes), send, count the outcome, judge built-ins."""
    from conformance.suite.properties.outcomes import LEDGER, SUCCESS, documented_rejection, is_revoke_attempt
    from conformance.suite.properties.resources import provision

    operation = operation_id(case)
    negative = is_negative(case) and not neutralised(case, owned_headers(ctx, api))
    provision(ctx, operation, case)
    exchange = send(ctx, api, case)
    rejected = documented_rejection(api, operation, exchange)
    if negative:
        LEDGER.record(operation, negative=True, reached=rejected)
    elif not is_negative(case) and is_revoke_attempt(operation, exchange):
        succeeded = SUCCESS.get(operation)
        reached = succeeded(exchange) if succeeded else (exchange.status or 0) < 300 and not rejected
        LEDGER.record(operation, negative=False, reached=reached)
    # A neutralised negative case is sent as a valid one: negative_data_rejection has nothing to judge.
    validate(case, exchange, (negative and rejected) or (is_negative(case) and not negative))
    return exchange
