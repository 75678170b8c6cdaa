"""CompleteAction's strategy suggestion, end to end on the stack: from the team's recorded
outcomes when analytics answers, and a completion without one when it does not.

The team's history is fed to the analytics projection as the workflow publishes it; the
live pipeline runs through gRPC on a template of three steps (appointment, objection
handling, contract archive).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import pytest

from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller, Role
from salesflow.core.db import utcnow
from salesflow.core.rpc import ServiceBinding, channel, start_server
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from services.analytics import projection
from services.analytics.config import AnalyticsConfig
from services.pipeline.directory import upsert_team
from services.pipeline.feedback import StrategyFeedback
from services.templates.store import TemplateStore
from services.templates.validation import check_template_text
from tests.services.analytics.scenario import PipelineEvents, hours
from workflows.pipeline.types import AnswerInput

approx = pytest.approx
ADMIN = Caller("admin", Role.ADMIN, frozenset({"*"}))
TEMPLATE = """
id: {template_id}
name: Objection feedback
name_zh: 异议反馈
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
  - key: objection_handling
    name: Objection handling
    name_zh: 异议处理
    answers:
      - {{key: customer_objections, count: 1}}
      - key: response_strategies
        count: 1
        choices: [cost_breakdown, phased_payment, bundle_offer, reference_customer]
  - key: contract_archive
    name: Contract archive
    name_zh: 合同归档
    terminal: true
"""


class Team:
    """A West team of its own: Sue (who completes live) and Tom, managed by Mia."""

    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:6]
        self.suffix = suffix
        self.region = f"West {suffix}"
        self.manager = f"Mia Mentor {suffix}"
        self.sue = f"Sue Suggest {suffix}"
        self.tom = f"Tom Team {suffix}"
        self.template_id = f"feedback-{suffix}"

    def history(self) -> list:
        """Objection handling over the last weeks, each followed by a win or a loss:

        Tom  cost breakdown    5 won, 1 lost
        Tom  phased payment    2 won, 3 lost
        Sue  phased payment    2 won, 2 lost
        """
        start = utcnow() - timedelta(days=30)
        plan = (
            [(self.tom, "cost_breakdown", "won")] * 5
            + [(self.tom, "cost_breakdown", "lost")]
            + [(self.tom, "phased_payment", "won")] * 2
            + [(self.tom, "phased_payment", "lost")] * 3
            + [(self.sue, "phased_payment", "won")] * 2
            + [(self.sue, "phased_payment", "lost")] * 2
        )
        events = []
        for number, (rep, strategy, outcome) in enumerate(plan):
            began = start + timedelta(days=number)
            pipeline = PipelineEvents(f"HIST{number}-{self.suffix}", rep, self.region, self.manager)
            pipeline.start(began, keys=("objection_handling", "contract_archive"))
            done = began + hours(2)
            pipeline.begin("objection_handling", 0, began, due=began + hours(48)).complete(
                "objection_handling",
                done,
                started_at=began,
                answers={"customer_objections": ["price"], "response_strategies": [strategy]},
                answers_required=2,
            )
            if outcome == "won":
                pipeline.begin("contract_archive", 1, done)
                pipeline.complete("contract_archive", done + hours(1), started_at=done)
                pipeline.close("won", done + hours(1))
            else:
                pipeline.close("lost", done + hours(1))
            events += pipeline.events
        return events


@pytest.fixture
async def team(stack) -> Team:
    team = Team()
    await upsert_team(
        stack.sessions,
        [
            TeamMember(team.sue, team.manager, team.region),
            TeamMember(team.tom, team.manager, team.region),
        ],
    )
    checked = check_template_text(TEMPLATE.format(template_id=team.template_id))
    assert checked.ok, checked.problems
    await TemplateStore(stack.sessions).save(ADMIN, checked.template)
    config = AnalyticsConfig.from_env(timezone=stack.settings.timezone)
    await projection.apply_events(stack.sessions, team.history(), config)
    return team


async def start_at_objection(pipelines, team: Team, opportunity_id: str) -> None:
    await pipelines.StartPipeline(
        pipeline_pb2.StartPipelineRequest(
            opportunity_id=opportunity_id, rep_id=team.sue, template_id=team.template_id
        )
    )
    appointment = await pipelines.CompleteAction(
        pipeline_pb2.CompleteActionRequest(opportunity_id=opportunity_id, action_key="appointment")
    )
    # No strategies recorded, so nothing to suggest.
    assert not appointment.HasField("suggestion")


def objection(opportunity_id: str) -> pipeline_pb2.CompleteActionRequest:
    return pipeline_pb2.CompleteActionRequest(
        opportunity_id=opportunity_id,
        action_key="objection_handling",
        answers=[
            pipeline_pb2.Answer(key="customer_objections", values=["price too high"]),
            pipeline_pb2.Answer(
                key="response_strategies", values=["phased_payment", "bundle_offer"]
            ),
        ],
    )


def record(item) -> tuple:
    acceptance = item.team_acceptance if item.HasField("team_acceptance") else None
    return (
        item.strategy,
        item.rep_uses,
        item.team_uses,
        item.team_decided,
        item.team_accepted,
        acceptance,
    )


async def test_the_reply_suggests_what_the_teams_customers_accept(stack, team):
    sue = Caller(team.sue, Role.REP, frozenset({team.region}))
    opportunity_id = f"FB-{team.suffix}"
    async with channel(stack.target("pipeline"), sue) as pipeline_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)
        await start_at_objection(pipelines, team, opportunity_id)
        reply = await pipelines.CompleteAction(objection(opportunity_id))

    assert reply.state.current_action == "contract_archive"
    suggestion = reply.suggestion
    # Decided team uses: cost breakdown 5 of 6 accepted, phased payment 4 of 9; overall
    # 9 of 15 = 0.6. This completion adds one undecided use each of phased payment and
    # bundle offer (Sue: phased payment ×5, bundle offer ×1). Cost breakdown is proven
    # (6 decided >= 5), at least the team's rate, and Sue never uses it (team: 6 of 17).
    assert [record(item) for item in suggestion.used] == [
        ("phased_payment", 5, 10, 9, 4, approx(4 / 9)),
        ("bundle_offer", 1, 1, 0, 0, None),
    ]
    assert [record(item) for item in suggestion.use_more] == [
        ("cost_breakdown", 0, 6, 6, 5, approx(5 / 6)),
    ]
    assert suggestion.team_acceptance == approx(0.6)
    assert (suggestion.action_key, suggestion.team) == ("objection_handling", team.manager)
    assert suggestion.text == (
        "In objection handling you used 2 strategies (phased payment ×5, bundle offer ×1); "
        "team-wide, cost breakdown was accepted by customers 83% of the time (5 of 6) — use "
        "it more."
    )
    assert suggestion.text_zh == (
        "异议处理中你使用了2种策略（分期付款×5、组合优惠×1）；团队中成本拆解的客户接受率为"
        "83%（6次中5次）——建议多用。"
    )


async def test_a_completion_stands_without_a_suggestion_when_analytics_is_down(stack, team, caplog):
    sue = Caller(team.sue, Role.REP, frozenset({team.region}))
    opportunity_id = f"FB-DOWN-{team.suffix}"
    await stack.services["analytics"].stop()

    async with channel(stack.target("pipeline"), sue) as pipeline_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)
        await start_at_objection(pipelines, team, opportunity_id)
        with caplog.at_level(logging.WARNING, logger="services.pipeline.feedback"):
            reply = await pipelines.CompleteAction(objection(opportunity_id))

    assert (reply.points, reply.on_time) == (5, True)
    assert reply.state.current_action == "contract_archive"
    assert not reply.HasField("suggestion")
    [line] = [r.getMessage() for r in caplog.records if "no strategy suggestion" in r.getMessage()]
    assert f"opportunity={opportunity_id} action=objection_handling" in line
    assert "UNAVAILABLE" in line


class Silent(analytics_pb2_grpc.AnalyticsServiceServicer):
    """An analytics service that never answers a suggestion."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    async def StrategySuggestion(self, request, context):
        self.asked.set()
        await asyncio.Event().wait()


