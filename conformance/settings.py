"""Run settings: ONE table, from which every way of giving a setting is generated.

Precedence, written once (``build_settings``): CLI option > environment > targets file > default. An
empty environment variable counts as unset (CI systems export empty variables).

Adding an option (one line): add a field to ``Settings`` below, written as
``name: Type = setting(default, "help text", flag="--the-flag")``. From that line come the
``conformance run`` flag, the plugin's pytest option (same flag), the environment variable
``CONFORMANCE_THE_FLAG`` (the flag in capitals), the targets-file key ``name`` and the README's row
(``python -m conformance.settings`` prints the table to paste between the README's
``settings-table`` markers; ``tests/core/test_options_table.py`` fails until it matches, and checks the
precedence of the new option too). Read the value as ``settings.<name>`` (the ``conformance_settings``
fixture, or ``config.stash[SETTINGS_KEY]`` in a hook); nothing outside this module reads ``os.environ``.
Supported types: ``str``, ``int``, ``float``, ``bool`` (``--flag``/``--no-flag``), ``Path``,
``list[str]`` (comma-separated) and ``Literal[...]`` (choices), each optionally ``| None``. A value that
needs checking beyond its type (a range, a format) gets a line in ``_check_values``.

Per vendor (``capillary``, ``thanx``, ``juspay``) the fields of ``VendorSettings`` come from
``CONFORMANCE_<VENDOR>_<FIELD>`` or ``[vendors.<vendor>]`` in the targets file. The targets file (TOML
or YAML) may say ``${VAR}`` anywhere; secrets must be written that way, never literally.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.apis import APIS, default_rate_limits, get_api, vendor_of
from conformance.errors import UsageError

TargetMode = Literal["reference", "live", "record", "replay"]
ProvisionerName = Literal["control", "vendor", "manifest"]
VENDOR_OF = {key: api.vendor for key, api in APIS.items()}
SECRET_FIELDS = frozenset({"password", "oauth_token", "access_token", "api_key", "client_key", "client_secret"})
DEFAULT_RATE_LIMITS = default_rate_limits()
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ENV_PREFIX = "CONFORMANCE_"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SHARD_RE = re.compile(r"^(\d+)/(\d+)$")


def setting(
    default: Any, help: str, *, flag: str, factory: Any = None, metavar: str | None = None, env: str | None = None
) -> Any:
    """One row of the options table: a pydantic field that also knows its flag and help (and, where the
    variable's name cannot follow the flag's, its environment variable)."""
    extra: dict[str, Any] = {"flag": flag, "metavar": metavar, "env": env}
    if factory is not None:
        return Field(default_factory=factory, description=help, json_schema_extra=extra)
    return Field(default=default, description=help, json_schema_extra=extra)


class VendorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(None, description="the vendor's base URL")
    provisioner: ProvisionerName | None = Field(None, description="this vendor's provisioner")
    rate_limit: float | None = Field(None, description="requests per second, held across xdist workers")
    username: str | None = Field(None, description="Capillary Basic-auth user name")
    password: str | None = Field(None, description="Capillary Basic-auth password (secret)")
    oauth_token: str | None = Field(None, description="Capillary OAuth token (secret)")
    client_id: str | None = Field(None, description="Thanx client id")
    access_token: str | None = Field(None, description="Thanx access token (secret)")
    api_key: str | None = Field(None, description="Juspay API key (secret)")
    merchant_id: str | None = Field(None, description="Juspay merchant id")
    client_key: str | None = Field(
        None, description="Capillary OAuth client key; a token is generated from it (secret)"
    )
    client_secret: str | None = Field(None, description="Capillary OAuth client secret (secret)")
    # Ids the vendor provisioner needs on a live sandbox (badge meta id, campaign id, ...); not secrets.
    setup: dict[str, str] = Field(default_factory=dict)

    def credentials(self) -> dict[str, str]:
        fields = (
            "username",
            "password",
            "oauth_token",
            "client_id",
            "access_token",
            "api_key",
            "merchant_id",
            "client_key",
            "client_secret",
        )
        return {name: value for name in fields if (value := getattr(self, name))}


VENDOR_FIELDS = tuple(name for name in VendorSettings.model_fields if name != "setup")


class Settings(BaseModel):
    """The options table: one field per setting (name, type, default, help, flag)."""

    model_config = ConfigDict(extra="forbid")
    # fmt: off
    target: TargetMode = setting("reference", "where requests go: reference, live, record or replay", flag="--target")
    base_url: str | None = setting(None, "one server implementing all five APIs and the control API", flag="--base-url")
    provisioner: ProvisionerName | None = setting(None, "control, vendor or manifest (default: per target)", flag="--provisioner")
    seed: int = setting(20261122, "seed of generated data and sandbox ids", flag="--seed")
    report_dir: Path = setting(Path("reports"), "where every output of the run goes", flag="--report-dir")
    targets_file: Path | None = setting(None, "TOML or YAML file of per-vendor URLs and ${ENV} credentials", flag="--targets-file")
    manifest: Path | None = setting(None, "YAML of pre-provisioned ids per state (manifest provisioner)", flag="--manifest")
    apis: list[str] = setting(None, "comma-separated APIs to test (default: all five)", flag="--apis", factory=lambda: list(APIS))
    deviation: str | None = setting(None, "reference target only: start the sandbox with this named deviation", flag="--deviation")
    gap_profile: Literal["faithful", "alternate"] = setting("faithful", "reference target only: the sandbox's choices where the docs are silent", flag="--gap-profile")
    cassette_dir: Path = setting(Path("cassettes"), "where cassettes are recorded and replayed", flag="--cassette-dir")
    cassette_name: str | None = setting(None, "cassette set under the cassette dir (default: per target)", flag="--cassette-name")
    timeout_s: float = setting(15.0, "HTTP timeout per request, in seconds", flag="--request-timeout")
    poll_deadline_s: float | None = setting(None, "how long to wait for async work, in seconds (default: per target)", flag="--poll-deadline")
    poll_interval_s: float | None = setting(None, "pause between polls of async work, in seconds (default: per target)", flag="--poll-interval")
    allow_production: bool = setting(False, "allow hosts the specs mark as production (revokes are real)", flag="--allow-production")
    strict: bool = setting(False, "violations of inferred and assumed rules (violated-inferred) gate the run too", flag="--strict-inferred", env="CONFORMANCE_STRICT")
    baseline: Path | None = setting(None, "YAML of accepted deviations (rule, reason, expires)", flag="--baseline")
    shard: str | None = setting(None, "K/N: run the K-th of N deterministic slices of the suite", flag="--shard")
    min_index: float | None = setting(None, "fail (exit 5) unless every selected API's index reaches PCT percent", flag="--min-index", metavar="PCT")
    property_coverage: bool = setting(False, "add Schemathesis' coverage phase on the reference target", flag="--property-coverage")
    run_id: str | None = setting(None, "identifier shared by every process of one run (default: a fresh one)", flag="--run-id")
    allow_hosts: list[str] = setting(None, "live hosts to allow besides loopback and the vendors' sandbox hosts", flag="--allow-host", factory=list, env="CONFORMANCE_ALLOW_HOSTS")
    max_destructive: int | None = setting(None, "cap on revokes and reversals per run (default: 25 when a host is not loopback)", flag="--max-destructive", metavar="N")
    plan: bool = setting(False, "print per API what the run would create, revoke and use; send nothing", flag="--plan")
    doctor: bool = setting(True, "run the read-only pre-flight first on a live target", flag="--doctor")
    max_examples: int | None = setting(None, "generated cases per operation (default: 5 on every target)", flag="--max-examples", metavar="N")
    # fmt: on
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
        # By the descriptor, so an API registered after this module was imported has its vendor's settings.
        return self.vendors.get(vendor_of(api), VendorSettings())

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

    def poll_interval(self) -> float:
        # The embedded sandbox moves async work on by reads, not by time: pausing there only costs wall time.
        if self.poll_interval_s is not None:
            return self.poll_interval_s
        return 0.005 if self.uses_reference_sandbox else 0.05

    def shard_slice(self) -> tuple[int, int] | None:
        """``(K, N)`` of ``--shard K/N`` (checked when the settings are built)."""
        if self.shard is None:
            return None
        k, n = SHARD_RE.fullmatch(self.shard).groups()  # type: ignore[union-attr]
        return int(k), int(n)


@dataclass(frozen=True)
class Option:
    """A row of the table as the generators see it."""

    name: str
    flag: str
    kind: Literal["str", "int", "float", "bool", "path", "list", "choice"]
    choices: tuple[str, ...]
    default: Any
    help: str
    metavar: str | None = None
    env_name: str | None = None

    @property
    def env(self) -> str:
        return self.env_name or ENV_PREFIX + self.dest.upper()

    @property
    def dest(self) -> str:
        """The attribute argparse and pytest store the flag under."""
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def shown_metavar(self) -> str:
        if self.metavar:
            return self.metavar
        if self.kind == "choice":
            return "{" + ",".join(self.choices) + "}"
        return {"list": "A,B", "str": "TEXT", "path": "PATH", "int": "N", "float": "NUMBER"}[self.kind]

    def from_text(self, raw: str, where: str) -> Any:
        """A value given as text (a variable, or a flag's argument) in the type pydantic validates."""
        if self.kind == "bool":
            if raw.strip().lower() in TRUE:
                return True
            if raw.strip().lower() in FALSE:
                return False
            raise UsageError(f"{where} is {raw!r}, which is not a yes/no value; allowed: {', '.join(TRUE + FALSE)}.")
        if self.kind == "list":
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return _kind(args[0])
    if typing.get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return "list", ()
    names = {bool: "bool", int: "int", float: "float", Path: "path", str: "str"}
    return names[annotation], ()


def _options() -> tuple[Option, ...]:
    rows = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict):
            continue  # vendors: a nested table of its own (VendorSettings)
        kind, choices = _kind(info.annotation)
        default = info.get_default(call_default_factory=True)
        rows.append(
            Option(
                name,
                str(extra["flag"]),
                kind,  # type: ignore[arg-type]
                choices,
                default,
                str(info.description),
                extra.get("metavar"),  # type: ignore[arg-type]
                extra.get("env"),  # type: ignore[arg-type]
            )
        )
    return tuple(rows)


