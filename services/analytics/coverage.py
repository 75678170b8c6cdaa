"""What the read model holds for one caller: the period its instances span and the regions,
teams and reps they belong to. A dashboard picks its default periods and its filter lists
from it; the figures themselves come from services.analytics.queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller, Role
from services.analytics.models import ActionDay, ActionFact
from services.analytics.scope import READER_ROLES


@dataclass(frozen=True)
class CoveredRep:
    rep_id: str
    team: str
    region: str
    instances: int


@dataclass(frozen=True)
class Coverage:
    first_started: datetime | None
    last_started: datetime | None
    instances: int
    regions: list[str]
    teams: list[str]
    reps: list[CoveredRep]


def _visible(caller: Caller, table) -> list:
    """WHERE clauses limiting a fact or rollup table to what the caller may see."""
    caller.require_role(*READER_ROLES)
    if caller.role is Role.REP:
        return [table.rep_id == caller.id]
    if caller.may_see_region("*"):
        return []
    return [table.region.in_(sorted(caller.regions))]


async def coverage(sessions: async_sessionmaker[AsyncSession], caller: Caller) -> Coverage:
    """The caller's visible instances: first and latest start, and who they belong to."""
    facts = _visible(caller, ActionFact)
    rollup = _visible(caller, ActionDay)

    async with sessions() as session:
        first, last = (
            await session.execute(
                select(func.min(ActionFact.started_at), func.max(ActionFact.started_at)).where(
                    *facts
                )
            )
        ).one()
        # The rollup has a row per day, action and person rather than per instance.
        rows = (
            await session.execute(
                select(
                    ActionDay.rep_id,
                    ActionDay.manager_id,
                    ActionDay.region,
                    func.max(ActionDay.day),
                    func.sum(ActionDay.instances),
                )
                .where(*rollup)
                .group_by(ActionDay.rep_id, ActionDay.manager_id, ActionDay.region)
            )
        ).all()

    latest: dict[str, tuple[date, str, str]] = {}
    counts: dict[str, int] = {}
    for rep_id, team, region, day, instances in rows:
        counts[rep_id] = counts.get(rep_id, 0) + int(instances or 0)
        # A rep who moved is listed where they worked last.
        if rep_id not in latest or (day, team, region) > latest[rep_id]:
            latest[rep_id] = (day, team, region)
    reps = [
        CoveredRep(rep_id, team, region, counts[rep_id])
        for rep_id, (_day, team, region) in sorted(latest.items())
    ]
    return Coverage(
        first_started=first,
        last_started=last,
        instances=sum(counts.values()),
        regions=sorted({region for _rep, _team, region, _day, _n in rows}),
        teams=sorted({team for _rep, team, _region, _day, _n in rows if team}),
        reps=reps,
    )
