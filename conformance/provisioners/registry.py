"""Each API's provisioning, found through its descriptor (``Api.provisioning`` names the module).

The module registers one ``Provisioning`` as ``PROVISIONING``: its protocol, the kinds it
implements, its manifest sections, the documented read of a listed resource's state, the setup
calls that create its resources, and its pre-flight reads. Nothing outside the API's module is told.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from conformance.apis import APIS, get_api
from conformance.errors import InternalError
from conformance.provisioners.base import Creation, Provisioning

if TYPE_CHECKING:
    from conformance.http.client import ApiClient


def provisioning_of(api: str) -> Provisioning:
    """The provisioning ``api``'s descriptor names; a module that does not register one for it is a defect."""
    module_name = get_api(api).provisioning
    registered = getattr(importlib.import_module(module_name), "PROVISIONING", None)
    if not isinstance(registered, Provisioning) or registered.protocol.api != api:
        raise InternalError(
            f"{module_name} must register PROVISIONING = Provisioning(<protocol of {api!r}>, ...) for API {api!r}."
        )
    return registered


def registered() -> Iterator[tuple[str, Provisioning]]:
    for key in list(APIS):
        yield key, provisioning_of(key)


def creations() -> Iterator[tuple[str, Creation]]:
    """(API, creation) of every registered setup call that creates a resource."""
    for key, provisioning in registered():
        for creation in provisioning.creations:
            yield key, creation


def current_state(client: ApiClient, api: str, resource_id: str, owner: str) -> str | None:
    """The state ``api`` reports for ``resource_id`` (owner: the customer or merchant it belongs to); None
    when the API documents no read of it."""
    read = provisioning_of(api).read_state
    return read(client, resource_id, owner) if read is not None else None


def state_reader(clients: Callable[[str], ApiClient]) -> Callable[[str, str, str], str | None]:
    def read(api: str, resource_id: str, owner: str) -> str | None:
        return current_state(clients(api), api, resource_id, owner)

    return read