OPTIONS: tuple[Option, ...] = _options()
OPTION_BY_NAME = {option.name: option for option in OPTIONS}


def environment() -> Mapping[str, str]:
    """The process environment; the one place the project reads it."""
    return os.environ


def process_environment() -> MutableMapping[str, str]:
    """The process environment, for the few values that travel to child processes through it (the run's
    token-sealing key); settings are read above, never from here."""
    return os.environ


def environment_value(name: str) -> str | None:
    """One variable of the environment that is not a run setting (a plugin's fallback); empty counts as unset."""
    return os.environ.get(name) or None


def xdist_worker() -> str:
    """The pytest-xdist worker this process is (``gw0``...), or ``main``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def child_environment(*, strip_conformance: bool = False, **extra: str) -> dict[str, str]:
    """The environment for a subprocess, optionally without any ``CONFORMANCE_*`` variable."""
    env = {k: v for k, v in os.environ.items() if not (strip_conformance and k.startswith(ENV_PREFIX))}
    return env | extra


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
        detail = " ".join(str(exc).split())
        raise UsageError(f"The targets file {path} does not parse: {detail}. It must be TOML or YAML.") from None
    if not isinstance(raw, dict):
        raise UsageError(f'The targets file {path} must be a mapping of settings, e.g. target = "live".')
    for vendor, fields in (raw.get("vendors") or {}).items():
        for name, value in (fields or {}).items():
            if name in SECRET_FIELDS and isinstance(value, str) and not ENV_REF.fullmatch(value.strip()):
                raise UsageError(
                    f"The targets file {path} holds a literal secret at vendors.{vendor}.{name}. Secrets come from the "
                    f'environment: write {name} = "${{SOME_VARIABLE}}" or set CONFORMANCE_{vendor.upper()}_{name.upper()}.'
                )
    data = dict(interpolate(raw, env, str(path)))
    if isinstance(data.get("apis"), str):
        data["apis"] = OPTION_BY_NAME["apis"].from_text(data["apis"], f"apis in {path}")
    return data


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The environment layer: ``CONFORMANCE_<FLAG>`` per option, ``CONFORMANCE_<VENDOR>_<FIELD>`` per vendor."""
    out: dict[str, Any] = {}
    for option in OPTIONS:
        if raw := env.get(option.env, "").strip():
            out[option.name] = option.from_text(raw, f"The environment variable {option.env}")
    vendors: dict[str, dict[str, str]] = {}
    for vendor in sorted(set(VENDOR_OF.values())):
        for field in VENDOR_FIELDS:
            if value := env.get(f"{ENV_PREFIX}{vendor.upper()}_{field.upper()}", "").strip():
                vendors.setdefault(vendor, {})[field] = value
    if vendors:
        out["vendors"] = vendors
    return out


