"""The dashboard in a real headless browser (Debian's chromium) on a replayed slice of the
real CRM export: what the page shows is compared with what AnalyticsService answers over
gRPC, the drill-down is clicked through to a pipeline's timeline, the labels switch to
Chinese, and the main page's screenshot is checked. The demo's snapshot file is opened too.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller, Role
from salesflow.core.db import utcnow
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import read_export
from salesflow.replay.replayer import replay_export
from services.analytics import projection
from services.dashboard.config import DashboardConfig
from services.dashboard.periods import period_from_query
from services.dashboard.server import serve_dashboard
from services.dashboard.snapshot import collect, render
from tests.replay.test_replay import CRM_EXPORT, _clean
from tests.services.dashboard.chromium import CHROMIUM, Chromium

# The export's first rows: all three regions and every outcome (Central 33, West 33, East 14;
# won 57, lost 15, open 8), replayed in well under a minute.
SLICE_ROWS = 80
DIRECTOR = Caller("Dina Director", Role.DIRECTOR, frozenset({"*"}))
READY = "document.body.dataset.state === 'ready'"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
    pytest.mark.skipif(not CRM_EXPORT.exists(), reason="the shared CRM export is not beside us"),
]


@pytest.fixture
async def replayed(stack):
    """The slice replayed on the stack, with an analytics read model of its own."""
    await _clean(stack)
    await projection.clear(stack.sessions, keep_events=False)
    summary = await replay_export(stack, read_export(CRM_EXPORT).first(SLICE_ROWS))
    assert summary.pipelines_started == SLICE_ROWS
    return stack


@pytest.fixture
async def board(replayed):
    running = await serve_dashboard(
        replayed.settings,
        DashboardConfig(),
        analytics_target=replayed.target("analytics"),
        pipeline_target=replayed.target("pipeline"),
        port=0,
    )
    yield running
    await running.stop()


async def overview_of(board) -> dict:
    async with aiohttp.ClientSession() as session, session.get(board.url + "api/overview") as r:
        return await r.json()


def proto_filter(period: dict, zone, **filters) -> pb.Filter:
    found = period_from_query(period["from"], period["to"], zone)
    message = pb.Filter(**filters)
    message.start.FromDatetime(found.start)
    message.end.FromDatetime(found.end)
    return message


async def test_the_page_shows_the_replayed_figures_and_drills_down(
    replayed, board, open_channel, tmp_path
):
    overview = await overview_of(board)
    zone = board.backend.zone
    period = overview["periods"][overview["default_period"]]
    week = overview["periods"][overview["default_bottleneck_period"]]
    analytics = analytics_pb2_grpc.AnalyticsServiceStub(
        open_channel(replayed.target("analytics"), DIRECTOR)
    )
    heatmap = await analytics.Heatmap(pb.HeatmapRequest(filter=proto_filter(period, zone)))
    bottlenecks = await analytics.Bottlenecks(
        pb.BottlenecksRequest(filter=proto_filter(week, zone))
    )
    conversion = await analytics.Conversion(pb.ConversionRequest(filter=proto_filter(period, zone)))
    assert list(heatmap.groups) == ["Central", "East", "West"]
    assert any(cell.red for cell in heatmap.cells) and not all(cell.red for cell in heatmap.cells)
    assert len(bottlenecks.bottlenecks) == 3
    assert conversion.rows

    async with Chromium() as browser:
        await browser.open(board.url)
        await browser.wait_for(READY)

        # The three regions head the heatmap, each cell red exactly where the service says.
        heads = await browser.evaluate(
            "[...document.querySelectorAll('#heatmap .group-head')].map(n => n.dataset.group)"
        )
        assert heads == ["Central", "East", "West"]
        shown = await browser.evaluate(
            """[...document.querySelectorAll('#heatmap g.cell')].map(n =>
                [n.dataset.action, n.dataset.group, n.dataset.red === 'true'])"""
        )
        assert sorted(map(tuple, shown)) == sorted(
            (cell.action_key, cell.group, cell.red) for cell in heatmap.cells
        )
        legend = await browser.evaluate("document.getElementById('heatmap-legend').textContent")
        assert "below 85% (red)" in legend

        # The top 3 bottlenecks of the latest week, in the service's order, in days.
        listed = await browser.evaluate(
            """[...document.querySelectorAll('#bottlenecks li.bottleneck')].map(n =>
                [n.dataset.action, n.querySelector('.head').textContent])"""
        )
        assert [action for action, _text in listed] == [
            b.action_key for b in bottlenecks.bottlenecks
        ]
        first = bottlenecks.bottlenecks[0]
        assert f"averages {first.average_hours / 24:.1f} days" in listed[0][1]
        assert f"90% within {first.p90_hours / 24:.1f} days" in listed[0][1]

        # Conversion: one row per action the service lists, with its flag.
        rows = await browser.evaluate(
            """[...document.querySelectorAll('#conversion-table tbody tr')].map(n =>
                [n.dataset.action, n.dataset.flag])"""
        )
        flags = {
            pb.CONVERSION_FLAG_BELOW_REFERENCE: "below_reference",
            pb.CONVERSION_FLAG_AT_REFERENCE: "at_reference",
            pb.CONVERSION_FLAG_ABOVE_TARGET: "above_target",
            pb.CONVERSION_FLAG_NO_REFERENCE: "no_reference",
            pb.CONVERSION_FLAG_UNSPECIFIED: "maturing",
        }
        assert rows == [[row.action_key, flags[row.flag]] for row in conversion.rows]
        assert await browser.evaluate("document.querySelectorAll('#health li').length") == 10

        shot = tmp_path / "dashboard.png"
        size = await browser.screenshot(shot)
        check_screenshot(shot, size)

        # 中文: the same figures with Chinese labels.
        await browser.click("#lang-toggle")
        await browser.wait_for("document.documentElement.lang === 'zh-CN'")
        texts = await browser.evaluate(
            """({
                heatmap: document.querySelector('#heatmap-panel h2').textContent,
                actions: [...document.querySelectorAll('#heatmap .action-label')]
                    .map(n => n.textContent),
                bottleneck: document.querySelector('#bottlenecks li.bottleneck .head')
                    .textContent,
                conversion: document.querySelector('#conversion-table th').textContent,
                toggle: document.getElementById('lang-toggle').textContent,
            })"""
        )
        assert texts["heatmap"] == "动作完成率热力图"
        assert texts["actions"][0] == "客户预约"
        assert f"平均 {first.average_hours / 24:.1f} 天" in texts["bottleneck"]
        assert texts["conversion"] == "动作"
        assert texts["toggle"] == "English"
        await browser.click("#lang-toggle")
        await browser.wait_for("document.documentElement.lang === 'en'")

        await drill_down(browser, replayed, open_channel)
        assert browser.errors == []

    # The same figures as one file, the way `salesflow demo` leaves them.
    await check_snapshot(board, tmp_path)


async def drill_down(browser: Chromium, stack, open_channel) -> None:
    """Region → its reps → a rep's pipelines → one pipeline's action timeline."""
    await browser.click('#heatmap .group-head[data-group="Central"]')
    await browser.wait_for(f"{READY} && document.getElementById('f-region').value === 'Central'")
    reps = await browser.evaluate(
        "[...document.querySelectorAll('#heatmap .group-head')].map(n => n.dataset.group)"
    )
    team = read_export(CRM_EXPORT).team.values()
    assert reps and set(reps) <= {member.rep_id for member in team if member.region == "Central"}

    rep = reps[0]
    await browser.click(f'#heatmap .group-head[data-group="{rep}"]')
    await browser.wait_for("!!document.querySelector('#pipelines-table .pipeline-row')")
    shown = await browser.evaluate(
        "[...document.querySelectorAll('#pipelines-table .pipeline-row')].map(n => n.dataset.id)"
    )
    pipelines = pipeline_pb2_grpc.PipelineServiceStub(
        open_channel(stack.target("pipeline"), DIRECTOR)
    )
    listed = await pipelines.ListPipelines(
        pipeline_pb2.ListPipelinesRequest(rep_id=rep, page_size=500)
    )
    assert shown == [p.opportunity_id for p in listed.pipelines]
    crumbs = await browser.evaluate("document.getElementById('crumbs').textContent")
    assert crumbs == f"All regions›Central›{rep}"

    opportunity = shown[0]
    await browser.click(f'#pipelines-table .pipeline-row[data-id="{opportunity}"]')
    await browser.wait_for("!!document.querySelector('#timeline-table')")
    timeline = await browser.evaluate(
        """[...document.querySelectorAll('#timeline-table tbody tr')].map(n =>
            [n.dataset.action, n.dataset.status, n.children[5].textContent,
             n.children[6].textContent])"""
    )
    state = await pipelines.GetPipeline(pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity))
    assert timeline == [
        [a.key, a.status, "yes" if a.overdue else "no", str(a.escalations)] for a in state.actions
    ]
    bars = await browser.evaluate("document.querySelectorAll('#timeline-svg .timeline-bar').length")
    assert bars == sum(1 for a in state.actions if a.HasField("started_at"))


def check_screenshot(path: Path, size: tuple[int, int]) -> None:
    """A real PNG of the page's size, with the heatmap's reds and greens in it."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size
        assert size[0] == 1280 and size[1] > 900
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200
    reds = sum(n for n, (r, g, b) in colours if r > 150 and g < 110 and b < 110 and r - g > 80)
    greens = sum(n for n, (r, g, b) in colours if g > 120 and r < 80 and b < 120)
    assert reds > 500 and greens > 500


