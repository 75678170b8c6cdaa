"""The points service's gRPC face: balances, entries, the leaderboard (also live), the
redemption pool, recalculation, the quarterly export and parked events.

Translates requests into calls on the ledger, the pool and the export, and checks who may
do what:

- balances and entries: a rep their own, a manager the reps of their regions, directors,
  HR and admins everyone;
- the leaderboard: a rep and a manager the boards of their own regions (a rep sees how
  they stand among their region's colleagues, not other regions' figures), directors, HR
  and admins every region;
- the pool: everyone reads the catalogue, admins change it; a rep redeems and cancels for
  themselves; a manager of the rep's region (or a director) approves or rejects;
- recalculation: admins; the quarterly export: HR and admins; parked events: directors,
  HR and admins.
"""

from __future__ import annotations

import logging
from datetime import UTC

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, NotFound, PermissionDenied, require
from salesflow.core.rpc import rpc, rpc_stream
from salesflow.core.wire import bounded_limit, timestamp
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.points import periods
from services.points.export import export_quarter
from services.points.ledger import PointsLedger
from services.points.models import LedgerEntry, Redemption, Reward
from services.points.pool import APPROVED, CANCELLED, REJECTED, STATUSES, RedemptionPool, RewardSpec

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# How often a live leaderboard looks for entries written by other processes; entries this
# process writes wake it at once.
WATCH_POLL_SECONDS = 2.0
MAX_IDEMPOTENCY_KEY = 200


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
        kind=entry.kind,
        rule_version=entry.rule_version,
        label=entry.label,
        period=entry.period,
        region=entry.region,
        team=entry.team,
    )


def _reward_message(reward: Reward) -> points_pb2.Reward:
    return points_pb2.Reward(
        key=reward.key,
        name=reward.name,
        name_zh=reward.name_zh,
        price=reward.price,
        stock=reward.stock,
        active=reward.active,
    )


def _redemption_message(redemption: Redemption) -> points_pb2.Redemption:
    return points_pb2.Redemption(
        redemption_id=redemption.redemption_id,
        rep_id=redemption.rep_id,
        reward_key=redemption.reward_key,
        price=redemption.price,
        status=redemption.status,
        idempotency_key=redemption.idempotency_key,
        requested_at=timestamp(redemption.requested_at),
        decided_at=timestamp(redemption.decided_at),
        decided_by=redemption.decided_by,
        note=redemption.note,
        region=redemption.region,
    )


def _visible_regions(caller: Caller) -> frozenset[str] | None:
    """The regions a caller's lists cover; None for every region."""
    if caller.role in (Role.REP, Role.MANAGER) and "*" not in caller.regions:
        return caller.regions
    return None


