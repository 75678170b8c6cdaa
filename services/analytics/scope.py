"""Which facts a query reads: the period and filters of a request, narrowed to what the
caller may see.

    rep                    their own instances only; naming another rep is PERMISSION_DENIED
    manager                the regions of their identity; another region, or a rep working
                           in one, is PERMISSION_DENIED
    director, HR, admin    everything
    legal, logistics       nothing (PERMISSION_DENIED)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, NotFound, PermissionDenied
from services.analytics.models import ActionFact
from services.pipeline.models import Person

MAX_PERIOD = timedelta(days=732)
READER_ROLES = (Role.REP, Role.MANAGER, Role.DIRECTOR, Role.HR)


@dataclass(frozen=True)
class Scope:
    """The facts one query reads: [start, end) and optional region, team and rep filters."""

    start: datetime
    end: datetime
    # None: every region.
    regions: tuple[str, ...] | None = None
    team: str = ""
    rep_id: str = ""

    def conditions(self, table: Any) -> list:
        """WHERE clauses for the region, team and rep columns of a fact table."""
        found = []
        if self.regions is not None:
            found.append(table.region.in_(self.regions))
        if self.team:
            found.append(table.manager_id == self.team)
        if self.rep_id:
            found.append(table.rep_id == self.rep_id)
        return found


def check_period(start: datetime | None, end: datetime | None, *, prefix: str = "filter") -> None:
    if start is None:
        raise InvalidArgument(f"{prefix}.start", "is required")
    if end is None:
        raise InvalidArgument(f"{prefix}.end", "is required")
    if start >= end:
        raise InvalidArgument(f"{prefix}.end", "must be after start")
    if end - start > MAX_PERIOD:
        raise InvalidArgument(
            f"{prefix}.end", f"the period may span at most {MAX_PERIOD.days} days"
        )


async def rep_region(sessions: async_sessionmaker[AsyncSession], rep_id: str) -> str | None:
    """Where a rep works: the team directory first, else their latest instance's region."""
    async with sessions() as session:
        region = await session.scalar(select(Person.region).where(Person.person_id == rep_id))
        if region is not None:
            return region
        return await session.scalar(
            select(ActionFact.region)
            .where(ActionFact.rep_id == rep_id)
            .order_by(ActionFact.started_at.desc())
            .limit(1)
        )


async def readable_rep(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, rep_id: str
) -> str:
    """The rep a request names, once the caller is known to be allowed to read them."""
    caller.require_role(*READER_ROLES)
    if caller.role is Role.REP:
        if rep_id != caller.id:
            raise PermissionDenied(f"{caller.id} may read only their own figures")
        return rep_id
    if caller.may_see_region("*"):
        return rep_id
    region = await rep_region(sessions, rep_id)
    if region is None:
        raise NotFound(f"rep {rep_id} is unknown")
    caller.require_region(region)
    return rep_id


async def resolve_scope(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    *,
    start: datetime | None,
    end: datetime | None,
    region: str = "",
    team: str = "",
    rep_id: str = "",
) -> Scope:
    """The request's filters, checked and narrowed to the caller's view."""
    check_period(start, end)
    caller.require_role(*READER_ROLES)
    if rep_id:
        await readable_rep(sessions, caller, rep_id)
    if region:
        caller.require_region(region)

    regions: Sequence[str] | None = None
    if region:
        regions = (region,)
    elif caller.role is not Role.REP and not caller.may_see_region("*"):
        regions = tuple(sorted(caller.regions))
    if caller.role is Role.REP:
        # A rep's own figures, wherever they worked.
        rep_id = caller.id
    return Scope(start=start, end=end, regions=regions, team=team, rep_id=rep_id)
