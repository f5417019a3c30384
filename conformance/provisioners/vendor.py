"""The vendor provisioner's means: the vendors' own setup endpoints on a live sandbox.

Every setup call carries an idempotency key (Thanx ``X-Idempotency-Key``, Capillary ``requestId`` or
external reference number), so a retried setup call never creates a second resource. What the
vendors' APIs cannot create (a job in ``processing`` on demand, an ACTIVE mandate, a fault) is
unavailable here and the scenario is skipped with that reason. Each API's module says which setup
calls make its preconditions (``Vendored`` subclasses).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from conformance.apis import get_api
from conformance.errors import InternalError, PreconditionUnavailable
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.provisioners.base import ApiProvisioner

if TYPE_CHECKING:
    from conformance.provisioners.means import Means


def run_tag(run_id: str | None) -> str:
    """The run's tag in reference fields: every xdist worker of one run shares the run id."""
    return "conf" + (run_id or "local")[:12]


Poll = Callable[[Callable[[], Exchange], Callable[[Exchange], bool], str], Exchange]


class VendorSetup:
    """One API's client, its configured setup ids (``vendors.<vendor>.setup``), keys unique per run, and polling."""

    def __init__(
        self,
        client: ApiClient,
        setup: Mapping[str, str],
        poll: Poll,
        test_id: str,
        run_id: str | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.setup = dict(setup)
        self.poll = poll
        self.test_id = test_id
        self.vendor = get_api(client.api).vendor

    def require(self, key: str) -> str:
        """A configured setup id; without it the precondition is unavailable, naming where to set it."""
        if not self.setup.get(key):
            raise PreconditionUnavailable(
                f"{self.vendor} setup value {key}",
                f"set vendors.{self.vendor}.setup.{key} in the targets file to let the vendor provisioner create it",
            )
        return self.setup[key]

    def key(self, purpose: str) -> str:
        """Unique per run and purpose (an idempotency key is never reused for another request), and led by
        the run id, so every resource made through a reference field names the run that made it."""
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.test_id}:{purpose}:{uuid.uuid4()}").hex
        return f"{run_tag(self.run_id)}-{unique}"

    def short_key(self, purpose: str) -> str:
        """A 20-character reference (Capillary transaction numbers): the run tag, then 10 unique characters."""
        return (run_tag(self.run_id)[:10] + self.key(purpose).rsplit("-", 1)[1])[:20]

    def call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        """One setup call: retried safely (every setup call carries an idempotency key), refused loudly."""
        exchange = self.client.call(method, path, operation=operation, phase="setup", retry=True, **kwargs)
        if exchange.status is None or exchange.status >= 300:
            raise InternalError(
                f"Vendor setup {operation} failed with HTTP {exchange.status}; see the exchange: {exchange.curl()}"
            )
        return exchange.json() or {}


class Vendored(ApiProvisioner):
    """The vendor kind of an API's protocol: what the vendor's own setup endpoints can make."""

    name = "vendor"

    def __init__(self, vendor: VendorSetup) -> None:
        self.vendor = vendor

    @classmethod
    def of(cls, means: Means) -> Self:
        return cls(means.vendor())
