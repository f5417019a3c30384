"""Provisioners create the precondition a scenario needs, on whatever the target can do."""

from __future__ import annotations

from conformance.provisioners.base import (
    BadgeEarn,
    Mandate,
    Provisioner,
    Redemption,
    RewardTxn,
    ThanxJob,
)

__all__ = ["BadgeEarn", "Mandate", "Provisioner", "Redemption", "RewardTxn", "ThanxJob"]
