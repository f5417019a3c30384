"""What the three Capillary APIs share: one org per tenant, its customers, and their identifiers.

Capillary uses three different envelopes (badges ``data/errors/warnings``, points v2 flat
``errors/warnings``, rewards ``status``); each router owns its envelope, this module only the
customers they all resolve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.sandbox.core import BASE36, TenantState

IDENTIFIER_FIELDS = ("mobile", "email", "externalId", "cardNumber")

# Vendor spellings of one identifier, folded to lower case: the points page says ID|PHONE|EMAIL,
# its OpenAPI block says mobile|email|externalId|id|cardnumber, badges say email|mobile|externalId|cardNumber.
IDENTIFIER_ALIASES = {
    "id": "id",
    "customerid": "id",
    "mobile": "mobile",
    "phone": "mobile",
    "email": "email",
    "emailid": "email",
    "externalid": "externalId",
    "external_id": "externalId",
    "cardnumber": "cardNumber",
}


@dataclass
class Customer:
    customer_id: int
    mobile: str
    email: str
    external_id: str
    card_number: str
    # Credited by reversals: the available part to the available balance, the expired part to the expired one.
    points_available: int = 0
    points_expired: int = 0

    def identifiers(self) -> dict[str, object]:
        return {
            "customerId": self.customer_id,
            "mobile": self.mobile,
            "email": self.email,
            "externalId": self.external_id,
            "cardNumber": self.card_number,
        }

    def value_of(self, kind: str) -> str:
        return {
            "id": str(self.customer_id),
            "mobile": self.mobile,
            "email": self.email,
            "externalId": self.external_id,
            "cardNumber": self.card_number,
        }[kind]


@dataclass
class CapillaryOrg:
    customers: dict[int, Customer] = field(default_factory=dict)
    org_id: int | None = None


class IdentifierTaken(ValueError):
    pass


def org(tenant: TenantState) -> CapillaryOrg:
    store = tenant.store(CapillaryOrg)
    if store.org_id is None:
        store.org_id = tenant.new_int("capillary-org", 5)
    return store


def create_customer(tenant: TenantState, given: dict[str, str | None]) -> Customer:
    """A customer with the given identifiers; missing ones are generated from the tenant's seed."""
    with tenant.lock:
        store = org(tenant)
        for kind in IDENTIFIER_FIELDS:
            value = given.get(kind)
            if value is not None and find_customer(tenant, kind, value) is not None:
                raise IdentifierTaken(f"{kind} {value!r} already belongs to another customer")
        customer_id = tenant.new_int("capillary-customer", 8)
        customer = Customer(
            customer_id=customer_id,
            mobile=given.get("mobile") or f"91{tenant.new_int('capillary-mobile', 10)}",
            email=given.get("email") or f"customer{customer_id}@sandbox.example",
            external_id=given.get("externalId") or "EXT" + tenant.new_id("capillary-external", BASE36, 8).upper(),
            card_number=given.get("cardNumber") or str(tenant.new_int("capillary-card", 16)),
        )
        store.customers[customer_id] = customer
        return customer


def find_customer(tenant: TenantState, kind: str, value: object) -> Customer | None:
    """Resolve ``value`` as an identifier of ``kind`` (any vendor spelling, case-insensitive)."""
    canonical = IDENTIFIER_ALIASES.get(kind.lower())
    if canonical is None:
        return None
    with tenant.lock:
        customers = org(tenant).customers
        if canonical == "id":
            try:
                return customers.get(int(str(value)))
            except ValueError:
                return None
        wanted = str(value).lower() if canonical == "email" else str(value)
        for customer in customers.values():
            have = customer.value_of(canonical)
            if (have.lower() if canonical == "email" else have) == wanted:
                return customer
        return None


def default_customer(tenant: TenantState, customer_id: int | None) -> Customer | None:
    """The named customer, or a fresh one when none is named (control API convenience)."""
    if customer_id is None:
        return create_customer(tenant, {})
    return org(tenant).customers.get(customer_id)
