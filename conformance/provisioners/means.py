"""What a test's context hands an API's provisioner: the ways it may reach the target, built on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.provisioners.control import ControlChannel
    from conformance.provisioners.manifest import ManifestStock
    from conformance.provisioners.vendor import VendorSetup


@dataclass(frozen=True)
class Means:
    """The control API, the vendor's setup endpoints, the manifest's stock: each kind takes the one it uses."""

    control: Callable[[], ControlChannel]
    vendor: Callable[[], VendorSetup]
    manifest: Callable[[], ManifestStock]
