"""The rule catalogue: every documented behavioural claim, with a stable ID, read from ``specs/rules/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance import yamlcache
from conformance.apis import APIS, SPECS_DIR
from conformance.errors import UsageError

RuleKind = Literal[
    "precondition", "transition", "async", "status-envelope", "money", "auth", "validation", "client-request"
]
Confidence = Literal["documented", "inferred", "assumed"]

# Money and state come first: a QA lead reads the blockers before anything else.
SEVERITY_BY_KIND: dict[str, str] = {
    "money": "blocker",
    "transition": "critical",
    "async": "critical",
    "precondition": "critical",
    "status-envelope": "normal",
    "auth": "normal",
    "validation": "minor",
    "client-request": "minor",
}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: str
    section: str


class Rule(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    claim: str
    kind: RuleKind
    confidence: Confidence
    operation: str
    source: Source
    quote: str
    withdrawn: str | None = None
    api: str = ""

    @property
    def severity(self) -> str:
        return SEVERITY_BY_KIND[self.kind]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    api: str
    spec: str
    rules: list[Rule]


def load_rule_file(path: Path) -> RuleFile:
    """Parse one rule file, turning YAML and schema errors into one-paragraph usage errors."""
    try:
        raw = yamlcache.load_path(path)
        parsed = RuleFile.model_validate(raw)
    except FileNotFoundError:
        raise UsageError(
            f"Rule file {path} does not exist; every API in specs/ needs specs/rules/<api>.yaml."
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"Rule file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise UsageError(
            f"Rule file {path} does not match the rule format (see specs/README.md): {problems}."
        ) from None
    for rule in parsed.rules:
        rule.api = parsed.api
    return parsed


@cache
def load_catalogue(specs_dir: Path = SPECS_DIR) -> dict[str, Rule]:
    """All rules of all APIs, keyed by ID, withdrawn ones included; duplicate IDs are an error."""
    catalogue: dict[str, Rule] = {}
    for key in APIS:
        for rule in load_rule_file(specs_dir / "rules" / f"{key}.yaml").rules + schema_rules(key, specs_dir):
            if rule.id in catalogue:
                raise UsageError(f"Rule ID {rule.id} appears twice in specs/rules/; IDs are unique and never reused.")
            catalogue[rule.id] = rule
    return catalogue


def active_rules(specs_dir: Path = SPECS_DIR) -> dict[str, Rule]:
    """The rules a run must record verdicts for."""
    return {rid: rule for rid, rule in load_catalogue(specs_dir).items() if rule.withdrawn is None}


# ---------------------------------------------------------------------------------------------
# Schema rules: one per documented response (operation, status) of a spec, generated, never written by hand.


@cache
def load_spec(path: Path) -> dict[str, Any]:
    try:
        raw = yamlcache.load_path(path)
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"The spec {path} cannot be read as YAML: {exc}".replace("\n", " ")) from None
    return raw if isinstance(raw, dict) else {}


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (``#/components/...``) until a node without one."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        node = target
    return node


def json_schema_of(doc: dict[str, Any], response: dict[str, Any]) -> Any:
    content = response.get("content") or {}
    media = next((m for name, m in content.items() if "json" in name), None)
    return media.get("schema") if isinstance(media, dict) else None


def documented_fields(
    doc: dict[str, Any], schema: Any, prefix: str = "", depth: int = 0, present: bool = True
) -> list[dict[str, str]]:
    """Every property the schema documents, with its type, whether every answer carries it, and its quote."""
    node = resolve(doc, schema)
    if not isinstance(node, dict) or depth > 4:
        return []
    fields: list[dict[str, str]] = []
    required = set(node.get("required") or [])
    for name, sub in (node.get("properties") or {}).items():
        prop = resolve(doc, sub)
        if not isinstance(prop, dict):
            continue
        path = f"{prefix}{name}"
        kind = prop.get("type", "any")
        fields.append(
            {
                "path": path,
                "type": "|".join(kind) if isinstance(kind, list) else str(kind),
                "required": "yes" if present and name in required else "no",
                "quote": " ".join(str(prop.get("x-source-quote", "")).split()),
            }
        )
        always = present and name in required
        fields += documented_fields(doc, prop, f"{path}.", depth + 1, always)
        if isinstance(prop.get("items"), dict):
            fields += documented_fields(doc, prop["items"], f"{path}[].", depth + 1, False)
    return fields


def is_permissive(doc: dict[str, Any], schema: Any) -> bool:
    """A schema that accepts any JSON value documents nothing (an x-doc-gap body)."""
    node = resolve(doc, schema)
    keys = {"type", "properties", "required", "oneOf", "anyOf", "allOf", "items", "enum", "const"}
    return not isinstance(node, dict) or not keys & node.keys()


def schema_rule_id(api: str, operation: str, status: str) -> str:
    short = "REVOKE" if operation == APIS[api].revoke_operation else operation.upper()
    return f"{APIS[api].rule_prefix}-SCHEMA-{short}-{status}"


# The operations whose answers the scenarios judge: the revoke itself, and the read-backs its descriptor
# names (Thanx's job object is documented on the revoke page). Setup operations are preconditions.
SCHEMA_OPERATIONS = {key: set(api.schema_operations) for key, api in APIS.items()}


def schema_rules(api: str, specs_dir: Path = SPECS_DIR) -> list[Rule]:
    """A rule per (operation under test, explicit status) whose response has a JSON schema and a source quote."""
    doc = load_spec(specs_dir / f"{api}.yaml")
    rules: list[Rule] = []
    for item in (doc.get("paths") or {}).values():
        for operation in (item or {}).values():
            if not isinstance(operation, dict) or operation.get("operationId") not in APIS[api].schema_operations:
                continue
            for status, raw in (operation.get("responses") or {}).items():
                response = resolve(doc, raw)
                schema = json_schema_of(doc, response) if isinstance(response, dict) else None
                if not str(status).isdigit() or schema is None or is_permissive(doc, schema):
                    continue
                source, quote = response.get("x-source"), response.get("x-source-quote")
                if not isinstance(source, dict) or not quote:
                    continue
                rules.append(schema_rule(api, str(operation["operationId"]), str(status), response, schema, doc))
    return rules


def schema_rule(
    api: str, operation: str, status: str, response: dict[str, Any], schema: Any, doc: dict[str, Any]
) -> Rule:
    fields = documented_fields(doc, schema)
    # A body the page shows only for another API (an assumed envelope) is assumed, not documented.
    assumed = bool(response.get("x-doc-gap")) or "assum" in str(response.get("description", "")).lower()
    names = ", ".join(f["path"] for f in fields if f["required"] == "yes") or "its documented shape"
    rule = Rule.model_validate(
        {
            "id": schema_rule_id(api, operation, status),
            "claim": f"An HTTP {status} answer of {operation} matches its documented response schema "
            f"(documented fields with their documented types; required: {names}).",
            "kind": "status-envelope",
            "confidence": "assumed" if assumed else "documented",
            "operation": operation,
            "source": {"page": response["x-source"]["page"], "section": response["x-source"]["section"]},
            "quote": " ".join(str(response["x-source-quote"]).split()),
            "status": status,
            "fields": fields,
        }
    )
    rule.api = api
    return rule
