"""The host allow-list of live runs: loopback, a known vendor sandbox, or a host the user listed.

Known hosts come from the specs' ``servers`` (``x-environment: sandbox | production``). Every known
production host, and any host that is none of the above, is refused before a test is collected
unless ``--allow-production`` says the org behind it is a test org.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from urllib.parse import urlsplit

from conformance import yamlcache
from conformance.apis import APIS
from conformance.errors import UsageError
from conformance.settings import Settings


@cache
def known_hosts() -> dict[str, tuple[str, str]]:
    """host → (environment, the spec that names it), from every spec's ``servers``."""
    hosts: dict[str, tuple[str, str]] = {}
    for api in APIS.values():
        spec = yamlcache.load_path(api.spec_path)
        for server in spec.get("servers") or []:
            host = urlsplit(str(server.get("url", ""))).hostname
            environment = server.get("x-environment")
            if host and environment in ("sandbox", "production"):
                hosts[host] = (str(environment), api.spec_path.name)
    return hosts


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sandbox_hosts_of(api: str) -> list[str]:
    spec = APIS[api].spec_path.name
    return sorted(h for h, (env, where) in known_hosts().items() if env == "sandbox" and where == spec)


def host_refusal(settings: Settings, api: str, url: str) -> str | None:
    """Why ``api`` must not be tested at ``url``, in one paragraph; None when it may."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or is_loopback(host) or settings.allow_production:
        return None
    environment, spec = known_hosts().get(host, (None, ""))
    if environment == "production":
        return (
            f"Refusing to run revoke tests for {api} against {host}, which specs/{spec} marks as a production "
            "server: the suite revokes, reverses and cancels for real. Point it at the vendor's sandbox, or pass "
            "--allow-production (CONFORMANCE_ALLOW_PRODUCTION=1) if the org is a test org."
        )
    if host in {h.lower() for h in settings.allow_hosts} or host in sandbox_hosts_of(api):
        return None
    known = ", ".join(sandbox_hosts_of(api)) or "none documented"
    return (
        f"Refusing to run revoke tests for {api} against {host}: it is not loopback, not a known {api} sandbox "
        f"host ({known}) and not on the allow-list. If {host} is a sandbox you own, list it with --allow-host "
        f"{host} (CONFORMANCE_ALLOW_HOSTS or allow_hosts in the targets file); a production org needs "
        "--allow-production."
    )


def live_urls(settings: Settings) -> dict[str, str]:
    """The base URL of each selected API on a networked target."""
    urls = {}
    for api in settings.apis:
        if url := (settings.vendor(api).base_url or settings.base_url):
            urls[api] = url
    return urls


def refuse_hosts(settings: Settings) -> None:
    """Raise a UsageError naming the API and the host of the first selected API that may not be tested."""
    if not settings.is_networked or settings.uses_reference_sandbox:
        return
    for api, url in live_urls(settings).items():
        if (reason := host_refusal(settings, api, url)) is not None:
            raise UsageError(reason)
