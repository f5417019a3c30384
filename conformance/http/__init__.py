"""The one HTTP layer: every request of every test (property, scenario, setup, read-back) goes through it."""

from __future__ import annotations

from conformance.http.client import ApiClient, RetryPolicy
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor

__all__ = ["ApiClient", "Exchange", "Redactor", "RetryPolicy"]
