"""The read model and its queries on SQLite, the zero-setup database `salesflow demo` runs
on: the same hand-computed figures as on PostgreSQL (where SQLite lacks a function, the
service computes it itself, e.g. the 90th percentile)."""

from __future__ import annotations

import asyncio

import pytest

from salesflow.core.db import create_engine, session_factory
from salesflow.core.migrate import upgrade
from services.analytics import health, projection, queries, strategies
from services.analytics.scope import Scope
from tests.services.analytics.scenario import NOW, WEEK1_END, WEEK1_START, WEEK2_START, hours

approx = pytest.approx


@pytest.fixture
async def sqlite_sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def test_the_figures_on_sqlite_match_the_hand_computed_ones(
    sqlite_sessions, scenario, config
):
    s = scenario
    await projection.apply_events(sqlite_sessions, s.events(), config)
    # A partial first day: the rollup and the facts both take part.
    scope = Scope(start=WEEK1_START + hours(12), end=WEEK1_END)
    whole_week = Scope(start=WEEK1_START, end=WEEK1_END)

    heatmap = await queries.heatmap(
        sqlite_sessions, whole_week, by_rep=False, red_below=0.85, config=config
    )
    assert heatmap.overall_rate == approx(11 / 12)
    cut = await queries.heatmap(sqlite_sessions, scope, by_rep=False, red_below=0.85, config=config)
    # From Monday 12:00 local (T0 + 3 h): the appointments of P1, P2 and P3 and P1's demo
    # started before; 7 of the other 8 due instances were on time (not P2's objection).
    assert cut.overall_rate == approx(7 / 8)

    bottlenecks = await queries.bottlenecks(
        sqlite_sessions, whole_week, limit=2, by_stalled=False, stall_hours=48, now=NOW
    )
    assert [(b.action_key, b.average_hours, b.p90_hours) for b in bottlenecks] == [
        ("solution_demo", approx(48.0), approx(116.4)),
        ("objection_handling", approx(32.0), approx(52.8)),
    ]

    conversion = await queries.conversion(
        sqlite_sessions, whole_week, window_days=2, config=config, now=NOW
    )
    assert [(r.action_key, r.completed, r.converted) for r in conversion] == [
        ("appointment", 4, 2),
        ("solution_demo", 3, 2),
        ("objection_handling", 3, 3),
    ]

    reps = await queries.quality_by_rep(sqlite_sessions, whole_week, action_key="", config=config)
    assert [(r.rep_id, r.score) for r in reps] == [
        (s.cat, approx(100.0)),
        (s.ann, approx((500 + 260 / 3 + 75) / 7)),
        (s.ben, approx(90.0)),
    ]

    path = await queries.growth_path(
        sqlite_sessions,
        rep_id=s.ann,
        weeks=2,
        end=WEEK2_START + hours(30),
        top=3,
        config=config,
        now=NOW,
    )
    assert path.top_performers == [s.ben]
    assert [week.rep.completion_rate for week in path.weeks] == [approx(6 / 7), 1.0]

    report = await health.health_check(sqlite_sessions, whole_week, config=config, now=NOW)
    assert [item.status for item in report.items][:4] == [
        health.PASS,
        health.FAIL,
        health.PASS,
        health.PASS,
    ]

    outcomes = await queries.last_outcomes(
        sqlite_sessions,
        rep_id=s.ann,
        action_key="objection_handling",
        topic="price",
        limit=3,
        weights=config.quality_weights,
    )
    assert [o.opportunity_id for o in outcomes] == [s.opp("P2"), s.opp("P1"), s.opp("P6")]

    suggestion = await strategies.suggest(
        sqlite_sessions,
        rep_id=s.ann,
        action_key="objection_handling",
        topic="",
        opportunity_id="",
        strategies_used=[],
        lookback_days=90,
        config=config,
        now=NOW,
    )
    assert suggestion.use_more == ["reference_customer"]
