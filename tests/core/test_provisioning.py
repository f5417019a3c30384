"""Each API's provisioning, found through its descriptor: its protocol, its kinds and what a missing kind offers."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from conformance import apis
from conformance.apis import APIS, Api
from conformance.errors import InternalError, PreconditionUnavailable
from conformance.provisioners.base import ApiProvisioner
from conformance.provisioners.juspay import JuspayProvisioner, Mandate
from conformance.provisioners.means import Means
from conformance.provisioners.registry import current_state, provisioning_of, registered

KINDS = {"control", "vendor", "manifest"}


def unreachable() -> Means:
    def fail() -> object:
        raise AssertionError("a kind the API does not implement reached for the target")

    return Means(control=fail, vendor=fail, manifest=fail)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", sorted(APIS))
def test_each_api_registers_its_own_protocol_and_kinds_of_it(key: str) -> None:
    provisioning = provisioning_of(key)
    assert provisioning.protocol.api == key
    assert issubclass(provisioning.protocol, ApiProvisioner)
    assert provisioning.protocol is not ApiProvisioner
    assert set(provisioning.by_kind) <= KINDS
    for kind in provisioning.kinds:
        assert issubclass(kind, provisioning.protocol), f"{kind.__name__} does not implement {key}'s protocol"
    for section in provisioning.sections:
        assert section.id_field in section.entry.model_fields


def test_no_two_apis_share_a_protocol_or_a_manifest_section() -> None:
    protocols = [p.protocol for _key, p in registered()]
    sections = [s.key for _key, p in registered() for s in p.sections]
    assert len(set(protocols)) == len(protocols) == len(APIS)
    assert len(set(sections)) == len(sections)


def test_a_kind_the_api_leaves_out_offers_nothing_and_says_which_kind() -> None:
    bare = provisioning_of("juspay").build("vendor", unreachable())
    assert type(bare) is JuspayProvisioner
    with pytest.raises(PreconditionUnavailable, match=r"Juspay mandate in status ACTIVE.*vendor provisioner"):
        bare.mandate("ACTIVE")
    with pytest.raises(PreconditionUnavailable, match="fault injection"):
        bare.fault("gateway_failure")
    with pytest.raises(PreconditionUnavailable, match="routing ids"):
        bare.mandate_state(Mandate("m", "c", "ACTIVE"))


def test_an_api_without_a_documented_state_read_reports_none() -> None:
    assert provisioning_of("capillary-badges").read_state is None
    assert current_state(None, "capillary-badges", "earn-1", "") is None  # type: ignore[arg-type]


@pytest.fixture
def broken() -> Iterator[str]:
    """An API whose descriptor names a module registering no provisioning for it."""
    module = types.ModuleType("tests_broken_provisioning")
    sys.modules[module.__name__] = module
    template = APIS["thanx"]
    api = Api(**{**template.__dict__, "key": "broken", "rule_prefix": "BROKEN", "provisioning": module.__name__})
    apis.register_api(api)
    try:
        yield api.key
    finally:
        del apis.APIS[api.key]
        del sys.modules[module.__name__]


def test_a_descriptor_naming_a_module_without_its_provisioning_is_a_defect(broken: str) -> None:
    with pytest.raises(InternalError, match="must register PROVISIONING"):
        provisioning_of(broken)
