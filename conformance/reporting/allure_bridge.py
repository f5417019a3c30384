"""Allure labels and per-exchange steps. A no-op when allure-pytest is not writing results."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import allure

from conformance.apis import APIS

if TYPE_CHECKING:
    import pytest

    from conformance.http.exchange import Exchange
    from conformance.rules import Rule
    from conformance.targets import Target

SEVERITY = {
    "blocker": allure.severity_level.BLOCKER,
    "critical": allure.severity_level.CRITICAL,
    "normal": allure.severity_level.NORMAL,
    "minor": allure.severity_level.MINOR,
    "trivial": allure.severity_level.TRIVIAL,
}
DOC_URLS = {
    "capillary-badges-revoke-earn.md": "https://docs.capillarytech.com/reference/revoke-issual-of-a-badge",
    "capillary-points-reverse.md": "https://docs.capillarytech.com/reference/reverse-redeemed-points",
    "capillary-rewards-user-reward-revoke.md": "https://docs.capillarytech.com/reference/revoke-user-reward",
    "thanx-issuance-job-revoke.md": "https://docs.thanx.com/partner/issuance-jobs/revoke-issuance-job",
    "juspay-mandate-revoke.md": "https://juspay.io/in/docs/payment-page-enterprise/react-native/mandates/mandate-revoke-api",
}
ORDER = ["blocker", "critical", "normal", "minor", "trivial"]


def label_test(item: pytest.Item, rules: list[Rule], target: Target) -> None:
    """Epic = API, feature = operation, story = rule ID with its claim; severity from the rule's kind."""
    for rule in rules:
        allure.dynamic.epic(APIS[rule.api].title if rule.api in APIS else rule.api)
        allure.dynamic.feature(rule.operation)
        allure.dynamic.story(f"{rule.id}: {rule.claim}")
        allure.dynamic.tag(rule.confidence)
        if url := DOC_URLS.get(rule.source.page):
            allure.dynamic.link(url, name=f"{rule.source.page} § {rule.source.section}")
    if rules:
        worst = min((r.severity for r in rules), key=ORDER.index)
        allure.dynamic.severity(SEVERITY[worst])
    allure.dynamic.parameter("target", target.name)
    allure.dynamic.parameter("seed", target.settings.seed)
    # A stable id per test node keeps Allure's history and trends working across runs.
    allure.dynamic.id(hashlib.sha256(item.nodeid.encode()).hexdigest()[:16])


def attach_exchange(exchange: Exchange) -> None:
    """One step per HTTP exchange, with the redacted request and response and a curl reproduction."""
    title = f"{exchange.phase}: {exchange.request.method} {exchange.request.url.path} → {exchange.status or exchange.error}"
    with allure.step(title):
        allure.attach(exchange.render(), name="exchange", attachment_type=allure.attachment_type.JSON)
        allure.attach(exchange.curl(), name="curl", attachment_type=allure.attachment_type.TEXT)
