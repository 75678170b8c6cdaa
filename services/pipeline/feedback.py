"""Feedback after a completed action: the strategy suggestion CompleteAction's reply carries.

After an action whose answers include response strategies, the pipeline service asks the
analytics service (AnalyticsService.StrategySuggestion) as the completing caller, with a
short deadline. Feedback is a courtesy: when analytics is down, slow or refuses, the
completion stands without a suggestion and the reason goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc

from salesflow.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from salesflow.core.caller import Caller
from salesflow.pipeline.v1 import pipeline_pb2
from workflows.pipeline.types import AnswerInput

logger = logging.getLogger(__name__)

# Long enough for the suggestion's two indexed reads, short enough that a completion never
# waits on analytics for long.
SUGGESTION_DEADLINE_SECONDS = 2.0
STRATEGY_ANSWER_KEY = "response_strategies"


def strategies_in(answers: Sequence[AnswerInput], answer_key: str) -> list[str]:
    """The strategies an action's answers record, each once, in the order given."""
    found = [
        value.strip()
        for answer in answers
        if answer.key.strip() == answer_key
        for value in answer.values
        if value.strip()
    ]
    return list(dict.fromkeys(found))


class StrategyFeedback:
    """Asks the analytics service which strategies the rep should use more."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        answer_key: str = STRATEGY_ANSWER_KEY,
        deadline: float = SUGGESTION_DEADLINE_SECONDS,
    ) -> None:
        self._channel = channel
        self._stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
        self._answer_key = answer_key
        self._deadline = deadline

    async def suggestion(
        self,
        caller: Caller,
        *,
        rep_id: str,
        opportunity_id: str,
        action_key: str,
        answers: Sequence[AnswerInput],
    ) -> pipeline_pb2.StrategySuggestion | None:
        """The suggestion for a completion, or None (no strategies, or no timely answer)."""
        used = strategies_in(answers, self._answer_key)
        if not used:
            return None

        request = analytics_pb2.StrategySuggestionRequest(
            rep_id=rep_id,
            action_key=action_key,
            opportunity_id=opportunity_id,
            strategies_used=used,
        )
        try:
            answer = await self._stub.StrategySuggestion(
                request, metadata=caller.metadata(), timeout=self._deadline
            )
        except grpc.aio.AioRpcError as error:
            logger.warning(
                "no strategy suggestion opportunity=%s action=%s: analytics answered %s (%s)",
                opportunity_id,
                action_key,
                error.code().name,
                error.details(),
            )
            return None
        except Exception:
            logger.exception(
                "no strategy suggestion opportunity=%s action=%s", opportunity_id, action_key
            )
            return None
        return suggestion_from(answer, action_key=action_key, used=used)

    async def stop(self) -> None:
        await self._channel.close()


def suggestion_from(
    answer: analytics_pb2.StrategySuggestionResponse, *, action_key: str, used: Sequence[str]
) -> pipeline_pb2.StrategySuggestion:
    """The pipeline's view of the analytics answer: each strategy with the rep's and the
    team's record of it."""
    mine = {stat.strategy: stat for stat in answer.rep_strategies}
    team = {stat.strategy: stat for stat in answer.team_strategies}

    def record(strategy: str) -> pipeline_pb2.StrategyRecord:
        ours = team.get(strategy)
        message = pipeline_pb2.StrategyRecord(
            strategy=strategy,
            rep_uses=mine[strategy].uses if strategy in mine else 0,
            team_uses=ours.uses if ours else 0,
            team_decided=(ours.accepted + ours.rejected) if ours else 0,
            team_accepted=ours.accepted if ours else 0,
        )
        if ours is not None and ours.HasField("acceptance"):
            message.team_acceptance = ours.acceptance
        return message

    suggestion = pipeline_pb2.StrategySuggestion(
        action_key=action_key,
        used=[record(strategy) for strategy in used],
        use_more=[record(strategy) for strategy in answer.use_more],
        team=answer.team,
        text=answer.suggestion,
        text_zh=answer.suggestion_zh,
    )
    if answer.HasField("team_acceptance"):
        suggestion.team_acceptance = answer.team_acceptance
    return suggestion
