"""Every registered check stays silent on valid reference exchanges of every API and operation."""

from __future__ import annotations

import pytest

from conformance.apis import APIS
from conformance.checks.registry import load_all
from conformance.http.exchange import Exchange
from tests.checks.exchanges import corpus, operations, recorder

CORPUS = corpus()


def test_the_corpus_covers_every_operation_of_every_spec() -> None:
    covered = {(ex.api, ex.operation) for _, ex in CORPUS}
    wanted = {(api, operation) for api in APIS for _, _, operation, _ in operations(api)}
    # Setup and read-back operations with no documented example are covered by the extra shapes or not at all.
    missing = wanted - covered
    assert not {m for m in missing if m[1] == APIS[m[0]].revoke_operation}, missing
    assert len(covered & wanted) >= len(wanted) - len(missing)


@pytest.mark.parametrize(("name", "exchange"), CORPUS, ids=[name for name, _ in CORPUS])
def test_every_check_is_silent_on_a_valid_reference_exchange(name: str, exchange: Exchange) -> None:
    with recorder() as rec:
        for check in load_all().values():
            if check.applies_to(exchange):
                check.run(exchange, rec)  # a Finding would fail the test here
    assert [r for r in rec.records if r.status == "violated"] == []


@pytest.mark.parametrize(("name", "exchange"), CORPUS, ids=[name for name, _ in CORPUS])
def test_no_check_applies_to_another_apis_exchange(name: str, exchange: Exchange) -> None:
    foreign = [c.name for c in load_all().values() if c.api != exchange.api and c.applies_to(exchange)]
    assert foreign == []


def test_checks_of_the_revoke_operations_record_verdicts_on_the_reference_examples() -> None:
    verified: set[str] = set()
    for _, exchange in CORPUS:
        with recorder() as rec:
            for check in load_all().values():
                if check.applies_to(exchange):
                    check.run(exchange, rec)
        verified |= {r.rule_id for r in rec.records if r.status == "verified"}
    every_rule = {rule for check in load_all().values() for rule in check.rules}
    assert every_rule - verified == set()
