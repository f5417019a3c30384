"""Loading a spec: YAML, ``$ref`` targets, schema types and OpenAPI validity, each failing with one paragraph."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from conformance import yamlcache
from conformance.errors import UsageError
from conformance.speccheck.walk import escape, iter_schemas, join, resolve_pointer, unescape

if TYPE_CHECKING:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

# What a remembered "this spec passed" depends on besides the spec: the validator and these checks' code.
_VALIDATOR_VERSION = (
    metadata.version("openapi-spec-validator")
    + ":"
    + hashlib.sha256(
        b"".join(Path(__file__).with_name(name).read_bytes() for name in ("load.py", "walk.py"))
    ).hexdigest()[:16]
)
JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


class SpecError(UsageError):
    """A malformed spec: ``str()`` is one paragraph naming the file, the location and the problem."""

    def __init__(self, path: Path, location: str, problem: str, hint: str = "") -> None:
        self.path, self.location, self.problem, self.hint = path, location, problem, hint
        text = f"{display(path)}: {location}: {problem}" if location else f"{display(path)}: {problem}"
        text = " ".join(text.split())
        if hint:
            text = f"{text.rstrip('.')}. {' '.join(hint.split())}"
        super().__init__(text)


def display(path: Path) -> str:
    """``path`` relative to the cwd when it is below it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (the second would silently win)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _FastLoader(yamlcache.SAFE_LOADER):  # type: ignore[misc]
    """The same duplicate-key refusal over libyaml's parser (when present): a spec loads ten times faster."""


_FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error names the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        return yamlcache.load_text(text, _FastLoader)
    except yaml.YAMLError:
        pass  # the message below comes from the pure-Python parser, the same with or without libyaml
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        hint = (
            "Each key may appear once in a mapping."
            if "duplicate key" in problem
            else "Check the indentation and quoting there (a value with ': ' or ' #' needs quotes)."
        )
        raise SpecError(path, where, f"invalid YAML: {problem}{context}", hint) from None
    except yaml.YAMLError as exc:
        raise SpecError(path, "", f"invalid YAML: {exc}") from None


def line_of(path: Path, pointer: str) -> int | None:
    """The 1-based line of the node at ``pointer`` in the YAML file, or None if it cannot be found."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for token in (unescape(t) for t in pointer.lstrip("/").split("/") if pointer.strip("/")):
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == token]
            if not match:
                return line
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def where(path: Path, pointer: str) -> str:
    line = line_of(path, pointer)
    shown = pointer or "/"
    return f"at {shown} (line {line})" if line else f"at {shown}"


@dataclass
class Spec:
    """A loaded, validated spec document."""

    path: Path
    doc: dict[str, Any]

    @property
    def key(self) -> str:
        return self.path.stem


def load_spec(path: Path) -> Spec:
    """Load and validate one spec; any defect raises :class:`SpecError`."""
    before = _bytes(path)
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise SpecError(
            path,
            "at / (line 1)",
            f"the document is a {type(doc).__name__}, not a mapping",
            "An OpenAPI document is a mapping with openapi, info and paths.",
        )
    # A document that passed these checks before, byte for byte and with only local references, passes again:
    # the OpenAPI validation is most of a spec's load time, paid by every run and every xdist worker.
    local = all(ref.startswith("#") for _pointer, ref in _iter_refs(doc))
    tag = f"spec-valid:{_VALIDATOR_VERSION}:{path.resolve()}"
    if local and before is not None and yamlcache.seen(tag, before):
        return Spec(path, doc)
    check_refs(path, doc)
    check_types(path, doc)
    validate_openapi(path, doc)
    if local and before is not None and _bytes(path) == before:  # what was checked is what the file holds
        yamlcache.remember(tag, before)
    return Spec(path, doc)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None  # load_yaml reports it


def _iter_refs(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            found.append((join(pointer, "$ref"), ref))
        for key, item in value.items():
            if key != "$ref":
                found.extend(_iter_refs(item, join(pointer, str(key))))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_iter_refs(item, join(pointer, index)))
    return found


def check_refs(path: Path, doc: dict[str, Any]) -> None:
    """Every ``$ref`` must point at something: ``#/json/pointer`` here, or ``file.yaml#/pointer`` beside it."""
    for pointer, ref in _iter_refs(doc):
        target_file, _, fragment = ref.partition("#")
        target: Any = doc
        if target_file:
            other = (path.parent / target_file).resolve()
            if not other.is_file():
                raise SpecError(
                    path,
                    where(path, pointer),
                    f"broken $ref {ref!r}: the file {target_file!r} does not exist",
                    "A $ref is '#/components/...' for this document, or 'file.yaml#/...' beside it.",
                )
            target = load_yaml(other)
        if fragment and not fragment.startswith("/"):
            raise SpecError(
                path,
                where(path, pointer),
                f"broken $ref {ref!r}: the part after '#' is not a JSON pointer",
                "Write it as '#/components/schemas/Name'.",
            )
        try:
            resolve_pointer(target, fragment)
        except KeyError as exc:
            raise SpecError(
                path,
                where(path, pointer),
                f"broken $ref {ref!r}: there is no {exc.args[0]!r} on the way to {fragment}",
                _siblings(target, fragment),
            ) from None


def _siblings(doc: Any, fragment: str) -> str:
    parent = fragment.rsplit("/", 1)[0]
    try:
        value = resolve_pointer(doc, parent)
    except KeyError:
        return ""
    if isinstance(value, dict) and value:
        return f"{parent or '/'} has: {', '.join(escape(str(k)) for k in list(value)[:15])}."
    return ""


def check_types(path: Path, doc: dict[str, Any]) -> None:
    """Every schema ``type`` must be a JSON Schema type (OpenAPI has no ``datetime``, ``int``, ...)."""
    for pointer, schema in iter_schemas(doc):
        value = schema.get("type")
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in JSON_TYPES:
                raise SpecError(
                    path,
                    where(path, join(pointer, "type")),
                    f"unknown schema type {item!r}",
                    f"Allowed types: {', '.join(JSON_TYPES)}; use 'format' for date-time, int64 and the like.",
                )


def validate_openapi(path: Path, doc: dict[str, Any]) -> None:
    """Validate against the OpenAPI 3.1 (or 3.0) specification with openapi-spec-validator."""
    # Imported here: a spec validated before (by content) is not validated again, so most runs never need it.
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(doc.get("openapi", ""))
    validator_class: type[OpenAPIV31SpecValidator] | type[OpenAPIV30SpecValidator]
    if version.startswith("3.1."):
        validator_class = OpenAPIV31SpecValidator
    elif version.startswith("3.0."):
        validator_class = OpenAPIV30SpecValidator
    else:
        raise SpecError(
            path,
            where(path, "/openapi"),
            f"'openapi: {version or '(missing)'}' is not a supported version",
            "The specs are OpenAPI 3.1: write 'openapi: 3.1.0'.",
        )
    try:
        error = next(iter(validator_class(doc, base_uri=path.resolve().as_uri()).iter_errors()), None)
    except Exception as exc:  # the validator raises on references it cannot follow
        raise SpecError(path, "", f"is not a valid OpenAPI document: {exc}") from None
    if error is None:
        return
    pointer = "".join("/" + escape(str(token)) for token in getattr(error, "absolute_path", []))
    message = str(getattr(error, "message", error)).splitlines()[0]
    if len(message) > 300:
        message = message[:300] + "..."
    raise SpecError(
        path,
        where(path, pointer),
        f"not a valid OpenAPI {version} document: {message}",
        "See https://spec.openapis.org/oas/v3.1.0 for what is allowed there.",
    )
