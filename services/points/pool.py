"""The redemption pool: rewards points buy, redemptions held until a manager decides.

Redeeming holds the price (a negative `redemption` entry) and one unit of stock in one
transaction, with the rep's account row locked (SELECT ... FOR UPDATE): concurrent
redemptions by one rep take turns, each sees the balance the previous one left, so a
redemption never takes a balance below zero. A rejection by a manager or a cancellation
by the rep gives both back (a positive `refund` entry). The idempotency key a client sends
is unique per rep: a repeat, concurrent or later, answers the first result again — the
same redemption, or the same refusal.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from salesflow.core.caller import Caller
from salesflow.core.errors import FailedPrecondition, InvalidArgument, NotFound
from salesflow.core.oplog import append_operation
from services.points.ledger import (
    SERVICE,
    PointsLedger,
    balance_in,
    lock_accounts,
    lock_periods,
    team_of,
)
from services.points.models import REDEMPTION, REFUND, LedgerEntry, Redemption, Reward

logger = logging.getLogger(__name__)

PENDING, APPROVED, REJECTED, CANCELLED = "pending", "approved", "rejected", "cancelled"
# A refused attempt is kept too, so its key answers the same refusal again.
REFUSED = "refused"
STATUSES = (PENDING, APPROVED, REJECTED, CANCELLED, REFUSED)
REWARD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RewardSpec:
    key: str
    name: str
    name_zh: str
    price: int
    stock: int
    active: bool = True


class RedemptionPool:
    def __init__(self, ledger: PointsLedger) -> None:
        self._ledger = ledger
        self._sessions = ledger.sessions

    # ---- the catalogue ----------------------------------------------------------------

    async def rewards(self, *, include_inactive: bool = False) -> list[Reward]:
        async with self._sessions() as session:
            query = select(Reward).order_by(Reward.key)
            if not include_inactive:
                query = query.where(Reward.active.is_(True))
            return list(await session.scalars(query))

    async def put_reward(self, caller: Caller, spec: RewardSpec) -> Reward:
        """Adds a reward or replaces its names, price, stock and whether it is offered."""
        if not REWARD_KEY.match(spec.key):
            raise InvalidArgument("key", f"{spec.key!r} is not a key (lowercase, digits, _)")
        if not spec.name.strip():
            raise InvalidArgument("name", "is required")
        if spec.price <= 0:
            raise InvalidArgument("price", f"must be greater than 0, got {spec.price}")
        if spec.stock < 0:
            raise InvalidArgument("stock", f"cannot be negative, got {spec.stock}")

        now = self._ledger.clock()
        async with self._sessions.begin() as session:
            reward = await session.get(Reward, spec.key, with_for_update=True)
            if reward is None:
                reward = Reward(key=spec.key)
                session.add(reward)
            reward.name, reward.name_zh = spec.name.strip(), spec.name_zh.strip()
            reward.price, reward.stock, reward.active = spec.price, spec.stock, spec.active
            reward.updated_at = now
            await session.flush()
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="reward.saved",
                subject=f"reward:{spec.key}",
                payload={
                    "price": spec.price,
                    "stock": spec.stock,
                    "active": spec.active,
                    "name": spec.name,
                    "name_zh": spec.name_zh,
                },
            )
        logger.info("reward saved key=%s price=%s stock=%s", spec.key, spec.price, spec.stock)
        return reward

    # ---- redeeming ----------------------------------------------------------------------

    async def redeem(
        self, caller: Caller, *, rep_id: str, region: str, reward_key: str, idempotency_key: str
    ) -> Redemption:
        """Holds the reward's price and one unit of stock for the rep, pending a decision.

        FAILED_PRECONDITION when the balance or the stock does not cover it, or the reward
        is not offered; the refusal is kept under the key and answered again for it.
        """
        now = self._ledger.clock()
        async with self._sessions.begin() as session:
            await lock_accounts(session, [rep_id])
            earlier = await session.scalar(
                select(Redemption).where(
                    Redemption.rep_id == rep_id, Redemption.idempotency_key == idempotency_key
                )
            )
            if earlier is not None:
                return _answer_again(earlier, reward_key)

            reward = await session.get(Reward, reward_key, with_for_update=True)
            if reward is None:
                raise NotFound(f"reward {reward_key!r} is not in the catalogue")
            redemption = Redemption(
                redemption_id=str(uuid.uuid4()),
                idempotency_key=idempotency_key,
                rep_id=rep_id,
                region=region,
                reward_key=reward_key,
                price=reward.price,
                status=PENDING,
                note="",
                requested_at=now,
                decided_by="",
            )
            balance, _entries = await balance_in(session, rep_id)
            refusal = _refusal(reward, balance)
            if refusal is None:
                quarter = self._ledger.quarter(now)
                closed = await lock_periods(session, [quarter])
                if quarter in closed:
                    raise FailedPrecondition(closed[quarter])
            if refusal is not None:
                redemption.status, redemption.note = REFUSED, refusal
                session.add(redemption)
            else:
                reward.stock -= 1
                session.add(redemption)
                await session.flush()
                await self._entry(session, redemption, REDEMPTION, -reward.price, now)
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="redemption.requested" if refusal is None else "redemption.refused",
                subject=f"redemption:{redemption.redemption_id}",
                payload={
                    "rep_id": rep_id,
                    "reward": reward_key,
                    "price": reward.price,
                    "balance_before": balance,
                    "idempotency_key": idempotency_key,
                    **({"reason": refusal} if refusal else {}),
                },
            )
        if redemption.status == REFUSED:
            raise FailedPrecondition(redemption.note)
        await self._ledger.changes.notify()
        logger.info(
            "redemption id=%s rep=%s reward=%s price=%s",
            redemption.redemption_id,
            rep_id,
            reward_key,
            redemption.price,
        )
        return redemption

    async def get(self, redemption_id: str) -> Redemption:
        async with self._sessions() as session:
            found = await session.get(Redemption, redemption_id)
        if found is None:
            raise NotFound(f"redemption {redemption_id} does not exist")
        return found

    async def decide(
        self, caller: Caller, redemption_id: str, *, to: str, note: str = ""
    ) -> Redemption:
        """Moves a pending redemption to approved, rejected or cancelled; the last two
        refund the points and restore the stock. Deciding the same way again answers the
        redemption as it is; deciding otherwise is FAILED_PRECONDITION."""
        now = self._ledger.clock()
        async with self._sessions.begin() as session:
            found = await session.get(Redemption, redemption_id)
            if found is None:
                raise NotFound(f"redemption {redemption_id} does not exist")
            await lock_accounts(session, [found.rep_id])
            redemption = await session.get(
                Redemption, redemption_id, with_for_update=True, populate_existing=True
            )
            if redemption.status == to:
                return redemption
            if redemption.status != PENDING:
                raise FailedPrecondition(
                    f"redemption {redemption_id} is {redemption.status}; only a pending one "
                    f"can be {to}"
                )
            redemption.status, redemption.note = to, note
            redemption.decided_at, redemption.decided_by = now, caller.id
            if to in (REJECTED, CANCELLED):
                reward = await session.get(Reward, redemption.reward_key, with_for_update=True)
                if reward is not None:
                    reward.stock += 1
                await lock_periods(session, [self._ledger.quarter(now)])
                await self._entry(session, redemption, REFUND, redemption.price, now)
            await session.flush()
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation=f"redemption.{to}",
                subject=f"redemption:{redemption_id}",
                payload={"rep_id": redemption.rep_id, "price": redemption.price, "note": note},
            )
        await self._ledger.changes.notify()
        logger.info("redemption id=%s %s by=%s", redemption_id, to, caller.id)
        return redemption

    async def listing(
        self, *, rep_id: str = "", regions: frozenset[str] | None, status: str, limit: int
    ) -> list[Redemption]:
        query = select(Redemption).order_by(
            Redemption.requested_at.desc(), Redemption.redemption_id
        )
        if rep_id:
            query = query.where(Redemption.rep_id == rep_id)
        if regions is not None:
            query = query.where(Redemption.region.in_(sorted(regions)))
        if status:
            query = query.where(Redemption.status == status)
        async with self._sessions() as session:
            return list(await session.scalars(query.limit(limit)))

    async def _entry(
        self, session: AsyncSession, redemption: Redemption, kind: str, points: int, now: datetime
    ) -> None:
        team = await team_of(session, redemption.rep_id)
        verb = "redeemed" if kind == REDEMPTION else "refunded"
        key = f"redemption|{redemption.redemption_id}|{kind}"
        session.add(
            LedgerEntry(
                rep_id=redemption.rep_id,
                region=redemption.region,
                team=team,
                points=points,
                kind=kind,
                rule=kind,
                rule_version="pool",
                event_id=f"redemption:{redemption.redemption_id}",
                opportunity_id="",
                action_key="",
                label=f"{verb} {redemption.reward_key} ({redemption.price} points)",
                occurred_at=now,
                period=self._ledger.quarter(now),
                recorded_at=now,
                entry_key=key,
                item_key=key,
            )
        )
        await session.flush()


def _refusal(reward: Reward, balance: int) -> str | None:
    if not reward.active:
        return f"reward {reward.key} is not offered"
    if reward.stock <= 0:
        return f"reward {reward.key} is out of stock"
    if balance < reward.price:
        return f"insufficient points: balance {balance}, price {reward.price}"
    return None


def _answer_again(earlier: Redemption, reward_key: str) -> Redemption:
    if earlier.reward_key != reward_key:
        raise InvalidArgument(
            "idempotency_key",
            f"already used for redemption {earlier.redemption_id} of {earlier.reward_key}",
        )
    if earlier.status == REFUSED:
        raise FailedPrecondition(earlier.note)
    return earlier
