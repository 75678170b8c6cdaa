"""A day of a small team through the real stack (issue 4): every balance, ticket time and
delivered notice asserted against values computed by hand from the README's rules.

The team: manager Mia and three reps of a region of this test's own; Bo works from Berlin.
Legal: head Hal and one member, Lin (so every ticket goes to Lin). Legal's calendar in this
test is a round-the-clock desk (00:00-24:00, no weekend, no public holidays): a business
minute is then a wall minute whatever day the test runs on, so every target is the opening
time + 120 min, computable by hand.

The day:
  Ann   walks a pipeline to the contract archive; Lin acknowledges the review at once, then
        resolves it; Ann archives the contract: won (5 completions).
  Cy    walks to the contract archive; Lin rejects the review with a reason; the step comes
        back to Cy, who resubmits; Lin resolves the second occurrence; won (5 completions).
  Bo    walks to the contract archive (4 completions); nobody at legal answers, and 2 h 01
        later (time skipping) the review has missed its target: `ticket.escalated`.
  Cy    redeems a 20-point coffee voucher (balance 25); Ann asks for a 30-point day off with
        25 points and is refused with the exact balance and price.

Clocks: workflows run on the time-skipping server's clock (pipeline time: opened_at,
occurred_at), the ticketing service records responses on the wall clock. The two agree
(within milliseconds) until the only skip of the day, which comes after every response;
so the pipeline walks wait real seconds for photos rather than skipping time.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest

from salesflow.core.caller import Caller, Role
from salesflow.core.oplog import verify_chain
from salesflow.core.rpc import channel, rejection_detail
from salesflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from salesflow.replay.export import TeamMember
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.pipeline.directory import upsert_team
from services.ticketing.departments import (
    DepartmentConfig,
    read_departments,
    upsert_departments,
)
from tests.conftest import eventually
from tests.test_end_to_end import walk_to_contract_archive

SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGET = timedelta(minutes=120)  # the default contract archive's legal review target


def quarter_of(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def at(stamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


async def wait_past(moment: datetime) -> None:
    """Real time, not skipped: the evidence service refuses captures in its own future, and
    the ticketing service's wall clock must stay with pipeline time until the skip."""
    wait = (moment + timedelta(milliseconds=300) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(wait, 0))


async def walk_to_archive(stack, pipelines, opportunity_id: str, rep: Caller) -> list[str]:
    """Four completions (appointment, diagnosis with 1 photo, demo with 3 photos and the
    answers, objection handling); answers the three contract documents, uploaded."""
    return await walk_to_contract_archive(
        stack, pipelines, opportunity_id, rep, wait_past=wait_past
    )


async def archive_when_allowed(pipelines, request):
    async def archived():
        try:
            return await pipelines.CompleteAction(request)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            return None

    return await eventually(archived)


@pytest.fixture
async def legal_back_to_defaults(stack):
    yield
    # The database is shared by the session: legal goes back to its defaults.
    await upsert_departments(
        stack.sessions, [DepartmentConfig("legal"), DepartmentConfig("logistics")]
    )


