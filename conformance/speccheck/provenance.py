"""Provenance: every documented node carries ``x-source`` and a verbatim ``x-source-quote`` of its page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.speccheck.text import SourcePages
from conformance.speccheck.walk import iter_operations, iter_parameters, iter_properties, iter_responses, join

CONFLICT_KEYS = ("id", "summary", "quotes", "resolution")
GAP_KEYS = ("id", "summary", "sandbox-choice")
CONSTRAINT_KEYWORDS = ("if", "then", "else", "not")


@dataclass(frozen=True)
class DocNote:
    """One ``x-doc-conflict`` or ``x-doc-gap`` entry."""

    kind: str  # "conflict" | "gap"
    id: str
    summary: str
    decision: str  # the resolution of a conflict, the sandbox-choice of a gap
    pointer: str


@dataclass
class ProvenanceResult:
    quote_failures: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[DocNote] = field(default_factory=list)
    cited_pages: set[str] = field(default_factory=set)
    quotes_checked: int = 0

    @property
    def conflicts(self) -> list[str]:
        return [note.id for note in self.notes if note.kind == "conflict"]

    @property
    def gaps(self) -> list[str]:
        return [note.id for note in self.notes if note.kind == "gap"]


def required_nodes(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(pointer, what, node) for every node that must carry provenance."""
    nodes: list[tuple[str, str, dict[str, Any]]] = []
    for pointer, _path, _method, op in iter_operations(doc):
        nodes.append((pointer, f"operation {op.get('operationId', '')}".strip(), op))
        codes = op.get("x-error-codes")
        if isinstance(codes, list):
            for index, entry in enumerate(codes):
                if isinstance(entry, dict):
                    nodes.append((join(pointer, "x-error-codes", index), f"error code {entry.get('code', '?')}", entry))
    nodes += [(p, f"parameter {param.get('name', '?')}", param) for p, param in iter_parameters(doc)]
    nodes += [(p, f"property {name}", prop) for p, name, prop in iter_properties(doc) if not _constraint(p)]
    nodes += [(p, "response", response) for p, response in iter_responses(doc)]
    return nodes


def _constraint(pointer: str) -> bool:
    """True under if/then/else/not: such properties restate constraints on properties declared elsewhere."""
    return any(f"/{keyword}/" in pointer + "/" for keyword in CONSTRAINT_KEYWORDS)


def check_provenance(doc: dict[str, Any], pages: SourcePages) -> ProvenanceResult:
    """Check quotes, required provenance, and collect conflicts and gaps."""
    result = ProvenanceResult()
    for pointer, what, node in required_nodes(doc):
        absent = [key for key in ("x-source", "x-source-quote") if key not in node]
        if absent:
            result.missing.append(f"{pointer}: {what} has no {' or '.join(absent)}")
    _walk(doc, "", None, pages, result)
    _check_notes(result)
    return result


def _walk(value: Any, pointer: str, page: str | None, pages: SourcePages, result: ProvenanceResult) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, join(pointer, index), page, pages, result)
        return
    if not isinstance(value, dict):
        return
    if "x-source" in value or "x-source-quote" in value:
        page = _check_source(value, pointer, pages, result) or page
    for kind, key in (("conflict", "x-doc-conflict"), ("gap", "x-doc-gap")):
        if key in value:
            _collect_notes(kind, value[key], join(pointer, key), page, pages, result)
    for key, item in value.items():
        if key not in ("x-source", "x-source-quote", "x-doc-conflict", "x-doc-gap"):
            _walk(item, join(pointer, str(key)), page, pages, result)


def _check_source(node: dict[str, Any], pointer: str, pages: SourcePages, result: ProvenanceResult) -> str | None:
    source, quote = node.get("x-source"), node.get("x-source-quote")
    page = source.get("page") if isinstance(source, dict) else None
    if "x-source" in node and not (
        isinstance(page, str) and isinstance(source, dict) and isinstance(source.get("section"), str)
    ):
        result.problems.append(f"{pointer}/x-source: must be {{page: <file in sources/>, section: <heading>}}")
        return None
    if isinstance(page, str):
        if not pages.exists(page):
            result.quote_failures.append(f"{pointer}: x-source.page {page!r} is not a file in {pages.directory.name}/")
            return None
        result.cited_pages.add(page)
    if quote is None:
        return page
    if not isinstance(quote, str) or not quote.strip():
        result.quote_failures.append(f"{pointer}: x-source-quote must be a non-empty string")
    elif isinstance(page, str):
        result.quotes_checked += 1
        if not pages.contains(page, quote):
            result.quote_failures.append(f"{pointer}: x-source-quote not found in {page}: {_short(quote)!r}")
    return page


def _collect_notes(
    kind: str, entries: Any, pointer: str, page: str | None, pages: SourcePages, result: ProvenanceResult
) -> None:
    keys = CONFLICT_KEYS if kind == "conflict" else GAP_KEYS
    if not isinstance(entries, list):
        result.problems.append(f"{pointer}: must be a list of {{{', '.join(keys)}}}")
        return
    for index, entry in enumerate(entries):
        where = join(pointer, index)
        if not isinstance(entry, dict) or any(key not in entry for key in keys):
            result.problems.append(f"{where}: a {kind} entry needs {', '.join(keys)}")
            continue
        decision = entry["resolution"] if kind == "conflict" else entry["sandbox-choice"]
        result.notes.append(DocNote(kind, str(entry["id"]), str(entry["summary"]), str(decision), where))
        if kind == "conflict":
            _check_conflict_quotes(entry["quotes"], join(where, "quotes"), page, pages, result)


def _check_conflict_quotes(
    quotes: Any, pointer: str, page: str | None, pages: SourcePages, result: ProvenanceResult
) -> None:
    """A conflict quote is a string (on the node's page, or any cited page) or ``{page, quote}``."""
    if not isinstance(quotes, list) or not quotes:
        result.problems.append(f"{pointer}: must be a non-empty list of quotes")
        return
    for index, item in enumerate(quotes):
        where = join(pointer, index)
        if isinstance(item, dict) and isinstance(item.get("page"), str) and isinstance(item.get("quote"), str):
            candidates, text = [item["page"]], item["quote"]
        elif isinstance(item, str):
            candidates, text = ([page] if page else sorted(result.cited_pages) or pages.names()), item
        else:
            result.problems.append(f"{where}: a quote is a string or {{page, quote}}")
            continue
        result.quotes_checked += 1
        if not any(pages.contains(candidate, text) for candidate in candidates):
            result.quote_failures.append(f"{where}: quote not found in {', '.join(candidates)}: {_short(text)!r}")


def _check_notes(result: ProvenanceResult) -> None:
    seen: dict[str, str] = {}
    for note in result.notes:
        if note.id in seen:
            result.problems.append(f"{note.pointer}: {note.kind} id {note.id} is already used at {seen[note.id]}")
        else:
            seen[note.id] = note.pointer


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
