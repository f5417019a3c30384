"""specs/control/sandbox-control.yaml documents exactly the control routes the sandbox serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from starlette.routing import Route

from conformance.sandbox import create_app

SPEC = Path(__file__).resolve().parents[2] / "specs" / "control" / "sandbox-control.yaml"
VERBS = {"get", "put", "post", "delete", "patch"}


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return document


def test_spec_is_valid_openapi_31() -> None:
    document = load()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_spec_and_app_agree_on_control_routes() -> None:
    served = {
        (method.lower(), route.path)
        for route in create_app().routes
        if isinstance(route, Route) and route.path.startswith("/_sandbox/") and "{rest:path}" not in route.path
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(verb, path) for path, item in load()["paths"].items() for verb in item if verb in VERBS}
    assert documented == served
