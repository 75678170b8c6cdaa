"""The points service's gRPC face: balances, ledger entries and the leaderboard.

Translates requests into calls on services.points.ledger and checks who may read what:
a rep reads their own points, a manager the reps of their regions, directors, HR and
admins everyone. The leaderboard is open to every role: it exists to be seen.
"""

from __future__ import annotations

import logging
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, NotFound, PermissionDenied, require
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.points import ledger
from services.points.models import LedgerEntry

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def _limit(value: int) -> int:
    return bounded_limit(value, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def _entry_message(entry: LedgerEntry) -> points_pb2.LedgerEntry:
    return points_pb2.LedgerEntry(
        entry_id=entry.entry_id,
        rep_id=entry.rep_id,
        points=entry.points,
        rule=entry.rule,
        event_id=entry.event_id,
        opportunity_id=entry.opportunity_id,
        action_key=entry.action_key,
        occurred_at=timestamp(entry.occurred_at),
        recorded_at=timestamp(entry.recorded_at),
    )


class PointsServicer(points_pb2_grpc.PointsServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _readable_rep(self, caller: Caller, raw_rep_id: str) -> str:
        """The rep id of a request, once the caller is known to be allowed to read it."""
        rep_id = require(raw_rep_id, "rep_id")
        caller.require_role(Role.REP, Role.MANAGER, Role.DIRECTOR, Role.HR)
        if caller.role is Role.REP and caller.id != rep_id:
            raise PermissionDenied(f"{caller.id} may read only their own points")

        region = await ledger.rep_region(self._sessions, rep_id)
        if region is None:
            raise NotFound(f"rep {rep_id} is unknown")
        caller.require_region(region)
        return rep_id

    @rpc
    async def GetBalance(self, request, context, caller: Caller) -> points_pb2.Balance:
        """A rep's balance: the sum of their ledger entries."""
        rep_id = await self._readable_rep(caller, request.rep_id)
        found = await ledger.balance(self._sessions, rep_id)
        return points_pb2.Balance(rep_id=found.rep_id, points=found.points, entries=found.entries)

    @rpc
    async def ListEntries(self, request, context, caller: Caller) -> points_pb2.ListEntriesResponse:
        """A rep's ledger entries, newest first."""
        limit = _limit(request.limit)
        rep_id = await self._readable_rep(caller, request.rep_id)
        entries = await ledger.list_entries(self._sessions, rep_id, limit=limit)
        return points_pb2.ListEntriesResponse(entries=[_entry_message(e) for e in entries])

    @rpc
    async def GetLeaderboard(self, request, context, caller: Caller) -> points_pb2.Leaderboard:
        """Reps ranked by points, optionally within a region and a [since, until) window."""
        limit = _limit(request.limit)
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
        if since is not None and until is not None and until <= since:
            raise InvalidArgument("until", "must be after since")

        rows = await ledger.leaderboard(
            self._sessions, region=request.region.strip(), since=since, until=until, limit=limit
        )
        return points_pb2.Leaderboard(
            rows=[
                points_pb2.LeaderboardRow(
                    rank=row.rank, rep_id=row.rep_id, region=row.region, points=row.points
                )
                for row in rows
            ]
        )
