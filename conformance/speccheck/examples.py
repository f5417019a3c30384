"""Every ``example`` / ``examples`` value in a spec must be valid against its schema (JSON Schema 2020-12)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from conformance.speccheck.walk import (
    dicts,
    escape,
    iter_headers,
    iter_media_types,
    iter_parameters,
    iter_schemas,
    join,
    resolve_pointer,
)

BASE = "urn:conformance:spec"


@dataclass
class ExampleResult:
    checked: int = 0
    failures: list[str] = field(default_factory=list)


def _named_examples(doc: dict[str, Any], owner: dict[str, Any], pointer: str) -> Iterator[tuple[str, Any]]:
    """The values of a media type's, parameter's or header's ``example`` and ``examples`` (a map of Example)."""
    if "example" in owner:
        yield join(pointer, "example"), owner["example"]
    for name, stub in dicts(owner.get("examples")):
        where = join(pointer, "examples", name)
        example: Any = stub
        ref = stub.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            try:
                example = resolve_pointer(doc, ref[1:])
            except KeyError:
                continue  # broken refs are reported when the spec is loaded
        if isinstance(example, dict) and "value" in example:
            yield join(where, "value"), example["value"]


def iter_examples(doc: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(pointer of the example, value, pointer of the schema it must match)."""
    for pointer, schema in iter_schemas(doc):
        if "example" in schema:
            yield join(pointer, "example"), schema["example"], pointer
        examples = schema.get("examples")
        if isinstance(examples, list):
            for index, value in enumerate(examples):
                yield join(pointer, "examples", index), value, pointer
    owners = [*iter_media_types(doc), *iter_parameters(doc)]
    owners += [(pointer, header) for pointer, _name, header in iter_headers(doc)]
    for pointer, owner in owners:
        if isinstance(owner.get("schema"), dict):
            for where, value in _named_examples(doc, owner, pointer):
                yield where, value, join(pointer, "schema")


def check_examples(doc: dict[str, Any]) -> ExampleResult:
    """Validate every example against the schema beside it; ``$ref`` resolves within the document."""
    result = ExampleResult()
    registry: Registry[Any] = Registry().with_resource(BASE, DRAFT202012.create_resource(doc))
    checker = FormatChecker()
    for where, value, schema_pointer in iter_examples(doc):
        result.checked += 1
        validator = Draft202012Validator(
            {"$ref": f"{BASE}#{_uri_pointer(schema_pointer)}"}, registry=registry, format_checker=checker
        )
        error = best_match(validator.iter_errors(value))
        if error is not None:
            at = "".join("/" + escape(str(token)) for token in error.absolute_path) or "/"
            result.failures.append(f"{where}: the example does not match {schema_pointer} (at {at}: {error.message})")
    return result


def _uri_pointer(pointer: str) -> str:
    """A JSON pointer made safe for a URI fragment."""
    return quote(pointer, safe="/~:@!$&'()*+,;=-._")
