"""The dashboard's JSON endpoints over the whole stack: events published to NATS, folded by
the analytics service, read over gRPC as the viewer and answered as JSON over HTTP.

The small history below is built by hand; every expected figure is worked out next to it
from the formulas in README.md (Analytics > The figures). T is Monday 2025-03-03 09:00 in
Asia/Shanghai; the week is Monday 03-03 to Sunday 03-09.

    Q1  Amy  East  appointment T→T+2h; objection handling T+2h, due T+50h, overdue and
                   escalated at T+50h, completed late at T+60h; contract T+60h→T+64h; won
    Q2  Amy  East  appointment T+1h→T+3h; objection T+3h, due T+51h, done at T+10h; lost
                   at T+20h without reaching the contract
    Q3  Bob  West  appointment T+4h→T+5h; objection T+5h, due T+53h, overdue at T+53h and
                   still open
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from salesflow.core.caller import Caller, Role
from salesflow.core.servers import free_port
from services.analytics import projection
from services.dashboard.api import build_app
from services.dashboard.config import DashboardConfig
from services.dashboard.server import serve_dashboard
from tests.services.analytics.scenario import PipelineEvents, hours

T = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
WEEK = {"from": "2025-03-03", "to": "2025-03-09"}
# The week's end, Monday 2025-03-10 00:00 in Shanghai.
WEEK_END = datetime(2025, 3, 9, 16, 0, tzinfo=UTC)
approx = pytest.approx


class History:
    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:6]
        self.east, self.west = f"East {suffix}", f"West {suffix}"
        self.amy, self.bob = f"Amy {suffix}", f"Bob {suffix}"
        self.mia, self.max = f"Mia {suffix}", f"Max {suffix}"
        self.q1, self.q2, self.q3 = (f"{name}-{suffix}" for name in ("Q1", "Q2", "Q3"))

    def events(self):
        q1 = PipelineEvents(self.q1, self.amy, self.east, self.mia).start(T)
        q1.begin("appointment", 0, T).complete("appointment", T + hours(2), started_at=T)
        q1.begin("objection_handling", 1, T + hours(2), due=T + hours(50))
        q1.overdue("objection_handling", T + hours(50))
        q1.escalate("objection_handling", T + hours(50), open_since=T + hours(2))
        q1.complete("objection_handling", T + hours(60), started_at=T + hours(2), on_time=False)
        q1.begin("contract_archive", 2, T + hours(60))
        q1.complete("contract_archive", T + hours(64), started_at=T + hours(60))
        q1.close("won", T + hours(64))

        t2 = T + hours(1)
        q2 = PipelineEvents(self.q2, self.amy, self.east, self.mia).start(t2)
        q2.begin("appointment", 0, t2).complete("appointment", t2 + hours(2), started_at=t2)
        q2.begin("objection_handling", 1, t2 + hours(2), due=t2 + hours(50))
        q2.complete("objection_handling", T + hours(10), started_at=t2 + hours(2))
        q2.close("lost", T + hours(20))

        t3 = T + hours(4)
        q3 = PipelineEvents(self.q3, self.bob, self.west, self.max).start(t3)
        q3.begin("appointment", 0, t3).complete("appointment", t3 + hours(1), started_at=t3)
        q3.begin("objection_handling", 1, t3 + hours(1), due=t3 + hours(49))
        q3.overdue("objection_handling", t3 + hours(49))
        return [*q1.events, *q2.events, *q3.events]


@pytest.fixture
async def history(stack):
    """The history published to the stack's NATS and folded by its analytics service."""
    found = History()
    await projection.clear(stack.sessions, keep_events=False)
    for event in found.events():
        await stack.bus.publish(event)
    await stack.drain_events()
    return found


@pytest.fixture
async def board(stack):
    running = await serve_dashboard(
        stack.settings,
        DashboardConfig(),
        analytics_target=stack.target("analytics"),
        pipeline_target=stack.target("pipeline"),
        port=0,
    )
    yield running
    await running.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:

        async def get(url: str, **query) -> tuple[int, dict]:
            async with session.get(url, params=query) as response:
                assert response.content_type == "application/json"
                return response.status, await response.json()

        yield get


def cells(heatmap: dict) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {(c["action"], c["group"]): (c["due"], c["on_time"], c["red"]) for c in heatmap["cells"]}


