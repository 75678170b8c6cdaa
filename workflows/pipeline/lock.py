"""The validation lock: what an action still lacks before it may be completed.

Pure functions over the action's rules and what the caller presented; the workflow runs
them in its update validator, so every caller (gRPC, CLI, replay) meets the same check.
"""

from __future__ import annotations

from datetime import datetime

from workflows.pipeline.template import ActionTemplate
from workflows.pipeline.types import AnswerInput, EvidenceItem, TicketSnapshot, Unmet


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

    A file counts once, only for this customer's pipeline, only when its content (decided
    from its bytes) is of an accepted type and someone on the pipeline uploaded it.
    """
    unmet: list[Unmet] = []

    for requirement in action.evidence:
        hashes: set[str] = set()
        for item in evidence:
            if item.kind != requirement.kind or item.opportunity_id != opportunity_id:
                continue
            if item.uploaded_by not in uploaders:
                continue
            if requirement.content_types and not item.content_type.startswith(
                requirement.content_types
            ):
                continue
            if requirement.captured_in_window and not _captured_within(
                item.captured_at, window_start, window_end
            ):
                continue
            hashes.add(item.sha256)
        if len(hashes) < requirement.count:
            types = (
                f" ({' or '.join(requirement.content_types)})" if requirement.content_types else ""
            )
            window = " captured during the action" if requirement.captured_in_window else ""
            unmet.append(
                Unmet(
                    kind="evidence",
                    key=requirement.kind,
                    required=requirement.count,
                    provided=len(hashes),
                    message=f"needs {requirement.count} distinct {requirement.kind}{types}"
                    f"{window}, uploaded by the pipeline's rep or manager; has {len(hashes)}",
                )
            )

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
            reason = f" ({ticket.note})" if ticket.status == "rejected" and ticket.note else ""
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


def _captured_within(captured_at: datetime | None, start: datetime, end: datetime) -> bool:
    return captured_at is not None and start <= captured_at <= end
