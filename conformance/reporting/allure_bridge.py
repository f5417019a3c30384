"""Allure labels, per-exchange steps, the environment and the categories. A no-op when allure-pytest is not writing.

History ids: allure-pytest derives a result's ``historyId`` from the test's full name (module and function, no
parameters of its own for Schemathesis items) and its non-excluded parameters. Every conformance test therefore
gets a hidden ``node`` parameter holding its pytest node id, so the id is stable across runs and distinct per
parametrized case and per Schemathesis operation; the ``seed`` parameter is excluded, so a new seed keeps history.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import allure
import yaml

from conformance.apis import APIS, SPECS_DIR
from conformance.files import write_text_atomic

if TYPE_CHECKING:
    import pytest

    from conformance.http.exchange import Exchange
    from conformance.rules import Rule
    from conformance.settings import Settings
    from conformance.targets import Target
    from conformance.verdicts import Recorder, VerdictRecord

SEVERITY = {
    "blocker": allure.severity_level.BLOCKER,
    "critical": allure.severity_level.CRITICAL,
    "normal": allure.severity_level.NORMAL,
    "minor": allure.severity_level.MINOR,
    "trivial": allure.severity_level.TRIVIAL,
}
# Fallback when specs/sources/manifest.yaml (file → url of each pinned vendor page) is unreadable.
DOC_URLS = {
    "capillary-badges-revoke-earn.md": "https://docs.capillarytech.com/reference/revoke-issual-of-a-badge",
    "capillary-points-reverse.md": "https://docs.capillarytech.com/reference/reverse-redeemed-points",
    "capillary-rewards-user-reward-revoke.md": "https://docs.capillarytech.com/reference/revoke-user-reward",
    "thanx-issuance-job-revoke.md": "https://docs.thanx.com/partner/issuance-jobs/revoke-issuance-job",
    "juspay-mandate-revoke.md": "https://juspay.io/in/docs/payment-page-enterprise/react-native/mandates/mandate-revoke-api",
}
ORDER = ["blocker", "critical", "normal", "minor", "trivial"]
UNDOCUMENTED_TAG = "undocumented-behaviour"

# Category regexes are written to work both in Allure 2 (Java, whole-message match) and Allure 3 (JavaScript,
# search): no inline flags, ``[\s\S]`` for "anything including newlines". A Finding's message is
# "conformance.findings.Finding: RULE-ID: claim\nReceived: ...".
_ANY = r"[\s\S]*"
# An InferredFinding says "violated-inferred" in its message; the lookahead keeps the two categories apart.
FINDING_REGEX = (
    r"^(?![\s\S]*violated-inferred)(?:[\w.]+: )?[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+: " + _ANY + "Received:" + _ANY + "$"
)
INFERRED_REGEX = (
    r"^(?:[\w.]+: )?[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+: " + _ANY + "violated-inferred" + _ANY + "Received:" + _ANY + "$"
)
PRECONDITION_REGEX = _ANY + "precondition not available" + _ANY
UNREACHABLE_REGEX = (
    _ANY + "(?:TargetUnreachable|ConnectError|ConnectTimeout|ReadTimeout|did not answer|unreachable)" + _ANY
)
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "vendor deviates from its documentation",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": FINDING_REGEX,
    },
    {
        # A rule the suite inferred or assumed from the page: the target may read the page otherwise.
        "name": "inferred rule not honoured (violated-inferred, gating only with --strict)",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": INFERRED_REGEX,
    },
    {
        "name": "undocumented behaviour",
        "matchedStatuses": ["passed", "failed", "broken"],
        "messageRegex": _ANY + "undocumented behaviour" + _ANY,
    },
    {
        "name": "precondition not available on this target",
        "matchedStatuses": ["skipped"],
        "messageRegex": PRECONDITION_REGEX,
    },
    {
        "name": "target unreachable",
        "matchedStatuses": ["failed", "broken", "skipped"],
        "messageRegex": UNREACHABLE_REGEX,
    },
    {"name": "defect in the suite", "matchedStatuses": ["failed", "broken"]},
]


def allure3_categories() -> list[dict[str, Any]]:
    """The same categories in Allure 3's configuration form (``allurerc``), where labels can be matched too."""
    out: list[dict[str, Any]] = []
    for cat in CATEGORIES:
        matcher: dict[str, Any] = {"statuses": cat["matchedStatuses"]}
        if "messageRegex" in cat:
            matcher["message"] = cat["messageRegex"]
        matchers: list[dict[str, Any]] = [matcher]
        if cat["name"] == "undocumented behaviour":
            # A test that observed undocumented behaviour passes; Allure 3 finds it by its tag.
            matchers = [{"labels": {"tag": f"^{UNDOCUMENTED_TAG}$"}}]
        out.append({"id": cat["name"].replace(" ", "-"), "name": cat["name"], "matchers": matchers})
    return out


def history_id_parameter(item: pytest.Item) -> None:
    allure.dynamic.parameter("node", item.nodeid, mode=allure.parameter_mode.HIDDEN)


