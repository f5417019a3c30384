"""Reading the tables of the vendor pages: Markdown pipe tables and the three flattened page layouts.

Each row that names a parameter, a response field, a header or an error code becomes a :class:`TableRow`.
Layouts understood:

* Markdown pipe tables (header, ``---`` separator, rows) whose first column names the row;
* Juspay: ``#### name:`` headings followed by a ``- Tags:`` line, grouped under ``##``/``###`` headings;
* Thanx: a field name line followed by a type line (``string``, ``integer``, ``datetime``, ...);
* Capillary rewards (flattened HTML): a header line of glued column names (``FieldTypeRequiredDescription``)
  followed by glued rows (``txnIdintegerRequiredTransaction ID ...``) up to the next blank line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Header words of a flattened table; longest first so "Data Type" wins over "Type".
COLUMNS = (
    "When it occurs",
    "Symbolic name",
    "Error code",
    "Status code",
    "Data Type",
    "Description",
    "Parameter",
    "Attribute",
    "Required",
    "Property",
    "Message",
    "Default",
    "Header",
    "Reason",
    "Field",
    "Value",
    "Type",
    "Name",
    "Code",
)
NAME_COLUMNS = {
    "field",
    "parameter",
    "name",
    "header",
    "attribute",
    "property",
    "key",
    "error code",
    "code",
    "status code",
    "parameter name",
    "field name",
    "header name",
}
CODE_COLUMNS = {"error code", "code", "status code"}
TYPES = (
    "string",
    "integer",
    "int64",
    "int32",
    "number",
    "boolean",
    "object",
    "array",
    "datetime",
    "date",
    "long",
    "double",
    "float",
    "enum",
    "uuid",
)
_FLAT_HEADER = re.compile("^(?:" + "|".join(re.escape(c) for c in COLUMNS) + "){2,}$")
_FLAT_COLUMN = re.compile("|".join(re.escape(c) for c in COLUMNS))
_FLAT_FIELD = re.compile(r"^(?P<name>[.\-]*[A-Za-z_][A-Za-z0-9_\-]*?)(?P<type>" + "|".join(TYPES) + r")(?![a-z])")
_NOT_NAMES = {*TYPES, "required", "optional"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class TableRow:
    page: str
    table: str
    row: str  # the row's name as the page shows it, cleaned of Markdown
    kind: str  # "parameter" | "response field" | "header" | "error code"
    line: int

    @property
    def name(self) -> str:
        """The name to match against the spec: nesting markers (``-type``, ``.success``) removed."""
        return self.row.lstrip(".-").strip()

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.table} / {self.row} ({self.kind})"


def clean_cell(cell: str) -> str:
    """A table cell as plain text: no backticks, emphasis, required-stars, escapes, links or entities."""
    text = _LINK.sub(r"\1", html.unescape(cell))
    text = re.sub(r"\\(.)", r"\1", text)
    text = text.replace("`", "").replace("**", "").replace("*", "")
    return " ".join(text.split()).strip()


def _kind(table: str, header: str) -> str:
    if header.lower() in CODE_COLUMNS:
        return "error code"
    lowered = table.lower()
    if "header" in lowered or header.lower() in ("header", "header name"):
        return "header"
    if "response" in lowered:
        return "response field"
    return "parameter"


def _unfenced(lines: list[str]) -> Iterable[tuple[int, str]]:
    fenced = False
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", body)]


def parse_pipe_tables(page: str, lines: list[str]) -> list[TableRow]:
    rows: list[TableRow] = []
    heading = ""
    numbered = list(_unfenced(lines))
    index = 0
    while index < len(numbered):
        line = numbered[index][1]
        match = _HEADING.match(line)
        if match:
            heading = clean_cell(match.group(2)).rstrip(":")
        if "|" in line and index + 1 < len(numbered) and _SEPARATOR.match(numbered[index + 1][1]):
            header = clean_cell(_split_row(line)[0]).lower()
            index += 2
            while index < len(numbered) and "|" in numbered[index][1] and numbered[index][1].strip():
                row_number, row_line = numbered[index]
                first = clean_cell(_split_row(row_line)[0])
                if header in NAME_COLUMNS and first:
                    rows.append(TableRow(page, heading, first, _kind(heading, header), row_number))
                index += 1
            continue
        index += 1
    return rows


def parse_tagged_headings(page: str, lines: list[str]) -> list[TableRow]:
    """Juspay: ``#### name:`` then a ``- Tags: ...`` line before the next heading."""
    rows: list[TableRow] = []
    section, subsection = "", ""
    pending: tuple[int, str] | None = None
    for number, line in _unfenced(lines):
        match = _HEADING.match(line)
        if match:
            level, title = len(match.group(1)), clean_cell(match.group(2)).rstrip(":").strip()
            if level <= 2:
                section, subsection = title, ""
            elif level == 3:
                subsection = title
            pending = (number, title) if level >= 4 else None
        elif pending and line.strip().startswith("- Tags:"):
            table = f"{section} / {subsection}" if subsection else section
            kind = (
                "header"
                if "header" in section.lower()
                else ("response field" if "response" in section.lower() else "parameter")
            )
            rows.append(TableRow(page, table, pending[1], kind, pending[0]))
            pending = None
    return rows


