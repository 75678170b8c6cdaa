"""Feedback after an action: which response strategies the team's customers accept, and
which of them the rep should use more.

A strategy use is *accepted* when the customer moved on after the action (a later action
was completed, or the pipeline was won) and *rejected* when the pipeline was lost with that
action as its last completed one; acceptance = accepted / (accepted + rejected). The team is
the rep's manager's reps; uses are counted over the lookback window ending now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analytics.config import AnalyticsConfig
from services.analytics.models import ACCEPTED, REJECTED, StrategyUse
from services.analytics.queries import team_of, topic_filter
from services.analytics.sql import moment, reading
from services.analytics.words import label, label_zh, percent


@dataclass
class StrategyStat:
    strategy: str
    uses: int = 0
    accepted: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass
class Suggestion:
    text: str
    text_zh: str
    team: str
    rep_uses: int
    rep_strategies: list[StrategyStat] = field(default_factory=list)
    team_strategies: list[StrategyStat] = field(default_factory=list)
    use_more: list[str] = field(default_factory=list)
    team_acceptance: float | None = None


async def _stats(session: AsyncSession, conditions: list) -> dict[str, StrategyStat]:
    query = (
        select(
            StrategyUse.strategy,
            func.count(),
            func.count().filter(StrategyUse.result == ACCEPTED),
            func.count().filter(StrategyUse.result == REJECTED),
        )
        .where(*conditions)
        .group_by(StrategyUse.strategy)
    )
    return {
        strategy: StrategyStat(strategy, uses, accepted, rejected)
        for strategy, uses, accepted, rejected in (await session.execute(query)).all()
    }


async def suggest(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rep_id: str,
    action_key: str,
    topic: str,
    opportunity_id: str,
    strategies_used: list[str],
    lookback_days: int,
    config: AnalyticsConfig,
    now: datetime,
) -> Suggestion:
    """The rep's and the team's strategy figures for the action, and the suggestion text."""
    common = [
        StrategyUse.action_key == action_key,
        StrategyUse.completed_at >= moment(now - timedelta(days=lookback_days)),
    ]
    if topic:
        common.append(topic_filter(StrategyUse.topic, topic))

    async with reading(sessions) as session:
        team = await team_of(session, rep_id)
        mine = await _stats(session, [*common, StrategyUse.rep_id == rep_id])
        team_stats = (
            await _stats(session, [*common, StrategyUse.manager_id == team]) if team else {}
        )
        already_recorded = bool(opportunity_id) and bool(
            await session.scalar(
                select(func.count()).where(
                    StrategyUse.opportunity_id == opportunity_id,
                    StrategyUse.action_key == action_key,
                )
            )
        )

    if strategies_used and not already_recorded:
        # The action just completed has not reached the read model yet: count its uses
        # (their outcome is not decided, so acceptance does not move).
        for strategy in dict.fromkeys(strategies_used):
            mine.setdefault(strategy, StrategyStat(strategy)).uses += 1
            if team:
                team_stats.setdefault(strategy, StrategyStat(strategy)).uses += 1

    return _suggestion(
        action_key=action_key,
        topic=topic,
        team=team,
        mine=mine,
        team_stats=team_stats,
        lookback_days=lookback_days,
        min_outcomes=config.min_outcomes,
    )


def _ordered(stats: dict[str, StrategyStat]) -> list[StrategyStat]:
    return sorted(stats.values(), key=lambda stat: (-stat.uses, stat.strategy))


def _suggestion(
    *,
    action_key: str,
    topic: str,
    team: str,
    mine: dict[str, StrategyStat],
    team_stats: dict[str, StrategyStat],
    lookback_days: int,
    min_outcomes: int,
) -> Suggestion:
    rep_uses = sum(stat.uses for stat in mine.values())
    team_uses = sum(stat.uses for stat in team_stats.values())
    team_decided = sum(stat.decided for stat in team_stats.values())
    team_acceptance = (
        sum(stat.accepted for stat in team_stats.values()) / team_decided if team_decided else None
    )

    # Proven strategies, as good as the team's average or better, that the rep leans on less
    # than the team does.
    use_more = [
        stat
        for stat in team_stats.values()
        if stat.decided >= min_outcomes
        and stat.acceptance >= team_acceptance
        and _share(mine.get(stat.strategy), rep_uses) < stat.uses / team_uses
    ]
    use_more.sort(key=lambda stat: (-stat.acceptance, -stat.decided, stat.strategy))

    proven = [stat for stat in team_stats.values() if stat.decided >= min_outcomes]
    text, text_zh = _sentences(
        action_key=action_key,
        topic=topic,
        mix=_ordered(mine),
        use_more=use_more,
        proven=proven,
        team_decided=team_decided,
        lookback_days=lookback_days,
        min_outcomes=min_outcomes,
    )
    return Suggestion(
        text=text,
        text_zh=text_zh,
        team=team,
        rep_uses=rep_uses,
        rep_strategies=_ordered(mine),
        team_strategies=_ordered(team_stats),
        use_more=[stat.strategy for stat in use_more],
        team_acceptance=team_acceptance,
    )


def _sentences(
    *,
    action_key: str,
    topic: str,
    mix: list[StrategyStat],
    use_more: list[StrategyStat],
    proven: list[StrategyStat],
    team_decided: int,
    lookback_days: int,
    min_outcomes: int,
) -> tuple[str, str]:
    """The suggestion in English and in Chinese."""
    subject = label(action_key) + (f" about {topic}" if topic else "")
    subject_zh = label_zh(action_key) + (f"（{label_zh(topic)}）" if topic else "")
    used = ", ".join(f"{label(stat.strategy)} ×{stat.uses}" for stat in mix)
    used_zh = "、".join(f"{label_zh(stat.strategy)}×{stat.uses}" for stat in mix)
    if mix:
        opening = f"In {subject} you used {len(mix)} strategies ({used})"
        opening_zh = f"{subject_zh}中你使用了{len(mix)}种策略（{used_zh}）"
    else:
        opening = f"You have no recorded strategies in {subject} yet"
        opening_zh = f"你在{subject_zh}中还没有记录策略"

    if use_more:
        best = use_more[0]
        figures = f"{percent(best.acceptance)} of the time ({best.accepted} of {best.decided})"
        text = (
            f"{opening}; team-wide, {label(best.strategy)} was accepted by customers "
            f"{figures} — use it more."
        )
        text_zh = (
            f"{opening_zh}；团队中{label_zh(best.strategy)}的客户接受率为"
            f"{percent(best.acceptance)}（{best.decided}次中{best.accepted}次）——建议多用。"
        )
    elif proven:
        best = max(proven, key=lambda stat: (stat.acceptance, stat.decided))
        text = (
            f"{opening}; your mix already leans on what works for the team: "
            f"{label(best.strategy)} is accepted {percent(best.acceptance)} of the time "
            f"({best.accepted} of {best.decided})."
        )
        text_zh = (
            f"{opening_zh}；你的策略组合已偏向团队中有效的做法：{label_zh(best.strategy)}的"
            f"客户接受率为{percent(best.acceptance)}（{best.decided}次中{best.accepted}次）。"
        )
    elif team_decided:
        text = (
            f"{opening}; no strategy has {min_outcomes} decided team outcomes in the last "
            f"{lookback_days} days yet, so there is no suggestion."
        )
        text_zh = (
            f"{opening_zh}；近{lookback_days}天内还没有策略达到{min_outcomes}个团队已定结果，"
            f"暂无建议。"
        )
    else:
        text = (
            f"{opening}; the team has no decided outcomes in {subject} in the last "
            f"{lookback_days} days yet, so there is no suggestion."
        )
        text_zh = (
            f"{opening_zh}；近{lookback_days}天内团队在{subject_zh}中还没有已定结果，暂无建议。"
        )

    return text, text_zh


def _share(stat: StrategyStat | None, total: int) -> float:
    return stat.uses / total if stat is not None and total else 0.0