async def test_the_panels_answer_the_hand_computed_figures(history, board, http):
    h = history
    api = board.url + "api/"

    status, overview = await http(api + "overview")
    assert status == 200
    assert overview["viewer"] == {"id": "dashboard", "role": "director", "regions": ["*"]}
    assert overview["regions"] == sorted([h.east, h.west])
    assert overview["teams"] == sorted([h.mia, h.max])
    # Instances: Q1 3, Q2 2, Q3 2.
    assert {(r["id"], r["team"], r["region"], r["instances"]) for r in overview["reps"]} == {
        (h.amy, h.mia, h.east, 5),
        (h.bob, h.max, h.west, 2),
    }
    # The latest start is Q1's contract archive at T+60h, Wednesday 21:00 in Shanghai.
    assert overview["data"] == {"first_day": "2025-03-03", "last_day": "2025-03-05", "instances": 7}
    # Every preset ends with the Sunday of the latest instance's week.
    assert overview["periods"]["week"] == WEEK
    assert overview["periods"]["4w"] == {"from": "2025-02-10", "to": "2025-03-09"}
    assert overview["periods"]["all"] == {"from": "2025-03-03", "to": "2025-03-09"}
    assert overview["actions"]["objection_handling"] == {
        "en": "Objection handling",
        "zh": "异议处理",
    }

    # Heatmap: on time / due. Q3's open objection handling is due (past its deadline).
    status, heatmap = await http(api + "heatmap", **WEEK)
    assert status == 200
    assert heatmap["actions"] == ["appointment", "objection_handling", "contract_archive"]
    assert heatmap["groups"] == sorted([h.east, h.west])
    assert cells(heatmap) == {
        ("appointment", h.east): (2, 2, False),
        ("appointment", h.west): (1, 1, False),
        ("objection_handling", h.east): (2, 1, True),
        ("objection_handling", h.west): (1, 0, True),
        ("contract_archive", h.east): (1, 1, False),
    }
    assert heatmap["overall_rate"] == approx(5 / 7)
    assert (heatmap["red_below"], heatmap["target_rate"]) == (0.85, 0.9)

    # Drill-down to the reps of one region.
    status, by_rep = await http(api + "heatmap", group="rep", region=h.east, **WEEK)
    assert cells(by_rep) == {
        ("appointment", h.amy): (2, 2, False),
        ("objection_handling", h.amy): (2, 1, True),
        ("contract_archive", h.amy): (1, 1, False),
    }

    # Bottlenecks: objection handling open 58 h, 7 h and (Q3, to the week's end) 154 h.
    status, bottlenecks = await http(api + "bottlenecks", **WEEK)
    assert status == 200
    q3_open = (WEEK_END - (T + hours(5))).total_seconds() / 3600
    assert q3_open == 154
    first, second, third = bottlenecks["items"]
    assert (first["rank"], first["action"], first["instances"]) == (1, "objection_handling", 3)
    assert (first["stalled"], first["open"]) == (2, 1)
    assert first["average_hours"] == approx((58 + 7 + 154) / 3)
    assert first["average_days"] == approx((58 + 7 + 154) / 3 / 24)
    # p90 of [7, 58, 154]: position 1.8, so 58 + 0.8 × (154 − 58).
    assert first["p90_hours"] == approx(134.8)
    assert (second["action"], second["average_hours"], second["stalled"]) == (
        "contract_archive",
        approx(4),
        0,
    )
    assert (third["action"], third["average_hours"]) == ("appointment", approx(5 / 3))

    # Conversion within 7 days: appointments Q1 yes (contract 58 h later), Q2 and Q3 no;
    # objection handling Q1 yes, Q2 no. References 0.05 and 0.60 (target 1.3 ×).
    status, conversion = await http(api + "conversion", **WEEK)
    rows = {row["action"]: row for row in conversion["rows"]}
    assert (conversion["window_days"], conversion["contract_action"]) == (7, "contract_archive")
    assert (rows["appointment"]["completed"], rows["appointment"]["converted"]) == (3, 1)
    assert rows["appointment"]["flag"] == "above_target"
    assert (rows["objection_handling"]["completed"], rows["objection_handling"]["converted"]) == (
        2,
        1,
    )
    assert rows["objection_handling"]["rate"] == approx(0.5)
    assert rows["objection_handling"]["reference"] == approx(0.6)
    assert rows["objection_handling"]["flag"] == "below_reference"

    # Quality, weights 30/20/30/20: Amy's instances score 100, 93.75 (1 − 10/48 on time),
    # 100, 100 and 80 (lost after it); Bob's appointment 90 (the customer not decided).
    status, quality = await http(api + "quality", **WEEK)
    reps = {rep["rep"]: rep for rep in quality["reps"]}
    assert reps[h.amy]["score"] == approx((100 + 93.75 + 100 + 100 + 80) / 5)
    assert reps[h.amy]["instances"] == 5
    assert reps[h.bob]["score"] == approx(90)
    assert quality["target"] == 85
    assert not reps[h.amy]["below_target"] and not reps[h.bob]["below_target"]

    status, health = await http(api + "health", **WEEK)
    assert status == 200
    assert [item["number"] for item in health["items"]] == list(range(1, 11))
    assert health["needed"] == 7

    status, growth = await http(api + "growth", rep=h.amy, to=WEEK["to"], weeks=2)
    assert status == 200
    assert [week["week_start"] for week in growth["weeks"]] == ["2025-02-24", "2025-03-03"]
    # Amy's week: 4 of her 5 instances due and on time (Q1's objection late).
    assert growth["weeks"][1]["rep"]["completion_rate"] == approx(4 / 5)
    assert growth["weeks"][0]["rep"]["completion_rate"] is None

    status, listed = await http(api + "pipelines", rep=h.amy)
    assert status == 200
    assert [(p["id"], p["outcome"]) for p in listed["pipelines"]] == [(h.q1, "won"), (h.q2, "lost")]


