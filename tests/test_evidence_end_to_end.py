"""The evidence lock end to end: uploads over the evidence gRPC service, completions over the
pipeline gRPC service, the lock in the workflow, on PostgreSQL and the time-skipping server."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
from PIL import ExifTags, Image

from salesflow.core.caller import Caller, Role
from salesflow.core.rpc import channel, rejection_detail
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team

REP = Caller("Petra Photo", Role.REP, frozenset({"North"}))
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def stack(stack):
    await upsert_team(stack.sessions, [TeamMember(REP.id, "Nils Manager", "North")])
    return stack


def camera_photo(taken: datetime, *, digitized: datetime | None = None) -> bytes:
    """A JPEG as a phone writes it in Shanghai: EXIF times with their +08:00 offset."""
    local = taken.astimezone(SHANGHAI)
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = uuid.uuid4().hex
    exif[ExifTags.IFD.Exif] = {
        ExifTags.Base.DateTimeOriginal: local.strftime("%Y:%m:%d %H:%M:%S"),
        ExifTags.Base.OffsetTimeOriginal: "+08:00",
        ExifTags.Base.DateTimeDigitized: (digitized or taken)
        .astimezone(SHANGHAI)
        .strftime("%Y:%m:%d %H:%M:%S"),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 120, 200)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


async def upload(stack, opportunity_id: str, content: bytes) -> evidence_pb2.Evidence:
    async with channel(stack.target("evidence"), REP) as evidence_channel:
        stub = evidence_pb2_grpc.EvidenceServiceStub(evidence_channel)
        metadata = evidence_pb2.UploadMetadata(
            opportunity_id=opportunity_id,
            action_key="onsite_diagnosis",
            kind="onsite_photo",
            filename="IMG_0001.jpg",
        )

        async def parts():
            yield evidence_pb2.UploadRequest(metadata=metadata)
            yield evidence_pb2.UploadRequest(chunk=content)

        return await stub.Upload(parts(), metadata=REP.metadata())


async def test_a_photo_reused_for_another_customer_is_refused_there_and_counts_for_the_first(
    stack,
):
    env = stack.environment
    customer_a, customer_b = (f"R{uuid.uuid4().hex[:6].upper()}" for _ in range(2))
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)
        for customer in (customer_a, customer_b):
            await pipelines.StartPipeline(
                pipeline_pb2.StartPipelineRequest(opportunity_id=customer, rep_id=REP.id)
            )
            await pipelines.CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=customer, action_key="appointment"
                )
            )

        # Photos taken a second into the diagnosis, to the second, in EXIF.
        now = await env.get_current_time()
        taken = now.replace(microsecond=0) + timedelta(seconds=1)
        shared = camera_photo(taken)
        for_a = await upload(stack, customer_a, shared)
        reused = await upload(stack, customer_b, shared)
        conflicting = await upload(
            stack, customer_b, camera_photo(taken, digitized=taken + timedelta(hours=3))
        )
        too_early = await upload(stack, customer_b, camera_photo(taken - timedelta(hours=1)))
        await env.sleep(timedelta(seconds=2))

        assert list(for_a.flags) == []
        assert list(reused.flags) == ["reused_elsewhere"]
        assert list(reused.reused_from_opportunity_ids) == [customer_a]
        assert list(conflicting.flags) == ["exif_dates_conflict"]

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pipelines.CompleteAction(
                pipeline_pb2.CompleteActionRequest(
                    opportunity_id=customer_b,
                    action_key="onsite_diagnosis",
                    evidence_ids=[
                        reused.evidence_id,
                        conflicting.evidence_id,
                        too_early.evidence_id,
                    ],
                )
            )
        completed_a = await pipelines.CompleteAction(
            pipeline_pb2.CompleteActionRequest(
                opportunity_id=customer_a,
                action_key="onsite_diagnosis",
                evidence_ids=[for_a.evidence_id],
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
    assert [(item.evidence_id, item.reason) for item in unmet.rejected] == [
        (reused.evidence_id, "reused_elsewhere"),
        (conflicting.evidence_id, "exif_dates_conflict"),
        (too_early.evidence_id, "captured_before_action"),
    ]
    assert all(item.detail for item in unmet.rejected)
    assert reused.evidence_id in unmet.message
    assert completed_a.state.current_action == "solution_demo"
