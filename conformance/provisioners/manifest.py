"""The manifest provisioner's stock: pre-provisioned ids per state, for what no API can create.

A Juspay mandate needs a customer's authentication, so a live run takes ACTIVE mandates from a
manifest. Each id is handed out once and written to a ledger beside the manifest, so a second run
never revokes the same mandate twice. Each API declares its part of the manifest (a ``Section`` of
its provisioning) and which calls take from it (``Listed`` subclasses).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import yaml
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from conformance.errors import PreconditionUnavailable, UsageError
from conformance.provisioners.base import ApiProvisioner, Section

if TYPE_CHECKING:
    from conformance.provisioners.means import Means

E = TypeVar("E", bound=BaseModel)


def sections() -> list[Section[Any]]:
    """Every registered API's part of the manifest."""
    from conformance.provisioners.registry import registered

    return [section for _api, provisioning in registered() for section in provisioning.sections]


def _model(known: list[Section[Any]]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        s.key: (dict[str, list[s.entry]], Field(default_factory=dict))  # type: ignore[name-defined]
        if s.states
        else (list[s.entry], Field(default_factory=list))  # type: ignore[name-defined]
        for s in known
    }
    return create_model("Manifest", __config__=ConfigDict(extra="forbid"), **fields)


class Manifest:
    """Validated pre-provisioned ids, by the key of each API's section."""

    def __init__(self, **listed: Any) -> None:
        known = sections()
        validated = _model(known).model_validate(listed)
        self.entries: dict[str, Any] = {s.key: getattr(validated, s.key) for s in known}

    def stated(self, section: Section[E]) -> dict[str, list[E]]:
        """A section listed by state: state -> its entries."""
        return cast(dict[str, list[E]], self.entries.get(section.key) or {}) if section.states else {}

    def listed(self, section: Section[E], state: str | None = None) -> list[E]:
        """The entries listed in ``state`` (a flat section ignores it)."""
        if section.states:
            return self.stated(section).get(state or "", [])
        return cast(list[E], self.entries.get(section.key) or [])

    def ids_by_kind(self) -> dict[str, list[str]]:
        """Ledger kind ("juspay mandate ACTIVE") -> the ids listed, in hand-out order."""
        out: dict[str, list[str]] = {}
        for section in sections():
            for state, entries in self.by_state(section):
                out[section.kind_in(state)] = [section.id_of(e) for e in entries]
        return out

    def by_state(self, section: Section[E]) -> Iterator[tuple[str | None, list[E]]]:
        if section.states:
            yield from self.stated(section).items()
        else:
            yield None, self.listed(section)


def _allowed(known: list[Section[Any]]) -> str:
    return ", ".join(
        f"{s.key} (by {s.state_word}, entries {{{', '.join(s.entry.model_fields)}}})" if s.states else s.key
        for s in known
    )


