"""Accepted deviations: CI fails only on violations that are new or whose acceptance has expired.

A baseline is a YAML list::

    - rule: JUSPAY-MANDATE-ID-ECHO
      reason: Vendor ticket JP-1234; fix promised for the May release.
      expires: 2026-06-30

An entry accepts its rule's violation up to and including ``expires``; from the next day on the violation
counts again and the message says the acceptance expired.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.errors import UsageError

ENTRY = "{rule: RULE-ID, reason: text, expires: YYYY-MM-DD}"
FORMAT = f"a YAML list of {ENTRY}"


class Accepted(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    reason: str = Field(min_length=1)
    expires: dt.date


def load_baseline(path: Path) -> list[Accepted]:
    """Parse and validate a baseline; any problem is one paragraph of UsageError naming the file and entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"The baseline file {path} does not exist; pass {FORMAT}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"The baseline file {path} cannot be read ({exc}); pass {FORMAT}.") from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise UsageError(f"The baseline file {path} is not valid YAML ({detail}); it must be {FORMAT}.") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError(f"The baseline file {path} holds a {type(raw).__name__}, not a list; it must be {FORMAT}.")
    entries: list[Accepted] = []
    seen: set[str] = set()
    for n, item in enumerate(raw, 1):
        if isinstance(item, dict) and isinstance(item.get("expires"), str):
            try:
                item = {**item, "expires": dt.date.fromisoformat(item["expires"])}
            except ValueError:
                raise UsageError(
                    f"Entry {n} of the baseline file {path} has expires {item['expires']!r}, which is not a date "
                    f"YYYY-MM-DD; every entry must be {ENTRY}."
                ) from None
        try:
            entry = Accepted.model_validate(item)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()[:4])
            raise UsageError(
                f"Entry {n} of the baseline file {path} is malformed ({problems}); every entry must be {ENTRY}."
            ) from None
        if entry.rule in seen:
            raise UsageError(f"The baseline file {path} lists {entry.rule} twice; keep one entry per rule.")
        seen.add(entry.rule)
        entries.append(entry)
    return entries


def apply_baseline(violated: list[str], baseline_path: Path, *, today: dt.date | None = None) -> tuple[list[str], str]:
    """Split the violated rules into accepted ones and those that still fail; say which were which."""
    today = today or dt.date.today()
    entries = {e.rule: e for e in load_baseline(baseline_path)}
    accepted = [r for r in violated if r in entries and entries[r].expires >= today]
    expired = [r for r in violated if r in entries and entries[r].expires < today]
    still = [r for r in violated if r not in accepted]
    new = [r for r in still if r not in entries]
    stale = sorted(set(entries) - set(violated))
    parts: list[str] = []
    if accepted:
        parts.append("accepted by the baseline: " + ", ".join(f"{r} (until {entries[r].expires})" for r in accepted))
    if expired:
        parts.append("acceptance expired: " + ", ".join(f"{r} (expired {entries[r].expires})" for r in expired))
    if new:
        parts.append("new (not in the baseline): " + ", ".join(new))
    if stale:
        parts.append("no longer violated, remove from the baseline: " + ", ".join(stale))
    return still, "; ".join(parts)