@pytest.fixture
async def silent():
    """A silent analytics service on a port of its own."""
    servicer = Silent()
    server = await start_server(
        [
            ServiceBinding(
                servicer,
                analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
                "salesflow.analytics.v1.AnalyticsService",
            )
        ]
    )
    servicer.target = f"127.0.0.1:{server.port}"
    yield servicer
    await server.stop(grace=0)


async def test_a_slow_analytics_service_means_no_suggestion(silent, caplog):
    feedback = StrategyFeedback(channel(silent.target), deadline=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="services.pipeline.feedback"):
            found = await feedback.suggestion(
                ADMIN,
                rep_id="Sue",
                opportunity_id="SLOW-1",
                action_key="objection_handling",
                answers=[AnswerInput(key="response_strategies", values=["cost_breakdown"])],
            )
    finally:
        await feedback.stop()

    assert found is None
    assert silent.asked.is_set()
    assert any("DEADLINE_EXCEEDED" in record.getMessage() for record in caplog.records)


async def test_only_answers_with_strategies_ask_for_a_suggestion(silent):
    feedback = StrategyFeedback(channel(silent.target))
    try:
        found = await feedback.suggestion(
            ADMIN,
            rep_id="Sue",
            opportunity_id="NONE-1",
            action_key="objection_handling",
            answers=[
                AnswerInput(key="customer_objections", values=["price"]),
                AnswerInput(key="response_strategies", values=[" "]),
            ],
        )
    finally:
        await feedback.stop()
    assert found is None
    assert not silent.asked.is_set()
