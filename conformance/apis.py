"""The five APIs under test: their keys, spec and rule files, and the operations the suite drives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A checkout reads specs/ at its root; an installed wheel carries them as conformance/_specs.
SPECS_DIR = (
    REPO_ROOT / "specs" if (REPO_ROOT / "specs" / "rules").is_dir() else Path(__file__).resolve().parent / "_specs"
)


@dataclass(frozen=True)
class Api:
    key: str
    title: str
    vendor: str
    revoke_operation: str

    @property
    def spec_path(self) -> Path:
        return SPECS_DIR / f"{self.key}.yaml"

    @property
    def rules_path(self) -> Path:
        return SPECS_DIR / "rules" / f"{self.key}.yaml"


APIS: dict[str, Api] = {
    api.key: api
    for api in (
        Api("capillary-badges", "Capillary badges: revoke earn", "capillary", "revokeEarn"),
        Api("capillary-points", "Capillary points v2: reverse", "capillary", "reversePoints"),
        Api("capillary-rewards", "Capillary rewards: revoke user reward", "capillary", "revokeUserReward"),
        Api("thanx", "Thanx: revoke issuance job", "thanx", "revokeIssuanceJob"),
        Api("juspay", "Juspay: revoke mandate", "juspay", "mandateCommand"),
    )
}


def get_api(key: str) -> Api:
    """Return the API called ``key``, or fail with the list of known keys."""
    try:
        return APIS[key]
    except KeyError:
        known = ", ".join(sorted(APIS))
        raise UsageError(f"Unknown API {key!r}: the suite knows {known}.") from None


def parse_api_list(value: str | None) -> list[str]:
    """Parse a comma-separated API selection; empty means all."""
    if not value:
        return list(APIS)
    keys = [part.strip() for part in value.split(",") if part.strip()]
    for key in keys:
        get_api(key)
    return keys
