"""Run settings. Precedence, written once: CLI option > environment > targets file > default.

Environment variables: ``CONFORMANCE_TARGET``, ``CONFORMANCE_BASE_URL``, ``CONFORMANCE_SEED``,
``CONFORMANCE_PROVISIONER``, ``CONFORMANCE_REPORT_DIR``, ``CONFORMANCE_TARGETS_FILE``,
``CONFORMANCE_MANIFEST``, ``CONFORMANCE_APIS``, and per vendor ``CONFORMANCE_<VENDOR>_<FIELD>``
(``CONFORMANCE_THANX_ACCESS_TOKEN``, ``CONFORMANCE_JUSPAY_BASE_URL``, ...). The targets file (TOML
or YAML) may say ``${VAR}`` anywhere; secrets must be written that way, never literally.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.apis import APIS
from conformance.errors import UsageError
from conformance.http.auth import REQUIRED_CREDENTIALS

TargetMode = Literal["reference", "live", "record", "replay"]
ProvisionerName = Literal["control", "vendor", "manifest"]
VENDOR_OF = {key: api.vendor for key, api in APIS.items()}
SECRET_FIELDS = frozenset({"password", "oauth_token", "access_token", "api_key"})
VENDOR_FIELDS = frozenset(
    {"base_url", "provisioner", "rate_limit", "username", "client_id", "merchant_id"} | SECRET_FIELDS
)
# Documented limits: Capillary demo clusters 100/min per key; Thanx 5/s per credential; Juspay publishes none.
DEFAULT_RATE_LIMITS = {"capillary": 1.5, "thanx": 4.0, "juspay": 4.0}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class VendorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None
    provisioner: ProvisionerName | None = None
    rate_limit: float | None = None
    username: str | None = None
    password: str | None = None
    oauth_token: str | None = None
    client_id: str | None = None
    access_token: str | None = None
    api_key: str | None = None
    merchant_id: str | None = None
    # Ids the vendor provisioner needs on a live sandbox (badge meta id, campaign id, ...); not secrets.
    setup: dict[str, str] = Field(default_factory=dict)

    def credentials(self) -> dict[str, str]:
        fields = ("username", "password", "oauth_token", "client_id", "access_token", "api_key", "merchant_id")
        return {name: value for name in fields if (value := getattr(self, name))}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: TargetMode = "reference"
    base_url: str | None = None
    provisioner: ProvisionerName | None = None
    seed: int = 20261122
    report_dir: Path = Path("reports")
    targets_file: Path | None = None
    manifest: Path | None = None
    apis: list[str] = Field(default_factory=lambda: list(APIS))
    deviation: str | None = None
    gap_profile: Literal["faithful", "alternate"] = "faithful"  # reference sandbox: its choices at doc gaps
    cassette_dir: Path = Path("cassettes")
    cassette_name: str | None = None
    timeout_s: float = 15.0
    poll_deadline_s: float | None = None
    poll_interval_s: float = 0.05
    allow_production: bool = False
    # Violations of inferred/assumed rules (violated-inferred) gate the run too.
    strict: bool = False
    vendors: dict[str, VendorSettings] = Field(default_factory=dict)

    @property
    def is_networked(self) -> bool:
        return self.target in ("live", "record")

    @property
    def uses_reference_sandbox(self) -> bool:
        """The embedded sandbox serves ``reference`` runs, and ``record`` runs given no URL to record from."""
        configured = self.base_url or any(v.base_url for v in self.vendors.values())
        return self.target == "reference" or (self.target == "record" and not configured)

    def vendor(self, api: str) -> VendorSettings:
        return self.vendors.get(VENDOR_OF[api], VendorSettings())

    def provisioner_for(self, api: str) -> ProvisionerName:
        chosen = self.vendor(api).provisioner or self.provisioner
        if chosen:
            return chosen
        if self.uses_reference_sandbox or self.target == "replay" or self.base_url:
            return "control"
        return "vendor"

    def poll_deadline(self) -> float:
        # The real Thanx sandbox's workers are low priority (minutes); a local sandbox answers at once.
        if self.poll_deadline_s is not None:
            return self.poll_deadline_s
        return 600.0 if self.is_networked and not self.base_url else 10.0


def interpolate(value: Any, env: Mapping[str, str], where: str) -> Any:
    """Replace ``${VAR}`` from the environment; an unset variable is an error naming where it was used."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise UsageError(
                f"The targets file uses ${{{name}}} at {where}, but the environment variable {name} is not set."
            )
        return env[name]

    return ENV_REF.sub(lookup, value)


