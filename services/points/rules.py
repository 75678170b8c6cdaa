"""Pricing: what one action event is worth under one template version's points rules.

Pure functions of the event's facts and the action's rules, so the live consumer and a
recalculation price the same event the same way. Per event:

- completion: the action's completion points times its weight (rounded half up), kind
  `earned`, rule `completion`;
- quality bonuses the completion meets, times the weight, kind `bonus`, rule
  `quality:<key>`: `on_time` (completed before its deadline), `complete_answers` (at least
  `at_least` answers beyond those the action requires), `evidence_at_least` (at least
  `at_least` evidence files presented);
- overdue: the penalty, always zero or negative and never weighted, kind `penalty`, rule
  `overdue`.

Milestones (the n-th completion in a window) depend on other events and are decided by the
ledger (services.points.ledger).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from services.points.models import BONUS, EARNED, PENALTY
from workflows.pipeline.template import ActionTemplate, Milestone

ACTION_COMPLETED = "action.completed"
ACTION_OVERDUE = "action.overdue"
RULE_COMPLETION = "completion"
RULE_OVERDUE = "overdue"


@dataclass(frozen=True)
class Fact:
    """What the ledger knows of one action event."""

    event_id: str
    event_type: str
    rep_id: str
    region: str
    opportunity_id: str
    action_key: str
    occurred_at: datetime
    on_time: bool = True
    evidence_count: int = 0
    answers_given: int = 0
    # The points the event itself carried (its pipeline's copy of the template).
    event_points: int = 0


@dataclass(frozen=True)
class Price:
    """One priced item of an event: the rule, the kind of entry, the points, a label."""

    rule: str
    kind: str
    points: int
    label: str


def weighted(points: int, weight: float) -> int:
    """Points times a weight, rounded half up (7 x 1.5 = 10.5 -> 11)."""
    return math.floor(points * weight + 0.5)


def condition_met(fact: Fact, action: ActionTemplate, when: str, at_least: int) -> bool:
    if when == "on_time":
        return fact.on_time
    if when == "complete_answers":
        required = sum(requirement.count for requirement in action.answers)
        return fact.answers_given >= required + at_least
    if when == "evidence_at_least":
        return fact.evidence_count >= at_least
    return False


def price_fact(fact: Fact, action: ActionTemplate | None) -> list[Price]:
    """The items an event is worth; empty when it earns and costs nothing.

    Without the action's rules (an action the template version does not list) only the
    points the event carried count.
    """
    if fact.event_type == ACTION_OVERDUE:
        penalty = -abs(action.points_when_overdue if action is not None else fact.event_points)
        if penalty == 0:
            return []
        return [Price(RULE_OVERDUE, PENALTY, penalty, f"{fact.action_key} overdue")]
    if fact.event_type != ACTION_COMPLETED:
        return []

    if action is None:
        if fact.event_points == 0:
            return []
        label = f"{fact.action_key} completed"
        return [Price(RULE_COMPLETION, EARNED, fact.event_points, label)]

    prices: list[Price] = []
    weight = action.points_weight
    times = f" ({action.points_on_completion} x {weight:g})" if weight != 1 else ""
    completion = weighted(action.points_on_completion, weight)
    if completion:
        label = f"{fact.action_key} completed{times}"
        prices.append(Price(RULE_COMPLETION, EARNED, completion, label))
    for bonus in action.quality_bonuses:
        if not condition_met(fact, action, bonus.when, bonus.at_least):
            continue
        points = weighted(bonus.points, weight)
        if points:
            label = f"{fact.action_key}: quality bonus {bonus.key} ({bonus.when})"
            prices.append(Price(f"quality:{bonus.key}", BONUS, points, label))
    return prices


def milestone_rule(milestone: Milestone) -> str:
    return f"milestone:{milestone.count}/{milestone.per}"


def ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
