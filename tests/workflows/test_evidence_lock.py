"""The evidence lock: which presented files count, and why the others do not.

The pure function first, then the pipeline workflow on the time-skipping server, where the
rep's time zone decides whether a photo without an EXIF offset was taken during the action.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError

from workflows.pipeline.lock import unmet_requirements
from workflows.pipeline.template import default_template
from workflows.pipeline.types import (
    CompleteActionInput,
    EvidenceItem,
    PipelineInput,
    RejectedEvidence,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

OPPORTUNITY = "OPP-1"
REP = "Anna Snelling"
MANAGER = "Dustin Brinkmann"
START = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
END = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
INSIDE = datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def photo(evidence_id: str, **overrides) -> EvidenceItem:
    """A photo that counts for OPPORTUNITY's diagnosis, unless overridden."""
    fields = {
        "evidence_id": evidence_id,
        "opportunity_id": OPPORTUNITY,
        "kind": "onsite_photo",
        "sha256": hashlib.sha256(evidence_id.encode()).hexdigest(),
        "captured_at": INSIDE,
        "content_type": "image/jpeg",
        "uploaded_by": REP,
    }
    return EvidenceItem(**{**fields, **overrides})


def without_offset(evidence_id: str, local: datetime) -> EvidenceItem:
    """A photo whose EXIF had no offset, read by the evidence service in Asia/Shanghai."""
    return photo(
        evidence_id,
        captured_at=local.replace(tzinfo=SHANGHAI).astimezone(UTC),
        captured_local=local.isoformat(),
        capture_offset_assumed=True,
    )


def unmet(action_key: str, evidence: list[EvidenceItem], *, time_zone: str = ""):
    return unmet_requirements(
        default_template().action(action_key),
        opportunity_id=OPPORTUNITY,
        window_start=START,
        window_end=END,
        evidence=evidence,
        answers=[],
        tickets=[],
        uploaders=frozenset({REP, MANAGER}),
        time_zone=time_zone,
    )


def test_a_photo_taken_during_the_action_by_the_rep_counts():
    assert unmet("onsite_diagnosis", [photo("ev-1")]) == []
    assert unmet("onsite_diagnosis", [photo("ev-1", uploaded_by=MANAGER)]) == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"flags": ["reused_elsewhere"]}, "reused_elsewhere", id="reused"),
        pytest.param({"flags": ["exif_dates_conflict"]}, "exif_dates_conflict", id="conflict"),
        pytest.param({"opportunity_id": "OPP-2"}, "other_opportunity", id="other-customer"),
        pytest.param({"uploaded_by": "Someone"}, "not_uploaded_by_pipeline", id="stranger"),
        # A text file named .jpg: the evidence service typed it from its bytes.
        pytest.param(
            {"content_type": "application/octet-stream"}, "content_type", id="not-an-image"
        ),
        pytest.param({"content_type": "application/pdf"}, "content_type", id="pdf"),
        # No EXIF and no client capture time; the upload time is never a capture time.
        pytest.param({"captured_at": None}, "no_capture_time", id="no-capture-time"),
        pytest.param(
            {"captured_at": START - timedelta(seconds=1)}, "captured_before_action", id="early"
        ),
        pytest.param(
            {"captured_at": END + timedelta(seconds=1)}, "captured_after_completion", id="late"
        ),
    ],
)
def test_a_photo_that_does_not_count_is_listed_with_its_reason(overrides, reason):
    [requirement] = unmet("onsite_diagnosis", [photo("ev-1", **overrides)])

    assert (requirement.kind, requirement.key, requirement.required, requirement.provided) == (
        "evidence",
        "onsite_photo",
        1,
        0,
    )
    [rejected] = requirement.rejected
    assert (rejected.evidence_id, rejected.reason) == ("ev-1", reason)
    assert rejected.detail
    assert f"ev-1: {rejected.detail}" in requirement.message


def test_a_flagged_photo_is_refused_while_a_good_one_still_counts():
    reused = photo("ev-reused", flags=["reused_elsewhere"])

    assert unmet("onsite_diagnosis", [reused, photo("ev-own")]) == []


def test_the_same_content_counts_once_and_the_copy_is_named():
    first, second = photo("ev-1"), photo("ev-2")
    copy = replace(photo("ev-3"), sha256=first.sha256)

    [requirement] = unmet("solution_demo", [first, second, copy])[:1]

    assert (requirement.key, requirement.required, requirement.provided) == ("onsite_photo", 3, 2)
    assert requirement.rejected == [
        RejectedEvidence(
            "ev-3",
            "duplicate_content",
            "the same content as ev-1, which counts already as onsite_photo",
        )
    ]