async def test_the_viewer_in_the_address_is_what_the_services_narrow_to(history, board, http):
    h = history
    api = board.url + "api/"
    mia = {"as": h.mia, "role": "manager", "regions": h.east}

    status, overview = await http(api + "overview", **mia)
    assert overview["viewer"] == {"id": h.mia, "role": "manager", "regions": [h.east]}
    assert overview["regions"] == [h.east]
    status, heatmap = await http(api + "heatmap", **WEEK, **mia)
    assert {c["group"] for c in heatmap["cells"]} == {h.east}

    status, refused = await http(api + "heatmap", region=h.west, **WEEK, **mia)
    assert status == 403
    assert refused["error"]["code"] == "PERMISSION_DENIED"
    assert h.west in refused["error"]["message"]

    bob = {"as": h.bob, "role": "rep", "regions": h.west}
    status, quality = await http(api + "quality", **WEEK, **bob)
    assert [rep["rep"] for rep in quality["reps"]] == [h.bob]
    status, refused = await http(api + "growth", rep=h.amy, **bob)
    assert status == 403


async def test_refusals_become_http_statuses_with_their_reason(history, board, http):
    h = history
    api = board.url + "api/"

    # The pipeline list is a projection of the events; there is no workflow behind these.
    status, missing = await http(api + f"pipelines/{h.q1}")
    assert status == 404
    assert missing["error"]["code"] == "NOT_FOUND" and h.q1 in missing["error"]["message"]

    for query, field in (
        ({"from": "2025-03-03"}, "to"),
        ({"from": "2025-03-03", "to": "2025-02-01"}, "to"),
        ({"from": "yesterday", "to": "2025-03-03"}, "from"),
        ({**WEEK, "group": "team"}, "group"),
        ({**WEEK, "role": "boss"}, "role"),
    ):
        status, refused = await http(api + "heatmap", **query)
        assert status == 400, query
        assert refused["error"]["message"].startswith(f"{field}:"), refused

    # The analytics service's own check: bottlenecks look at 92 days at most.
    status, refused = await http(api + "bottlenecks", **{"from": "2024-01-01", "to": "2025-03-09"})
    assert status == 400 and "92 days" in refused["error"]["message"]

    status, refused = await http(api + "overview", role="legal")
    assert status == 403
    status, refused = await http(api + "no-such-thing")
    assert (status, refused["error"]["code"]) == (404, "NOT_FOUND")


