"""A hand-built company for the coaching tests: thirteen reps, figures computed by hand.

The window judged is the 90 days before `as_of` (AS_OF unless given). Every pipeline walks
appointment (position 0) → objection handling (1) → contract archive (2); times are hours
after its start.

    R01 … R11   5 pipelines each, starting on days 10, 20, 30, 40, 50 of the window (hour
                k for Rk): appointment 0→1 (due 24), objection 1→3 (due 49) with strategies
                reference customer, reference customer, cost breakdown, cost breakdown,
                value reframing; contract 3→4, won. R11 loses its fifth pipeline instead
                (contract started at 3, closed lost at 5).
    Wes         10 pipelines, starting on days 5, 10, …, 50 (hour 12): appointment 0→1
                on time; objection due at 49, done at 3 in pipelines 0–5 and late at 61 in
                6–9; cost breakdown in 0–6, reference customer in 7–9; pipelines 0–4 then
                start the contract and win, 5–9 are lost an hour after the objection.
    Nia         one pipeline, 30 days before as_of.
    history     every rep but Nia completed one appointment 120 days before as_of.

R01–R06, Wes and Nia work in the North (manager Mona), R07–R11 in the South (manager Sam).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.services.analytics.scenario import PipelineEvents, hours

AS_OF = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)  # 1 July 00:00 in Asia/Shanghai
WINDOW_START = AS_OF - timedelta(days=90)
KEYS = ("appointment", "objection_handling", "contract_archive")
TOP_STRATEGIES = (
    "reference_customer",
    "reference_customer",
    "cost_breakdown",
    "cost_breakdown",
    "value_reframing",
)


@dataclass
class CoachingScenario:
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    as_of: datetime = AS_OF

    @property
    def window_start(self) -> datetime:
        return self.as_of - timedelta(days=90)

    def name(self, base: str) -> str:
        return f"{base} {self.suffix}"

    def top(self, k: int) -> str:
        return self.name(f"R{k:02d}")

    @property
    def wes(self) -> str:
        return self.name("Wes")

    @property
    def nia(self) -> str:
        return self.name("Nia")

    @property
    def north(self) -> str:
        return self.name("North")

    @property
    def south(self) -> str:
        return self.name("South")

    def region_of(self, rep: str) -> str:
        south = rep in {self.top(k) for k in range(7, 12)}
        return self.south if south else self.north

    def manager_of(self, rep: str) -> str:
        return self.name("Sam" if self.region_of(rep) == self.south else "Mona")

    def opp(self, rep: str, number: int) -> str:
        return f"{rep.split()[0]}-P{number}-{self.suffix}"

    def _pipeline(self, rep: str, opportunity_id: str, start: datetime) -> PipelineEvents:
        pipeline = PipelineEvents(opportunity_id, rep, self.region_of(rep), self.manager_of(rep))
        return pipeline.start(start, keys=KEYS)

    def pipeline(
        self,
        rep: str,
        number: int,
        start: datetime,
        *,
        strategy: str,
        late: bool = False,
        outcome: str = "won",
        contract_before_loss: bool = False,
    ) -> PipelineEvents:
        """One pipeline: appointment, objection handling (on time or 12 h late), then won
        or lost (lost: with the contract started first when asked)."""
        pipeline = self._pipeline(rep, self.opp(rep, number), start)
        pipeline.begin("appointment", 0, start, due=start + hours(24)).complete(
            "appointment", start + hours(1), started_at=start
        )
        objection_start = start + hours(1)
        due = objection_start + hours(48)
        pipeline.begin("objection_handling", 1, objection_start, due=due)
        done = start + hours(61 if late else 3)
        if late:
            pipeline.overdue("objection_handling", due)
        pipeline.complete(
            "objection_handling",
            done,
            started_at=objection_start,
            on_time=not late,
            answers={
                "customer_objections": ["price too high"],
                "response_strategies": [strategy],
            },
            answers_required=2,
        )
        if outcome == "won":
            pipeline.begin("contract_archive", 2, done)
            pipeline.complete("contract_archive", done + hours(1), started_at=done)
            pipeline.close("won", done + hours(1))
        elif contract_before_loss:
            pipeline.begin("contract_archive", 2, done)
            pipeline.close("lost", done + hours(2))
        else:
            pipeline.close("lost", done + hours(1))
        return pipeline

    def history(self, rep: str) -> PipelineEvents:
        start = self.as_of - timedelta(days=120)
        pipeline = self._pipeline(rep, self.opp(rep, 0), start)
        pipeline.begin("appointment", 0, start).complete(
            "appointment", start + hours(1), started_at=start
        )
        return pipeline

    def pipelines(self) -> list[PipelineEvents]:
        found = []
        for k in range(1, 12):
            rep = self.top(k)
            found.append(self.history(rep))
            for i, strategy in enumerate(TOP_STRATEGIES):
                start = self.window_start + timedelta(days=10 + 10 * i, hours=k)
                lost = k == 11 and i == 4
                found.append(
                    self.pipeline(
                        rep,
                        i + 1,
                        start,
                        strategy=strategy,
                        outcome="lost" if lost else "won",
                        contract_before_loss=lost,
                    )
                )

        found.append(self.history(self.wes))
        for j in range(10):
            start = self.window_start + timedelta(days=5 + 5 * j, hours=12)
            found.append(
                self.pipeline(
                    self.wes,
                    j + 1,
                    start,
                    strategy="cost_breakdown" if j <= 6 else "reference_customer",
                    late=j >= 6,
                    outcome="won" if j <= 4 else "lost",
                )
            )

        found.append(
            self.pipeline(self.nia, 1, self.as_of - timedelta(days=30), strategy="trial_period")
        )
        return found

    def events(self) -> list:
        return [event for pipeline in self.pipelines() for event in pipeline.events]

    def wes_after_training(self, done: datetime, count: int, first: int = 11) -> list:
        """Wes's pipelines after a task: on time, won, all cost breakdown (days 1, 2, ...)."""
        events = []
        for n in range(count):
            start = done + timedelta(days=n + 1)
            events += self.pipeline(self.wes, first + n, start, strategy="cost_breakdown").events
        return events
