"""Quote matching against the pinned source pages: whitespace, Markdown escapes and HTML entities may differ."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Undo HTML entities and Markdown backslash escapes, then collapse whitespace to single spaces."""
    text = html.unescape(text)
    text = _ESCAPE.sub(r"\1", text)
    text = text.replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass
class SourcePages:
    """The pages under ``specs/sources/``, read once and kept normalised."""

    directory: Path
    _normal: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def exists(self, page: str) -> bool:
        return self._load(page) is not None

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.glob("*.md"))

    def text(self, page: str) -> str:
        path = self.directory / page
        return path.read_text(encoding="utf-8") if self._safe(page) and path.is_file() else ""

    def contains(self, page: str, quote: str) -> bool:
        """True if ``quote`` appears in ``page`` once whitespace, escapes and entities are normalised."""
        loaded = self._load(page)
        if loaded is None:
            return False
        spaced, squeezed = loaded
        wanted = normalise(quote)
        if not wanted:
            return False
        # Flattened HTML exports glue table cells together, so whitespace may also be absent.
        return wanted in spaced or _squeeze(wanted) in squeezed

    def _safe(self, page: str) -> bool:
        return bool(page) and "/" not in page and "\\" not in page and not page.startswith(".")

    def _load(self, page: str) -> tuple[str, str] | None:
        if page not in self._normal:
            path = self.directory / page
            if self._safe(page) and path.is_file():
                spaced = normalise(path.read_text(encoding="utf-8"))
                self._normal[page] = (spaced, _squeeze(spaced))
            else:
                self._normal[page] = None
        return self._normal[page]
