from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import PreconditionUnavailable, UsageError
from conformance.provisioners.juspay import JuspayProvisioner, ManifestJuspay
from conformance.provisioners.manifest import Ledger, ManifestStock, load_manifest
from conformance.provisioners.thanx import ManifestThanx, ThanxProvisioner

MANIFEST = """
juspay_mandates:
  ACTIVE:
    - {mandate_id: m1, customer_id: c1}
    - {mandate_id: m2, customer_id: c2}
thanx_jobs:
  completed:
    - {id: job_1, merchant_id: merch}
"""


def stock(tmp_path: Path, test: str = "t") -> ManifestStock:
    path = tmp_path / "manifest.yaml"
    if not path.exists():
        path.write_text(MANIFEST)
    return ManifestStock(load_manifest(path), Ledger(tmp_path / "ledger.jsonl"), test)


def mandates(tmp_path: Path) -> JuspayProvisioner:
    return ManifestJuspay(stock(tmp_path))


def jobs(tmp_path: Path) -> ThanxProvisioner:
    return ManifestThanx(stock(tmp_path))


def test_each_id_is_handed_out_once_across_runs(tmp_path: Path) -> None:
    first = mandates(tmp_path)
    assert first.mandate("ACTIVE").mandate_id == "m1"
    assert first.mandate("ACTIVE").mandate_id == "m2"
    second_run = mandates(tmp_path)
    with pytest.raises(PreconditionUnavailable, match="no unused juspay mandate ACTIVE left"):
        second_run.mandate("ACTIVE")


def test_what_the_manifest_cannot_provide_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PreconditionUnavailable):
        jobs(tmp_path).thanx_job("pending")
    with pytest.raises(PreconditionUnavailable):
        mandates(tmp_path).fault("gateway_failure")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("juspay_mandates: [", "is not valid YAML"),
        ("juspay_mandates:\n  ACTIVE:\n    - {mandate_id: m1}\n", "invalid at juspay_mandates.ACTIVE.0.customer_id"),
        ("juspay_mandates:\n  LIVE: []\n", "status 'LIVE'; allowed: CREATED, ACTIVE"),
        ("stripe_things: []\n", "invalid at stripe_things"),
    ],
)
def test_a_bad_manifest_gets_one_clear_paragraph(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        load_manifest(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)