async def test_a_day_of_a_small_team(stack, legal_back_to_defaults):
    s = uuid.uuid4().hex[:4]
    region = f"Team{s}"
    manager = Caller(f"Mia Manager {s}", Role.MANAGER, frozenset({region}))
    ann = Caller(f"Ann Rep {s}", Role.REP, frozenset({region}))
    bo = Caller(f"Bo Rep {s}", Role.REP, frozenset({region}))
    cy = Caller(f"Cy Rep {s}", Role.REP, frozenset({region}))
    head, lin = f"Hal Head {s}", f"Lin Legal {s}"
    legal = Caller(lin, Role.LEGAL, frozenset())
    admin = Caller(f"Ada Admin {s}", Role.ADMIN, frozenset({"*"}))
    await upsert_team(
        stack.sessions,
        [
            TeamMember(ann.id, manager.id, region),
            TeamMember(bo.id, manager.id, region, time_zone="Europe/Berlin"),
            TeamMember(cy.id, manager.id, region),
        ],
    )
    # What `salesflow tickets departments FILE` loads.
    await upsert_departments(
        stack.sessions,
        read_departments(
            f"""
legal:
  head: {head}
  members: [{lin}]
  calendar:
    time_zone: Asia/Shanghai
    working_hours: ['00:00-24:00']
    weekend: []
    holiday_country: ''
"""
        ),
    )
    ann_opp, bo_opp, cy_opp = (f"{name}{s.upper()}" for name in ("ANN", "BO", "CY"))
    reason = "the signature page lacks the customer's company seal"

    async with (
        channel(stack.target("pipeline"), ann) as ann_channel,
        channel(stack.target("pipeline"), bo) as bo_channel,
        channel(stack.target("pipeline"), cy) as cy_channel,
        channel(stack.target("ticketing"), legal) as legal_channel,
    ):
        pipes = {
            who.id: pipeline_pb2_grpc.PipelineServiceStub(ch)
            for who, ch in ((ann, ann_channel), (bo, bo_channel), (cy, cy_channel))
        }
        tickets = ticketing_pb2_grpc.TicketingServiceStub(legal_channel)

        async def the_open_ticket(opportunity_id: str):
            async def listed():
                reply = await tickets.ListTickets(
                    ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id, status="open")
                )
                return list(reply.tickets) or None

            [ticket] = await eventually(listed)
            return ticket

        async def answer(rpc, key: str, note: str):
            """A response over gRPC, bracketed by the wall clock the service records."""
            before = datetime.now(UTC)
            await rpc(ticketing_pb2.TicketActionRequest(ticket_key=key, note=note))
            return before, datetime.now(UTC)

        responses: dict[str, tuple[datetime, datetime]] = {}
        closes: dict[str, tuple[datetime, datetime]] = {}

        # ---- Ann: review acknowledged at once, resolved, contract archived: won.
        ann_docs = await walk_to_archive(stack, pipes[ann.id], ann_opp, ann)
        ann_ticket = await the_open_ticket(ann_opp)
        ann_key = ann_ticket.ticket_key
        assert ann_key == f"{ann_opp}:contract_archive:legal"
        responses[ann_key] = await answer(tickets.AcknowledgeTicket, ann_key, "on it")
        closes[ann_key] = await answer(tickets.ResolveTicket, ann_key, "approved")
        done = await archive_when_allowed(
            pipes[ann.id],
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=ann_opp, action_key="contract_archive", evidence_ids=ann_docs
            ),
        )
        assert done.state.outcome == "won"

        # ---- Cy: review rejected with a reason, the step returns, Cy resubmits, resolved.
        cy_docs = await walk_to_archive(stack, pipes[cy.id], cy_opp, cy)
        cy_archive = pipeline_pb2.CompleteActionRequest(
            opportunity_id=cy_opp, action_key="contract_archive", evidence_ids=cy_docs
        )
        cy_first = (await the_open_ticket(cy_opp)).ticket_key
        responses[cy_first] = await answer(tickets.RejectTicket, cy_first, reason)
        closes[cy_first] = responses[cy_first]  # a rejection is response and close at once

        async def returned():
            state = await pipes[cy.id].GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=cy_opp)
            )
            step = next(a for a in state.actions if a.key == "contract_archive")
            return step if step.returned else None

        step = await eventually(returned)
        assert (step.status, step.return_reason) == ("open", reason)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pipes[cy.id].CompleteAction(cy_archive)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        [unmet] = rejection_detail(refused.value, pipeline_pb2.CompleteActionRejection).unmet
        assert (unmet.kind, unmet.key) == ("ticket", "legal") and reason in unmet.message
        await pipes[cy.id].ResubmitAction(
            pipeline_pb2.ResubmitActionRequest(
                opportunity_id=cy_opp, action_key="contract_archive", note="sealed now"
            )
        )
        cy_second = (await the_open_ticket(cy_opp)).ticket_key
        assert cy_second == f"{cy_first}:2"
        responses[cy_second] = await answer(tickets.ResolveTicket, cy_second, "approved")
        closes[cy_second] = responses[cy_second]
        done = await archive_when_allowed(pipes[cy.id], cy_archive)
        assert done.state.outcome == "won"

        # ---- Bo: walks to the archive; legal never answers the review.
        await walk_to_archive(stack, pipes[bo.id], bo_opp, bo)
        bo_key = (await the_open_ticket(bo_opp)).ticket_key

    # ---- Points: +5 per completion, no other rule in the default template.
    # Ann 5 x 5 = 25, Cy 5 x 5 = 25, Bo 4 x 5 = 20 (Bo's archive is still open).
    await stack.drain_events()
    async with (
        channel(stack.target("points"), admin) as admin_channel,
        channel(stack.target("points"), ann) as ann_points_channel,
        channel(stack.target("points"), cy) as cy_points_channel,
    ):
        admin_points = points_pb2_grpc.PointsServiceStub(admin_channel)
        for key, name, price in (
            (f"coffee_{s}", "Coffee voucher", 20),
            (f"leave_{s}", "Day off", 30),
        ):
            await admin_points.PutReward(
                points_pb2.Reward(
                    key=key, name=name, name_zh=name, price=price, stock=1, active=True
                )
            )
        # Cy: balance 25 >= price 20, granted (pending approval) and held: 25 - 20 = 5.
        coffee = await points_pb2_grpc.PointsServiceStub(cy_points_channel).Redeem(
            points_pb2.RedeemRequest(rep_id=cy.id, reward_key=f"coffee_{s}", idempotency_key=s)
        )
        assert (coffee.status, coffee.price) == ("pending", 20)
        # Ann: balance 25 < price 30, refused with the exact figures; nothing is written.
        with pytest.raises(grpc.aio.AioRpcError) as too_poor:
            await points_pb2_grpc.PointsServiceStub(ann_points_channel).Redeem(
                points_pb2.RedeemRequest(rep_id=ann.id, reward_key=f"leave_{s}", idempotency_key=s)
            )
        assert too_poor.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert too_poor.value.details() == "insufficient points: balance 25, price 30"

        expected_balances = {ann.id: (25, 5), bo.id: (20, 4), cy.id: (25 - 20, 5 + 1)}
        for rep_id, (points, entries) in expected_balances.items():
            balance = await admin_points.GetBalance(points_pb2.GetBalanceRequest(rep_id=rep_id))
            assert (balance.points, balance.entries) == (points, entries), rep_id
        ledgers = {
            rep_id: list(
                (
                    await admin_points.ListEntries(
                        points_pb2.ListEntriesRequest(rep_id=rep_id, limit=50)
                    )
                ).entries
            )
            for rep_id in expected_balances
        }
    walked = ["appointment", "onsite_diagnosis", "solution_demo", "objection_handling"]
    for rep_id, opportunity_id, actions in (
        (ann.id, ann_opp, [*walked, "contract_archive"]),
        (bo.id, bo_opp, walked),
        (cy.id, cy_opp, [*walked, "contract_archive"]),
    ):
        earned = [e for e in ledgers[rep_id] if e.rule == "completion"]
        assert sorted(e.action_key for e in earned) == sorted(actions)
        for entry in earned:
            assert (entry.points, entry.kind, entry.opportunity_id, entry.region) == (
                5,
                "earned",
                opportunity_id,
                region,
            )
            assert (entry.team, entry.period) == (manager.id, quarter_of(at(entry.occurred_at)))
            assert entry.event_id.startswith(f"pipeline-{opportunity_id}:action.completed:")
            assert entry.rule_version.startswith("b2b-default@")
    [held] = [e for e in ledgers[cy.id] if e.rule == "redemption"]
    assert (held.points, held.kind, held.event_id) == (
        -20,
        "redemption",
        f"redemption:{coffee.redemption_id}",
    )
    assert all(e.rule in ("completion", "redemption") for es in ledgers.values() for e in es)

    # ---- The skip: 2 h 01 min later (pipeline time) Bo's review has missed its target.
    await stack.environment.sleep(TARGET + timedelta(minutes=1))
    async with channel(stack.target("ticketing"), legal) as legal_channel:
        tickets = ticketing_pb2_grpc.TicketingServiceStub(legal_channel)

        async def escalated():
            ticket = await tickets.GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=bo_key))
            return ticket if ticket.escalation_level else None

        await eventually(escalated)
        await stack.drain_events()
        got = {
            key: await tickets.GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=key))
            for key in (ann_key, cy_first, cy_second, bo_key)
        }

        # Every ticket: respond_by = opened_at + 120 min (a business minute is a wall
        # minute on legal's round-the-clock calendar); the first response is Lin's, recorded
        # between the moments before and after the call; first_response_business_minutes is
        # (first_response_at - opened_at) in minutes; within target = first response at or
        # before respond_by (all three were answered within seconds).
        for key in (ann_key, cy_first, cy_second):
            ticket = got[key]
            opened, first = at(ticket.opened_at), at(ticket.first_response_at)
            assert at(ticket.respond_by) == opened + TARGET, key
            before, after = responses[key]
            assert before <= first <= after, key
            assert opened <= first <= at(ticket.respond_by), key  # within target
            assert ticket.first_response_business_minutes == pytest.approx(
                (first - opened).total_seconds() / 60, abs=1e-6
            )
            assert ticket.first_responder_id == lin and ticket.assignee_id == lin
            assert closes[key][0] <= at(ticket.closed_at) <= closes[key][1], key
            assert (ticket.escalation_level, ticket.time_zone) == (0, "Asia/Shanghai")
        assert [got[k].status for k in (ann_key, cy_first, cy_second)] == [
            "resolved",
            "rejected",
            "resolved",
        ]
        assert (got[cy_second].occurrence, got[cy_second].previous_ticket_key) == (2, cy_first)
        assert got[cy_first].resolution_note == reason
        # Cy's second review opened when Cy resubmitted, after the rejection.
        assert at(got[cy_second].opened_at) >= at(got[cy_first].closed_at)
        # Bo's: open, unanswered, escalated once at its respond_by to the head (level 1 of
        # the default [1]: 1 x the target).
        bo_ticket = got[bo_key]
        assert (bo_ticket.status, bo_ticket.HasField("first_response_at")) == ("open", False)
        assert at(bo_ticket.respond_by) == at(bo_ticket.opened_at) + TARGET
        assert bo_ticket.escalation_level == 1
        assert at(bo_ticket.respond_by) <= at(bo_ticket.escalated_at)
        assert at(bo_ticket.escalated_at) <= at(bo_ticket.respond_by) + timedelta(minutes=1)

        # ---- The department report over exactly this day's four tickets.
        opened_times = sorted(at(t.opened_at) for t in got.values())
        # The region is this test's own: other tests of the session open legal tickets too.
        request = ticketing_pb2.DepartmentReportRequest(department="legal", region=region)
        request.period_start.FromDatetime(opened_times[0])
        request.period_end.FromDatetime(opened_times[-1] + timedelta(microseconds=1))
        report = await tickets.GetDepartmentReport(request)
    minutes = sorted(got[k].first_response_business_minutes for k in (ann_key, cy_first, cy_second))
    # opened 4, responded 3; median of 3 = the 2nd smallest; p90 = the ceil(0.9 x 3) = 3rd
    # smallest; business minutes = wall minutes on this calendar. Within target 3. Decided:
    # the 3 answered; Bo's is past respond_by only in pipeline time: the service judges
    # "until now" on its wall clock, which the skip did not move, so it is not decided yet
    # -> 3 of 3 = 1.0. Open now: Bo's. Escalated: Bo's.
    assert (report.tickets_opened, report.responded) == (4, 3)
    assert report.median_first_response_business_minutes == pytest.approx(minutes[1])
    assert report.p90_first_response_business_minutes == pytest.approx(minutes[2])
    assert report.median_first_response_wall_minutes == pytest.approx(minutes[1])
    assert report.p90_first_response_wall_minutes == pytest.approx(minutes[2])
    assert (report.within_target, report.target_decided) == (3, 3)
    assert report.share_within_target == pytest.approx(1.0)
    assert (report.open_now, report.escalated) == (1, 1)

    # ---- Notices: each once, all delivered to the log (no routes configured).
    await stack.drain_events()
    await stack.drain_outbox()
    async with channel(stack.target("notifications"), admin) as notices_channel:
        notices = notifications_pb2_grpc.NotificationServiceStub(notices_channel)
        ours, token = [], ""
        while True:
            page = await notices.ListNotifications(
                notifications_pb2.ListNotificationsRequest(page_size=200, page_token=token)
            )
            ours += [n for n in page.notifications if n.opportunity_id in (ann_opp, bo_opp, cy_opp)]
            token = page.next_page_token
            if not token:
                break
    by_opportunity = {
        opportunity_id: sorted(
            (n.recipient, n.kind) for n in ours if n.opportunity_id == opportunity_id
        )
        for opportunity_id in (ann_opp, bo_opp, cy_opp)
    }
    # Ann: 5 completions -> 5 points notices; Lin acknowledged and resolved -> 2 ticket
    # notices to Ann; 1 review requested -> legal.
    assert by_opportunity[ann_opp] == sorted(
        [*[(ann.id, "points")] * 5, *[(ann.id, "ticket")] * 2, ("role:legal", "ticket")]
    )
    # Cy: 5 points; rejected and resolved -> 2 to Cy; 2 reviews requested -> 2 to legal.
    assert by_opportunity[cy_opp] == sorted(
        [*[(cy.id, "points")] * 5, *[(cy.id, "ticket")] * 2, *[("role:legal", "ticket")] * 2]
    )
    # Bo: 4 points; 1 review requested; the missed target escalated to the head, once.
    assert by_opportunity[bo_opp] == sorted(
        [*[(bo.id, "points")] * 4, ("role:legal", "ticket"), (head, "escalation")]
    )
    # The log channel delivers at once (README: "delivered at once").
    assert {(n.channel, n.status) for n in ours} == {("log", "delivered")}
    assert len({(n.event_id, n.recipient, n.channel) for n in ours}) == len(ours) == 23
    # Nobody else (the manager, Lin by name) was told anything of this day; the head only
    # of the missed target.
    assert not {manager.id, lin} & {n.recipient for n in ours}
    assert [n.kind for n in ours if n.recipient == head] == ["escalation"]

    # ---- The operation log's hash chain holds.
    async with stack.sessions() as session:
        verdict = await verify_chain(session)
    assert verdict.intact, verdict