def load_manifest(path: Path) -> Manifest:
    """Parse and validate a manifest; every problem is one paragraph naming the file and the entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageError(
            f"Cannot read the manifest {path}: {exc.strerror}. Pass --manifest with an existing YAML file."
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"The manifest {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    known = sections()
    try:
        if not isinstance(raw, dict):
            _model(known).model_validate(raw)  # a manifest is a mapping: this names what it is instead
        manifest = Manifest(**{str(key): value for key, value in raw.items()})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UsageError(
            f"The manifest {path} is invalid at {where}: {err['msg']}. Allowed keys: {_allowed(known)}."
        ) from None
    for section in known:
        for state in manifest.stated(section):
            if state not in section.states:
                raise UsageError(
                    f"The manifest {path} lists {section.noun or section.kind} in {section.state_word} {state!r}; "
                    f"allowed: {', '.join(section.states)}."
                )
    return manifest


class Ledger:
    """Ids already handed out, across runs and xdist workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = FileLock(str(path) + ".lock")

    def used(self) -> set[str]:
        if not self.path.is_file():
            return set()
        return {json.loads(line)["id"] for line in self.path.read_text().splitlines() if line.strip()}

    def take(
        self, kind: str, candidates: list[str], test: str, stale: Callable[[str], str | None] | None = None
    ) -> str | None:
        """The first unused candidate that ``stale`` (a read of its current state) finds as listed.

        A candidate whose state changed since it was listed is written to the ledger as "stale" with
        the reason, and never handed out.
        """
        with self.lock:
            used = self.used()
            for candidate in candidates:
                key = f"{kind}:{candidate}"
                if key in used:
                    continue
                reason = stale(candidate) if stale is not None else None
                self.write({"id": key, "test": test, **({"stale": reason} if reason else {})})
                if reason is None:
                    return candidate
        return None

    def mark_stale(self, kind: str, candidate: str, reason: str, by: str) -> None:
        with self.lock:
            if f"{kind}:{candidate}" not in self.used():
                self.write({"id": f"{kind}:{candidate}", "test": by, "stale": reason})

    def write(self, entry: dict[str, str]) -> None:
        stamped = {**entry, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(stamped) + "\n")

    def stale_entries(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        entries = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        return [e for e in entries if e.get("stale")]


# Ids per kind ("juspay mandate ACTIVE") that the run's scenarios need: the first ones listed are
# theirs, and generated cases may take only the ids after them. Filled after collection.
RESERVED_FOR_SCENARIOS: dict[str, int] = {}
StateReader = Callable[[str, str, str], str | None]  # (API, id, owner id) -> current state


def is_generated_case(test_id: str) -> bool:
    return "/properties/" in test_id


class ManifestStock:
    """The manifest, its ledger and a read of each id's current state, for one test."""

    def __init__(self, manifest: Manifest, ledger: Ledger, test_id: str, read_state: StateReader | None = None) -> None:
        self.manifest = manifest
        self.ledger = ledger
        self.test_id = test_id
        self.read_state = read_state

    def take(
        self, api: str, section: Section[E], state: str | None = None, where: Callable[[E], bool] | None = None
    ) -> E:
        """The first unused entry of ``section`` in ``state`` (that ``where`` accepts), read as listed first."""
        entries = {section.id_of(e): e for e in self.manifest.listed(section, state) if where is None or where(e)}
        kind = section.kind_in(state)
        stale = None
        if state and section.owner_field:
            stale = self._stale(api, state, {key: section.owner_of(e) for key, e in entries.items()})
        return entries[self._take(kind, list(entries), stale)]

    def _take(self, kind: str, ids: list[str], stale: Callable[[str], str | None] | None = None) -> str:
        if is_generated_case(self.test_id):
            # Scarce ids go to the rules that need them: generated cases get only what scenarios leave.
            ids = ids[RESERVED_FOR_SCENARIOS.get(kind, 0) :]
        chosen = self.ledger.take(kind, ids, self.test_id, stale)
        if chosen is None:
            raise PreconditionUnavailable(
                kind, f"the manifest has no unused {kind} left in its stated state (ledger: {self.ledger.path})"
            )
        return chosen

    def _stale(self, api: str, stated: str, owners: dict[str, str]) -> Callable[[str], str | None] | None:
        """A read of the id's current state before it is handed out; None when there is no reader."""
        reader = self.read_state
        if reader is None:
            return None

        def check(candidate: str) -> str | None:
            seen = reader(api, candidate, owners[candidate])
            return None if seen == stated else f"listed as {stated}, read as {seen or 'not found'} before use"

        return check


class Listed(ApiProvisioner):
    """The manifest kind of an API's protocol: hands out the ids its section lists, each once."""

    name = "manifest"

    def __init__(self, stock: ManifestStock) -> None:
        self.stock = stock

    @classmethod
    def of(cls, means: Means) -> Self:
        return cls(means.manifest())

    def take(self, section: Section[E], state: str | None = None, where: Callable[[E], bool] | None = None) -> E:
        return self.stock.take(self.api, section, state, where)
