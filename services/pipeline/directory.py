"""The team directory: reps, their managers and regions, as the pipeline service knows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pipeline.models import Person


class TeamRow(Protocol):
    rep_id: str
    manager_id: str
    region: str
    # None: unknown, the directory keeps the zone it has.
    time_zone: str | None
    # "" when the file names no director for the region.
    director_id: str


async def upsert_team(sessions: async_sessionmaker[AsyncSession], team: Iterable[TeamRow]) -> int:
    """Adds or updates reps and their managers; returns how many people were written."""
    written = 0
    async with sessions() as session, session.begin():
        for member in team:
            if member.director_id:
                director = await session.get(Person, member.director_id)
                if director is None:
                    director = Person(
                        person_id=member.director_id, role="director", region=member.region
                    )
                    session.add(director)
                    await session.flush()
                director.region = member.region
            manager = await session.get(Person, member.manager_id)
            if manager is None:
                manager = Person(person_id=member.manager_id, role="manager", region=member.region)
                session.add(manager)
                await session.flush()
            rep = await session.get(Person, member.rep_id)
            if rep is None:
                rep = Person(person_id=member.rep_id, role="rep", region=member.region)
                session.add(rep)
            rep.manager_id = member.manager_id
            if manager.role == "manager" and member.director_id:
                manager.manager_id = member.director_id
            rep.region = member.region
            if member.time_zone is not None:
                rep.time_zone = member.time_zone
            rep.active = True
            written += 1
    return written