async def check_snapshot(board, tmp_path: Path) -> None:
    """The snapshot opens from a file with no server behind it."""
    now = utcnow()
    responses = await collect(board.backend, DIRECTOR, now=now, timelines_per_rep=1)
    page = tmp_path / "snapshot.html"
    page.write_text(render(responses, written_at=now), encoding="utf-8")
    embedded = json.loads(
        page.read_text().split('type="application/json">')[1].split("</script>")[0]
    )
    assert "/api/overview" in embedded["responses"]

    async with Chromium() as browser:
        await browser.open(page.as_uri())
        await browser.wait_for(READY)
        heads = await browser.evaluate(
            "[...document.querySelectorAll('#heatmap .group-head')].map(n => n.dataset.group)"
        )
        assert heads == ["Central", "East", "West"]
        assert await browser.evaluate("!document.getElementById('banner').hidden")
        bottlenecks = "document.querySelectorAll('#bottlenecks li.bottleneck').length"
        assert await browser.evaluate(bottlenecks) == 3

        # A captured drill-down works; a view that was not captured says so.
        await browser.click('#heatmap .group-head[data-group="East"]')
        await browser.wait_for(f"{READY} && document.getElementById('f-region').value === 'East'")
        assert await browser.evaluate("document.querySelectorAll('#heatmap g.cell').length") > 0
        await browser.evaluate(
            """(() => {
                const team = document.getElementById('f-team');
                team.value = team.options[1].value;
                team.dispatchEvent(new Event('change'));
            })()"""
        )
        await browser.wait_for(f"{READY} && !!document.querySelector('#heatmap .empty')")
        note = await browser.evaluate("document.querySelector('#heatmap .empty').textContent")
        assert note == "Not in this snapshot."
        assert browser.errors == []
