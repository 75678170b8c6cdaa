"""Where a replay places each opportunity's actions between its engage and close dates.

The export knows only when an opportunity was engaged, when it closed and how it ended.
The replay turns that into the steps a rep would have taken, deterministically:

- Times of day are fixed per step, in the company's time zone: pipeline start 09:00,
  appointment 10:00, on-site diagnosis 11:00, solution demo 14:00, objection handling
  15:00, legal's contract review 16:00, contract archive or loss 17:00.
- Days are fractions of the span from engage date to close date (or to the export's
  as-of date for open deals): appointment at 10%, diagnosis 30%, demo 55%, objection
  handling 80%, legal review the day before closing (never before objection handling),
  contract archive on the close date.
- Won deals complete all five actions. Lost deals complete 0 to 3 actions (chosen from
  a hash of the opportunity id, so every run places them the same) and close as lost on
  the close date. Engaging deals complete 0 to 4 and stay open. Prospecting deals with no
  engage date start on the as-of date and stay at the appointment.
- Photos are captured 30 to 90 minutes before the action they prove; the 48 h and 72 h
  timers fire wherever the placed gaps exceed them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from salesflow.replay.export import Opportunity
from workflows.pipeline.template import RESPONSE_STRATEGIES


class StepKind(StrEnum):
    START = "start"
    COMPLETE = "complete"
    RESOLVE_TICKET = "resolve_ticket"
    CLOSE_LOST = "close_lost"


ACTION_ORDER = (
    "appointment",
    "onsite_diagnosis",
    "solution_demo",
    "objection_handling",
    "contract_archive",
)
ACTION_FRACTION = {
    "appointment": 0.10,
    "onsite_diagnosis": 0.30,
    "solution_demo": 0.55,
    "objection_handling": 0.80,
}
TIME_OF_DAY = {
    "start": time(9),
    "appointment": time(10),
    "onsite_diagnosis": time(11),
    "solution_demo": time(14),
    "objection_handling": time(15),
    "legal_review": time(16),
    "contract_archive": time(17),
    "close_lost": time(17),
}
CUSTOMER_QUESTIONS = (
    "What is the delivery lead time?",
    "How does maintenance work after installation?",
    "Can the system integrate with our ERP?",
    "What training do our operators get?",
    "Which customers in our sector use it?",
)
OBJECTIONS = ("price", "delivery_time", "competitor_offer", "payment_terms")


@dataclass(frozen=True)
class EvidenceNeed:
    kind: str
    captured_at: datetime | None


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: StepKind
    opportunity: Opportunity
    action_key: str = ""
    evidence: tuple[EvidenceNeed, ...] = ()
    answers: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass
class OpportunityPlan:
    opportunity: Opportunity
    steps: list[Step] = field(default_factory=list)


def stable_number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def plan_opportunity(opportunity: Opportunity, *, as_of: date, zone: ZoneInfo) -> OpportunityPlan:
    """The steps for one opportunity, in time order."""
    plan = OpportunityPlan(opportunity)
    number = stable_number(opportunity.opportunity_id)

    def at(day: date, moment: str) -> datetime:
        return datetime.combine(day, TIME_OF_DAY[moment], tzinfo=zone)

    engage = opportunity.engage_date or as_of
    end = opportunity.close_date or as_of
    span_days = max((end - engage).days, 0)
    plan.steps.append(Step(at(engage, "start"), StepKind.START, opportunity))

    if opportunity.stage == "Won":
        completed = 4
    elif opportunity.stage == "Lost":
        completed = number % 4
    elif opportunity.stage == "Engaging":
        completed = number % 5
    else:
        completed = 0

    objection_day = engage
    for action_key in ACTION_ORDER[:completed]:
        day = engage + timedelta(days=round(ACTION_FRACTION[action_key] * span_days))
        moment = at(day, action_key)
        plan.steps.append(
            Step(
                moment,
                StepKind.COMPLETE,
                opportunity,
                action_key=action_key,
                evidence=_evidence_for(action_key, moment),
                answers=_answers_for(action_key, number),
            )
        )
        objection_day = day

    if opportunity.stage == "Won":
        review_day = max(objection_day, end - timedelta(days=1))
        plan.steps.append(
            Step(
                at(review_day, "legal_review"),
                StepKind.RESOLVE_TICKET,
                opportunity,
                "contract_archive",
            )
        )
        archive_at = at(end, "contract_archive")
        plan.steps.append(
            Step(
                archive_at,
                StepKind.COMPLETE,
                opportunity,
                action_key="contract_archive",
                evidence=_evidence_for("contract_archive", archive_at),
            )
        )
    elif opportunity.stage == "Lost":
        plan.steps.append(Step(at(end, "close_lost"), StepKind.CLOSE_LOST, opportunity))
    return plan


def _evidence_for(action_key: str, completed_at: datetime) -> tuple[EvidenceNeed, ...]:
    if action_key == "onsite_diagnosis":
        return (EvidenceNeed("onsite_photo", completed_at - timedelta(minutes=30)),)
    if action_key == "solution_demo":
        return tuple(
            EvidenceNeed("onsite_photo", completed_at - timedelta(minutes=minutes))
            for minutes in (90, 60, 30)
        )
    if action_key == "contract_archive":
        return tuple(
            EvidenceNeed(kind, None)
            for kind in ("signed_signature_page", "product_list", "service_commitment_letter")
        )
    return ()


def _answers_for(action_key: str, number: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    strategies = [
        RESPONSE_STRATEGIES[(number + offset * 3) % len(RESPONSE_STRATEGIES)] for offset in range(3)
    ]
    if action_key == "solution_demo":
        questions = [CUSTOMER_QUESTIONS[(number + i) % len(CUSTOMER_QUESTIONS)] for i in range(3)]
        return (
            ("customer_questions", tuple(questions)),
            ("response_strategies", tuple(strategies)),
        )
    if action_key == "objection_handling":
        return (
            ("customer_objections", (OBJECTIONS[number % len(OBJECTIONS)],)),
            ("response_strategies", tuple(strategies[:2])),
        )
    return ()
