"""Schema checks: every answer of an operation under test matches the response schema its spec documents.

One check per generated schema rule (``conformance.rules.schema_rules``: ``THANX-SCHEMA-REVOKE-202``,
...). The response schema is validated as JSON Schema 2020-12 (OpenAPI 3.1), with the spec's local
``$ref``s resolved against the whole document; a failure names every broken field and the rule quotes
the spec node it rests on.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.apis import APIS
from conformance.checks.judge import Judge
from conformance.checks.registry import REGISTRY, Check
from conformance.http.exchange import Exchange
from conformance.rules import Rule, json_schema_of, load_spec, resolve, schema_rules

BASE = "urn:conformance:spec"
PHASES = ("test", "readback")
MAX_ERRORS = 5


def absolute_refs(node: Any) -> Any:
    """The schema with ``#/...`` refs made absolute, so they resolve in the registry's copy of the spec."""
    if isinstance(node, dict):
        return {
            k: (f"{BASE}{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#/") else absolute_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(v) for v in node]
    return node


@cache
def validator_for(api: str, operation: str, status: str) -> Draft202012Validator:
    doc = load_spec(APIS[api].spec_path)
    registry: Registry[Any] = Registry().with_resource(
        BASE, Resource.from_contents(copy.deepcopy(doc), default_specification=DRAFT202012)
    )
    for item in (doc.get("paths") or {}).values():
        for op in (item or {}).values():
            if isinstance(op, dict) and op.get("operationId") == operation:
                schema = json_schema_of(doc, resolve(doc, op["responses"][status]))
                return Draft202012Validator(absolute_refs(schema), registry=registry)
    raise KeyError(f"{operation} {status} is not in the {api} spec")


def problems(validator: Draft202012Validator, body: Any) -> list[str]:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}" for e in errors[:MAX_ERRORS]]


def make_check(rule: Rule) -> Check:
    status = str(rule.model_extra.get("status") if rule.model_extra else "")

    def schema_check(exchange: Exchange, judge: Judge) -> None:
        if str(exchange.status) != status:
            return
        body = exchange.json()
        found = problems(validator_for(rule.api, rule.operation, status), body) if body is not None else ["no JSON"]
        judge.verdict(
            rule.id,
            ok=not found,
            received={"problems": found} if found else "matches the documented schema",
            documented=f"the documented {status} schema of {rule.operation}",
            exchange=exchange,
        )

    name = f"schema_{rule.id.lower().replace('-', '_')}"
    doc = rule.claim
    schema_check.__name__ = schema_check.__doc__ = name
    return Check(name, rule.api, (rule.operation,), (rule.id,), PHASES, schema_check, doc)


def register() -> None:
    for api in APIS:
        for rule in schema_rules(api):
            check = make_check(rule)
            REGISTRY.setdefault(check.name, check)


register()