async def test_the_department_head_is_told_when_a_review_misses_its_target(stack):
    """The escalation exactly as TicketResponseWorkflow's activity publishes it."""
    from workflows.ticket_response.activities import escalation_event
    from workflows.ticket_response.types import TicketEscalation

    s = uuid.uuid4().hex[:4]
    head, opportunity_id = f"Hal Head {s}", f"ESC{s.upper()}"
    opened = (await stack.environment.get_current_time()).replace(microsecond=0)
    await stack.bus.publish(
        escalation_event(
            TicketEscalation(
                ticket_key=f"{opportunity_id}:contract_archive:legal",
                department="legal",
                level=1,
                to_person=head,
                to_role="",
                assignee_id=f"Lin Legal {s}",
                opportunity_id=opportunity_id,
                rep_id=f"Bo Rep {s}",
                region=f"Team{s}",
                opened_at=opened,
                respond_by=opened + TARGET,
                response_target_minutes=120,
                at=opened + TARGET,
            )
        )
    )
    await stack.drain_events()
    await stack.drain_outbox()
    admin = Caller(f"Ada Admin {s}", Role.ADMIN, frozenset({"*"}))
    async with channel(stack.target("notifications"), admin) as notices_channel:
        listed = await notifications_pb2_grpc.NotificationServiceStub(
            notices_channel
        ).ListNotifications(notifications_pb2.ListNotificationsRequest(recipient=head))
    assert [(n.opportunity_id, n.kind, n.status) for n in listed.notifications] == [
        (opportunity_id, "escalation", "delivered")
    ]
