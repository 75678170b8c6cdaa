"""Points rules from template versions: weights, quality bonuses, one-off milestones, rule
changes that never rewrite the past, and labelled recalculation (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from salesflow.core.errors import InvalidArgument
from services.points.ledger import PointsLedger
from services.points.models import LedgerEntry
from services.templates.store import TemplateStore
from services.templates.validation import check_template_text
from tests.services.points_events import (
    ADMIN,
    completed,
    overdue,
    started,
    template_changed,
    unique,
)

RULES_V1 = """
id: {template_id}
name: Referral pipeline
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
    points:
      completion: 5
      overdue: -2
      quality_bonus: {{key: punctual, points: 2, when: on_time}}
  - key: customer_referral
    name: Customer referral
    name_zh: 客户转介绍
    answers:
      - {{key: referred_contacts, count: 2}}
    points:
      completion: 8
      weight: 1.5
      quality_bonus:
        - {{key: complete_proposal, points: 5, when: complete_answers}}
      milestones:
        - {{count: 3, per: month, points: 50}}
"""
# Version 2: referrals are worth more, the proposal bonus is gone, punctuality pays 3, a
# missed appointment costs 3.
RULES_V2 = (
    RULES_V1.replace("completion: 8", "completion: 10")
    .replace("        - {{key: complete_proposal, points: 5, when: complete_answers}}\n", "")
    .replace("      quality_bonus:\n      milestones:", "      milestones:")
    .replace("points: 2, when: on_time", "points: 3, when: on_time")
    .replace("overdue: -2", "overdue: -3")
)


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def save(db_sessions, text: str, template_id: str) -> int:
    checked = check_template_text(text.format(template_id=template_id))
    assert checked.ok, checked.problems
    saved = await TemplateStore(db_sessions).save(ADMIN, checked.template)
    return saved.version.version


async def entries_of(db_sessions, rep: str) -> list[tuple]:
    async with db_sessions() as session:
        rows = await session.execute(
            select(
                LedgerEntry.entry_id,
                LedgerEntry.action_key,
                LedgerEntry.rule,
                LedgerEntry.kind,
                LedgerEntry.points,
                LedgerEntry.rule_version,
                LedgerEntry.label,
            )
            .where(LedgerEntry.rep_id == rep)
            .order_by(LedgerEntry.entry_id)
        )
        return [tuple(row) for row in rows]


async def ledger_sum(db_sessions, rep: str) -> int:
    async with db_sessions() as session:
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                    LedgerEntry.rep_id == rep
                )
            )
        )


async def test_weights_quality_bonuses_and_milestones_price_as_written(db_sessions):
    # The year 2026 is shared with other tests; these reps and templates are this test's.
    ledger = PointsLedger(db_sessions)
    template_id = f"referral-{uuid.uuid4().hex[:8]}"
    assert await save(db_sessions, RULES_V1, template_id) == 1
    rep, region = unique("Rita"), unique("Central")
    p = [unique("REF") for _ in range(5)]
    pipelines = [started(rep, region, opp=o, template=template_id, at=at(3, 1)) for o in p]

    added = await ledger.record_events(
        [
            *pipelines,
            # P1: on time (5 + 2); a referral with one answer beyond the two required:
            # 8 x 1.5 = 12 and the proposal bonus 5 x 1.5 = 7.5, rounded half up to 8.
            completed(rep, region, "appointment", opp=p[0], at=at(3, 2)),
            completed(rep, region, "customer_referral", opp=p[0], at=at(3, 3), answers=3),
            # P2: a late appointment (5, no bonus); a referral with just the answers needed.
            completed(rep, region, "appointment", opp=p[1], at=at(3, 4), on_time=False),
            completed(rep, region, "customer_referral", opp=p[1], at=at(3, 5), answers=2),
            # P3: the third referral in March (Shanghai): +50 once.
            completed(rep, region, "customer_referral", opp=p[2], at=at(3, 20), answers=2),
            # P4: a referral in April starts April's count; a missed appointment costs 2.
            completed(rep, region, "customer_referral", opp=p[3], at=at(4, 2), answers=2),
            overdue(rep, region, "appointment", opp=p[3], at=at(4, 3)),
        ]
    )
    assert added == 10
    assert (await ledger.balance(rep)).points == 7 + 20 + 5 + 12 + 12 + 50 + 12 - 2 == 116

    milestone = [e for e in await entries_of(db_sessions, rep) if e[2].startswith("milestone")]
    assert [e[1:] for e in milestone] == [
        (
            "customer_referral",
            "milestone:3/month",
            "bonus",
            50,
            f"{template_id}@1",
            "3rd customer_referral in 2026-03: milestone +50",
        )
    ]

    # A fourth referral in March, and the whole history delivered again: +12, no second 50.
    again = await ledger.record_events(
        [
            *pipelines,
            completed(rep, region, "customer_referral", opp=p[4], at=at(3, 25), answers=2),
            completed(rep, region, "customer_referral", opp=p[2], at=at(3, 20), answers=2),
        ]
    )
    assert again == 1
    assert (await ledger.balance(rep)).points == 128 == await ledger_sum(db_sessions, rep)


async def test_a_rule_change_never_rewrites_the_past_and_recalculation_adjusts_it(db_sessions):
    ledger = PointsLedger(db_sessions)
    template_id = f"referral-{uuid.uuid4().hex[:8]}"
    await save(db_sessions, RULES_V1, template_id)
    rep, region = unique("Sven"), unique("Central")
    p1, p2, p3 = unique("REF"), unique("REF"), unique("REF")
    await ledger.record_events(
        [
            started(rep, region, opp=p1, template=template_id, at=at(1, 5)),
            started(rep, region, opp=p2, template=template_id, at=at(1, 5)),
            completed(rep, region, "appointment", opp=p1, at=at(1, 6)),
            completed(rep, region, "customer_referral", opp=p1, at=at(1, 7), answers=3),
            completed(rep, region, "appointment", opp=p2, at=at(1, 8), on_time=False),
            completed(rep, region, "customer_referral", opp=p2, at=at(2, 9), answers=2),
        ]
    )
    # 7 + (12 + 8) + 5 + 12
    assert (await ledger.balance(rep)).points == 44
    before = await entries_of(db_sessions, rep)

    # Version 2 is saved: nothing already entered changes.
    assert await save(db_sessions, RULES_V2, template_id) == 2
    assert await entries_of(db_sessions, rep) == before

    # A pipeline moved to version 2 is priced by it from the move on; one started on it too.
    await ledger.record_events(
        [
            template_changed(rep, region, opp=p2, at=at(4, 1), template=template_id, to_version=2),
            overdue(rep, region, "appointment", opp=p2, at=at(4, 2)),
            started(rep, region, opp=p3, template=template_id, version=2, at=at(4, 3)),
            completed(rep, region, "customer_referral", opp=p3, at=at(4, 4), answers=3),
        ]
    )
    new = (await entries_of(db_sessions, rep))[len(before) :]
    assert [(e[1], e[2], e[4], e[5]) for e in new] == [
        ("appointment", "overdue", -3, f"{template_id}@2"),
        ("customer_referral", "completion", 15, f"{template_id}@2"),
    ]
    assert (await ledger.balance(rep)).points == 44 - 3 + 15 == 56

    # Recalculating the first quarter under version 2: listed first, then written.
    label = "Q1 under referral rules v2"
    preview = await ledger.recalculate(ADMIN, quarter="2026Q1", label=label, dry_run=True)
    mine = sorted(
        (line.event_id.split(":")[-2], line.rule, line.before, line.after)
        for line in preview.adjustments
        if line.rep_id == rep
    )
    assert mine == [
        ("appointment", "quality:punctual", 2, 3),
        ("customer_referral", "completion", 12, 15),
        ("customer_referral", "completion", 12, 15),
        ("customer_referral", "quality:complete_proposal", 8, 0),
    ]
    assert (await ledger.balance(rep)).points == 56

    done = await ledger.recalculate(ADMIN, quarter="2026Q1", label=label)
    assert sum(line.points for line in done.adjustments if line.rep_id == rep) == 1 + 3 + 3 - 8
    assert await entries_of(db_sessions, rep) != before
    adjustments = [e for e in await entries_of(db_sessions, rep) if e[3] == "adjustment"]
    assert len(adjustments) == 4
    assert all(e[6].startswith(f"{label}: ") and e[5] == f"{template_id}@2" for e in adjustments)
    assert (await ledger.balance(rep)).points == 56 - 1 == await ledger_sum(db_sessions, rep)
    # The originals are all still there, unchanged.
    assert (await entries_of(db_sessions, rep))[: len(before)] == before

    # Again: the adjustments are part of each item's value, so nothing is left to adjust.
    repeat = await ledger.recalculate(ADMIN, quarter="2026Q1", label=label)
    assert [line for line in repeat.adjustments if line.rep_id == rep] == []
    assert (await ledger.balance(rep)).points == 55


async def test_a_recalculation_of_a_malformed_quarter_is_refused(db_sessions):
    ledger = PointsLedger(db_sessions)
    with pytest.raises(InvalidArgument, match="quarter: '2026-Q5' is not a quarter"):
        await ledger.recalculate(ADMIN, quarter="2026-Q5", label="x")
