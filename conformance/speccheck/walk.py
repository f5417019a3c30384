"""Walking an OpenAPI 3.1 document: operations, parameters, responses, schemas, with their JSON pointers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")

Doc = dict[str, Any]


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(str(token)) for token in tokens)


def dicts(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (key, value) pairs of a mapping whose values are mappings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict):
                yield str(key), item


def iter_operations(doc: Doc) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(pointer, path, method, operation) for every operation."""
    for path, item in dicts(doc.get("paths")):
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                yield join("/paths", path, method), path, method, op


def iter_parameters(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, parameter) for every inline parameter object; ``$ref`` stubs are skipped."""
    for path, item in dicts(doc.get("paths")):
        yield from _params(item.get("parameters"), join("/paths", path, "parameters"))
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                yield from _params(op.get("parameters"), join("/paths", path, method, "parameters"))
    for name, param in dicts(_components(doc).get("parameters")):
        if "$ref" not in param:
            yield join("/components/parameters", name), param


def _params(value: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, list):
        for index, param in enumerate(value):
            if isinstance(param, dict) and "$ref" not in param:
                yield join(pointer, index), param


def _components(doc: Doc) -> dict[str, Any]:
    components = doc.get("components")
    return components if isinstance(components, dict) else {}


def iter_responses(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, response) for every inline response object; ``$ref`` stubs are skipped."""
    for pointer, _path, _method, op in iter_operations(doc):
        for status, response in dicts(op.get("responses")):
            if "$ref" not in response:
                yield join(pointer, "responses", status), response
    for name, response in dicts(_components(doc).get("responses")):
        if "$ref" not in response:
            yield join("/components/responses", name), response


def iter_request_bodies(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    for pointer, _path, _method, op in iter_operations(doc):
        body = op.get("requestBody")
        if isinstance(body, dict) and "$ref" not in body:
            yield join(pointer, "requestBody"), body
    for name, body in dicts(_components(doc).get("requestBodies")):
        if "$ref" not in body:
            yield join("/components/requestBodies", name), body


def iter_headers(doc: Doc) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(pointer, name, header) for response headers and ``components.headers``."""
    for pointer, response in iter_responses(doc):
        for name, header in dicts(response.get("headers")):
            yield join(pointer, "headers", name), name, header
    for name, header in dicts(_components(doc).get("headers")):
        yield join("/components/headers", name), name, header


def iter_media_types(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, media type object) of request bodies, responses and parameters."""
    owners = [*iter_request_bodies(doc), *iter_responses(doc), *iter_parameters(doc)]
    owners += [(pointer, header) for pointer, _name, header in iter_headers(doc)]
    for pointer, owner in owners:
        for media, obj in dicts(owner.get("content")):
            yield join(pointer, "content", media), obj


def iter_schema_roots(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, schema) for every schema that is not nested in another schema."""
    for name, schema in dicts(_components(doc).get("schemas")):
        yield join("/components/schemas", name), schema
    for pointer, media in iter_media_types(doc):
        if isinstance(media.get("schema"), dict):
            yield join(pointer, "schema"), media["schema"]
    holders = [*iter_parameters(doc), *[(p, h) for p, _n, h in iter_headers(doc)]]
    for pointer, holder in holders:
        if isinstance(holder.get("schema"), dict):
            yield join(pointer, "schema"), holder["schema"]
    yield from _by_command(doc, "")


def _by_command(value: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Schemas under any ``x-response-by-command`` map (Juspay: command -> response schema)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "x-response-by-command":
                for command, schema in dicts(item):
                    yield join(pointer, key, command), schema
            elif not str(key).startswith("x-source"):
                yield from _by_command(item, join(pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _by_command(item, join(pointer, index))


def iter_subschemas(pointer: str, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The schema itself and every schema nested in it, depth first."""
    yield pointer, schema
    for keyword in _SCHEMA_MAPS:
        for name, sub in dicts(schema.get(keyword)):
            yield from iter_subschemas(join(pointer, keyword, name), sub)
    for keyword in _SCHEMA_ONE:
        one: Any = schema.get(keyword)
        if isinstance(one, dict):
            yield from iter_subschemas(join(pointer, keyword), one)
        elif keyword == "items" and isinstance(one, list):
            for index, item in enumerate(one):
                if isinstance(item, dict):
                    yield from iter_subschemas(join(pointer, keyword, index), item)
    for keyword in _SCHEMA_LISTS:
        subs = schema.get(keyword)
        if isinstance(subs, list):
            for index, item in enumerate(subs):
                if isinstance(item, dict):
                    yield from iter_subschemas(join(pointer, keyword, index), item)


def iter_schemas(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, schema) for every schema in the document, each once."""
    seen: set[str] = set()
    for root_pointer, root in iter_schema_roots(doc):
        for pointer, schema in iter_subschemas(root_pointer, root):
            if pointer not in seen:
                seen.add(pointer)
                yield pointer, schema


def iter_properties(doc: Doc) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(pointer, name, schema) for every property of every schema, in components and inline."""
    for pointer, schema in iter_schemas(doc):
        for name, sub in dicts(schema.get("properties")):
            yield join(pointer, "properties", name), name, sub


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer (``/a/b``); raises KeyError naming the first missing token."""
    value = doc
    if pointer in ("", "/"):
        return value
    for token in (unescape(t) for t in pointer.lstrip("/").split("/")):
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(token)
    return value
