"""End to end: gRPC -> workflow -> NATS -> points ledger and legal ticket -> back to the
workflow, on PostgreSQL, with the stack's own nats-server and the time-skipping server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest

from salesflow.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from salesflow.core.caller import Caller, Role
from salesflow.core.rpc import channel, rejection_detail
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from salesflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from salesflow.replay.export import TeamMember
from salesflow.replay.files import document_bytes, photo_bytes
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.pipeline.directory import upsert_team
from tests.conftest import eventually

REP = Caller("Rita Rep", Role.REP, frozenset({"East"}))
OTHER_REP = Caller("Oscar Other", Role.REP, frozenset({"East"}))
MANAGER = Caller("Mona Manager", Role.MANAGER, frozenset({"East"}))
LEGAL = Caller("Lee Legal", Role.LEGAL, frozenset())
DIRECTOR = Caller("Dina Director", Role.DIRECTOR, frozenset({"*"}))


@pytest.fixture
async def stack(stack):
    """The shared stack, with two reps and their manager in the directory."""
    await upsert_team(
        stack.sessions,
        [
            TeamMember("Rita Rep", "Mona Manager", "East"),
            TeamMember("Oscar Other", "Mona Manager", "East"),
        ],
    )
    return stack


async def next_second(env) -> datetime:
    now = await env.get_current_time()
    return now.replace(microsecond=0) + timedelta(seconds=1)


def photo(label: str, captured_at) -> bytes:
    return photo_bytes(label, captured_at.astimezone(ZoneInfo("Asia/Shanghai")))


async def upload(stack, caller, opportunity_id, action_key, kind, captured_at, content: bytes):
    async with channel(stack.target("evidence"), caller) as evidence_channel:
        stub = evidence_pb2_grpc.EvidenceServiceStub(evidence_channel)
        metadata = evidence_pb2.UploadMetadata(
            opportunity_id=opportunity_id, action_key=action_key, kind=kind, filename=f"{kind}.bin"
        )
        if captured_at is not None:
            metadata.captured_at.FromDatetime(captured_at)

        async def parts():
            yield evidence_pb2.UploadRequest(metadata=metadata)
            yield evidence_pb2.UploadRequest(chunk=content)

        record = await stub.Upload(parts())
        return record.evidence_id


async def test_a_pipeline_runs_from_grpc_through_events_to_points_and_legal(stack):
    opportunity_id = f"E2E{uuid.uuid4().hex[:6].upper()}"
    env = stack.environment
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)

        started = await pipelines.StartPipeline(
            pipeline_pb2.StartPipelineRequest(
                opportunity_id=opportunity_id, rep_id=REP.id, account="Acme", product="Pro"
            )
        )
        assert not started.already_running
        assert started.state.current_action == "appointment"
        again = await pipelines.StartPipeline(
            pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
        )
        assert again.already_running

        appointment = pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id, action_key="appointment"
        )
        first = await pipelines.CompleteAction(appointment)
        # A client retrying after a lost answer gets the same answer, not a second +5.
        retried = await pipelines.CompleteAction(appointment)
        assert (retried.points, retried.on_time) == (first.points, first.on_time) == (5, True)
        # Photos carry their capture time in EXIF, to the second: taken just after the
        # action opened, completed two seconds later. (The evidence service refuses capture
        # times in its own future, so the server clock stays near the wall clock.)
        taken = await next_second(env)
        diagnosis_photo = await upload(
            stack,
            REP,
            opportunity_id,
            "onsite_diagnosis",
            "onsite_photo",
            None,
            photo(f"diagnosis {opportunity_id}", taken),
        )
        await env.sleep(timedelta(seconds=2))
        await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=opportunity_id,
                action_key="onsite_diagnosis",
                evidence_ids=[diagnosis_photo],
            )
        )

        # Two photos where three are needed: refused, with the list of what is missing.
        taken = await next_second(env)
        demo_photos = [
            await upload(
                stack,
                REP,
                opportunity_id,
                "solution_demo",
                "onsite_photo",
                None,
                photo(f"demo {i} {opportunity_id}", taken),
            )
            for i in range(3)
        ]
        await env.sleep(timedelta(seconds=2))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pipelines.CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=opportunity_id,
                    action_key="solution_demo",
                    evidence_ids=demo_photos[:2],
                )
            )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        rejection = rejection_detail(refused.value, pipeline_pb2.CompleteActionRejection)
        unmet = {(item.kind, item.key): item for item in rejection.unmet}
        assert (
            unmet[("evidence", "onsite_photo")].required,
            unmet[("evidence", "onsite_photo")].provided,
        ) == (3, 2)
        assert ("answer", "customer_questions") in unmet

        await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=opportunity_id,
                action_key="solution_demo",
                evidence_ids=demo_photos,
                answers=[
                    pipeline_pb2.Answer(key="customer_questions", values=["a?", "b?", "c?"]),
                    pipeline_pb2.Answer(
                        key="response_strategies",
                        values=["cost_breakdown", "trial_period", "bundle_offer"],
                    ),
                ],
            )
        )
        await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=opportunity_id,
                action_key="objection_handling",
                answers=[
                    pipeline_pb2.Answer(key="customer_objections", values=["price"]),
                    pipeline_pb2.Answer(key="response_strategies", values=["cost_breakdown"]),
                ],
            )
        )

        documents = [
            await upload(
                stack,
                REP,
                opportunity_id,
                "contract_archive",
                kind,
                None,
                document_bytes(f"{kind} {opportunity_id}"),
            )
            for kind in ("signed_signature_page", "product_list", "service_commitment_letter")
        ]
        archive = pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id, action_key="contract_archive", evidence_ids=documents
        )
        with pytest.raises(grpc.aio.AioRpcError) as waiting_for_legal:
            await pipelines.CompleteAction(archive)
        assert waiting_for_legal.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        rejection = rejection_detail(waiting_for_legal.value, pipeline_pb2.CompleteActionRejection)
        assert [(item.kind, item.key) for item in rejection.unmet] == [("ticket", "legal")]

        # The legal ticket was opened from the pipeline's event; legal resolves it over gRPC.
        async with channel(stack.target("ticketing"), LEGAL) as legal_channel:
            tickets = ticketing_pb2_grpc.TicketingServiceStub(legal_channel)

            async def opened():
                listed = await tickets.ListTickets(
                    ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id)
                )
                return list(listed.tickets)

            [ticket] = await eventually(opened)
            assert ticket.department == "legal" and ticket.status == "open"
            await tickets.ResolveTicket(
                ticketing_pb2.TicketActionRequest(ticket_key=ticket.ticket_key, note="ok")
            )

        async def archived():
            try:
                return await pipelines.CompleteAction(archive)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
                return None

        done = await eventually(archived)
        assert done.state.outcome == "won"

    # Five completed actions, +5 each, in the ledger exactly once.
    async with channel(stack.target("points"), REP) as points_channel:
        points = points_pb2_grpc.PointsServiceStub(points_channel)

        # Other tests' pipelines of the same rep share the ledger: count this one's.
        async def entries():
            reply = await points.ListEntries(
                points_pb2.ListEntriesRequest(rep_id=REP.id, limit=500)
            )
            found = [e for e in reply.entries if e.opportunity_id == opportunity_id]
            return found if len(found) == 5 else None

        found = await eventually(entries)
        assert sum(entry.points for entry in found) == 25

    # The pipeline list (a projection of the events) agrees with the workflow.
    await stack.drain_events()
    from services.pipeline.models import PipelineRecord

    async with stack.sessions() as session:
        record = await session.get(PipelineRecord, opportunity_id)
    assert (record.outcome, record.actions_completed, record.current_action) == ("won", 5, "")

    # The rep was told of each +5 and of legal's approval; legal of the review. No channel
    # is configured here, so the notices were delivered to the service log.
    await stack.drain_outbox()
    async with channel(stack.target("notifications"), MANAGER) as notices_channel:
        notices = notifications_pb2_grpc.NotificationServiceStub(notices_channel)
        listed = await notices.ListNotifications(notifications_pb2.ListNotificationsRequest())
    mine = [n for n in listed.notifications if n.opportunity_id == opportunity_id]
    assert sorted((n.recipient, n.kind) for n in mine) == [
        *[(REP.id, "points")] * 5,
        (REP.id, "ticket"),
        ("role:legal", "ticket"),
    ]
    assert {(n.channel, n.status) for n in mine} == {("log", "delivered")}
    # Analytics read the same events: the rep's objection outcome with its strategies, and
    # the demo's completeness from the files and answers the template required.
    async with channel(stack.target("analytics"), REP) as analytics_channel:
        analytics = analytics_pb2_grpc.AnalyticsServiceStub(analytics_channel)
        outcomes = await analytics.LastOutcomes(
            analytics_pb2.LastOutcomesRequest(
                rep_id=REP.id, action_key="objection_handling", limit=20
            )
        )
        [outcome] = [o for o in outcomes.outcomes if o.opportunity_id == opportunity_id]
        assert (list(outcome.strategies), outcome.topic, outcome.result) == (
            ["cost_breakdown"],
            "price",
            analytics_pb2.OUTCOME_RESULT_ACCEPTED,
        )
        assert (outcome.pipeline_outcome, outcome.quality) == ("won", 100.0)

        now = datetime.now(UTC)
        period = analytics_pb2.Filter(rep_id=REP.id)
        period.start.FromDatetime(now - timedelta(days=1))
        period.end.FromDatetime(now + timedelta(days=1))
        instances = await analytics.Quality(
            analytics_pb2.QualityRequest(
                filter=period,
                level=analytics_pb2.QUALITY_LEVEL_INSTANCE,
                action_key="solution_demo",
            )
        )
        [demo] = [i for i in instances.instances if i.opportunity_id == opportunity_id]
        assert (demo.components.evidence, demo.components.answers, demo.score) == (1.0, 1.0, 100.0)


async def test_bad_requests_get_precise_status_codes(stack):
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)

        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await pipelines.StartPipeline(pipeline_pb2.StartPipelineRequest(rep_id=REP.id))
        assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "opportunity_id" in missing.value.details()

        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await pipelines.GetPipeline(pipeline_pb2.GetPipelineRequest(opportunity_id="NOPE42"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

        with pytest.raises(grpc.aio.AioRpcError) as unknown_rep:
            await pipelines.StartPipeline(
                pipeline_pb2.StartPipelineRequest(opportunity_id="X1", rep_id="Ghost")
            )
        assert unknown_rep.value.code() == grpc.StatusCode.NOT_FOUND

        opportunity_id = f"P{uuid.uuid4().hex[:6]}"
        await pipelines.StartPipeline(
            pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
        )
        with pytest.raises(grpc.aio.AioRpcError) as wrong_step:
            await pipelines.CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=opportunity_id, action_key="contract_archive"
                )
            )
        assert wrong_step.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    async with channel(stack.target("pipeline"), OTHER_REP) as other_channel:
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await pipeline_pb2_grpc.PipelineServiceStub(other_channel).CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=opportunity_id, action_key="appointment"
                )
            )
        assert foreign.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async with channel(stack.target("pipeline")) as anonymous:
        with pytest.raises(grpc.aio.AioRpcError) as nobody:
            await pipeline_pb2_grpc.PipelineServiceStub(anonymous).GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_id)
            )
        assert nobody.value.code() == grpc.StatusCode.UNAUTHENTICATED

    async with channel(stack.target("pipeline"), MANAGER) as manager_channel:

        async def listed():
            reply = await pipeline_pb2_grpc.PipelineServiceStub(manager_channel).ListPipelines(
                pipeline_pb2.ListPipelinesRequest(region="East", current_action="appointment")
            )
            return [p.opportunity_id for p in reply.pipelines]

        assert opportunity_id in await eventually(listed)
        with pytest.raises(grpc.aio.AioRpcError) as other_region:
            await pipeline_pb2_grpc.PipelineServiceStub(manager_channel).ListPipelines(
                pipeline_pb2.ListPipelinesRequest(region="West")
            )
        assert other_region.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_lock_counts_only_real_photos_from_people_on_the_pipeline(stack):
    opportunity_id = f"L{uuid.uuid4().hex[:6]}"
    env = stack.environment
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)
        await pipelines.StartPipeline(
            pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
        )
        await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=opportunity_id, action_key="appointment"
            )
        )
        taken = await next_second(env)
        not_a_photo = await upload(
            stack,
            REP,
            opportunity_id,
            "onsite_diagnosis",
            "onsite_photo",
            taken,
            b"plain text named like a photo",
        )
        # Another rep may neither add files to this pipeline nor read its files.
        foreign_photo = photo(f"foreign {opportunity_id}", taken)
        for outsider in (OTHER_REP, Caller("Hana HR", Role.HR, frozenset())):
            with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
                await upload(
                    stack,
                    outsider,
                    opportunity_id,
                    "onsite_diagnosis",
                    "onsite_photo",
                    None,
                    foreign_photo,
                )
            assert not_theirs.value.code() == grpc.StatusCode.PERMISSION_DENIED
        async with channel(stack.target("evidence"), OTHER_REP) as outsider_channel:
            with pytest.raises(grpc.aio.AioRpcError) as not_readable:
                await evidence_pb2_grpc.EvidenceServiceStub(outsider_channel).GetEvidence(
                    evidence_pb2.GetEvidenceRequest(evidence_id=not_a_photo)
                )
            assert not_readable.value.code() == grpc.StatusCode.PERMISSION_DENIED

        # A director may add files anywhere, but only the rep's or manager's count.
        someone_elses = await upload(
            stack,
            DIRECTOR,
            opportunity_id,
            "onsite_diagnosis",
            "onsite_photo",
            None,
            foreign_photo,
        )
        await env.sleep(timedelta(seconds=2))

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pipelines.CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=opportunity_id,
                    action_key="onsite_diagnosis",
                    evidence_ids=[not_a_photo, someone_elses],
                )
            )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        rejection = rejection_detail(refused.value, pipeline_pb2.CompleteActionRejection)
        [unmet] = rejection.unmet
        assert (unmet.kind, unmet.key, unmet.required, unmet.provided) == (
            "evidence",
            "onsite_photo",
            1,
            0,
        )

    hr = Caller("Hana HR", Role.HR, frozenset())
    async with channel(stack.target("pipeline"), hr) as hr_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(hr_channel)
        state = await pipelines.GetPipeline(
            pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_id)
        )
        assert state.current_action == "onsite_diagnosis"
        with pytest.raises(grpc.aio.AioRpcError) as not_sales:
            await pipelines.ClosePipeline(
                pipeline_pb2.ClosePipelineRequest(opportunity_id=opportunity_id, reason="no")
            )
        assert not_sales.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_every_service_answers_health_checks_and_reflection(stack):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    expected = {
        "pipeline": "salesflow.pipeline.v1.PipelineService",
        "evidence": "salesflow.evidence.v1.EvidenceService",
        "points": "salesflow.points.v1.PointsService",
        "ticketing": "salesflow.ticketing.v1.TicketingService",
        "notifications": "salesflow.notifications.v1.NotificationService",
        "analytics": "salesflow.analytics.v1.AnalyticsService",
    }
    for name, service in expected.items():
        async with channel(stack.target(name)) as plain:
            health = health_pb2_grpc.HealthStub(plain)
            for checked in ("", service):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=checked))
                assert reply.status == health_pb2.HealthCheckResponse.SERVING

            reflection = reflection_pb2_grpc.ServerReflectionStub(plain)

            async def ask():
                yield reflection_pb2.ServerReflectionRequest(list_services="")

            async for answer in reflection.ServerReflectionInfo(ask()):
                listed = {s.name for s in answer.list_services_response.service}
                assert service in listed
                assert "grpc.health.v1.Health" in listed


async def walk_to_contract_archive(
    stack, pipelines, opportunity_id: str, rep: Caller, *, wait_past=None
) -> list[str]:
    """Starts the pipeline as the rep (`pipelines` speaks as them) and completes the four
    actions before the contract archive; answers the ids of the three contract documents,
    uploaded. `wait_past(moment)` lets photo capture times pass (default: 2 s of workflow
    time skipped)."""
    env = stack.environment
    await pipelines.StartPipeline(
        pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=rep.id)
    )
    await pipelines.CompleteAction(
        pipeline_pb2.CompleteActionRequest(opportunity_id=opportunity_id, action_key="appointment")
    )
    for action_key, count, answers in (
        ("onsite_diagnosis", 1, []),
        (
            "solution_demo",
            3,
            [
                pipeline_pb2.Answer(key="customer_questions", values=["a?", "b?", "c?"]),
                pipeline_pb2.Answer(
                    key="response_strategies",
                    values=["cost_breakdown", "trial_period", "bundle_offer"],
                ),
            ],
        ),
    ):
        taken = await next_second(env)
        photos = [
            await upload(
                stack,
                rep,
                opportunity_id,
                action_key,
                "onsite_photo",
                None,
                photo(f"{action_key} {i} {opportunity_id}", taken),
            )
            for i in range(count)
        ]
        if wait_past is None:
            await env.sleep(timedelta(seconds=2))
        else:
            await wait_past(taken)
        await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=opportunity_id,
                action_key=action_key,
                evidence_ids=photos,
                answers=answers,
            )
        )
    await pipelines.CompleteAction(
        pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id,
            action_key="objection_handling",
            answers=[
                pipeline_pb2.Answer(key="customer_objections", values=["price"]),
                pipeline_pb2.Answer(key="response_strategies", values=["cost_breakdown"]),
            ],
        )
    )
    return [
        await upload(
            stack,
            rep,
            opportunity_id,
            "contract_archive",
            kind,
            None,
            document_bytes(f"{kind} {opportunity_id}"),
        )
        for kind in ("signed_signature_page", "product_list", "service_commitment_letter")
    ]


async def test_a_rejected_legal_review_goes_back_to_the_rep_who_resubmits_and_wins(stack):
    from tests.workflows.test_pipeline_timers import published

    # A rep of this test's own: the session's ledger counts the other tests' reps.
    rosa = Caller("Rosa Return", Role.REP, frozenset({"East"}))
    await upsert_team(stack.sessions, [TeamMember(rosa.id, "Mona Manager", "East")])
    opportunity_id = f"RET{uuid.uuid4().hex[:6].upper()}"
    reason = "the signature page is not signed by the customer's legal representative"
    async with (
        channel(stack.target("pipeline"), rosa) as rep_channel,
        channel(stack.target("ticketing"), LEGAL) as legal_channel,
    ):
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)
        tickets = ticketing_pb2_grpc.TicketingServiceStub(legal_channel)
        documents = await walk_to_contract_archive(stack, pipelines, opportunity_id, rosa)
        archive = pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id, action_key="contract_archive", evidence_ids=documents
        )

        async def listed(status: str):
            reply = await tickets.ListTickets(
                ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id, status=status)
            )
            return list(reply.tickets)

        [ticket] = await eventually(lambda: listed("open"))
        key = ticket.ticket_key
        await tickets.RejectTicket(ticketing_pb2.TicketActionRequest(ticket_key=key, note=reason))

        # The pipeline sends the contract step back to the rep, open, with legal's reason.
        async def returned():
            state = await pipelines.GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_id)
            )
            step = next(a for a in state.actions if a.key == "contract_archive")
            return (state, step) if step.returned else None

        state, step = await eventually(returned)
        assert (state.current_action, step.status, step.return_reason) == (
            "contract_archive",
            "open",
            reason,
        )
        assert [(t.ticket_key, t.status, t.note) for t in state.tickets] == [
            (key, "rejected", reason)
        ]
        with pytest.raises(grpc.aio.AioRpcError) as still_locked:
            await pipelines.CompleteAction(archive)
        assert still_locked.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        rejection = rejection_detail(still_locked.value, pipeline_pb2.CompleteActionRejection)
        [unmet] = rejection.unmet
        assert (unmet.kind, unmet.key) == ("ticket", "legal")
        assert reason in unmet.message

        # Only who may complete the step may resubmit it.
        resubmit = pipeline_pb2.ResubmitActionRequest(
            opportunity_id=opportunity_id,
            action_key="contract_archive",
            note="signed again by the legal representative",
        )
        for outsider in (OTHER_REP, LEGAL):
            async with channel(stack.target("pipeline"), outsider) as outsider_channel:
                with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
                    await pipeline_pb2_grpc.PipelineServiceStub(outsider_channel).ResubmitAction(
                        resubmit
                    )
                assert not_theirs.value.code() == grpc.StatusCode.PERMISSION_DENIED

        state = await pipelines.ResubmitAction(resubmit)
        step = next(a for a in state.actions if a.key == "contract_archive")
        assert (step.status, step.returned) == ("open", False)
        assert [(t.ticket_key, t.status, t.occurrence) for t in state.tickets] == [
            (f"{key}:2", "requested", 2)
        ]
        with pytest.raises(grpc.aio.AioRpcError) as nothing_returned:
            await pipelines.ResubmitAction(resubmit)
        assert nothing_returned.value.code() == grpc.StatusCode.FAILED_PRECONDITION

        # Legal reviews the second occurrence and resolves it; the contract completes.
        [follow_up] = await eventually(lambda: listed("open"))
        assert (follow_up.ticket_key, follow_up.previous_ticket_key) == (f"{key}:2", key)
        await tickets.ResolveTicket(
            ticketing_pb2.TicketActionRequest(ticket_key=follow_up.ticket_key, note="approved")
        )

        async def archived():
            try:
                return await pipelines.CompleteAction(archive)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
                return None

        done = await eventually(archived)
        assert done.state.outcome == "won"

    workflow_id = f"pipeline-{opportunity_id}"
    assert await published(stack.bus, "action.returned") == [
        f"{workflow_id}:action.returned:contract_archive:1:1"
    ]
    assert await published(stack.bus, "ticket.requested") == [
        f"{workflow_id}:ticket.requested:{key}",
        f"{workflow_id}:ticket.requested:{key}:2",
    ]