@functools.cache
def doc_urls() -> dict[str, str]:
    """The vendor page URL of each source snapshot a rule cites, from ``specs/sources/manifest.yaml``."""
    try:
        entries = yaml.safe_load((SPECS_DIR / "sources" / "manifest.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return dict(DOC_URLS)
    urls = dict(DOC_URLS)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("url", "")).startswith("http"):
            urls[str(entry["file"])] = str(entry["url"])
    return urls


def _api_of_module(item: pytest.Item) -> str | None:
    stem = Path(str(getattr(item, "path", ""))).stem.removeprefix("test_").replace("_", "-")
    return stem if stem in APIS else None


def _operation(item: pytest.Item, rules: list[Rule]) -> str:
    operations = sorted({r.operation for r in rules})
    if operations:
        return ", ".join(operations)
    # Schemathesis' pytest items carry their operation as "METHOD /path".
    return str(getattr(item, "operation_label", "") or "")


def label_test(item: pytest.Item, rules: list[Rule], target: Target, recorder: Recorder) -> None:
    """Epic = API, feature = operation, story = rule ID with its claim; severity from the rule's kind."""
    for epic in dict.fromkeys(APIS[r.api].title if r.api in APIS else r.api for r in rules):
        allure.dynamic.epic(epic)
    for operation in dict.fromkeys(r.operation for r in rules):
        allure.dynamic.feature(operation)
    for rule in rules:
        allure.dynamic.story(f"{rule.id}: {rule.claim}")
    for confidence in dict.fromkeys(r.confidence for r in rules):
        allure.dynamic.tag(confidence)
    for page, section in dict.fromkeys((r.source.page, r.source.section) for r in rules):
        if url := doc_urls().get(page):
            allure.dynamic.link(url, name=f"{page} § {section}")
    if rules:
        worst = min((r.severity for r in rules), key=ORDER.index)
        allure.dynamic.severity(SEVERITY[worst])
    elif api := _api_of_module(item):
        # Property tests bind no rule: their module names the API, their item the operation.
        allure.dynamic.epic(APIS[api].title)
        allure.dynamic.feature(_operation(item, rules) or api)
    allure.dynamic.parameter("target", target.name)
    allure.dynamic.parameter("seed", target.settings.seed, excluded=True)
    if operation := _operation(item, rules):
        allure.dynamic.parameter("operation", operation)
    history_id_parameter(item)
    # A stable id per test node (Allure TestOps' id label).
    allure.dynamic.id(hashlib.sha256(item.nodeid.encode()).hexdigest()[:16])
    if target.name == "reference":
        allure.dynamic.tag("evidence: reference sandbox (not the vendor)")
    item.addfinalizer(lambda: _label_outcome(recorder.records))


def _label_outcome(records: list[VerdictRecord]) -> None:
    """After the test: tag undocumented behaviour and attach what was observed, for the vendor's questions."""
    records = [r for r in records if r.status == "undocumented-behaviour"]
    if not records:
        return
    allure.dynamic.tag(UNDOCUMENTED_TAG)
    text = "\n\n".join(f"undocumented behaviour {r.rule_id}: {r.detail or ''}\nReceived: {r.received}" for r in records)
    allure.attach(
        text, name="undocumented behaviour (questions for the vendor)", attachment_type=allure.attachment_type.TEXT
    )


def attach_exchange(exchange: Exchange) -> None:
    """One step per HTTP exchange: the redacted request and response, with a curl reproduction beside them."""
    title = (
        f"{exchange.phase}: {exchange.request.method} {exchange.request.url.path} → {exchange.status or exchange.error}"
    )
    # One file per exchange, the curl inside it: a run writes hundreds, and each file costs more than its bytes.
    rendering = json.dumps({**exchange.as_dict(), "curl": exchange.curl()}, indent=2, sort_keys=True)
    with allure.step(title):
        allure.attach(rendering, name="exchange", attachment_type=allure.attachment_type.JSON)


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _prop(value: str, *, key: bool = False) -> str:
    value = value.replace("\\", "\\\\").replace("\n", " ")
    return value.replace("=", "\\=").replace(":", "\\:").replace(" ", "\\ ") if key else value


def environment(settings: Settings) -> dict[str, str]:
    """What a reader of the report needs to know about the run: target, URLs, spec hashes, versions."""
    try:
        version = importlib.metadata.version("conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    env = {
        "target": settings.target,
        "seed": str(settings.seed),
        "apis": ",".join(settings.apis),
        "conformance.version": version,
        "python": platform.python_version(),
    }
    if settings.target == "reference" and not settings.base_url:
        env["base_url"] = "in-process reference sandbox on 127.0.0.1"
    elif settings.base_url:
        env["base_url"] = settings.base_url
    for name, vendor in sorted(settings.vendors.items()):
        if vendor.base_url:
            env[f"base_url.{name}"] = vendor.base_url
    if settings.deviation:
        env["deviation"] = settings.deviation
    for key in settings.apis:
        if key in APIS:
            env[f"spec.{key}.sha256"] = _sha256(APIS[key].spec_path)
            env[f"rules.{key}.sha256"] = _sha256(APIS[key].rules_path)
    return env


def write_allure_metadata(results_dir: Path, settings: Settings) -> None:
    """``environment.properties`` and ``categories.json`` beside the results of the run."""
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"{_prop(k, key=True)}={_prop(v)}" for k, v in environment(settings).items()]
    write_text_atomic(results_dir / "environment.properties", "\n".join(lines) + "\n")
    write_text_atomic(results_dir / "categories.json", json.dumps(CATEGORIES, indent=2) + "\n")