async def test_a_pipeline_timeline_comes_from_its_workflow(stack, board, http):
    from salesflow.replay.export import TeamMember
    from services.pipeline.directory import upsert_team

    rep = f"Rae {uuid.uuid4().hex[:6]}"
    await upsert_team(stack.sessions, [TeamMember(rep, "Mo Manager", "Central")])
    caller = Caller(rep, Role.REP, frozenset({"Central"}))
    commands = stack.pipeline_commands()
    opportunity = f"T-{uuid.uuid4().hex[:8]}"
    await commands.start(caller, opportunity_id=opportunity, rep_id=rep, account="Acme")
    await commands.complete_action(caller, opportunity_id=opportunity, action_key="appointment")

    status, timeline = await http(board.url + f"api/pipelines/{opportunity}")
    assert status == 200
    assert (timeline["rep"], timeline["region"], timeline["account"]) == (rep, "Central", "Acme")
    assert timeline["outcome"] == "open" and timeline["current_action"] == "onsite_diagnosis"
    actions = {a["key"]: a for a in timeline["actions"]}
    assert list(actions) == [
        "appointment",
        "onsite_diagnosis",
        "solution_demo",
        "objection_handling",
        "contract_archive",
    ]
    assert actions["appointment"]["status"] == "done"
    assert actions["appointment"]["completed_at"] is not None
    assert actions["onsite_diagnosis"]["status"] == "open"
    assert actions["onsite_diagnosis"]["started_at"] == actions["appointment"]["completed_at"]
    assert actions["objection_handling"]["started_at"] is None
    assert actions["appointment"]["name_zh"] == "客户预约"

    # Another rep of the region may not read it.
    status, refused = await http(
        board.url + f"api/pipelines/{opportunity}", **{"as": "Other", "role": "rep"}
    )
    assert status == 403


async def test_a_service_that_does_not_answer_is_a_503(http):
    from salesflow.core.settings import Settings

    nowhere = f"127.0.0.1:{free_port()}"
    running = await serve_dashboard(
        Settings(),
        DashboardConfig(),
        analytics_target=nowhere,
        pipeline_target=nowhere,
        port=0,
    )
    try:
        status, refused = await http(running.url + "api/overview")
    finally:
        await running.stop()
    assert status == 503
    assert refused["error"]["code"] == "UNAVAILABLE"


async def test_an_unexpected_failure_is_json_without_a_traceback():
    from aiohttp.test_utils import TestClient, TestServer

    class Broken:
        zone = None

        async def overview(self, viewer, *, now):
            raise RuntimeError("secret internals")

    client = TestClient(TestServer(build_app(Broken(), DashboardConfig(), lambda: T)))
    await client.start_server()
    try:
        response = await client.get("/api/overview")
        body = await response.text()
        page = await client.get("/")
        page_text = await page.text()
        script = await client.get("/static/dashboard.js")
        missing = await client.get("/static/../config.py")
    finally:
        await client.close()
    assert response.status == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert '"INTERNAL"' in body
    assert page.status == 200 and "Content-Security-Policy" in page.headers
    assert "/static/dashboard.js" in page_text
    assert script.status == 200 and script.content_type == "application/javascript"
    assert missing.status == 404


async def test_the_demo_writes_a_snapshot_of_what_the_endpoints_answer(
    stack, history, board, http, tmp_path
):
    from salesflow.cli.dashboard import DEMO_SNAPSHOT, write_demo_snapshot

    path = await write_demo_snapshot(stack, tmp_path)

    assert path == tmp_path / DEMO_SNAPSHOT
    page = path.read_text(encoding="utf-8")
    data = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    responses = data["responses"]
    # The page's default view, and the drill-down to each rep with their pipelines.
    assert responses["/api/overview"]["regions"] == sorted([history.east, history.west])
    status, live = await http(board.url + "api/heatmap", group="region", **WEEK)
    assert responses[f"/api/heatmap?from={WEEK['from']}&group=region&to={WEEK['to']}"] == live
    key = f"/api/pipelines?rep={history.amy}"
    assert [p["id"] for p in responses[key]["pipelines"]] == [history.q1, history.q2]
    # These pipelines have no workflow to read a timeline from: left out, not a failure.
    assert not any(key.startswith(f"/api/pipelines/{history.q1}") for key in responses)
    # Nothing in it loads from anywhere.
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "http://" not in page.split("<script>")[0] and "src=" not in page
