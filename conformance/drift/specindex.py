"""The specs as the audit reads them: operations by method and path, response schemas, error codes, gaps, conflicts.

Schemas are dereferenced into plain JSON Schema; every node keeps the JSON pointer it came from
(``x-drift-pointer``) so a difference can cite the node's ``x-source`` and verbatim quote.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance.apis import APIS, SPECS_DIR
from conformance.speccheck.load import load_yaml
from conformance.speccheck.walk import iter_operations, join, resolve_pointer

POINTER_KEY = "x-drift-pointer"
MAX_DEPTH = 40


@dataclass(frozen=True)
class Citation:
    """The documentation a finding rests on: the spec node, its page and section, and the verbatim words."""

    spec: str
    pointer: str
    page: str = ""
    section: str = ""
    quote: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "spec": self.spec,
            "pointer": self.pointer,
            "page": self.page,
            "section": self.section,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Note:
    """One ``x-doc-gap`` or ``x-doc-conflict`` entry of an operation (or of the document)."""

    kind: str  # "gap" | "conflict"
    id: str
    summary: str
    decision: str
    api: str
    operation: str
    pointer: str
    quotes: tuple[dict[str, str], ...] = ()


@dataclass
class Operation:
    api: str
    id: str
    method: str
    path: str
    pointer: str
    node: dict[str, Any]
    spec: SpecDoc

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", self.path):
            regex += re.escape(literal) + ("[^/]+" if name else "")
        return re.compile(regex + "$")

    def citation(self) -> Citation:
        return self.spec.citation(self.pointer)

    def response(self, status: int) -> tuple[str, dict[str, Any]] | None:
        """(pointer, response object) documenting ``status``: the exact code, its ``NXX`` class, or ``default``."""
        responses = self.node.get("responses") or {}
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if isinstance(responses.get(key), dict):
                pointer = join(self.pointer, "responses", key)
                response = responses[key]
                if "$ref" in response:
                    target = str(response["$ref"]).partition("#")[2]
                    return target, resolve_pointer(self.spec.doc, target)
                return pointer, response
        return None

    def documented_statuses(self) -> list[str]:
        return sorted(str(key) for key in (self.node.get("responses") or {}))

    def response_schema(self, status: int, command: str | None = None) -> dict[str, Any] | None:
        """The dereferenced JSON schema of the answer with ``status`` (by ``command`` where the spec says so)."""
        by_command = self.node.get("x-response-by-command")
        if command and isinstance(by_command, dict) and status == 200 and command in by_command:
            return self.spec.schema_at(str(by_command[command]).partition("#")[2])
        found = self.response(status)
        if found is None:
            return None
        pointer, response = found
        media = (response.get("content") or {}).get("application/json")
        if not isinstance(media, dict) or not isinstance(media.get("schema"), dict):
            return None
        return self.spec.schema_at(join(pointer, "content", "application/json", "schema"))

    def response_examples(self, status: int) -> list[Any]:
        """The documented example bodies of the answer with ``status`` (``examples`` values, or ``example``)."""
        found = self.response(status)
        media = ((found[1].get("content") or {}).get("application/json") if found else None) or {}
        if not isinstance(media, dict):
            return []
        values = [
            e.get("value") for e in (media.get("examples") or {}).values() if isinstance(e, dict) and "value" in e
        ]
        return values + ([media["example"]] if "example" in media else [])

    def error_codes(self) -> list[tuple[Any, Citation]]:
        """The documented vendor error codes of the operation with the citation of each row."""
        codes = self.node.get("x-error-codes") or []
        pointer = join(self.pointer, "x-error-codes")
        return [
            (entry.get("code"), self.spec.citation(join(pointer, index)))
            for index, entry in enumerate(codes)
            if isinstance(entry, dict)
        ]

    def notes(self, kind: str) -> list[Note]:
        return [note for note in self.spec.notes() if note.kind == kind and note.operation == self.id]


@dataclass
class SpecDoc:
    api: str
    path: Path
    doc: dict[str, Any]
    _schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def citation(self, pointer: str) -> Citation:
        """The citation of the node at ``pointer``, or of its nearest ancestor that carries ``x-source``."""
        current = pointer
        while True:
            try:
                node = resolve_pointer(self.doc, current)
            except KeyError:
                node = None
            if isinstance(node, dict) and isinstance(node.get("x-source"), dict):
                source = node["x-source"]
                quote = " ".join(str(node.get("x-source-quote") or "").split())
                return Citation(self.name, pointer, str(source.get("page", "")), str(source.get("section", "")), quote)
            if not current:
                return Citation(self.name, pointer)
            current = current.rsplit("/", 1)[0]

    def schema_at(self, pointer: str) -> dict[str, Any]:
        if pointer not in self._schemas:
            self._schemas[pointer] = self._deref(resolve_pointer(self.doc, pointer), pointer, 0)
        return self._schemas[pointer]

    def _deref(self, value: Any, pointer: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return {}
        if isinstance(value, list):
            return [self._deref(item, join(pointer, index), depth + 1) for index, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if isinstance(value.get("$ref"), str) and value["$ref"].startswith("#"):
            target = value["$ref"][1:]
            resolved = self._deref(resolve_pointer(self.doc, target), target, depth + 1)
            siblings = {k: v for k, v in value.items() if k != "$ref"}
            if not siblings:
                return resolved
            # A $ref with siblings (an x-source on the reference) keeps both: the target's rules, the local citation.
            merged = dict(copy.copy(resolved))
            merged.update(self._deref(siblings, pointer, depth + 1))
            return merged
        out = {key: self._deref(item, join(pointer, str(key)), depth + 1) for key, item in value.items()}
        out[POINTER_KEY] = pointer
        return out

    @cached_property
    def _notes(self) -> list[Note]:
        operations = {pointer: str(op.get("operationId", "")) for pointer, _t, _m, op in iter_operations(self.doc)}
        found: list[Note] = []
        for kind, pointer, entry in _walk_notes(self.doc, ""):
            owner = next((op for p, op in operations.items() if pointer.startswith(p + "/")), "")
            found.append(_note(kind, entry, self.api, owner, pointer))
        return found

    def notes(self) -> list[Note]:
        return list(self._notes)


def _walk_notes(value: Any, pointer: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, pointer, entry) of every ``x-doc-gap`` and ``x-doc-conflict`` entry anywhere in the document."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            kind = {"x-doc-gap": "gap", "x-doc-conflict": "conflict"}.get(str(key))
            if kind and isinstance(item, list):
                found += [(kind, join(pointer, key, i), e) for i, e in enumerate(item) if isinstance(e, dict)]
            else:
                found += _walk_notes(item, join(pointer, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _walk_notes(item, join(pointer, index))
    return found


def _note(kind: str, entry: dict[str, Any], api: str, operation: str, pointer: str) -> Note:
    decision = entry.get("resolution") if kind == "conflict" else entry.get("sandbox-choice")
    quotes: list[dict[str, str]] = []
    for item in entry.get("quotes") or []:
        if isinstance(item, dict):
            quotes.append({"page": str(item.get("page", "")), "quote": " ".join(str(item.get("quote", "")).split())})
        elif isinstance(item, str):
            quotes.append({"page": "", "quote": " ".join(item.split())})
    return Note(
        kind,
        str(entry.get("id", "")),
        " ".join(str(entry.get("summary", "")).split()),
        " ".join(str(decision or "").split()),
        api,
        operation,
        pointer,
        tuple(quotes),
    )


class SpecIndex:
    """The five specs, loaded once."""

    def __init__(self, specs_dir: Path = SPECS_DIR) -> None:
        self.specs_dir = specs_dir
        self.specs: dict[str, SpecDoc] = {}
        self.operations: list[Operation] = []
        for key in APIS:
            path = specs_dir / f"{key}.yaml"
            doc = load_yaml(path)
            spec = SpecDoc(key, path, doc if isinstance(doc, dict) else {})
            self.specs[key] = spec
            for pointer, template, method, op in iter_operations(spec.doc):
                self.operations.append(
                    Operation(key, str(op.get("operationId", "")), method.upper(), template, pointer, op, spec)
                )

    def find(self, api: str | None, operation: str | None, method: str, path: str) -> Operation | None:
        """The operation the sidecar names, else the one whose method and path template match the request."""
        if api and operation:
            named = operation.split(" (undeclared ", 1)[0]
            for op in self.operations:
                if op.api == api and op.id == named:
                    return op if op.method == method else None
        candidates = [op for op in self.operations if op.method == method and op.pattern.search(path)]
        # A literal segment beats a template segment (``/customer/earn`` over ``/customer/{customerId}``).
        candidates.sort(key=lambda op: op.path.count("{"))
        return candidates[0] if candidates else None

    @cached_property
    def notes_pages(self) -> frozenset[str]:
        """Pinned sources that are the project's own research notes, not a vendor page (no URL of their own)."""
        manifest = self.specs_dir / "sources" / "manifest.yaml"
        entries = load_yaml(manifest) if manifest.is_file() else []
        if not isinstance(entries, list):
            return frozenset()
        return frozenset(
            str(entry.get("file"))
            for entry in entries
            if isinstance(entry, dict) and not str(entry.get("url", "")).startswith("http")
        )

    def notes(self, kind: str | None = None) -> list[Note]:
        out = [note for spec in self.specs.values() for note in spec.notes()]
        return [note for note in out if kind is None or note.kind == kind]
