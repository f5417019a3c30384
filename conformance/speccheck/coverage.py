"""The reverse check: every table row of a vendor page has a spec node, or an ``x-not-modelled`` entry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.speccheck.load import Spec
from conformance.speccheck.tables import TableRow, parse_page
from conformance.speccheck.text import SourcePages
from conformance.speccheck.walk import (
    dicts,
    iter_headers,
    iter_operations,
    iter_parameters,
    iter_properties,
    iter_request_bodies,
    iter_responses,
    join,
    resolve_pointer,
)

NOT_MODELLED_KEYS = ("page", "table", "row", "reason")


@dataclass
class CoverageResult:
    rows_checked: int = 0
    uncovered: list[TableRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _page_of(node: Any) -> str | None:
    source = node.get("x-source") if isinstance(node, dict) else None
    page = source.get("page") if isinstance(source, dict) else None
    return page if isinstance(page, str) else None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def cited_pages(value: Any) -> set[str]:
    """Every page any ``x-source`` of the document cites."""
    found: set[str] = set()
    if isinstance(value, dict):
        page = _page_of(value)
        if page:
            found.add(page)
        for item in value.values():
            found |= cited_pages(item)
    elif isinstance(value, list):
        for item in value:
            found |= cited_pages(item)
    return found


@dataclass
class _Index:
    """The names a spec gives each page: (page -> names), headers case-insensitively, security schemes."""

    names: dict[str, set[str]] = field(default_factory=dict)
    headers: dict[str, set[str]] = field(default_factory=dict)
    schemes: set[str] = field(default_factory=set)

    def add(self, page: str | None, name: Any, header: bool = False) -> None:
        if page:
            self.names.setdefault(page, set()).add(str(name))
            if header:
                self.headers.setdefault(page, set()).add(str(name).lower())

    def covers(self, row: TableRow) -> bool:
        if row.name in self.names.get(row.page, set()) or row.row in self.names.get(row.page, set()):
            return True
        if row.name.lower() in self.headers.get(row.page, set()):
            return True
        return _norm(row.name) in self.schemes


def index_spec(doc: dict[str, Any]) -> _Index:
    index = _Index()
    for _pointer, name, prop in iter_properties(doc):
        index.add(_page_of(prop), name)
    for _pointer, param in iter_parameters(doc):
        index.add(_page_of(param), param.get("name", ""), header=param.get("in") == "header")
    for _pointer, name, header in iter_headers(doc):
        index.add(_page_of(header), name, header=True)
    for _pointer, _path, _method, op in iter_operations(doc):
        for entry in op.get("x-error-codes") or []:
            if isinstance(entry, dict) and "code" in entry:
                index.add(_page_of(entry), entry["code"])
    # OpenAPI ignores header parameters named Content-Type, Accept and Authorization: they are
    # modelled as request body media types, response media types and security schemes.
    for pointer, body in iter_request_bodies(doc):
        if body.get("content"):
            index.add(_page_of(body) or _page_of(resolve_pointer(doc, pointer.rsplit("/", 1)[0])), "content-type", True)
    for _pointer, response in iter_responses(doc):
        if response.get("content"):
            index.add(_page_of(response), "accept", header=True)
    components = doc.get("components")
    if isinstance(components, dict):
        index.schemes = {_norm(name) for name, _scheme in dicts(components.get("securitySchemes"))}
        if index.schemes:
            index.schemes.add("authorization")
    return index


def known_names(specs: Iterable[Spec]) -> set[str]:
    """Property and parameter names of all specs: they help split the rows of flattened tables."""
    names: set[str] = set()
    for spec in specs:
        names |= {name for _p, name, _s in iter_properties(spec.doc)}
        names |= {str(param.get("name", "")) for _p, param in iter_parameters(spec.doc)}
    return names


def _entry_covers(entry: dict[str, Any], row: TableRow) -> bool:
    if entry.get("page") != row.page:
        return False
    wanted = str(entry.get("row", "")).strip().lower()
    if wanted not in (row.row.lower(), row.name.lower()):
        return False
    table, actual = _norm(str(entry.get("table", ""))), _norm(row.table)
    return table == actual or (bool(table) and (table in actual or actual in table))


def _not_modelled(spec: Spec, result: CoverageResult) -> list[tuple[str, dict[str, Any]]]:
    info = spec.doc.get("info")
    entries = info.get("x-not-modelled") if isinstance(info, dict) else None
    if entries is None:
        return []
    pointer = "/info/x-not-modelled"
    if not isinstance(entries, list):
        result.problems.append(f"{pointer}: must be a list of {{{', '.join(NOT_MODELLED_KEYS)}}}")
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for number, entry in enumerate(entries):
        where = join(pointer, number)
        if not isinstance(entry, dict) or any(not entry.get(key) for key in NOT_MODELLED_KEYS):
            result.problems.append(f"{where}: an entry needs {', '.join(NOT_MODELLED_KEYS)}, all non-empty")
        else:
            found.append((where, entry))
    return found


def _owner(page: str, citing: dict[str, set[str]]) -> list[str]:
    owners = sorted(key for key, pages in citing.items() if page in pages)
    by_name = [key for key in owners if page.startswith(key)]
    if by_name or owners:
        return by_name or owners
    return [key for key in citing if page.startswith(key)]


def check_coverage(specs: list[Spec], pages: SourcePages) -> dict[str, CoverageResult]:
    """Per API key: the rows of its pages that no spec node and no ``x-not-modelled`` entry covers.

    A page belongs to the specs that cite it (an API whose key prefixes the page name wins); a page no
    spec cites belongs to the API whose key prefixes its name, or to the key ``""`` (no API).
    """
    results = {spec.key: CoverageResult() for spec in specs}
    citing = {spec.key: cited_pages(spec.doc) for spec in specs}
    indexes = {spec.key: index_spec(spec.doc) for spec in specs}
    entries = {spec.key: _not_modelled(spec, results[spec.key]) for spec in specs}
    used: dict[str, bool] = {}  # "<key><pointer>" -> the row it names is modelled after all
    names = known_names(specs)
    tabled: set[str] = set()
    for page in pages.names():
        for row in parse_page(page, pages.text(page), names):
            tabled.add(page)
            for key in _owner(page, citing) or [""]:
                result = results.setdefault(key, CoverageResult())
                result.rows_checked += 1
                modelled = key in indexes and indexes[key].covers(row)
                matched = [where for where, entry in entries.get(key, []) if _entry_covers(entry, row)]
                for where in matched:
                    used[f"{key}{where}"] = used.get(f"{key}{where}", False) or modelled
                if not modelled and not matched:
                    result.uncovered.append(row)
    for key, listed in entries.items():
        for where, entry in listed:
            label = f"{where}: x-not-modelled entry {entry['page']} / {entry['table']} / {entry['row']}"
            if used.get(f"{key}{where}"):
                results[key].problems.append(f"{label} names a row the spec now models: remove the entry")
            elif f"{key}{where}" not in used and entry["page"] in tabled:
                results[key].warnings.append(f"{label} names no row of a field or error-code table the checker reads")
    return results
