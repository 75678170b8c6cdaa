"""The ten-item health self-check, each item computed from the system's own records.

An item the system has no record for says so (unmeasurable) instead of passing; so does
one with nothing to judge in the scope. The verdict is healthy when at least 7 items pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analytics.config import AnalyticsConfig
from services.analytics.models import ActionFact, CoachingReview, PipelineFact, TicketFact
from services.analytics.scope import Scope
from services.analytics.sql import moment, reading, seconds_between
from services.analytics.totals import Totals, totals
from services.pipeline.models import Person

PASS = "pass"
FAIL = "fail"
UNMEASURABLE = "unmeasurable"
HEALTHY_AT = 7

# Thresholds of the measurable items.
VISIT_PHOTO_SHARE = 0.95
OUTCOME_HISTORY_SHARE = 0.80
OUTCOME_HISTORY_LENGTH = 3
ATTRIBUTED_SHARE = 0.99
NEW_REP_DAYS = 3
NEW_REP_SHARE = 0.80
COACHED_SHARE = 0.80
TICKET_ON_TIME_SHARE = 0.90


@dataclass(frozen=True)
class HealthItem:
    number: int
    key: str
    title: str
    status: str
    value: float
    unit: str
    threshold: str
    detail: str


@dataclass(frozen=True)
class HealthReport:
    items: list[HealthItem]

    @property
    def passed(self) -> int:
        return sum(item.status == PASS for item in self.items)

    @property
    def unmeasurable(self) -> int:
        return sum(item.status == UNMEASURABLE for item in self.items)

    @property
    def healthy(self) -> bool:
        return self.passed >= HEALTHY_AT

    @property
    def verdict(self) -> str:
        state = "healthy" if self.healthy else "not healthy"
        text = f"{state}: {self.passed} of {len(self.items)} items pass ({HEALTHY_AT} needed)"
        if self.unmeasurable:
            text += f"; {self.unmeasurable} cannot be measured from the records yet"
        return text


def _share_item(
    number: int,
    key: str,
    title: str,
    *,
    part: int,
    whole: int,
    minimum: float,
    detail: str,
    nothing: str,
) -> HealthItem:
    """An item whose value is part / whole and passes at `minimum` or more."""
    threshold = f">= {minimum:g}"
    if whole == 0:
        return HealthItem(number, key, title, UNMEASURABLE, 0.0, "share", threshold, nothing)
    value = part / whole
    status = PASS if value >= minimum else FAIL
    return HealthItem(
        number, key, title, status, value, "share", threshold, f"{detail}: {part} of {whole}"
    )


def _unmeasurable(number: int, key: str, title: str, why: str) -> HealthItem:
    return HealthItem(number, key, title, UNMEASURABLE, 0.0, "", "", why)


async def health_check(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    config: AnalyticsConfig,
    now: datetime,
) -> HealthReport:
    async with reading(sessions) as session:
        items = [
            await _visit_photos(session, scope, config),
            await _outcome_history(session, scope, config),
            await _drill_down(session, scope, config),
            await _new_reps(session, scope),
            _unmeasurable(
                5,
                "points_feed_bonus",
                "Points feed the quarterly bonus",
                "no quarterly bonus export is recorded yet, so whether points reach HR "
                "cannot be checked",
            ),
            _unmeasurable(
                6,
                "promise_complaints",
                "Complaints about broken promises stay under 5%",
                "customer complaints are not recorded",
            ),
            _unmeasurable(
                7,
                "daily_report_minutes",
                "A daily report takes under 3 minutes",
                "the time reps spend on daily reports is not recorded",
            ),
            await _coached(session, scope, config),
            await _ticket_response(session, scope, now),
            await _handover(session, scope),
        ]
    return HealthReport(items)


async def _visit_photos(session, scope: Scope, config: AnalyticsConfig) -> HealthItem:
    found = await totals(
        session,
        config,
        start=scope.start,
        end=scope.end,
        conditions=scope.conditions,
        action_keys=config.visit_actions,
    )
    figures = found.get((), Totals())
    visits = ", ".join(config.visit_actions)
    return _share_item(
        1,
        "visit_photos",
        "Visit records carry photos",
        part=figures.with_evidence,
        whole=figures.done,
        minimum=VISIT_PHOTO_SHARE,
        detail=f"completed visits ({visits}) with at least one file",
        nothing=f"no visit ({visits}) was completed in the period",
    )


async def _outcome_history(session, scope: Scope, config: AnalyticsConfig) -> HealthItem:
    action = config.objection_action
    in_period = await totals(
        session,
        config,
        start=scope.start,
        end=scope.end,
        by=("rep_id",),
        conditions=scope.conditions,
        action_keys=[action],
    )
    active = [rep for (rep,), figures in in_period.items() if figures.done]
    # Outcomes a rep can look back on: completions with their strategies recorded.
    history = await totals(
        session,
        config,
        start=None,
        end=scope.end,
        by=("rep_id",),
        conditions=lambda table: [table.rep_id.in_(active)],
        action_keys=[action],
    )
    enough = sum(
        history.get((rep,), Totals()).with_strategies >= OUTCOME_HISTORY_LENGTH for rep in active
    )
    return _share_item(
        2,
        "last_objection_outcomes",
        f"A rep sees their last {OUTCOME_HISTORY_LENGTH} objection outcomes",
        part=enough,
        whole=len(active),
        minimum=OUTCOME_HISTORY_SHARE,
        detail=(
            f"reps who completed {action} in the period with {OUTCOME_HISTORY_LENGTH} or more "
            "completions with their strategies recorded, started before the period's end"
        ),
        nothing=f"no rep completed {action} in the period",
    )


async def _drill_down(session, scope: Scope, config: AnalyticsConfig) -> HealthItem:
    found = await totals(
        session,
        config,
        start=scope.start,
        end=scope.end,
        by=("region", "manager_id", "rep_id"),
        conditions=scope.conditions,
    )
    whole = sum(figures.instances for figures in found.values())
    part = sum(figures.instances for key, figures in found.items() if all(key))
    return _share_item(
        3,
        "drill_down",
        "Managers drill down without exporting",
        part=part,
        whole=whole,
        minimum=ATTRIBUTED_SHARE,
        detail="action instances attributed to a region, a manager and a rep (so every "
        "heatmap cell opens down to reps)",
        nothing="no action was recorded in the period",
    )


async def _new_reps(session, scope: Scope) -> HealthItem:
    firsts = (
        select(PipelineFact.rep_id, func.min(PipelineFact.started_at).label("first_at"))
        .where(PipelineFact.rep_id != "", *scope.conditions(PipelineFact))
        .group_by(PipelineFact.rep_id)
        .subquery()
    )
    newcomers = (
        await session.execute(
            select(firsts.c.rep_id, firsts.c.first_at).where(
                firsts.c.first_at >= moment(scope.start), firsts.c.first_at < moment(scope.end)
            )
        )
    ).all()
    finished = 0
    for rep_id, first_at in newcomers:
        # A pipeline won within the days must also have started within them.
        deadline = moment(first_at + timedelta(days=NEW_REP_DAYS))
        won_in_time = await session.scalar(
            select(func.count()).where(
                PipelineFact.rep_id == rep_id,
                PipelineFact.started_at <= deadline,
                PipelineFact.outcome == "won",
                PipelineFact.closed_at <= deadline,
            )
        )
        finished += bool(won_in_time)
    return _share_item(
        4,
        "new_rep_full_flow",
        f"A new rep completes a full flow by day {NEW_REP_DAYS}",
        part=finished,
        whole=len(newcomers),
        minimum=NEW_REP_SHARE,
        detail=(
            f"reps whose first pipeline started in the period with a pipeline won within "
            f"{NEW_REP_DAYS} days of it"
        ),
        nothing="no rep started their first pipeline in the period",
    )


async def _coached(session, scope: Scope, config: AnalyticsConfig) -> HealthItem:
    """Reps who could be coached (active in the period, with the history coaching needs by
    its end) whose weaknesses were reviewed with them in the history window before its end."""
    days = config.coaching_history_days
    history_start = scope.end - timedelta(days=days)
    found = await totals(
        session,
        config,
        start=scope.start,
        end=scope.end,
        by=("rep_id",),
        conditions=scope.conditions,
    )
    active = [rep for (rep,), figures in found.items() if figures.done]
    seasoned = set()
    if active:
        seasoned = set(
            await session.scalars(
                select(ActionFact.rep_id)
                .where(ActionFact.rep_id.in_(active))
                .group_by(ActionFact.rep_id)
                .having(func.min(ActionFact.started_at) <= moment(history_start))
            )
        )
    reviewed = set()
    if seasoned:
        reviewed = set(
            await session.scalars(
                select(CoachingReview.rep_id).where(
                    CoachingReview.rep_id.in_(seasoned),
                    CoachingReview.reviewed_at >= moment(history_start),
                    CoachingReview.reviewed_at < moment(scope.end),
                )
            )
        )
    return _share_item(
        8,
        "reps_know_top_actions",
        "Reps know their top 3 actions to improve",
        part=len(reviewed),
        whole=len(seasoned),
        minimum=COACHED_SHARE,
        detail=(
            f"reps active in the period with {days} days of history whose weakest actions "
            f"were reviewed with them (training tasks assigned) in the last {days} days"
        ),
        nothing=f"no rep active in the period has the {days} days of history coaching needs",
    )


async def _ticket_response(session, scope: Scope, now: datetime) -> HealthItem:
    until = moment(min(scope.end, now))
    target_seconds = TicketFact.response_target_minutes * 60.0
    answered_in_time = and_(
        TicketFact.first_response_at.is_not(None),
        seconds_between(TicketFact.requested_at, TicketFact.first_response_at) <= target_seconds,
    )
    late = or_(
        and_(
            TicketFact.first_response_at.is_not(None),
            seconds_between(TicketFact.requested_at, TicketFact.first_response_at) > target_seconds,
        ),
        and_(
            TicketFact.first_response_at.is_(None),
            seconds_between(TicketFact.requested_at, until) > target_seconds,
        ),
    )
    in_time, late_count = (
        await session.execute(
            select(func.count().filter(answered_in_time), func.count().filter(late)).where(
                TicketFact.requested_at >= moment(scope.start),
                TicketFact.requested_at < moment(scope.end),
                *scope.conditions(TicketFact),
            )
        )
    ).one()
    return _share_item(
        9,
        "cross_department_response",
        "Other departments respond within their target (2 hours)",
        part=in_time,
        whole=in_time + late_count,
        minimum=TICKET_ON_TIME_SHARE,
        detail="tickets requested in the period and first answered within their response "
        "target (unanswered ones past it count as late)",
        nothing="no ticket requested in the period has been answered or passed its target",
    )


async def _handover(session, scope: Scope) -> HealthItem:
    conditions = [Person.role == "rep", Person.active.is_(False)]
    if scope.regions is not None:
        conditions.append(Person.region.in_(scope.regions))
    if scope.team:
        conditions.append(Person.manager_id == scope.team)
    if scope.rep_id:
        conditions.append(Person.person_id == scope.rep_id)
    departed = list(await session.scalars(select(Person.person_id).where(*conditions)))
    title = "A departing rep's customers are handed over completely"
    if not departed:
        return _unmeasurable(
            10, "handover", title, "no rep in the scope has left, so no handover can be judged"
        )

    orphaned = await session.scalar(
        select(func.count()).where(
            PipelineFact.outcome == "open", PipelineFact.rep_id.in_(departed)
        )
    )
    return HealthItem(
        10,
        "handover",
        title,
        PASS if orphaned == 0 else FAIL,
        float(orphaned),
        "count",
        "== 0",
        f"open pipelines still owned by the {len(departed)} reps who left",
    )
