"""Where a recipient's notices go: the routes table, read once per batch of events.

A route names a recipient — a person id, "role:<role>" or "*" for everyone — a region
("*" for all), a channel and its target (a robot's name, an e-mail address). For each
recipient the first of these levels that has a route in the notice's region wins:

    1. routes for the recipient itself (a person, or a department such as role:legal)
    2. routes for the person's role in the team directory (role:rep, role:manager, ...)
    3. routes for everyone (*), e.g. the region's WeCom group robot

Within the winning level a person may get a notice on several channels (a robot and
e-mail); per channel, a route for the region beats one for every region. A recipient with
no route at all gets the notice in the service log.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.db import insert_ignoring_duplicates
from services.notifications.models import (
    ANY_REGION,
    CHANNEL_EMAIL,
    CHANNEL_LOG,
    CHANNELS,
    EVERYONE,
    ROLE_PREFIX,
    NotificationRoute,
)
from services.pipeline.models import Person

ROUTE_FILE_COLUMNS = ("recipient", "region", "channel", "target")


@dataclass(frozen=True)
class Destination:
    channel: str
    target: str


LOG_DESTINATION = Destination(CHANNEL_LOG, "")


@dataclass(frozen=True)
class RouteRow:
    recipient: str
    region: str
    channel: str
    target: str


class RouteError(ValueError):
    """A route that can never deliver (unknown channel, malformed target)."""


def check_route(row: RouteRow) -> RouteRow:
    """The route, stripped, if it can deliver; raises RouteError naming the problem."""
    values = (row.recipient, row.region, row.channel, row.target)
    row = RouteRow(*(value.strip() for value in values))
    if not row.recipient:
        raise RouteError("recipient is required (a person id, role:<role> or *)")
    if row.channel not in CHANNELS:
        raise RouteError(f"channel {row.channel!r} is not one of {', '.join(CHANNELS)}")
    if row.channel == CHANNEL_EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", row.target):
        raise RouteError(f"target {row.target!r} is not an e-mail address")
    if row.channel not in (CHANNEL_EMAIL, CHANNEL_LOG) and not re.fullmatch(
        r"[a-z0-9][a-z0-9_]*", row.target
    ):
        raise RouteError(f"target {row.target!r} is not a robot name (SALESFLOW_ROBOT_<NAME>)")
    return RouteRow(row.recipient, row.region or ANY_REGION, row.channel, row.target)


class RouteBook:
    """The routes table and the roles of the people being notified, in memory."""

    def __init__(self, routes: Iterable[NotificationRoute], roles: dict[str, str]) -> None:
        self._routes: dict[str, list[NotificationRoute]] = {}
        for route in routes:
            self._routes.setdefault(route.recipient, []).append(route)
        self._roles = roles

    def destinations(self, recipient: str, region: str) -> list[Destination]:
        """Where the recipient's notice about something in the region goes."""
        levels = [recipient]
        role = self._roles.get(recipient)
        if role:
            levels.append(f"{ROLE_PREFIX}{role}")
        levels.append(EVERYONE)

        for level in levels:
            chosen: dict[str, NotificationRoute] = {}
            for route in self._routes.get(level, []):
                if route.region not in (region, ANY_REGION):
                    continue
                current = chosen.get(route.channel)
                if current is None or current.region == ANY_REGION:
                    chosen[route.channel] = route
            if chosen:
                return [Destination(c, chosen[c].target) for c in sorted(chosen)]
        return [LOG_DESTINATION]


async def load_route_book(session: AsyncSession, recipients: Iterable[str]) -> RouteBook:
    """Every route, and the directory role of each recipient who is a person."""
    routes = list(await session.scalars(select(NotificationRoute)))
    people = [r for r in set(recipients) if not r.startswith(ROLE_PREFIX)]
    roles = {}
    if people:
        roles = dict(
            (
                await session.execute(
                    select(Person.person_id, Person.role).where(Person.person_id.in_(people))
                )
            ).all()
        )
    return RouteBook(routes, roles)


async def save_routes(sessions: async_sessionmaker[AsyncSession], rows: Iterable[RouteRow]) -> int:
    """Adds routes, replacing the target of one that exists; returns how many were written."""
    checked = [check_route(row) for row in rows]
    async with sessions.begin() as session:
        for row in checked:
            existing = await session.scalar(
                select(NotificationRoute).where(
                    NotificationRoute.recipient == row.recipient,
                    NotificationRoute.region == row.region,
                    NotificationRoute.channel == row.channel,
                )
            )
            if existing is not None:
                existing.target = row.target
                continue
            await session.execute(
                insert_ignoring_duplicates(
                    session,
                    NotificationRoute,
                    [
                        {
                            "recipient": row.recipient,
                            "region": row.region,
                            "channel": row.channel,
                            "target": row.target,
                        }
                    ],
                )
            )
    return len(checked)


def read_route_file(path: Path) -> list[RouteRow]:
    """Routes from a CSV with the columns recipient, region, channel, target."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = set(ROUTE_FILE_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise RouteError(f"{path} lacks the columns {', '.join(sorted(missing))}")
        rows = []
        for number, record in enumerate(reader, start=2):
            try:
                rows.append(check_route(RouteRow(*(record[c] or "" for c in ROUTE_FILE_COLUMNS))))
            except RouteError as error:
                raise RouteError(f"{path} row {number}: {error}") from error
        return rows
