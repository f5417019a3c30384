"""Changed vendor pages: a fresh copy against the pinned snapshot, the sections that changed, the quotes gone stale.

A quote is stale when the pinned snapshot holds it and the fresh copy no longer does, matched as
``conformance specs check`` matches quotes (``speccheck.text``: whitespace, Markdown escapes and
HTML entities may differ). ``docs pin`` adopts a copy only when no rule or spec node quoting the
page would be left stale.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from conformance.apis import APIS
from conformance.errors import UsageError
from conformance.rules import load_rule_file
from conformance.speccheck.load import load_yaml
from conformance.speccheck.sources import MANIFEST, sha256
from conformance.speccheck.text import SourcePages, normalise
from conformance.speccheck.walk import join

HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
BLOCKS = {"p", "div", "section", "article", "li", "tr", "br", "pre", "table", "ul", "ol", "blockquote", "dd", "dt"}
SKIP = {"script", "style", "noscript", "template", "svg"}


@dataclass(frozen=True)
class Quoter:
    """A rule or spec node that quotes a page."""

    kind: str  # "rule" | "spec node" | "conflict quote"
    id: str  # the rule ID, or spec file and JSON pointer
    quote: str


@dataclass
class PageDiff:
    page: str
    copy: Path
    changed_sections: list[dict[str, Any]] = field(default_factory=list)
    stale: list[Quoter] = field(default_factory=list)
    checked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "copy": self.copy.as_posix(),
            "changed_sections": self.changed_sections,
            "quotes_checked": self.checked,
            "stale": [q.__dict__ for q in self.stale],
        }


class _Text(HTMLParser):
    """HTML as the Markdown-like text the snapshots are: headings as ``#``, table cells separated by ``|``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag in BLOCKS:
            self.parts.append("\n\n" if tag in ("p", "table", "pre") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in ("p", "table", "pre"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def page_text(path: Path) -> str:
    """A saved copy as text: Markdown as it is, HTML with its tags turned into Markdown-like structure."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist; pass the vendor page you saved (HTML or Markdown).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} cannot be read as UTF-8 text ({exc}); save the page as HTML or Markdown.") from None
    if path.suffix.lower() in (".html", ".htm") or raw.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        parser = _Text()
        parser.feed(raw)
        text = "".join(parser.parts)
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip() + "\n"
    return raw


def manifest_entries(sources: Path) -> list[dict[str, Any]]:
    path = sources / MANIFEST
    if not path.is_file():
        raise UsageError(f"{path} does not exist: the pinned pages are listed there (file, url, retrieved, sha256).")
    entries = load_yaml(path)
    if not isinstance(entries, list):
        raise UsageError(f"{path} must be a list of {{file, url, retrieved, sha256}}.")
    return [e for e in entries if isinstance(e, dict)]


def pinned_page(copy: Path, sources: Path, as_page: str | None) -> str:
    """The pinned page a copy is a fresh version of: ``--as``, or the snapshot whose name the copy carries."""
    names = [str(e.get("file")) for e in manifest_entries(sources)]
    if as_page:
        if as_page not in names:
            raise UsageError(f"--as {as_page}: not a pinned page; the pinned pages are {', '.join(names)}.")
        return as_page
    stem = copy.name.split(".")[0]
    match = [name for name in names if Path(name).stem == stem]
    if not match:
        raise UsageError(
            f"{copy}: no pinned page is called {stem}; name the copy after the snapshot it replaces "
            f"({', '.join(names)}), or pass --as PAGE."
        )
    return match[0]


def quoters(specs_dir: Path, page: str) -> list[Quoter]:
    """Every rule and spec node (and conflict quote) that quotes ``page``."""
    found: list[Quoter] = []
    for key in APIS:
        for rule in load_rule_file(specs_dir / "rules" / f"{key}.yaml").rules:
            if rule.source.page == page and rule.withdrawn is None:
                found.append(Quoter("rule", rule.id, rule.quote))
        doc = load_yaml(specs_dir / f"{key}.yaml")
        found += _spec_quoters(doc, f"{key}.yaml", "", page, None)
    return found


def _spec_quoters(value: Any, spec: str, pointer: str, page: str, inherited: str | None) -> list[Quoter]:
    found: list[Quoter] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += _spec_quoters(item, spec, join(pointer, index), page, inherited)
        return found
    if not isinstance(value, dict):
        return found
    source = value.get("x-source")
    own = source.get("page") if isinstance(source, dict) else None
    current = own if isinstance(own, str) else inherited
    if current == page and isinstance(value.get("x-source-quote"), str):
        found.append(Quoter("spec node", f"{spec}#{pointer or '/'}", value["x-source-quote"]))
    for index, item in enumerate(value.get("x-doc-conflict") or []):
        for number, quote in enumerate((item or {}).get("quotes") or [] if isinstance(item, dict) else []):
            text, where = (quote.get("quote"), quote.get("page")) if isinstance(quote, dict) else (quote, current)
            if where == page and isinstance(text, str):
                found.append(
                    Quoter("conflict quote", f"{spec}#{join(pointer, 'x-doc-conflict', index, 'quotes', number)}", text)
                )
    for key, item in value.items():
        if key not in ("x-source", "x-source-quote", "x-doc-conflict"):
            found += _spec_quoters(item, spec, join(pointer, str(key)), page, current)
    return found


def sections(text: str) -> dict[str, str]:
    """Heading → normalised body. Pages without Markdown headings are split at their short title lines."""
    out: dict[str, list[str]] = {"(top)": []}
    current = "(top)"
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = HEADING.match(line)
        titled = match is None and _title_line(lines, number)
        if match or titled:
            current = normalise(match.group(2) if match else line)
            while current in out:
                current += " (again)"
            out[current] = []
        else:
            out[current].append(line)
    return {name: normalise("\n".join(body)) for name, body in out.items()}


def _title_line(lines: list[str], number: int) -> bool:
    """A short stand-alone line without closing punctuation (``Prerequisites``, ``Resource information``)."""
    line = lines[number].strip()
    before = lines[number - 1].strip() if number else ""
    after = lines[number + 1].strip() if number + 1 < len(lines) else ""
    words = line.split()
    return bool(words) and len(words) <= 5 and not before and not after and line[-1] not in ".:;,!?)}]\"'`|"


def changed_sections(old: str, new: str) -> list[dict[str, Any]]:
    before, after = sections(old), sections(new)
    out: list[dict[str, Any]] = []
    for name in dict.fromkeys([*before, *after]):
        if before.get(name) == after.get(name):
            continue
        status = "added" if name not in before else "removed" if name not in after else "changed"
        entry: dict[str, Any] = {"section": name, "status": status}
        if status == "changed":
            entry["diff"] = _word_diff(before[name], after[name])
        out.append(entry)
    return out


def _word_diff(old: str, new: str) -> list[str]:
    a, b = old.split(), new.split()
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            changes.append(f"{tag}: {' '.join(a[i1:i2])!r} -> {' '.join(b[j1:j2])!r}")
    return changes[:20]


def diff_page(copy: Path, specs_dir: Path, as_page: str | None = None) -> PageDiff:
    sources = specs_dir / "sources"
    page = pinned_page(copy, sources, as_page)
    new_text = page_text(copy)
    old_text = (sources / page).read_text(encoding="utf-8")
    result = PageDiff(page, copy, changed_sections(old_text, new_text))
    pinned = SourcePages(sources)
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / page).write_text(new_text, encoding="utf-8")
        fresh = SourcePages(Path(scratch))
        for quoter in quoters(specs_dir, page):
            result.checked += 1
            # A quote that was already not on the pinned page is specs check's business, not drift's.
            if pinned.contains(page, quoter.quote) and not fresh.contains(page, quoter.quote):
                result.stale.append(quoter)
    return result


def pin_page(copy: Path, specs_dir: Path, as_page: str | None = None, today: dt.date | None = None) -> PageDiff:
    """Adopt ``copy`` as the pinned snapshot; refuse (UsageError-free: the caller reports) while quotes go stale."""
    sources = specs_dir / "sources"
    page = pinned_page(copy, sources, as_page)
    text = page_text(copy)
    result = PageDiff(page, copy, changed_sections((sources / page).read_text(encoding="utf-8"), text))
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / page).write_text(text, encoding="utf-8")
        fresh = SourcePages(Path(scratch))
        for quoter in quoters(specs_dir, page):
            result.checked += 1
            # Pinning needs every current quote on the new copy: the specs must have been updated first.
            if not fresh.contains(page, quoter.quote):
                result.stale.append(quoter)
    if result.stale:
        return result
    from conformance.drift.report import write_atomic

    write_atomic(sources / page, text)
    _update_manifest(sources / MANIFEST, page, sha256(sources / page), today or dt.date.today())
    return result


def _update_manifest(path: Path, page: str, digest: str, today: dt.date) -> None:
    """Rewrite the entry's sha256 and retrieved date in place, keeping the file's comments and order."""
    from conformance.drift.report import write_atomic

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    inside = False
    for number, line in enumerate(lines):
        if re.match(r"^\s*-\s*file:\s*", line):
            inside = line.split("file:", 1)[1].strip().strip("'\"") == page
        elif inside and re.match(r"^\s*sha256:", line):
            lines[number] = re.sub(r"sha256:.*", f"sha256: {digest}", line.rstrip("\n")) + "\n"
        elif inside and re.match(r"^\s*retrieved:", line):
            lines[number] = re.sub(r"retrieved:.*", f"retrieved: {today.isoformat()}", line.rstrip("\n")) + "\n"
    write_atomic(path, "".join(lines))
