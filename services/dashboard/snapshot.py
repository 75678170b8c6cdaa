"""The dashboard as one HTML file that opens without a server: the page, its style and
script inlined, and the JSON answers of the views a reader is likely to open embedded.

`salesflow demo` writes one at its end, since its stack stops when it exits. The page
reads an embedded answer by the same key it would request (static/dashboard.js,
requestKey); a view that was not captured says so. Captured: the default period's panels
for everyone, each region and each rep; the bottlenecks of every preset week range; each
rep's growth path, pipeline list and the timelines of their first pipelines.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc

from salesflow.core.caller import Caller
from services.dashboard.api import static_text
from services.dashboard.backend import BOTTLENECK_RANKS, DashboardBackend, Filters
from services.dashboard.periods import period_from_query

logger = logging.getLogger(__name__)

# The snapshot makes no request of its own: everything it shows is inline.
SNAPSHOT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
)
BOTTLENECK_PERIODS = ("week", "4w", "quarter")
GROWTH_WEEKS = 12


def request_key(path: str, query: dict[str, Any]) -> str:
    """The key the page looks an answer up by: path and non-empty parameters by name."""
    pairs = [f"{name}={value}" for name, value in sorted(query.items()) if value not in ("", None)]
    return f"{path}?{'&'.join(pairs)}" if pairs else path


def pipeline_path(opportunity_id: str) -> str:
    # As the page's encodeURIComponent writes it.
    return "/api/pipelines/" + quote(opportunity_id, safe="!*'()")


class _Collector:
    def __init__(self, backend: DashboardBackend, viewer: Caller) -> None:
        self.backend = backend
        self.viewer = viewer
        self.responses: dict[str, Any] = {}

    async def panels(self, overview: dict, *, region: str = "", rep: str = "") -> None:
        """The heatmap, bottlenecks, conversion, quality and health of one drill level."""
        default = overview["periods"][overview["default_period"]]
        base = {"from": default["from"], "to": default["to"], "region": region, "rep": rep}
        filters = self._filters(default, region=region, rep=rep)
        backend, viewer = self.backend, self.viewer
        by_rep = bool(region or rep)

        heatmap_query = {**base, "group": "rep" if by_rep else "region"}
        self.responses[request_key("/api/heatmap", heatmap_query)] = await backend.heatmap(
            viewer, filters, by_rep=by_rep
        )
        self.responses[request_key("/api/conversion", base)] = await backend.conversion(
            viewer, filters, window_days=0
        )
        self.responses[request_key("/api/quality", base)] = await backend.quality(viewer, filters)
        self.responses[request_key("/api/health", base)] = await backend.health(viewer, filters)
        for name in BOTTLENECK_PERIODS:
            period = overview["periods"][name]
            for rank in BOTTLENECK_RANKS:
                query = {"from": period["from"], "to": period["to"], "region": region}
                query.update(rep=rep, rank=rank)
                self.responses[request_key("/api/bottlenecks", query)] = await backend.bottlenecks(
                    viewer,
                    self._filters(period, region=region, rep=rep),
                    rank_by=rank,
                    limit=3,
                )

    async def rep(self, overview: dict, rep: dict, *, timelines: int) -> None:
        """A rep's growth path, pipelines and the timelines of their first pipelines."""
        default = overview["periods"][overview["default_period"]]
        end = period_from_query(default["to"], default["to"], self.backend.zone).start
        growth_query = {"rep": rep["id"], "to": default["to"], "weeks": GROWTH_WEEKS}
        self.responses[request_key("/api/growth", growth_query)] = await self.backend.growth(
            self.viewer, rep=rep["id"], end=end, weeks=GROWTH_WEEKS, top=3
        )
        listed = await self.backend.pipelines(self.viewer, rep=rep["id"], region="", outcome="")
        self.responses[request_key("/api/pipelines", {"rep": rep["id"]})] = listed
        for pipeline in listed["pipelines"][:timelines]:
            try:
                timeline = await self.backend.pipeline(self.viewer, pipeline["id"])
            except grpc.aio.AioRpcError as error:
                # The page says "not in this snapshot" for it, as for any view not captured.
                logger.warning(
                    "snapshot leaves out pipeline=%s: %s", pipeline["id"], error.code().name
                )
                continue
            self.responses[pipeline_path(pipeline["id"])] = timeline

    def _filters(self, period: dict, *, region: str = "", rep: str = "") -> Filters:
        return Filters(
            period=period_from_query(period["from"], period["to"], self.backend.zone),
            region=region,
            rep=rep,
        )


async def collect(
    backend: DashboardBackend, viewer: Caller, *, now: datetime, timelines_per_rep: int = 10
) -> dict[str, Any]:
    """Every captured answer, by the key the page asks for it with."""
    collector = _Collector(backend, viewer)
    overview = await backend.overview(viewer, now=now)
    collector.responses["/api/overview"] = overview
    if overview["data"] is None:
        return collector.responses

    await collector.panels(overview)
    for region in overview["regions"]:
        await collector.panels(overview, region=region)
    for rep in overview["reps"]:
        await collector.panels(overview, region=rep["region"], rep=rep["id"])
        await collector.rep(overview, rep, timelines=timelines_per_rep)
    return collector.responses


def render(responses: dict[str, Any], *, written_at: datetime) -> str:
    """The page with its style, script and the answers inlined."""
    script = static_text("dashboard.js")
    if "</script" in script.lower():
        raise ValueError("dashboard.js cannot be inlined: it contains </script")
    data = json.dumps(
        {"written_at": written_at.isoformat(), "responses": responses},
        ensure_ascii=False,
        separators=(",", ":"),
    ).replace("<", "\\u003c")

    page = static_text("index.html")
    page = page.replace(
        "<!-- salesflow:head -->",
        f'<meta http-equiv="Content-Security-Policy" content="{SNAPSHOT_POLICY}">',
    )
    page = _replace_block(page, "style", f"<style>\n{static_text('dashboard.css')}</style>")
    return _replace_block(
        page,
        "script",
        f'<script id="snapshot-data" type="application/json">{data}</script>\n'
        f"<script>\n{script}</script>",
    )


def _replace_block(page: str, name: str, replacement: str) -> str:
    start, end = f"<!-- salesflow:{name} -->", f"<!-- /salesflow:{name} -->"
    before, found, rest = page.partition(start)
    if not found or end not in rest:
        raise ValueError(f"index.html lacks the {name} markers")
    return before + replacement + rest.partition(end)[2]


async def write_snapshot(
    backend: DashboardBackend,
    viewer: Caller,
    path: Path,
    *,
    now: datetime,
    timelines_per_rep: int = 10,
) -> Path:
    """Collects the answers and writes the page to path; returns the path."""
    responses = await collect(backend, viewer, now=now, timelines_per_rep=timelines_per_rep)
    page = render(responses, written_at=now)

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")

    await asyncio.to_thread(write)
    logger.info("dashboard snapshot written path=%s views=%d", path, len(responses))
    return path
