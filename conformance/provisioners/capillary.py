"""What Capillary's three APIs share in provisioning: the configured customer's identifiers."""

from __future__ import annotations

from collections.abc import Mapping

# X-CAP-CUSTOMER-IDENTIFIER's names -> the setup keys an operator configures them under.
IDENTIFIER_SETUP_KEYS = {
    "mobile": "customer_mobile",
    "email": "customer_email",
    "externalId": "customer_external_id",
    "cardNumber": "customer_card_number",
}


def identifiers(setup: Mapping[str, str]) -> dict[str, str]:
    """The configured customer's identifiers, by the names X-CAP-CUSTOMER-IDENTIFIER uses."""
    return {name: setup[key] for name, key in IDENTIFIER_SETUP_KEYS.items() if setup.get(key)}
