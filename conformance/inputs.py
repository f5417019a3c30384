"""Every input of a run, checked in one place before collection and before the first request.

Each failure is a :class:`~conformance.errors.UsageError` of one paragraph (what was wrong, where, what
is allowed): exit 2, no traceback, nothing written. The settings themselves (types, choices, API names,
``--shard``, ``--min-index``, the targets file) are checked where they are built, in ``settings``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from conformance.apis import APIS
from conformance.errors import UsageError
from conformance.settings import Settings, missing_settings

RERECORD = "python3 noxfile.py -s record"


def check_writable(directory: Path, what: str) -> None:
    """``directory`` exists and is writable, or can be created: a run never fails at its end for it."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UsageError(f"The {what} {directory} is not a directory ({existing} is a file); give a directory path.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"The {what} {directory} is not writable ({existing} does not allow writing); give a directory you "
            "can write to with --report-dir (or CONFORMANCE_REPORT_DIR)."
        )


def check_specs(settings: Settings) -> None:
    """The selected APIs' specs load (the `specs check` message), and the rule catalogue parses."""
    from conformance.rules import active_rules
    from conformance.speccheck.load import load_spec

    for key in settings.apis:
        load_spec(APIS[key].spec_path)  # SpecError is a UsageError naming the file, the node and its line
    active_rules()


def check_baseline(path: Path) -> None:
    from conformance.reporting.baseline import load_baseline
    from conformance.rules import load_catalogue

    entries = load_baseline(path)
    known = load_catalogue()
    unknown = [entry.rule for entry in entries if entry.rule not in known]
    if unknown:
        import difflib

        hints = []
        for rule in unknown:
            close = difflib.get_close_matches(rule, list(known), n=1, cutoff=0.6)
            hints.append(f"{rule} (did you mean {close[0]}?)" if close else rule)
        raise UsageError(
            f"The baseline file {path} accepts rule(s) that do not exist: {', '.join(hints)}. A baseline may name "
            "only rule IDs of specs/rules/; fix or remove those entries."
        )


def check_cassettes(settings: Settings) -> None:
    """In replay every cassette and its sidecar parse; a broken one is named, with the re-record command."""
    from conformance.recording import cassette_target_name, parse_cassette

    root = settings.cassette_dir / cassette_target_name(settings)
    if not root.is_dir():
        raise UsageError(
            f"Replay needs recorded cassettes, but {root} does not exist. Record them with `{RERECORD}` (or "
            "`conformance run --target record`), or point --cassette-dir at a directory of cassettes."
        )
    for path in sorted(root.rglob("*.yaml")):
        try:
            parse_cassette(path)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            detail = " ".join(str(exc).split())[:300]
            raise UsageError(
                f"The cassette {path} is corrupted ({detail}). Re-record it with `{RERECORD}` (or `conformance run "
                "--target record`), or restore it from version control."
            ) from None
    for path in sorted(root.rglob("*.meta.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"The cassette sidecar {path} is not valid JSON ({exc}). Re-record with `{RERECORD}`."
            ) from None


def check_live(settings: Settings) -> None:
    """Production hosts are refused and missing settings listed before anything is collected."""
    from conformance.targets import refuse_production

    urls = {api: (settings.vendor(api).base_url or settings.base_url or "") for api in settings.apis}
    refuse_production(settings, urls)
    has_credentials = any(settings.vendor(api).credentials() for api in settings.apis)
    if settings.base_url and not has_credentials:
        return  # the server's own control API hands out its test credentials
    if missing := missing_settings(settings):
        raise UsageError(
            "The live target is missing settings: " + "; ".join(missing) + ". Set them in the environment or "
            "the targets file (secrets as ${VAR}); see README, 'Running against a live sandbox'."
        )


def check_deviation(settings: Settings) -> None:
    if settings.deviation is None:
        return
    from conformance.sandbox.deviations import UnknownDeviation, check_name

    try:
        check_name(settings.deviation)
    except UnknownDeviation as exc:
        raise UsageError(f"--deviation: {exc}.") from None


def check_inputs(settings: Settings, outputs: list[tuple[Path, str]]) -> None:
    """Everything a run reads or writes, checked before collection; the first problem raises."""
    for directory, what in [(settings.report_dir, "report dir"), *outputs]:
        check_writable(directory, what)
    if settings.targets_file is not None and not settings.targets_file.is_file():
        raise UsageError(f"The targets file {settings.targets_file} does not exist; pass a TOML or YAML file.")
    check_specs(settings)
    if settings.manifest is not None:
        from conformance.provisioners.manifest import load_manifest

        load_manifest(settings.manifest)
    if settings.baseline is not None:
        check_baseline(settings.baseline)
    check_deviation(settings)
    if settings.target == "replay":
        check_cassettes(settings)
    if settings.is_networked and not settings.uses_reference_sandbox:
        check_live(settings)
