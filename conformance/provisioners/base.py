"""What every API's provisioner shares, and what an API registers to bring its own.

An API's provisioner protocol is a subclass of :class:`ApiProvisioner` in the API's own module
(named by its descriptor's ``provisioning``): the capabilities its scenarios need, each raising
PreconditionUnavailable (the scenario skips, naming rule and capability), and its implementations
for the kinds of provisioner its targets allow (control, vendor, manifest). A kind an API does not
implement is its protocol itself, on which every capability is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel

from conformance.errors import PreconditionUnavailable

if TYPE_CHECKING:
    from conformance.http.client import ApiClient
    from conformance.provisioners.means import Means

E = TypeVar("E", bound=BaseModel)
# A documented read of a listed resource's current state: (client of its API, id, owner id) -> state.
StateRead = Callable[["ApiClient", str, str], "str | None"]


class ApiProvisioner:
    """The part every API's protocol shares: faults (only a control API injects them) and closing."""

    # The key of the API whose protocol this is; a protocol class sets it, its descriptor names its module.
    api: ClassVar[str] = ""
    name = "none"

    @classmethod
    def of(cls, means: Means) -> Self:
        """This kind built from what the test's context can reach; the bare protocol needs nothing."""
        return cls()

    def unavailable(self, capability: str) -> PreconditionUnavailable:
        return PreconditionUnavailable(capability, f"the {self.name} provisioner cannot provide it on this target")

    def fault(self, kind: str, **params: Any) -> None:
        """Make the target fail the next calls of this API in a documented way (``kind``, with ``params``)."""
        raise self.unavailable(f"fault injection ({kind})")

    def close(self) -> None:
        """Release what the provisioner holds (ledgers, connections)."""


@dataclass(frozen=True)
class Section(Generic[E]):
    """One API's part of the manifest: pre-provisioned ids, listed by state or as one list."""

    key: str  # the manifest's top-level key, e.g. thanx_jobs
    entry: type[E]
    kind: str  # how the ledger and the plan name one entry, e.g. "thanx job"
    id_field: str
    owner_field: str | None = None  # the customer or merchant an id belongs to, for the documented read
    states: tuple[str, ...] = ()  # the states it may list entries under; empty: a flat list
    state_word: str = "state"
    noun: str = ""  # how an error names its entries ("mandates"); defaults to the kind

    def kind_in(self, state: str | None) -> str:
        return f"{self.kind} {state}" if state else self.kind

    def id_of(self, entry: E) -> str:
        return str(getattr(entry, self.id_field))

    def owner_of(self, entry: E) -> str:
        return str(getattr(entry, self.owner_field)) if self.owner_field else ""


@dataclass(frozen=True)
class Creation:
    """A setup call that creates one of the API's resources: by control route or by vendor operation."""

    noun: str  # "mandate", "issuance job"
    control_route: str | None = None  # a POST path of the sandbox control API
    vendor_operation: str | None = None  # a vendor setup operation
    # When a manifest lists such resources by state: their kind there, the control request's field naming
    # the state, and the state the control API makes when the request names none.
    manifest_kind: str | None = None
    state_field: str = "state"
    default_state: str = ""


# A read-only pre-flight look at what the API's preconditions rest on: (client, setup ids) -> (ok, detail);
# ok None: the vendor gives no read of it.
PreflightRead = Callable[["ApiClient", Mapping[str, str]], "tuple[bool | None, str]"]


@dataclass(frozen=True)
class Preflight:
    """One row of ``conformance doctor`` for the API: a scope or flag its preconditions need."""

    what: str
    read: PreflightRead


def unreadable(why: str) -> PreflightRead:
    """A flag the vendor documents no read of: reported as not readable, never as passed."""

    def read(_client: ApiClient, _setup: Mapping[str, str]) -> tuple[bool | None, str]:
        return None, why

    return read


@dataclass(frozen=True)
class Provisioning:
    """What one API registers (as ``PROVISIONING`` in the module its descriptor names)."""

    protocol: type[ApiProvisioner]
    kinds: tuple[type[ApiProvisioner], ...] = ()
    sections: tuple[Section[Any], ...] = ()
    # The documented read of a listed resource's state, checked before an id is handed out.
    read_state: StateRead | None = None
    creations: tuple[Creation, ...] = ()
    preflight: tuple[Preflight, ...] = ()
    by_kind: Mapping[str, type[ApiProvisioner]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_kind", {kind.name: kind for kind in self.kinds})

    def build(self, kind: str, means: Means) -> ApiProvisioner:
        """The ``kind`` provisioner of this API; a kind it does not implement offers nothing."""
        chosen = self.by_kind.get(kind)
        if chosen is None:
            bare = self.protocol()
            bare.name = kind
            return bare
        return chosen.of(means)
