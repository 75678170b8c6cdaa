"""The validation lock: what an action still lacks before it may be completed.

Pure functions over the action's rules and what the caller presented; the workflow runs
them in its update validator, so every caller (gRPC, CLI, replay) meets the same check.

A presented file counts towards an evidence requirement of its kind only when it was
uploaded for this opportunity by the pipeline's rep or manager, carries no flag from the
evidence store, has content (decided from its bytes) of an accepted type and, for photos,
was captured inside the action's window. Each file that does not count is listed with a
reason code, so a client can show per file what is wrong. Files with the same content
count once, for one requirement only.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.pipeline.template import ActionTemplate, EvidenceRequirement
from workflows.pipeline.types import (
    AnswerInput,
    EvidenceItem,
    RejectedEvidence,
    TicketSnapshot,
    Unmet,
)

# Reasons a presented file does not count (RejectedEvidence.reason).
REUSED_ELSEWHERE = "reused_elsewhere"
EXIF_DATES_CONFLICT = "exif_dates_conflict"
OTHER_OPPORTUNITY = "other_opportunity"
NOT_UPLOADED_BY_PIPELINE = "not_uploaded_by_pipeline"
CONTENT_TYPE = "content_type"
NO_CAPTURE_TIME = "no_capture_time"
CAPTURED_BEFORE_ACTION = "captured_before_action"
CAPTURED_AFTER_COMPLETION = "captured_after_completion"
DUPLICATE_CONTENT = "duplicate_content"

# Ticket statuses that send the action back to the rep until it is resubmitted.
SENT_BACK = ("rejected", "changes_requested")

# What the evidence store's flags mean, in the order they are reported.
_FLAG_DETAILS = {
    REUSED_ELSEWHERE: "the same file was attached to another customer's pipeline first",
    EXIF_DATES_CONFLICT: "the photo's EXIF dates disagree with one another",
}


def unmet_requirements(
    action: ActionTemplate,
    *,
    opportunity_id: str,
    window_start: datetime,
    window_end: datetime,
    evidence: list[EvidenceItem],
    answers: list[AnswerInput],
    tickets: list[TicketSnapshot],
    uploaders: frozenset[str],
    time_zone: str = "",
) -> list[Unmet]:
    """Every unmet requirement of the action; an empty list means it may complete.

    `time_zone` is the rep's IANA zone: a photo whose EXIF time carried no offset is read
    in it. Without one, such a photo keeps the evidence service's reading in the company's
    zone (SALESFLOW_TIMEZONE).
    """
    unmet: list[Unmet] = []
    zone = _zone(time_zone)

    # One file proves one thing: content counted for one requirement counts for no other.
    counted_anywhere: dict[str, tuple[str, str]] = {}
    for requirement in action.evidence:
        counted: dict[str, str] = {}
        rejected: list[RejectedEvidence] = []
        for item in evidence:
            if item.kind != requirement.kind:
                continue
            refusal = _refusal(
                item,
                requirement,
                opportunity_id=opportunity_id,
                window_start=window_start,
                window_end=window_end,
                uploaders=uploaders,
                zone=zone,
            )
            if refusal is None and item.sha256 in counted_anywhere:
                first_id, first_kind = counted_anywhere[item.sha256]
                refusal = RejectedEvidence(
                    item.evidence_id,
                    DUPLICATE_CONTENT,
                    f"the same content as {first_id}, which counts already as {first_kind}",
                )
            if refusal is not None:
                rejected.append(refusal)
                continue
            counted[item.sha256] = item.evidence_id
            counted_anywhere[item.sha256] = (item.evidence_id, requirement.kind)
        if len(counted) < requirement.count:
            unmet.append(_unmet_evidence(requirement, len(counted), rejected))

    given = {answer.key: answer.values for answer in answers}
    for requirement in action.answers:
        values = [value.strip() for value in given.get(requirement.key, []) if value.strip()]
        if requirement.choices:
            invalid = sorted({value for value in values if value not in requirement.choices})
            if invalid:
                unmet.append(
                    Unmet(
                        kind="answer",
                        key=requirement.key,
                        required=requirement.count,
                        provided=len(set(values) - set(invalid)),
                        message=f"{requirement.key}: {', '.join(invalid)} not among "
                        f"{', '.join(requirement.choices)}",
                    )
                )
                continue
        distinct = len(dict.fromkeys(values))
        if distinct < requirement.count:
            unmet.append(
                Unmet(
                    kind="answer",
                    key=requirement.key,
                    required=requirement.count,
                    provided=distinct,
                    message=f"needs {requirement.count} distinct {requirement.key}, has {distinct}",
                )
            )

    for ticket in tickets:
        if ticket.action_key == action.key and ticket.status != "resolved":
            reason = ""
            if ticket.status in SENT_BACK:
                note = f": {ticket.note}" if ticket.note else ""
                reason = f"{note}; revise and resubmit the action"
            unmet.append(
                Unmet(
                    kind="ticket",
                    key=ticket.department,
                    required=1,
                    provided=0,
                    message=f"{ticket.department} ticket {ticket.ticket_key} is "
                    f"{ticket.status}{reason}",
                )
            )
    return unmet


def _refusal(
    item: EvidenceItem,
    requirement: EvidenceRequirement,
    *,
    opportunity_id: str,
    window_start: datetime,
    window_end: datetime,
    uploaders: frozenset[str],
    zone: ZoneInfo | None,
) -> RejectedEvidence | None:
    """Why a file of the requirement's kind does not count, or None when it does."""

    def refused(reason: str, detail: str) -> RejectedEvidence:
        return RejectedEvidence(item.evidence_id, reason, detail)

    if item.opportunity_id != opportunity_id:
        return refused(
            OTHER_OPPORTUNITY, f"uploaded for opportunity {item.opportunity_id}, not this one"
        )
    if item.uploaded_by not in uploaders:
        return refused(
            NOT_UPLOADED_BY_PIPELINE,
            f"uploaded by {item.uploaded_by or 'nobody known'}, "
            "neither the pipeline's rep nor its manager",
        )
    for flag, detail in _FLAG_DETAILS.items():
        if flag in item.flags:
            return refused(flag, detail)
    unknown_flags = sorted(set(item.flags) - set(_FLAG_DETAILS))
    if unknown_flags:
        return refused(unknown_flags[0], f"flagged {unknown_flags[0]} by the evidence store")

    if requirement.content_types and not item.content_type.startswith(requirement.content_types):
        return refused(
            CONTENT_TYPE,
            f"its content is {item.content_type or 'of unknown type'}, "
            f"not {' or '.join(requirement.content_types)}",
        )

    if not requirement.captured_in_window:
        return None
    captured_at = capture_instant(item, zone)
    if captured_at is None:
        return refused(
            NO_CAPTURE_TIME,
            "it has no capture time (no EXIF date and none from the uploader; "
            "the upload time never counts)",
        )
    if captured_at < window_start:
        return refused(
            CAPTURED_BEFORE_ACTION,
            f"captured {_described(item, captured_at, zone)}, before the action started "
            f"at {_iso(window_start)}",
        )
    if captured_at > window_end:
        return refused(
            CAPTURED_AFTER_COMPLETION,
            f"captured {_described(item, captured_at, zone)}, after {_iso(window_end)}",
        )
    return None