def from_cli(values: Mapping[str, Any]) -> dict[str, Any]:
    """The CLI layer from parsed flags (``dest`` → value, None when not given)."""
    out: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.dest, values.get(option.name))
        if value is None:
            continue
        out[option.name] = option.from_text(value, f"{option.flag}") if isinstance(value, str) else value
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
                    vendors.setdefault(vendor, {}).update({k: v for k, v in (fields or {}).items() if v is not None})
            else:
                merged[key] = value
    return merged


def _source(key: tuple[Any, ...], layers: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Which layer gave the (invalid) value at ``key``: the flag, the variable or the file."""
    for where, layer in reversed(layers):
        value: Any = layer
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        name = str(key[0])
        if where == "cli":
            return OPTION_BY_NAME[name].flag if name in OPTION_BY_NAME else name
        if where == "env":
            if name == "vendors" and len(key) >= 3:
                return f"{ENV_PREFIX}{str(key[1]).upper()}_{str(key[2]).upper()}"
            return OPTION_BY_NAME[name].env if name in OPTION_BY_NAME else name
        return f"{'.'.join(map(str, key))} in {where}"
    return ".".join(map(str, key))


def _invalid(exc: ValidationError, layers: Sequence[tuple[str, Mapping[str, Any]]]) -> UsageError:
    problems = []
    for error in exc.errors()[:5]:
        loc = tuple(error["loc"])
        shown = f" = {error['input']!r}" if not isinstance(error["input"], dict) else ""
        problems.append(f"{'.'.join(map(str, loc))}{shown} (from {_source(loc, layers)}): {error['msg']}")
    return UsageError(
        f"Invalid settings: {'; '.join(problems)}. Allowed targets: reference, live, record, replay; "
        "provisioners: control, vendor, manifest; see README, 'Settings'."
    )


def check_api_names(apis: list[str], where: str) -> None:
    for api in apis:
        if api not in APIS:
            close = difflib.get_close_matches(api, list(APIS), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"Unknown API {api!r} in {where}; known: {', '.join(APIS)}.{hint}")


def _check_values(settings: Settings) -> None:
    check_api_names(settings.apis, "the API selection (--apis, CONFORMANCE_APIS or apis in the targets file)")
    if not settings.apis:
        raise UsageError(f"The API selection is empty; name at least one of {', '.join(APIS)}, or leave it unset.")
    if settings.shard is not None:
        match = SHARD_RE.fullmatch(settings.shard)
        if match is None or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise UsageError(f"--shard {settings.shard!r} must be K/N with 1 <= K <= N, e.g. --shard 2/4.")
    if settings.max_destructive is not None and settings.max_destructive < 0:
        raise UsageError(
            f"max_destructive (--max-destructive) is {settings.max_destructive}; give 0 or more revokes and reversals."
        )
    if settings.max_examples is not None and not 1 <= settings.max_examples <= 10_000:
        raise UsageError(
            f"max_examples (--max-examples) is {settings.max_examples}; give 1 to 10000 generated cases per operation."
        )
    if settings.min_index is not None and not 0 <= settings.min_index <= 100:
        raise UsageError(f"--min-index {settings.min_index:g} is not a percentage; give a number from 0 to 100.")
    for name in ("timeout_s", "poll_interval_s", "poll_deadline_s"):
        value = getattr(settings, name)
        if value is not None and value <= 0:
            raise UsageError(f"{OPTION_BY_NAME[name].flag} {value:g} must be a positive number of seconds.")


def build_settings(cli: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the CLI options, the environment and the targets file, in that precedence."""
    env = environment() if env is None else env
    cli_layer = {k: v for k, v in cli.items() if v is not None}
    env_layer = from_env(env)
    file_path = cli_layer.get("targets_file") or env_layer.get("targets_file")
    file_layer = read_targets_file(Path(file_path), env) if file_path else {}
    layers = [(str(file_path), file_layer), ("env", env_layer), ("cli", cli_layer)]
    try:
        settings = Settings.model_validate(merge(file_layer, env_layer, cli_layer))
    except ValidationError as exc:
        raise _invalid(exc, layers) from None
    _check_values(settings)
    return settings


def report_dir_hint(cli_value: Any) -> Path:
    """Where the reports would have gone, for cleaning up after settings that could not be built."""
    env = environment().get(OPTION_BY_NAME["report_dir"].env, "").strip()
    return Path(cli_value or env or OPTION_BY_NAME["report_dir"].default)


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
        needed = get_api(api).missing_credentials(fields.credentials())
        for name in needed:
            if not getattr(fields, name):
                missing.append(f"{vendor} {name} — CONFORMANCE_{vendor.upper()}_{name.upper()}")
    return missing


def _shown_default(option: Option) -> str:
    if option.default is None:
        return "—"
    if option.kind == "list":
        return "all"
    if option.kind == "bool":
        return "on" if option.default else "off"
    return f"`{option.default}`"


def readme_table() -> str:
    """The README's settings table, generated from the options table."""
    lines = [
        "| setting | flag | environment | targets file | default | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for o in OPTIONS:
        flag = f"`{o.flag}`/`--no-{o.flag[2:]}`" if o.kind == "bool" else f"`{o.flag} {o.shown_metavar}`"
        help_text = o.help.replace("|", "\\|")
        lines.append(f"| {o.name} | {flag} | `{o.env}` | `{o.name}` | {_shown_default(o)} | {help_text} |")
    for field in VENDOR_FIELDS:
        description = VendorSettings.model_fields[field].description
        lines.append(
            f"| vendors.*.{field} | — | `CONFORMANCE_<VENDOR>_{field.upper()}` | `vendors.<vendor>.{field}` | — "
            f"| {description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")  # noqa: T201
