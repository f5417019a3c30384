"""An executable rendering of the five vendor pages: the default target of the conformance suite.

One Starlette app serves every API (their paths do not collide) plus the control API under
``/_sandbox``. It is written from the vendor documentation alone and never reads ``specs/``, so
the suite's specs and this sandbox are two independent readings that check each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from conformance.sandbox import (
    capillary_badges,
    capillary_points,
    capillary_points_v11,
    capillary_rewards,
    decide,
    deviant,
    deviations,
    gaps,
    juspay,
    thanx,
)
from conformance.sandbox.auth import RequestLog, RequestLogMiddleware, SandboxCredentials, token_route
from conformance.sandbox.control import fallback_route, general_routes
from conformance.sandbox.control_vendors import capillary_routes, thanx_juspay_routes
from conformance.sandbox.core import API_KEYS, SandboxState

__all__ = ["API_KEYS", "SandboxCredentials", "create_app", "redeviate"]

# The vendors' own setup endpoints (what the vendor provisioner uses); --no-vendor-setup leaves them out.
SETUP_PATHS = frozenset(
    {
        "/api_gateway/v1/badges/customer/earn",
        "/v1.1/points/redeem",
        "/api_gateway/rewards/core/v1/user/reward/{rewardId}/issue",
        "/api_gateway/rewards/core/v1/brand/config",
        "/api_gateway/rewards/core/v1/brand/{brandId}/getConfig",
        "/partner/merchants",
        "/partner/reward_templates",
        "/partner/campaigns",
        "/partner/campaigns/{id}",
    }
)
RouteFactory = Callable[[SandboxState, SandboxCredentials], list[Route]]
ROUTERS: dict[str, RouteFactory] = {
    "capillary-badges": capillary_badges.routes,
    "capillary-points": lambda state, creds: (
        capillary_points.routes(state, creds) + capillary_points_v11.routes(state, creds)
    ),
    "capillary-rewards": capillary_rewards.routes,
    "thanx": thanx.routes,
    "juspay": juspay.routes,
}


def not_served(replaced: Route) -> Route:
    """What a server without the endpoint answers: 404 for every method (not a 405 from a sibling route)."""

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    return Route(replaced.path, endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])


def create_app(
    *,
    seed: int = 0,
    apis: Iterable[str] | None = None,
    deviation: str | None = None,
    credentials: SandboxCredentials | None = None,
    gap_profile: str = "faithful",
    vendor_setup: bool = True,
) -> Starlette:
    """Build a sandbox app; ``apis`` restricts which vendor routers mount (the control API always does).

    ``deviation`` names an entry of :data:`conformance.sandbox.deviations.DEVIATIONS`; an unknown name
    raises :class:`~conformance.sandbox.deviations.UnknownDeviation` (a ValueError) listing the known ones.
    ``gap_profile`` is one of :data:`conformance.sandbox.gaps.PROFILES`: which choice the sandbox makes
    where the pages are silent. ``vendor_setup=False`` leaves the vendors' setup endpoints unmounted, so
    only the control API can make preconditions.
    """
    deviations.check_name(deviation)
    gaps.check_profile(gap_profile)
    chosen = tuple(API_KEYS) if apis is None else tuple(dict.fromkeys(apis))
    unknown = [api for api in chosen if api not in ROUTERS]
    if unknown:
        raise ValueError(f"unknown api {', '.join(unknown)}; choose from {', '.join(API_KEYS)}")
    # Keep the canonical order so health output does not depend on how the caller listed them.
    mounted = tuple(api for api in API_KEYS if api in chosen)
    creds = credentials or SandboxCredentials()
    override = deviant.OVERRIDES[deviation] if deviation is not None else None
    choices = decide.resolve(gaps.PROFILES[gap_profile], override)
    state = SandboxState(seed=seed, apis=mounted, deviation=deviation, gap_profile=gap_profile, choices=choices)
    control = general_routes(state, creds) + capillary_routes(state) + thanx_juspay_routes(state)
    routes = list(control)
    for api in mounted:
        routes.extend(
            r if vendor_setup or r.path not in SETUP_PATHS else not_served(r) for r in ROUTERS[api](state, creds)
        )
    if any(api.startswith("capillary") for api in mounted):
        routes.append(token_route(creds))
    routes.append(fallback_route(state, control))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    app.state.request_log = RequestLog(creds)
    app.add_middleware(RequestLogMiddleware, log=app.state.request_log)
    return app


def redeviate(state: SandboxState, deviation: str | None) -> None:
    """Give a running sandbox another deviation (or none) under its gap profile, every tenant forgotten.

    What a fresh sandbox with the same seed, profile and ``deviation`` would answer: the decision points
    are resolved again and no tenant of an earlier deviation survives. The mutation run uses it to try
    many deviations against one collected suite.
    """
    deviations.check_name(deviation)
    override = deviant.OVERRIDES[deviation] if deviation is not None else None
    choices = decide.resolve(gaps.PROFILES[state.gap_profile], override)
    with state.lock:
        state.deviation = deviation
        state.choices = choices
    state.reset_all(None)
