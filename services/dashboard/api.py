"""The dashboard's HTTP face: the page, its two static files and the JSON endpoints.

    GET /                              the page
    GET /api/overview                  viewer, data span, period presets, filter lists
    GET /api/heatmap?group=region|rep  completion-rate heatmap
    GET /api/bottlenecks?rank=time_open|stalled&limit=3
    GET /api/conversion?window=7
    GET /api/quality                   quality per rep
    GET /api/health                    the ten-item self-check
    GET /api/growth?rep=ID&to=DAY&weeks=12&top=3
    GET /api/pipelines?rep=ID|region=R&outcome=open|won|lost
    GET /api/pipelines/{opportunity_id}   one pipeline's action timeline

The figure endpoints take the period as from=YYYY-MM-DD&to=YYYY-MM-DD (company days, both
included) and optional region, team and rep filters; every endpoint takes the viewer
parameters of services.dashboard.viewer. A refusal from a service keeps its reason and
becomes an HTTP status (400, 401, 403, 404, 409, 503, else 502); nothing answers with a
traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import resources
from typing import Any

import grpc
from aiohttp import web

from salesflow.core.caller import Caller
from salesflow.core.errors import InvalidArgument
from services.dashboard.backend import BOTTLENECK_RANKS, DashboardBackend, Filters
from services.dashboard.config import DashboardConfig
from services.dashboard.periods import period_from_query
from services.dashboard.viewer import viewer_from_query

logger = logging.getLogger(__name__)

BACKEND = web.AppKey("backend", DashboardBackend)
CONFIG = web.AppKey("config", DashboardConfig)
CLOCK = web.AppKey("clock", Callable[[], datetime])

_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}
STATIC_FILES = {
    "dashboard.js": "application/javascript",
    "dashboard.css": "text/css",
}
# Nothing the page loads may come from anywhere but this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)
OUTCOMES = ("", "open", "won", "lost")


def static_text(name: str) -> str:
    """One of the page's files, from the package."""
    return (resources.files("services.dashboard") / "static" / name).read_text("utf-8")


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"status": status, "code": code, "message": message}}, status=status
    )


Handler = Callable[[web.Request, Caller], Awaitable[dict[str, Any]]]


