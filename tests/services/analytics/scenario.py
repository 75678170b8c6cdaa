"""A small, hand-built history of pipelines, as the workflow would publish it.

Every figure the analytics tests assert is computed by hand from these events; the comments
next to each pipeline give the inputs (times are hours after T0 unless said otherwise).

Week 1 is the week of T0 (Monday 2025-03-03 in Asia/Shanghai); week 0 the one before,
week 2 the one after.

    P1  Ann  North  won     appointment 0→2, demo 2→26 (3/3 files, 6/6 answers),
                            objection 26→50 (due 74), contract 50→54; legal ticket answered
                            after 60 min
    P2  Ann  North  lost    (from 1) appointment 1→5, demo 5→11 (2/3 files), objection 11→71
                            (due 59: overdue, escalated), contract 71→ closed lost at 101
    P3  Ben  North  open    (from 2) appointment 2→3, demo open since 3
    P4  Cat  South  won     (from 3) appointment 3→5, demo 5→11, objection 11→23, contract
                            23→33; legal ticket answered after 180 min
    P5  Ann  North  open    week 2: appointment done in one hour
    P6  Ann, P7 Ann, P8 Ben, P9 Ben: week 0, objection handling then contract (P7 lost)
    P11 Dan  North  open    week 0: appointment done; Dan has left the company
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from salesflow.core.events import new_event
from salesflow.events.v1 import events_pb2

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
WEEK1_START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # Monday 00:00 in Asia/Shanghai
WEEK1_END = WEEK1_START + timedelta(days=7)
WEEK2_START = WEEK1_END
NOW = T0 + timedelta(days=30)
W0 = T0 - timedelta(days=5)  # a Wednesday of week 0

DEFAULT_KEYS = ("appointment", "solution_demo", "objection_handling", "contract_archive")


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


@dataclass
class PipelineEvents:
    """The events of one pipeline, with ids built like the workflow builds them."""

    opportunity_id: str
    rep_id: str
    region: str
    manager_id: str
    events: list[events_pb2.Event] = field(default_factory=list)

    def _event(self, event_type: str, at: datetime, *parts: str) -> events_pb2.Event:
        event_id = ":".join([f"pipeline-{self.opportunity_id}", event_type, *parts])
        event = new_event(
            event_id=event_id,
            event_type=event_type,
            source="tests",
            time=at,
            opportunity_id=self.opportunity_id,
            rep_id=self.rep_id,
            region=self.region,
        )
        self.events.append(event)
        return event

    def start(self, at: datetime, keys=DEFAULT_KEYS) -> PipelineEvents:
        event = self._event("pipeline.started", at)
        event.pipeline_started.CopyFrom(
            events_pb2.PipelineStarted(
                manager_id=self.manager_id,
                template_id="b2b-default",
                template_version=1,
                action_keys=list(keys),
            )
        )
        return self

    def begin(self, key: str, position: int, at: datetime, due: datetime | None = None):
        event = self._event("action.started", at, key)
        event.action_started.action_key = key
        event.action_started.position = position
        if due is not None:
            event.action_started.due_at.FromDatetime(due)
        return self

    def complete(
        self,
        key: str,
        at: datetime,
        *,
        started_at: datetime,
        on_time: bool = True,
        files: int = 0,
        files_required: int = 0,
        answers: dict[str, list[str]] | None = None,
        answers_required: int = 0,
    ):
        answers = answers or {}
        event = self._event("action.completed", at, key)
        payload = event.action_completed
        payload.action_key = key
        payload.started_at.FromDatetime(started_at)
        payload.on_time = on_time
        payload.points = 5
        payload.evidence_ids.extend(f"{self.opportunity_id}-{key}-file{n}" for n in range(files))
        payload.evidence_required = files_required
        payload.answers_given = sum(len(values) for values in answers.values())
        payload.answers_required = answers_required
        for answer_key, values in answers.items():
            payload.answers.add(key=answer_key, values=values)
        return self

    def overdue(self, key: str, at: datetime):
        event = self._event("action.overdue", at, key)
        event.action_overdue.action_key = key
        event.action_overdue.due_at.FromDatetime(at)
        event.action_overdue.points = -2
        return self

    def escalate(self, key: str, at: datetime, *, open_since: datetime):
        event = self._event("escalation.raised", at, key, "1")
        event.escalation_raised.action_key = key
        event.escalation_raised.level = 1
        event.escalation_raised.to_role = "regional_manager"
        event.escalation_raised.to_person = self.manager_id
        event.escalation_raised.open_since.FromDatetime(open_since)
        return self

    def ticket(self, key: str, at: datetime, *, answered: datetime, resolved: datetime):
        ticket_key = f"{self.opportunity_id}:{key}:legal"
        requested = self._event("ticket.requested", at, ticket_key)
        requested.ticket_requested.CopyFrom(
            events_pb2.TicketRequested(
                ticket_key=ticket_key,
                department="legal",
                kind="contract_review",
                action_key=key,
                response_target_minutes=120,
            )
        )
        for status, moment in (("opened", at), ("acknowledged", answered), ("resolved", resolved)):
            changed = new_event(
                event_id=f"ticket:{ticket_key}:{status}",
                event_type="ticket.changed",
                source="tests",
                time=moment,
                opportunity_id=self.opportunity_id,
                rep_id=self.rep_id,
                region=self.region,
            )
            changed.ticket_changed.CopyFrom(
                events_pb2.TicketChanged(ticket_key=ticket_key, department="legal", status=status)
            )
            self.events.append(changed)
        return self

    def close(self, outcome: str, at: datetime):
        event = self._event("pipeline.closed", at)
        event.pipeline_closed.outcome = outcome
        event.pipeline_closed.reason = "" if outcome == "won" else "customer chose a competitor"
        return self


QUESTIONS = {"customer_questions": ["lead time?", "warranty?", "training?"]}


@dataclass
class Scenario:
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def name(self, base: str) -> str:
        return f"{base} {self.suffix}"

    @property
    def north(self) -> str:
        return self.name("North")

    @property
    def south(self) -> str:
        return self.name("South")

    @property
    def ann(self) -> str:
        return self.name("Ann")

    @property
    def ben(self) -> str:
        return self.name("Ben")

    @property
    def cat(self) -> str:
        return self.name("Cat")

    @property
    def dan(self) -> str:
        return self.name("Dan")

    @property
    def north_manager(self) -> str:
        return self.name("Mona")

    @property
    def south_manager(self) -> str:
        return self.name("Sam")

    def opp(self, base: str) -> str:
        return f"{base}-{self.suffix}"

    def _pipeline(self, base: str, rep: str) -> PipelineEvents:
        south = rep == self.cat
        return PipelineEvents(
            self.opp(base),
            rep,
            self.south if south else self.north,
            self.south_manager if south else self.north_manager,
        )

    def pipelines(self) -> dict[str, PipelineEvents]:
        """Every pipeline of the history, by its short name."""
        found = {}

        p1 = self._pipeline("P1", self.ann).start(T0)
        p1.begin("appointment", 0, T0).complete("appointment", T0 + hours(2), started_at=T0)
        p1.begin("solution_demo", 1, T0 + hours(2)).complete(
            "solution_demo",
            T0 + hours(26),
            started_at=T0 + hours(2),
            files=3,
            files_required=3,
            answers={
                **QUESTIONS,
                "response_strategies": ["cost_breakdown", "value_reframing", "reference_customer"],
            },
            answers_required=6,
        )
        p1.begin("objection_handling", 2, T0 + hours(26), due=T0 + hours(74)).complete(
            "objection_handling",
            T0 + hours(50),
            started_at=T0 + hours(26),
            answers={
                "customer_objections": ["price too high"],
                "response_strategies": ["cost_breakdown"],
            },
            answers_required=2,
        )
        p1.begin("contract_archive", 3, T0 + hours(50))
        p1.ticket(
            "contract_archive", T0 + hours(50), answered=T0 + hours(51), resolved=T0 + hours(53)
        )
        p1.complete(
            "contract_archive",
            T0 + hours(54),
            started_at=T0 + hours(50),
            files=3,
            files_required=3,
        ).close("won", T0 + hours(54))
        found["P1"] = p1

        t1 = T0 + hours(1)
        p2 = self._pipeline("P2", self.ann).start(t1)
        p2.begin("appointment", 0, t1).complete("appointment", t1 + hours(4), started_at=t1)
        p2.begin("solution_demo", 1, t1 + hours(4)).complete(
            "solution_demo",
            t1 + hours(10),
            started_at=t1 + hours(4),
            files=2,
            files_required=3,
            answers={
                **QUESTIONS,
                "response_strategies": ["phased_payment", "cost_breakdown", "bundle_offer"],
            },
            answers_required=6,
        )
        p2.begin("objection_handling", 2, t1 + hours(10), due=t1 + hours(58))
        p2.overdue("objection_handling", t1 + hours(58))
        p2.escalate("objection_handling", t1 + hours(58), open_since=t1 + hours(10))
        p2.complete(
            "objection_handling",
            t1 + hours(70),
            started_at=t1 + hours(10),
            on_time=False,
            answers={
                "customer_objections": ["price too high"],
                "response_strategies": ["phased_payment"],
            },
            answers_required=2,
        )
        p2.begin("contract_archive", 3, t1 + hours(70)).close("lost", t1 + hours(100))
        found["P2"] = p2

        t2 = T0 + hours(2)
        p3 = self._pipeline("P3", self.ben).start(t2)
        p3.begin("appointment", 0, t2).complete("appointment", t2 + hours(1), started_at=t2)
        p3.begin("solution_demo", 1, t2 + hours(1))
        found["P3"] = p3

        t3 = T0 + hours(3)
        p4 = self._pipeline("P4", self.cat).start(t3)
        p4.begin("appointment", 0, t3).complete("appointment", t3 + hours(2), started_at=t3)
        p4.begin("solution_demo", 1, t3 + hours(2)).complete(
            "solution_demo",
            t3 + hours(8),
            started_at=t3 + hours(2),
            files=3,
            files_required=3,
            answers={
                **QUESTIONS,
                "response_strategies": ["value_reframing", "trial_period", "cost_breakdown"],
            },
            answers_required=6,
        )
        p4.begin("objection_handling", 2, t3 + hours(8), due=t3 + hours(56)).complete(
            "objection_handling",
            t3 + hours(20),
            started_at=t3 + hours(8),
            answers={
                "customer_objections": ["delivery lead time"],
                "response_strategies": ["value_reframing"],
            },
            answers_required=2,
        )
        p4.begin("contract_archive", 3, t3 + hours(20))
        p4.ticket(
            "contract_archive", t3 + hours(20), answered=t3 + hours(23), resolved=t3 + hours(29)
        )
        p4.complete(
            "contract_archive", t3 + hours(30), started_at=t3 + hours(20), files=3, files_required=3
        ).close("won", t3 + hours(30))
        found["P4"] = p4

        found["P5"] = self._appointment_only("P5", self.ann, T0 + timedelta(days=7))

        thursday = W0 + timedelta(days=1)
        for base, rep, start, objection, strategies, outcome in (
            (
                "P6",
                self.ann,
                W0,
                "price increase next year",
                ["phased_payment", "cost_breakdown"],
                "won",
            ),
            ("P7", self.ann, thursday, "installation schedule", ["bundle_offer"], "lost"),
            ("P8", self.ben, W0, "price too high", ["reference_customer", "cost_breakdown"], "won"),
            ("P9", self.ben, thursday, "delivery lead time", ["reference_customer"], "won"),
        ):
            found[base] = self._objection_only(base, rep, start, objection, strategies, outcome)

        found["P11"] = self._appointment_only("P11", self.dan, W0)
        return found

    def _appointment_only(self, base: str, rep: str, start: datetime) -> PipelineEvents:
        pipeline = self._pipeline(base, rep).start(start)
        pipeline.begin("appointment", 0, start).complete(
            "appointment", start + hours(1), started_at=start
        )
        return pipeline

    def _objection_only(self, base, rep, start, objection, strategies, outcome) -> PipelineEvents:
        """Objection handling completed in 2 hours, then the contract stage."""
        done = start + hours(2)
        pipeline = self._pipeline(base, rep).start(
            start, keys=("objection_handling", "contract_archive")
        )
        pipeline.begin("objection_handling", 0, start, due=start + hours(48)).complete(
            "objection_handling",
            done,
            started_at=start,
            answers={"customer_objections": [objection], "response_strategies": strategies},
            answers_required=2,
        )
        pipeline.begin("contract_archive", 1, done)
        if outcome == "won":
            pipeline.complete("contract_archive", done + hours(1), started_at=done)
            pipeline.close("won", done + hours(1))
        else:
            pipeline.close("lost", done + hours(3))
        return pipeline

    def events(self) -> list[events_pb2.Event]:
        return [event for pipeline in self.pipelines().values() for event in pipeline.events]
