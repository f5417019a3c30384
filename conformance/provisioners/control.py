"""The control provisioner's channel: the sandbox control API (ours, or any target implementing it).

Each API's module says which control calls make its preconditions (``Controlled`` subclasses); this
module sends them, and injects faults, which every API's control provisioner offers the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from conformance.errors import InternalError, PreconditionUnavailable
from conformance.http.client import ApiClient
from conformance.provisioners.base import ApiProvisioner

if TYPE_CHECKING:
    from conformance.provisioners.means import Means

PREFIX = "/_sandbox"


class ControlChannel:
    """Calls of ``/_sandbox`` in the test's tenant; a target without the control API makes them unavailable."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, *, phase: str = "setup") -> Any:
        exchange = self.client.call(
            method, PREFIX + path, json=body, auth=None, phase=phase, operation=f"control {path}"
        )
        if exchange.status == 404 and exchange.json() is None:
            raise PreconditionUnavailable(
                f"control API {path}", "the target does not implement the sandbox control API"
            )
        if exchange.status is None or exchange.status >= 400:
            raise InternalError(
                f"Control call {method} {path} failed with {exchange.status}: {exchange.response and exchange.response.text}"
            )
        return exchange.json()

    def read(self, path: str) -> dict[str, Any]:
        """A read-back of state no vendor read shows (attempts, audit, routing ids seen)."""
        return dict(self.call("GET", path, phase="readback"))

    def fault(self, api: str, kind: str, **params: Any) -> None:
        self.call("POST", "/faults", {"api": api, "kind": kind, **params})

    def reset(self) -> None:
        self.call("POST", "/reset", {})


class Controlled(ApiProvisioner):
    """The control kind of an API's protocol: creates any documented state and injects any fault."""

    name = "control"

    def __init__(self, control: ControlChannel) -> None:
        self.control = control

    @classmethod
    def of(cls, means: Means) -> Self:
        return cls(means.control())

    def fault(self, kind: str, **params: Any) -> None:
        self.control.fault(self.api, kind, **params)