def endpoint(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A JSON endpoint: the viewer from the query, refusals mapped to HTTP statuses."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            viewer = viewer_from_query(request.query, request.app[CONFIG].viewer)
            return web.json_response(await handler(request, viewer))
        except InvalidArgument as error:
            return error_response(400, "INVALID_ARGUMENT", error.message)
        except grpc.aio.AioRpcError as error:
            status = _HTTP_STATUS.get(error.code(), 502)
            logger.info("dashboard call refused path=%s code=%s", request.path, error.code().name)
            return error_response(status, error.code().name, error.details() or "")

    return wrapped


@web.middleware
async def no_tracebacks(request: web.Request, handler) -> web.StreamResponse:
    """Anything unexpected is logged and answered as JSON, never as a traceback page."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if request.path.startswith("/api/") and error.status >= 400:
            return error_response(error.status, error.reason.upper().replace(" ", "_"), "")
        raise
    except Exception:
        logger.exception("dashboard request failed path=%s", request.path)
        return error_response(500, "INTERNAL", "internal error; see the dashboard log")


# ---- request parameters ---------------------------------------------------------------------


def _filters(request: web.Request) -> Filters:
    query = request.query
    zone = request.app[BACKEND].zone
    return Filters(
        period=period_from_query(query.get("from", ""), query.get("to", ""), zone),
        region=query.get("region", "").strip(),
        team=query.get("team", "").strip(),
        rep=query.get("rep", "").strip(),
    )


def _int(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise InvalidArgument(name, f"must be an integer, got {raw!r}") from error
    if not low <= value <= high:
        raise InvalidArgument(name, f"must be between {low} and {high}, got {value}")
    return value


def _choice(request: web.Request, name: str, choices, default: str) -> str:
    value = request.query.get(name, "").strip() or default
    if value not in choices:
        raise InvalidArgument(name, f"must be one of {', '.join(c for c in choices if c)}")
    return value


# ---- endpoints ------------------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    return web.Response(
        text=static_text("index.html"),
        content_type="text/html",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.Response(text=static_text(name), content_type=STATIC_FILES[name])


@endpoint
async def overview(request: web.Request, viewer: Caller) -> dict:
    return await request.app[BACKEND].overview(viewer, now=request.app[CLOCK]())


@endpoint
async def heatmap(request: web.Request, viewer: Caller) -> dict:
    group = _choice(request, "group", ("region", "rep"), "region")
    return await request.app[BACKEND].heatmap(viewer, _filters(request), by_rep=group == "rep")


@endpoint
async def bottlenecks(request: web.Request, viewer: Caller) -> dict:
    rank_by = _choice(request, "rank", BOTTLENECK_RANKS, "time_open")
    limit = _int(request, "limit", 3, low=1, high=50)
    return await request.app[BACKEND].bottlenecks(
        viewer, _filters(request), rank_by=rank_by, limit=limit
    )


@endpoint
async def conversion(request: web.Request, viewer: Caller) -> dict:
    window = _int(request, "window", 0, low=0, high=90)
    return await request.app[BACKEND].conversion(viewer, _filters(request), window_days=window)


@endpoint
async def quality(request: web.Request, viewer: Caller) -> dict:
    return await request.app[BACKEND].quality(viewer, _filters(request))


@endpoint
async def health(request: web.Request, viewer: Caller) -> dict:
    return await request.app[BACKEND].health(viewer, _filters(request))


@endpoint
async def growth(request: web.Request, viewer: Caller) -> dict:
    rep = request.query.get("rep", "").strip()
    if not rep:
        raise InvalidArgument("rep", "is required")
    backend = request.app[BACKEND]
    raw_to = request.query.get("to", "").strip()
    end = request.app[CLOCK]()
    if raw_to:
        # The growth path ends with the week that contains this moment: the `to` day's start.
        end = period_from_query(raw_to, raw_to, backend.zone).start
    return await backend.growth(
        viewer,
        rep=rep,
        end=end,
        weeks=_int(request, "weeks", 12, low=1, high=52),
        top=_int(request, "top", 3, low=1, high=10),
    )


@endpoint
async def pipelines(request: web.Request, viewer: Caller) -> dict:
    rep = request.query.get("rep", "").strip()
    region = request.query.get("region", "").strip()
    if not rep and not region:
        raise InvalidArgument("rep", "a rep or a region is required")
    return await request.app[BACKEND].pipelines(
        viewer, rep=rep, region=region, outcome=_choice(request, "outcome", OUTCOMES, "")
    )


@endpoint
async def pipeline(request: web.Request, viewer: Caller) -> dict:
    return await request.app[BACKEND].pipeline(viewer, request.match_info["opportunity_id"])


async def unknown_api(request: web.Request) -> web.Response:
    return error_response(404, "NOT_FOUND", f"no endpoint {request.path}")


def build_app(
    backend: DashboardBackend, config: DashboardConfig, clock: Callable[[], datetime]
) -> web.Application:
    app = web.Application(middlewares=[no_tracebacks])
    app[BACKEND] = backend
    app[CONFIG] = config
    app[CLOCK] = clock
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/api/overview", overview)
    app.router.add_get("/api/heatmap", heatmap)
    app.router.add_get("/api/bottlenecks", bottlenecks)
    app.router.add_get("/api/conversion", conversion)
    app.router.add_get("/api/quality", quality)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/growth", growth)
    app.router.add_get("/api/pipelines", pipelines)
    app.router.add_get("/api/pipelines/{opportunity_id}", pipeline)
    app.router.add_get("/api/{tail:.*}", unknown_api)
    return app