def capture_instant(item: EvidenceItem, zone: ZoneInfo | None) -> datetime | None:
    """When the file was captured: an offset-less EXIF time is read in `zone` if given."""
    if zone is not None and item.capture_offset_assumed and item.captured_local:
        try:
            local = datetime.fromisoformat(item.captured_local)
        except ValueError:
            return item.captured_at
        return local.replace(tzinfo=zone) if local.tzinfo is None else local
    return item.captured_at


def _unmet_evidence(
    requirement: EvidenceRequirement, provided: int, rejected: list[RejectedEvidence]
) -> Unmet:
    types = f" ({' or '.join(requirement.content_types)})" if requirement.content_types else ""
    window = " captured during the action" if requirement.captured_in_window else ""
    message = (
        f"needs {requirement.count} distinct {requirement.kind}{types}{window}, uploaded by "
        f"the pipeline's rep or manager; has {provided}"
    )
    if rejected:
        listed = "; ".join(f"{refusal.evidence_id}: {refusal.detail}" for refusal in rejected)
        message += f" (not counted: {listed})"
    return Unmet(
        kind="evidence",
        key=requirement.kind,
        required=requirement.count,
        provided=provided,
        message=message,
        rejected=rejected,
    )


def _zone(name: str) -> ZoneInfo | None:
    # The rep's zone is checked when the team directory is loaded; a zone this worker does
    # not know falls back to the company's reading rather than failing every completion.
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _described(item: EvidenceItem, captured_at: datetime, zone: ZoneInfo | None) -> str:
    if item.capture_offset_assumed and item.captured_local:
        where = zone.key if zone is not None else "the company's time zone"
        return f"{item.captured_local} (no offset in the photo; read in {where})"
    return _iso(captured_at)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