class PointsServicer(points_pb2_grpc.PointsServiceServicer):
    def __init__(self, ledger: PointsLedger, *, watch_poll_seconds: float = WATCH_POLL_SECONDS):
        self._ledger = ledger
        self._pool = RedemptionPool(ledger)
        self._watch_poll = watch_poll_seconds

    async def _readable_rep(self, caller: Caller, raw_rep_id: str) -> str:
        """The rep id of a request, once the caller is known to be allowed to read it."""
        rep_id = require(raw_rep_id, "rep_id")
        caller.require_role(Role.REP, Role.MANAGER, Role.DIRECTOR, Role.HR)
        if caller.role is Role.REP and caller.id != rep_id:
            raise PermissionDenied(f"{caller.id} may read only their own points")

        region = await self._ledger.rep_region(rep_id)
        if region is None:
            raise NotFound(f"rep {rep_id} is unknown")
        caller.require_region(region)
        return rep_id

    @rpc
    async def GetBalance(self, request, context, caller: Caller) -> points_pb2.Balance:
        """A rep's balance: the sum of their ledger entries."""
        rep_id = await self._readable_rep(caller, request.rep_id)
        found = await self._ledger.balance(rep_id)
        return points_pb2.Balance(rep_id=found.rep_id, points=found.points, entries=found.entries)

    @rpc
    async def ListEntries(self, request, context, caller: Caller) -> points_pb2.ListEntriesResponse:
        """A rep's ledger entries, newest first."""
        limit = _limit(request.limit)
        rep_id = await self._readable_rep(caller, request.rep_id)
        entries = await self._ledger.list_entries(rep_id, limit=limit)
        return points_pb2.ListEntriesResponse(entries=[_entry_message(e) for e in entries])

    # ---- the leaderboard ----------------------------------------------------------------

    def _board_scope(self, caller: Caller, request) -> frozenset[str] | None:
        caller.require_role(Role.REP, Role.MANAGER, Role.DIRECTOR, Role.HR)
        region = request.region.strip()
        visible = _visible_regions(caller)
        if region:
            caller.require_region(region)
            return frozenset({region})
        if visible is not None and not visible:
            raise PermissionDenied(f"{caller.id} ({caller.role.value}) has no region to see")
        return visible

    async def _board(self, caller: Caller, request) -> points_pb2.Leaderboard:
        limit = _limit(request.limit)
        regions = self._board_scope(caller, request)
        period = request.period.strip().lower()
        label = ""
        if period:
            if period not in periods.WINDOWS:
                raise InvalidArgument("period", f"{period!r} is not one of week, month, quarter")
            at = (
                request.at.ToDatetime(tzinfo=UTC)
                if request.HasField("at")
                else self._ledger.clock()
            )
            window = periods.window(period, at, self._ledger.zone)
            since, until, label = window.start, window.end, window.label
        else:
            since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
            until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
            if since is not None and until is not None and until <= since:
                raise InvalidArgument("until", "must be after since")

        rows = await self._ledger.leaderboard(
            regions=regions, team=request.team.strip(), since=since, until=until, limit=limit
        )
        return points_pb2.Leaderboard(
            rows=[
                points_pb2.LeaderboardRow(
                    rank=row.rank,
                    rep_id=row.rep_id,
                    region=row.region,
                    points=row.points,
                    team=row.team,
                )
                for row in rows
            ],
            since=timestamp(since),
            until=timestamp(until),
            period_label=label,
        )

    @rpc
    async def GetLeaderboard(self, request, context, caller: Caller) -> points_pb2.Leaderboard:
        """Reps ranked by points, within a period, region or team."""
        return await self._board(caller, request)

    @rpc_stream
    async def WatchLeaderboard(self, request, context, caller: Caller):
        """The board now, then each time it changes, until the caller hangs up.

        Entries this process writes (the consumer, the pool, recalculations) wake the
        stream at once; entries written by other processes are found by polling.
        """
        last = None
        while True:
            seen = self._ledger.changes.version
            board = await self._board(caller, request)
            if board != last:
                yield board
                last = board
            await self._ledger.changes.wait(seen, self._watch_poll)

    # ---- the redemption pool ------------------------------------------------------------

    @rpc
    async def ListRewards(self, request, context, caller: Caller) -> points_pb2.ListRewardsResponse:
        """The catalogue; inactive rewards only for admins."""
        include_inactive = request.include_inactive and caller.role is Role.ADMIN
        rewards = await self._pool.rewards(include_inactive=include_inactive)
        return points_pb2.ListRewardsResponse(rewards=[_reward_message(r) for r in rewards])

    @rpc
    async def PutReward(self, request, context, caller: Caller) -> points_pb2.Reward:
        """Adds or changes a reward (admin)."""
        caller.require_role(Role.ADMIN)
        spec = RewardSpec(
            key=request.key.strip(),
            name=request.name,
            name_zh=request.name_zh,
            price=request.price,
            stock=request.stock,
            active=request.active,
        )
        return _reward_message(await self._pool.put_reward(caller, spec))

    @rpc
    async def Redeem(self, request, context, caller: Caller) -> points_pb2.Redemption:
        """Holds points and stock for a reward, pending a manager's decision."""
        caller.require_role(Role.REP)
        rep_id = request.rep_id.strip() or caller.id
        if caller.role is Role.REP and rep_id != caller.id:
            raise PermissionDenied(f"{caller.id} may redeem only their own points")
        reward_key = require(request.reward_key, "reward_key")
        key = require(request.idempotency_key, "idempotency_key")
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidArgument("idempotency_key", f"at most {MAX_IDEMPOTENCY_KEY} characters")
        region = await self._ledger.rep_region(rep_id)
        if region is None:
            raise NotFound(f"rep {rep_id} is unknown")

        redemption = await self._pool.redeem(
            caller, rep_id=rep_id, region=region, reward_key=reward_key, idempotency_key=key
        )
        return _redemption_message(redemption)

    async def _decide(self, caller: Caller, request, to: str) -> points_pb2.Redemption:
        redemption_id = require(request.redemption_id, "redemption_id")
        found = await self._pool.get(redemption_id)
        if to == CANCELLED:
            caller.require_role(Role.REP)
            if caller.id != found.rep_id and caller.role is not Role.ADMIN:
                raise PermissionDenied(f"only {found.rep_id} may cancel their redemption")
        else:
            caller.require_role(Role.MANAGER, Role.DIRECTOR)
            caller.require_region(found.region)
        decided = await self._pool.decide(caller, redemption_id, to=to, note=request.note)
        return _redemption_message(decided)

    @rpc
    async def ApproveRedemption(self, request, context, caller: Caller) -> points_pb2.Redemption:
        """Grants a pending redemption (a manager of the rep's region, or a director)."""
        return await self._decide(caller, request, APPROVED)

    @rpc
    async def RejectRedemption(self, request, context, caller: Caller) -> points_pb2.Redemption:
        """Refuses a pending redemption; points and stock come back."""
        return await self._decide(caller, request, REJECTED)

    @rpc
    async def CancelRedemption(self, request, context, caller: Caller) -> points_pb2.Redemption:
        """The rep withdraws a pending redemption; points and stock come back."""
        return await self._decide(caller, request, CANCELLED)

    @rpc
    async def ListRedemptions(
        self, request, context, caller: Caller
    ) -> points_pb2.ListRedemptionsResponse:
        """Redemptions, newest first, as far as the caller may see them."""
        limit = _limit(request.limit)
        status = request.status.strip()
        if status and status not in STATUSES:
            raise InvalidArgument("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        caller.require_role(Role.REP, Role.MANAGER, Role.DIRECTOR, Role.HR)
        rep_id = request.rep_id.strip()
        if caller.role is Role.REP:
            if rep_id and rep_id != caller.id:
                raise PermissionDenied(f"{caller.id} may list only their own redemptions")
            rep_id = caller.id
        found = await self._pool.listing(
            rep_id=rep_id, regions=_visible_regions(caller), status=status, limit=limit
        )
        return points_pb2.ListRedemptionsResponse(
            redemptions=[_redemption_message(r) for r in found]
        )

    # ---- rules, periods and HR ----------------------------------------------------------

    @rpc
    async def Recalculate(self, request, context, caller: Caller) -> points_pb2.RecalculateResponse:
        """Adjustment entries for a quarter's differences under the latest rules (admin)."""
        caller.require_role(Role.ADMIN)
        quarter = require(request.quarter, "quarter")
        label = require(request.label, "label")
        result = await self._ledger.recalculate(
            caller, quarter=quarter, label=label, dry_run=request.dry_run
        )
        return points_pb2.RecalculateResponse(
            adjustments=[
                points_pb2.Adjustment(
                    rep_id=line.rep_id,
                    event_id=line.event_id,
                    rule=line.rule,
                    before=line.before,
                    after=line.after,
                    points=line.points,
                    rule_version=line.rule_version,
                )
                for line in result.adjustments
            ],
            points=result.points,
            events_repriced=result.events_repriced,
        )

    @rpc
    async def ExportQuarter(self, request, context, caller: Caller) -> points_pb2.QuarterExport:
        """The quarter's CSV and XLSX for HR; closes the quarter (HR, admin)."""
        caller.require_role(Role.HR)
        if not 1 <= request.quarter <= 4:
            raise InvalidArgument("quarter", f"must be 1 to 4, got {request.quarter}")
        if not 2000 <= request.year <= 2999:
            raise InvalidArgument("year", f"must be a year like 2026, got {request.year}")
        exported = await export_quarter(self._ledger, caller, f"{request.year}Q{request.quarter}")
        return points_pb2.QuarterExport(
            period=exported.period,
            csv=exported.csv,
            xlsx=exported.xlsx,
            closed_at=timestamp(exported.closed_at),
            closed_by=exported.closed_by,
            newly_closed=exported.newly_closed,
            reps=exported.reps,
            total=exported.total,
        )

    @rpc
    async def ListParked(self, request, context, caller: Caller) -> points_pb2.ListParkedResponse:
        """Events not entered in the ledger, with why."""
        caller.require_role(Role.DIRECTOR, Role.HR)
        found = await self._ledger.parked(limit=_limit(request.limit))
        return points_pb2.ListParkedResponse(
            events=[
                points_pb2.ParkedEvent(
                    event_id=row.event_id,
                    event_type=row.event_type,
                    rep_id=row.rep_id,
                    opportunity_id=row.opportunity_id,
                    occurred_at=timestamp(row.occurred_at),
                    reason=row.reason,
                )
                for row in found
            ]
        )
