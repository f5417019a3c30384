"""A recorded body against its documented schema: missing, undocumented and mistyped fields, each with its spec node.

Validation is JSON Schema 2020-12 (the dialect of OpenAPI 3.1) with format checks; fields the
schema never declares are found by a walk of their own, because the specs do not close their
objects (``additionalProperties`` is left open: a vendor may add fields, and an auditor wants
to hear about each one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from conformance.drift.specindex import POINTER_KEY
from conformance.speccheck.walk import join

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
KIND_BY_KEYWORD = {
    "required": "missing-field",
    "type": "type-mismatch",
    "format": "format-mismatch",
    "enum": "enum-mismatch",
    "const": "enum-mismatch",
}
BRANCHING = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True)
class Difference:
    kind: str
    pointer: str  # where in the body, array indices as ``*`` so repeated items aggregate
    schema_pointer: str  # the spec node the difference contradicts
    received: Any
    documented: str


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    for name, (low, high) in INT_RANGES.items():

        def in_range(value: Any, low: int = low, high: int = high) -> bool:
            return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

        checker.checks(name)(in_range)
    return checker


FORMATS = _format_checker()


def _pointer(path: Any) -> str:
    return join("", *("*" if isinstance(token, int) else str(token) for token in path))


def differences(body: Any, schema: dict[str, Any]) -> list[Difference]:
    """Every way ``body`` departs from ``schema``: validation errors first, then undocumented fields."""
    found = [_from_error(error) for error in _leaf_errors(Draft202012Validator(schema, format_checker=FORMATS), body)]
    found += list(undocumented(body, [schema], ""))
    unique: dict[tuple[str, str], Difference] = {}
    for item in found:
        unique.setdefault((item.kind, item.pointer), item)
    return list(unique.values())


def _leaf_errors(validator: Draft202012Validator, body: Any) -> Iterator[ValidationError]:
    for error in validator.iter_errors(body):
        if error.validator in ("oneOf", "anyOf") and error.context:
            # Report the branch that came closest rather than "is not valid under any of the given schemas".
            yield best_match(error.context)
        else:
            yield error


def _from_error(error: ValidationError) -> Difference:
    keyword = str(error.validator)
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = _pointer(error.absolute_path)
    if keyword == "required" and isinstance(error.instance, dict):
        missing = next((name for name in error.validator_value if name not in error.instance), "")
        declared = (schema.get("properties") or {}).get(missing)
        schema_pointer = str((declared or {}).get(POINTER_KEY) or schema.get(POINTER_KEY, ""))
        return Difference("missing-field", join(where, missing), schema_pointer, None, f"required field {missing!r}")
    kind = KIND_BY_KEYWORD.get(keyword, "schema-mismatch")
    documented = f"{keyword}: {error.validator_value!r}" if keyword != "not" else f"not {_short(error.validator_value)}"
    return Difference(kind, where, str(schema.get(POINTER_KEY, "")), error.instance, documented)


def _short(value: Any) -> str:
    clean = _strip(value)
    text = repr(clean)
    return text if len(text) <= 160 else text[:157] + "..."


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not str(k).startswith("x-") and k != "description"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _branches(schema: dict[str, Any], body: Any) -> list[dict[str, Any]]:
    """``schema`` and the subschemas that apply to ``body`` (every allOf, the valid anyOf/oneOf, if's then/else)."""
    out = [schema]
    for keyword in BRANCHING:
        subs = [s for s in schema.get(keyword) or [] if isinstance(s, dict)]
        if keyword != "allOf":
            valid = [s for s in subs if Draft202012Validator(s).is_valid(body)]
            subs = valid or subs
        for sub in subs:
            out += _branches(sub, body)
    condition = schema.get("if")
    if isinstance(condition, dict):
        chosen = schema.get("then") if Draft202012Validator(condition).is_valid(body) else schema.get("else")
        if isinstance(chosen, dict):
            out += _branches(chosen, body)
    return out


def undocumented(body: Any, schemas: list[dict[str, Any]], pointer: str) -> Iterator[Difference]:
    """Fields of ``body`` that no applicable schema declares, where those schemas declare any fields at all.

    ``schemas`` all describe the same value (a property declared in a schema and restated in an
    if/then branch): a field is documented if any of them declares it.
    """
    branches = [branch for schema in schemas for branch in _branches(schema, body)]
    if isinstance(body, dict):
        declared: dict[str, list[dict[str, Any]]] = {}
        describes_fields = False
        for branch in branches:
            props = branch.get("properties")
            if isinstance(props, dict):
                describes_fields = describes_fields or bool(props)
                for name, sub in props.items():
                    if isinstance(sub, dict):
                        declared.setdefault(str(name), []).append(sub)
            if branch.get("additionalProperties") is False:
                describes_fields = True
        owner = next((str(b.get(POINTER_KEY)) for b in branches if b.get("properties") and b.get(POINTER_KEY)), "")
        for name, value in body.items():
            where = join(pointer, name)
            if name in declared:
                yield from undocumented(value, declared[name], where)
            elif describes_fields:
                yield Difference("undocumented-field", where, owner, _sample(value), "no such field in the schema")
    elif isinstance(body, list):
        items = [branch["items"] for branch in branches if isinstance(branch.get("items"), dict)]
        if items:
            for value in body:
                yield from undocumented(value, items, join(pointer, "*"))


def _sample(value: Any) -> Any:
    """A short rendering of an undocumented field's value (its type for containers)."""
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return value


def example_fields(examples: list[Any]) -> set[tuple[str, ...]]:
    """The object paths every example shows (paths through arrays are left out: item shapes vary)."""
    shown: set[tuple[str, ...]] | None = None
    for example in examples:
        paths = set(_object_paths(example, ()))
        shown = paths if shown is None else shown & paths
    return shown or set()


def _object_paths(value: Any, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, str(key))
            yield from _object_paths(item, (*prefix, str(key)))


def missing_shown_fields(body: Any, schema: dict[str, Any], examples: list[Any]) -> list[Difference]:
    """Fields every documented example of the answer shows that ``body`` lacks (its parent object present)."""
    out: list[Difference] = []
    for path in sorted(example_fields(examples)):
        parent: Any = body
        for token in path[:-1]:
            parent = parent.get(token) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] not in parent:
            out.append(
                Difference(
                    "missing-field",
                    join("", *path),
                    _declared(schema, body, path),
                    None,
                    f"field {path[-1]!r}, shown in every documented example of this answer",
                )
            )
    return out


def _declared(schema: dict[str, Any], body: Any, path: tuple[str, ...]) -> str:
    """The pointer of the spec node declaring the field at ``path``, or of the nearest declared ancestor."""
    found = str(schema.get(POINTER_KEY, ""))
    schemas, value = [schema], body
    for token in path:
        subs = [
            sub
            for s in schemas
            for branch in _branches(s, value)
            for name, sub in (branch.get("properties") or {}).items()
            if name == token and isinstance(sub, dict)
        ]
        if not subs:
            return found
        found = str(next((s.get(POINTER_KEY) for s in subs if s.get(POINTER_KEY)), found))
        schemas, value = subs, value.get(token) if isinstance(value, dict) else None
    return found
