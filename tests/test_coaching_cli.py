"""The coaching and outcome commands as a user drives them, and the suggestion `salesflow
pipeline complete` prints, against a running stack.

The read model holds the coaching scenario (tests/services/analytics/coaching_scenario.py)
ending now; the stack's analytics service runs with the default configuration (weights
30/20/30/20, quality target 85, 5 decided outcomes before a strategy is suggested).
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from salesflow.cli.main import main
from salesflow.core.caller import Caller, Role
from salesflow.core.db import utcnow
from salesflow.replay.export import TeamMember
from services.analytics import projection
from services.analytics.config import AnalyticsConfig
from services.pipeline.directory import upsert_team
from services.templates.store import TemplateStore
from services.templates.validation import check_template_text
from tests.services.analytics.coaching_scenario import CoachingScenario

TEMPLATE = """
id: {template_id}
name: Objection coaching
name_zh: 异议辅导
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
  - key: objection_handling
    name: Objection handling
    name_zh: 异议处理
    answers:
      - {{key: customer_objections, count: 1}}
      - {{key: response_strategies, count: 1}}
  - key: contract_archive
    name: Contract archive
    name_zh: 合同归档
    terminal: true
"""


@pytest.fixture
async def company(stack, monkeypatch):
    """The coaching scenario up to now alone in the read model (the session's database is
    shared); the CLI pointed at the stack."""
    scenario = CoachingScenario(as_of=utcnow().replace(second=0, microsecond=0))
    config = AnalyticsConfig.from_env(timezone=stack.settings.timezone)
    await projection.clear(stack.sessions, keep_events=False)
    await projection.apply_events(stack.sessions, scenario.events(), config)
    monkeypatch.setenv("SALESFLOW_GRPC_HOST", stack.settings.grpc_host)
    for name, service in stack.services.items():
        monkeypatch.setenv(f"SALESFLOW_{name.upper()}_PORT", str(service.port))
    yield scenario
    await projection.clear(stack.sessions, keep_events=False)


@pytest.fixture
async def cli():
    """Runs `salesflow ...` in a thread of its own (main() runs its own event loop)."""

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    # main() points logging at the stderr it finds; give the test session its own back.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield run
    root.handlers[:] = handlers
    root.setLevel(level)


def identity(caller: Caller) -> list[str]:
    return ["--as", caller.id, "--role", caller.role.value, "--regions", ",".join(caller.regions)]


async def test_coaching_from_the_command_line(company, cli, capsys, tmp_path):
    s = company
    wes = identity(Caller(s.wes, Role.REP, frozenset({s.north})))
    mona = identity(Caller(s.name("Mona"), Role.MANAGER, frozenset({s.north})))

    assert await cli("coaching", "weaknesses", s.wes, *wes) == 0
    out = capsys.readouterr().out
    assert (
        f"{s.wes} ({s.north}): 5 weaknesses against the top 10; improve first: appointment, "
        "objection handling"
    ) in out
    assert "  1. conversion    appointment: contract stage within 7 days after 50% of 10" in out
    # Quality with the default weights: (5·100 + 80 + 4·72.5) / 10 = 87.0.
    assert "  5. quality       objection handling: quality 87.0 (10 completed)" in out

    assert await cli("coaching", "weaknesses", s.nia, *mona) == 0
    assert f"{s.nia} ({s.north}): not enough history (30 days of 90)" in capsys.readouterr().out

    assert await cli("coaching", "assign", s.wes, *wes) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    assert await cli("coaching", "assign", s.wes, "--cases", "2", *mona) == 0
    out = capsys.readouterr().out
    assert "3 tasks created, 0 already open" in out
    ids = dict(re.findall(r"#(\d+) open .*?: (\w+ \w+) \(", out))
    assert sorted(ids.values()) == [
        "appointment conversion",
        "objection_handling conversion",
        "objection_handling strategy_mix",
    ]
    talk = next(task for task, what in ids.items() if what.endswith("strategy_mix"))
    assert await cli("coaching", "assign", s.wes, *mona) == 0
    assert "0 tasks created, 3 already open" in capsys.readouterr().out

    assert await cli("coaching", "tasks", *wes) == 0
    assert sorted(re.findall(r"#(\d+) open", capsys.readouterr().out)) == sorted(ids)

    assert await cli("coaching", "done", talk, *wes) == 1
    assert "INVALID_ARGUMENT: submission: is required" in capsys.readouterr().err
    track = tmp_path / "talk-track.txt"
    track.write_text("Open with the customer's hidden needs, then the reference case.\n")
    assert await cli("coaching", "done", talk, "--file", str(track), *wes) == 0
    assert f"task #{talk} done (objection_handling strategy_mix" in capsys.readouterr().out

    assert await cli("coaching", "progress", *wes) == 0
    out = capsys.readouterr().out
    assert f"#{talk} {s.wes}: objection_handling strategy_mix (rewrite_talk_track) — " in out
    assert "— measuring, 0 of 5 actions" in out
    assert "— not done yet; conversion before: 50% (10 actions)" in out
    assert re.search(r"before .* 70% \(10 actions\)", out)


async def test_last_outcomes_from_the_command_line(company, cli, capsys):
    s = company
    wes = identity(Caller(s.wes, Role.REP, frozenset({s.north})))
    args = ("analytics", "outcomes", s.wes, "objection_handling", "--topic", "price")

    assert await cli(*args, "-n", "2", *wes) == 0
    lines = capsys.readouterr().out.splitlines()
    # Newest first: pipelines 10 and 9, both late and lost (30+20+22.5+0 = 72.5).
    assert lines[0] == f"{s.wes}: last 2 objection_handling outcomes about price"
    assert [line.split()[2] for line in lines[1:]] == [s.opp(s.wes, 10), s.opp(s.wes, 9)]
    assert all(
        "rejected (lost)  quality 72  reference_customer  — price too high" in line
        for line in lines[1:]
    )

    ron = identity(Caller(s.top(1), Role.REP, frozenset({s.north})))
    assert await cli(*args, *ron) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err


async def test_pipeline_complete_prints_the_suggestion(company, stack, cli, capsys):
    s = company
    template_id = f"coaching-{s.suffix}"
    checked = check_template_text(TEMPLATE.format(template_id=template_id))
    assert checked.ok, checked.problems
    admin = Caller("admin", Role.ADMIN, frozenset({"*"}))
    await TemplateStore(stack.sessions).save(admin, checked.template)
    await upsert_team(stack.sessions, [TeamMember(s.wes, s.name("Mona"), s.north)])
    wes = identity(Caller(s.wes, Role.REP, frozenset({s.north})))
    opportunity = f"LIVE-{s.suffix}"

    start = ("pipeline", "start", opportunity, "--rep", s.wes, "--template", template_id)
    assert await cli(*start, *wes) == 0
    assert await cli("pipeline", "complete", opportunity, "appointment", *wes) == 0
    assert "Suggestion:" not in capsys.readouterr().out

    answers = [
        "--answer",
        "customer_objections=price",
        "--answer",
        "response_strategies=cost_breakdown",
    ]
    assert await cli("pipeline", "complete", opportunity, "objection_handling", *answers, *wes) == 0
    out = capsys.readouterr().out
    # Mona's team in the last 90 days, decided uses: reference customer 12 of 15 accepted
    # (R01–R06 twice, Wes 3 lost), cost breakdown 17 of 19 (R01–R06 twice, Wes 5 won, 2
    # lost), value reframing 6 of 6, trial period 1 of 1: 36 of 41 overall. Wes (cost
    # breakdown ×8 with this one, reference customer ×3) never uses value reframing.
    assert (
        "Suggestion: In objection handling you used 2 strategies (cost breakdown ×8, "
        "reference customer ×3); team-wide, value reframing was accepted by customers 100% "
        "of the time (6 of 6) — use it more."
    ) in out
    assert "建议：异议处理中你使用了2种策略（成本拆解×8、标杆客户案例×3）" in out
    assert (
        "  used      cost_breakdown: you 8, team 20 uses, accepted 17 of 19 (89%) team-wide" in out
    )
    assert (
        "  use more  value_reframing: you 0, team 6 uses, accepted 6 of 6 (100%) team-wide" in out
    )
    assert "at contract_archive" in out