def read_targets_file(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Parse a TOML or YAML targets file; literal secrets are refused so they never land in a repo."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"Cannot read the targets file {path}: {exc.strerror}. Pass an existing TOML or YAML file."
        ) from None
    try:
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"The targets file {path} does not parse: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise UsageError(f'The targets file {path} must be a mapping of settings, e.g. target = "live".')
    for vendor, fields in (raw.get("vendors") or {}).items():
        for name, value in (fields or {}).items():
            if name in SECRET_FIELDS and isinstance(value, str) and not ENV_REF.fullmatch(value.strip()):
                raise UsageError(
                    f"The targets file {path} holds a literal secret at vendors.{vendor}.{name}. Secrets come from the "
                    f'environment: write {name} = "${{SOME_VARIABLE}}" or set CONFORMANCE_{vendor.upper()}_{name.upper()}.'
                )
    return dict(interpolate(raw, env, str(path)))


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    simple = (
        "target",
        "base_url",
        "seed",
        "provisioner",
        "report_dir",
        "targets_file",
        "manifest",
        "deviation",
        "gap_profile",
        "cassette_dir",
    )
    if env.get("CONFORMANCE_ALLOW_PRODUCTION", "").lower() in ("1", "true", "yes"):
        out["allow_production"] = True
    if env.get("CONFORMANCE_STRICT", "").lower() in ("1", "true", "yes"):
        out["strict"] = True
    for name in simple:
        if (value := env.get(f"CONFORMANCE_{name.upper()}")) is not None:
            out[name] = value
    if apis := env.get("CONFORMANCE_APIS"):
        out["apis"] = [a.strip() for a in apis.split(",") if a.strip()]
    vendors: dict[str, dict[str, str]] = {}
    for vendor in sorted(set(VENDOR_OF.values())):
        for field in VENDOR_FIELDS:
            if (value := env.get(f"CONFORMANCE_{vendor.upper()}_{field.upper()}")) is not None:
                vendors.setdefault(vendor, {})[field] = value
    if vendors:
        out["vendors"] = vendors
    return out


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win; vendor settings merge field by field."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if value is None:
                continue
            if key == "vendors":
                vendors = merged.setdefault("vendors", {})
                for vendor, fields in value.items():
                    vendors.setdefault(vendor, {}).update({k: v for k, v in fields.items() if v is not None})
            else:
                merged[key] = value
    return merged


def build_settings(cli: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the CLI options, the environment and the targets file, in that precedence."""
    env = os.environ if env is None else env
    env_layer = from_env(env)
    file_path = cli.get("targets_file") or env_layer.get("targets_file")
    file_layer = read_targets_file(Path(file_path), env) if file_path else {}
    try:
        settings = Settings.model_validate(merge(file_layer, env_layer, cli))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise UsageError(
            f"Invalid settings ({problems}). Allowed targets: reference, live, record, replay; "
            "provisioners: control, vendor, manifest."
        ) from None
    for api in settings.apis:
        if api not in APIS:
            raise UsageError(f"Unknown API {api!r} in the API selection; known: {', '.join(APIS)}.")
    return settings


def missing_settings(settings: Settings) -> list[str]:
    """What a networked run lacks, each as 'what — how to set it'."""
    if not settings.is_networked:
        return []
    missing: list[str] = []
    for vendor in sorted({VENDOR_OF[a] for a in settings.apis}):
        api = next(a for a in settings.apis if VENDOR_OF[a] == vendor)
        fields = settings.vendors.get(vendor, VendorSettings())
        if not (fields.base_url or settings.base_url):
            missing.append(
                f"{vendor} base URL — --base-url, CONFORMANCE_{vendor.upper()}_BASE_URL or vendors.{vendor}.base_url"
            )
        needed = REQUIRED_CREDENTIALS[api]
        if vendor == "capillary" and fields.oauth_token:
            needed = ()
        for name in needed:
            if not getattr(fields, name):
                missing.append(f"{vendor} {name} — CONFORMANCE_{vendor.upper()}_{name.upper()}")
    return missing