def parse_name_type_lines(page: str, lines: list[str]) -> list[TableRow]:
    """Thanx: a field name line directly followed by a type line; the table is the last short title line."""
    rows: list[TableRow] = []
    stripped = [line.strip() for line in lines]
    title = ""
    for index, line in enumerate(stripped):
        following = stripped[index + 1] if index + 1 < len(stripped) else ""
        previous = stripped[index - 1] if index else ""
        is_field = (
            bool(_IDENT.match(line))
            and following.lower() in TYPES
            and line.lower() not in _NOT_NAMES
            and previous.lower() not in _NOT_NAMES
        )
        if is_field:
            rows.append(TableRow(page, title, line, _kind(title, "field"), index + 1))
        elif line and not previous and not following and len(line) < 40 and line[0].isupper():
            title = line
    return rows


def parse_flattened(page: str, lines: list[str], known: Iterable[str] = ()) -> list[TableRow]:
    """Capillary rewards: a glued header line, then glued rows until a blank line."""
    rows: list[TableRow] = []
    names = sorted({name for name in known if name}, key=len, reverse=True)
    title = ""
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not _FLAT_HEADER.match(line):
            if _is_title(line):
                title = line
            index += 1
            continue
        columns = [c.lower() for c in _FLAT_COLUMN.findall(line)]
        index += 1
        while index < len(lines) and lines[index].strip():
            row = lines[index].strip()
            name = _flat_name(row, columns, names)
            if name and columns[0] in NAME_COLUMNS:
                rows.append(TableRow(page, title, name, _kind(title, columns[0]), index + 1))
            index += 1
    return rows


def _is_title(line: str) -> bool:
    """A flattened page's heading: a short line that is not a sentence."""
    return bool(line) and len(line) <= 60 and not line.endswith((".", ":", ",", ";")) and line[0].isalpha()


def _flat_name(row: str, columns: list[str], names: list[str]) -> str | None:
    if columns[0] in CODE_COLUMNS:
        match = re.match(r"^-?\d+", row)
        return match.group(0) if match else None
    nested = re.match(r"^[.\-]*", row)
    prefix = nested.group(0) if nested else ""
    rest = row[len(prefix) :]
    second = columns[1] if len(columns) > 1 else ""
    for name in names:  # a name the spec knows, followed by a type, wins over guessing
        tail = rest[len(name) :]
        if rest.startswith(name) and (second not in ("type", "data type") or tail.lower().startswith(TYPES)):
            return prefix + name
    match = _FLAT_FIELD.match(row)
    return match.group("name") if match else None


def parse_page(page: str, text: str, known: Iterable[str] = ()) -> list[TableRow]:
    """Every table row of one page, whatever its layout; ``known`` names help split flattened rows."""
    lines = text.splitlines()
    rows = parse_pipe_tables(page, lines) + parse_tagged_headings(page, lines) + parse_name_type_lines(page, lines)
    rows += parse_flattened(page, lines, known)
    unique: dict[tuple[str, int], TableRow] = {}
    for row in rows:
        unique.setdefault((row.row, row.line), row)
    return sorted(unique.values(), key=lambda r: r.line)