def test_one_document_uploaded_as_three_kinds_proves_only_one_of_them():
    def scan(evidence_id: str, kind: str, content: str) -> EvidenceItem:
        return photo(
            evidence_id,
            kind=kind,
            content_type="application/pdf",
            sha256=hashlib.sha256(content.encode()).hexdigest(),
        )

    kinds = ("signed_signature_page", "product_list", "service_commitment_letter")
    same_file = [scan(f"doc-{kind}", kind, "one document") for kind in kinds]

    missing = unmet("contract_archive", same_file)

    assert [(u.key, u.provided) for u in missing if u.kind == "evidence"] == [
        ("product_list", 0),
        ("service_commitment_letter", 0),
    ]
    assert [r.reason for u in missing for r in u.rejected] == ["duplicate_content"] * 2

    three_files = [scan(f"doc-{kind}", kind, kind) for kind in kinds]
    assert [u for u in unmet("contract_archive", three_files) if u.kind == "evidence"] == []


def test_contract_documents_must_be_scans_not_text():
    text = photo("doc-1", kind="signed_signature_page", content_type="application/octet-stream")

    [signature, *_] = unmet("contract_archive", [text])

    assert (signature.key, signature.provided) == ("signed_signature_page", 0)
    assert signature.rejected[0].reason == "content_type"


@pytest.mark.parametrize(
    ("time_zone", "counts"),
    [
        # 09:30 in Berlin (UTC+1 in March) is 08:30 UTC: during the action.
        ("Europe/Berlin", True),
        # 09:30 in Shanghai is 01:30 UTC: hours before the action started.
        ("Asia/Shanghai", False),
        # No rep zone (or one unknown here): the evidence service's company-zone reading.
        ("", False),
        ("Mars/Olympus_Mons", False),
    ],
)
def test_a_photo_without_an_exif_offset_is_read_in_the_reps_zone(time_zone, counts):
    item = without_offset("ev-1", datetime(2024, 3, 5, 9, 30))

    found = unmet("onsite_diagnosis", [item], time_zone=time_zone)

    if counts:
        assert found == []
    else:
        [requirement] = found
        assert [refusal.reason for refusal in requirement.rejected] == ["captured_before_action"]
        assert "2024-03-05T09:30:00 (no offset in the photo" in requirement.message


def test_a_photo_with_its_offset_ignores_the_reps_zone():
    assert unmet("onsite_diagnosis", [photo("ev-1")], time_zone="America/Los_Angeles") == []


# ---- through the workflow ----------------------------------------------------------------


@pytest.fixture
async def worker(time_skipping_env, event_bus, task_queue):
    async with build_worker(time_skipping_env.client, event_bus, task_queue=task_queue):
        yield time_skipping_env, task_queue


async def _at_diagnosis(env, task_queue: str, rep_time_zone: str):
    opportunity_id = uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        PipelineInput(
            opportunity_id=opportunity_id,
            rep_id=REP,
            manager_id=MANAGER,
            region="Central",
            account="Cancity",
            product="GTX Basic",
            template=default_template(),
            rep_time_zone=rep_time_zone,
        ),
        id=workflow_id_for(opportunity_id),
        task_queue=task_queue,
    )
    await handle.execute_update(
        PipelineWorkflow.complete_action, CompleteActionInput(action_key="appointment")
    )
    return opportunity_id, handle


async def test_the_workflow_reads_an_offsetless_photo_in_the_reps_zone(worker):
    env, task_queue = worker
    berlin_id, berlin = await _at_diagnosis(env, task_queue, "Europe/Berlin")
    shanghai_id, shanghai = await _at_diagnosis(env, task_queue, "Asia/Shanghai")
    await env.sleep(timedelta(minutes=1))
    # Taken just now by a camera set to Berlin time, without an offset in its EXIF.
    taken = (await env.get_current_time()).astimezone(BERLIN).replace(tzinfo=None, microsecond=0)
    await env.sleep(timedelta(minutes=1))

    def diagnosis(opportunity_id: str) -> CompleteActionInput:
        item = replace(without_offset("ev-berlin", taken), opportunity_id=opportunity_id)
        return CompleteActionInput(action_key="onsite_diagnosis", evidence=[item])

    result = await berlin.execute_update(PipelineWorkflow.complete_action, diagnosis(berlin_id))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await shanghai.execute_update(PipelineWorkflow.complete_action, diagnosis(shanghai_id))

    assert result.next_action == "solution_demo"
    assert refused.value.cause.type == "ActionIncomplete"
    [detail] = refused.value.cause.details
    assert [(item["evidence_id"], item["reason"]) for item in detail["rejected"]] == [
        ("ev-berlin", "captured_before_action")
    ]
