"""Benchmark: every analytics query on a million recorded actions, through the gRPC service.

    .venv/bin/python bench/analytics_1m.py [--actions N] [--runs N] [--postgres URL] [--keep]

Creates a fresh PostgreSQL database on the server of --postgres (default
SALESFLOW_TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres), migrates
it, generates N action facts (default 1,000,000) with their pipelines, strategy uses and
tickets — 3 regions, 6 managers, 35 reps, 9 action types, a year — and loads them with
COPY. Then it serves AnalyticsService on 127.0.0.1 (no event consumer: the facts are already
there) and times each query as a director: once cold (the first call of that query on a
fresh connection pool) and --runs times warm, printing the median and p95. The database is
dropped at the end unless --keep. Run on demand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from salesflow.analytics.v1 import analytics_pb2 as pb  # noqa: E402
from salesflow.analytics.v1 import analytics_pb2_grpc  # noqa: E402
from salesflow.core.caller import Caller, Role  # noqa: E402
from salesflow.core.db import create_engine, session_factory  # noqa: E402
from salesflow.core.migrate import upgrade  # noqa: E402
from salesflow.core.rpc import ServiceBinding, channel, start_server  # noqa: E402
from services.analytics.config import AnalyticsConfig  # noqa: E402
from services.analytics.fold import day_of  # noqa: E402
from services.analytics.projection import rebuild_daily  # noqa: E402
from services.analytics.service import AnalyticsServicer  # noqa: E402

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR_START = datetime(2025, 1, 6, tzinfo=UTC)
# The moment the data ends; the service's clock is set here.
DATA_END = datetime(2026, 1, 5, tzinfo=UTC)
REGIONS = ("Central", "East", "West")
STRATEGIES = (
    "cost_breakdown",
    "value_reframing",
    "reference_customer",
    "phased_payment",
    "bundle_offer",
    "trial_period",
    "competitor_comparison",
    "executive_sponsor",
)
# How much each strategy raises the chance that the customer moves on.
STRATEGY_PULL = (0.06, 0.03, 0.05, 0.0, -0.02, 0.02, -0.04, 0.01)
OBJECTIONS = ("price too high", "delivery lead time", "competitor offer", "payment terms")


@dataclass(frozen=True)
class ActionType:
    key: str
    median_hours: float
    spread: float
    due_hours: float
    evidence: int
    answers: int
    # Chance the customer moves on to the next action.
    moves_on: float


ACTIONS = (
    ActionType("appointment", 20, 0.8, 0, 0, 0, 0.95),
    ActionType("onsite_diagnosis", 50, 0.7, 0, 1, 0, 0.93),
    ActionType("technical_parameter_confirmation", 30, 0.6, 72, 0, 2, 0.94),
    ActionType("solution_demo", 70, 0.7, 0, 3, 6, 0.9),
    ActionType("competitor_comparison", 24, 0.9, 48, 0, 1, 0.93),
    ActionType("objection_handling", 36, 0.9, 48, 0, 2, 0.8),
    ActionType("payment_terms_negotiation", 60, 0.8, 96, 0, 1, 0.92),
    ActionType("legal_review", 110, 0.6, 120, 0, 0, 0.96),
    ActionType("contract_archive", 12, 0.7, 0, 3, 0, 1.0),
)
CONTRACT = "contract_archive"

FACT_COLUMNS = (
    "opportunity_id action_key occurrence position rep_id manager_id region started_at day "
    "due_at completed_at ended_at status due on_time overdue escalations evidence_count "
    "evidence_required answers_given answers_required paused_seconds duration_seconds "
    "q_evidence q_answers q_timeliness q_feedback result contract_lag_seconds "
    "pipeline_outcome strategies strategy_count topic"
).split()
PIPELINE_COLUMNS = (
    "opportunity_id rep_id manager_id region template_id template_version started_at "
    "contract_reached_at outcome closed_at actions_completed"
).split()
STRATEGY_COLUMNS = (
    "opportunity_id action_key occurrence strategy rep_id manager_id region completed_at "
    "result topic"
).split()
TICKET_COLUMNS = (
    "ticket_key opportunity_id department action_key rep_id manager_id region requested_at "
    "response_target_minutes first_response_at closed_at status"
).split()


# ---- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rep:
    rep_id: str
    manager_id: str
    region: str
    # Below 1: faster than average.
    pace: float
    # Chance of presenting less than the action asks for.
    sloppiness: float


def team(rng: random.Random) -> list[Rep]:
    reps = []
    for number in range(35):
        region = REGIONS[number % 3]
        manager = f"Manager {region} {1 + (number // 3) % 2}"
        reps.append(
            Rep(
                f"Rep {number + 1:02d}",
                manager,
                region,
                pace=rng.uniform(0.7, 1.4),
                sloppiness=rng.uniform(0.0, 0.15),
            )
        )
    return reps


def _cell(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _line(values) -> str:
    return "\t".join(_cell(value) for value in values) + "\n"


class Generator:
    """Pipelines of actions, one after another, until enough action facts exist."""

    def __init__(self, rng: random.Random, reps: list[Rep], config: AnalyticsConfig) -> None:
        self.rng = rng
        self.reps = reps
        self.zone = config.zone
        self.facts = io.StringIO()
        self.pipelines = io.StringIO()
        self.strategies = io.StringIO()
        self.tickets = io.StringIO()
        self.fact_count = 0
        self.pipeline_count = 0

    def pipeline(self) -> None:
        rng = self.rng
        rep = rng.choice(self.reps)
        self.pipeline_count += 1
        opportunity_id = f"B{self.pipeline_count:07d}"
        started = YEAR_START + timedelta(seconds=rng.uniform(0, 358 * 86400))
        moment, outcome, closed_at = started, "open", None
        instances = []
        for position, action in enumerate(ACTIONS):
            hours = rng.lognormvariate(math.log(action.median_hours * rep.pace), action.spread)
            end = moment + timedelta(hours=hours)
            instance = {"position": position, "action": action, "started": moment, "end": end}
            instances.append(instance)
            if end > DATA_END:
                break
            pull = 0.0
            if action.key == "objection_handling":
                chosen = rng.sample(range(len(STRATEGIES)), rng.randint(1, 3))
                instance["strategies"] = [STRATEGIES[i] for i in chosen]
                instance["topic"] = rng.choice(OBJECTIONS)
                pull = sum(STRATEGY_PULL[i] for i in chosen)
            if rng.random() > action.moves_on + pull:
                # The customer walks away while this action is open.
                outcome, closed_at = "lost", end
                break
            instance["completed"] = end
            moment = end + timedelta(minutes=rng.uniform(5, 240))
        else:
            outcome, closed_at = "won", instances[-1]["completed"]

        contract_at = next(
            (i["started"] for i in instances if i["action"].key == CONTRACT and i["started"]),
            None,
        )
        done = [i for i in instances if "completed" in i]
        for instance in instances:
            self._fact(rep, opportunity_id, instance, done, outcome, closed_at, contract_at)
        self.pipelines.write(
            _line(
                [
                    opportunity_id,
                    rep.rep_id,
                    rep.manager_id,
                    rep.region,
                    "b2b-bench",
                    1,
                    started,
                    contract_at,
                    outcome,
                    closed_at,
                    len(done),
                ]
            )
        )

    def _fact(self, rep, opportunity_id, instance, done, outcome, closed_at, contract_at) -> None:
        rng, action = self.rng, instance["action"]
        started, completed = instance["started"], instance.get("completed")
        due_at = started + timedelta(hours=action.due_hours) if action.due_hours else None
        ended = completed or closed_at
        status = "done" if completed else ("skipped" if closed_at else "open")
        overdue = due_at is not None and (ended or DATA_END) > due_at
        on_time = completed is not None and not overdue
        evidence = action.evidence - (rng.random() < rep.sloppiness and action.evidence > 0)
        answers = action.answers - (rng.random() < rep.sloppiness and action.answers > 0)

        quality = [None] * 4
        result = None
        lag = None
        if completed is not None:
            later = any(other["position"] > instance["position"] for other in done)
            if outcome == "won" or later:
                result = "accepted"
            else:
                result = "rejected" if outcome == "lost" else "pending"
            timeliness = 1.0
            if overdue:
                allowed = (due_at - started).total_seconds()
                timeliness = max(0.0, 1 - (completed - due_at).total_seconds() / allowed)
            quality = [
                min(1.0, evidence / action.evidence) if action.evidence else 1.0,
                min(1.0, answers / action.answers) if action.answers else 1.0,
                timeliness,
                {"accepted": 1.0, "rejected": 0.0}.get(result, 0.5),
            ]
            if contract_at is not None:
                lag = (contract_at - completed).total_seconds()

        strategies = instance.get("strategies", []) if completed else []
        topic = instance.get("topic", "")
        self.facts.write(
            _line(
                [
                    opportunity_id,
                    action.key,
                    1,
                    instance["position"],
                    rep.rep_id,
                    rep.manager_id,
                    rep.region,
                    started,
                    day_of(started, self.zone),
                    due_at,
                    completed,
                    ended,
                    status,
                    completed is not None or overdue,
                    on_time,
                    overdue,
                    int(overdue and rng.random() < 0.8),
                    evidence,
                    action.evidence,
                    answers,
                    action.answers,
                    0.0,
                    (ended - started).total_seconds() if ended else None,
                    *quality,
                    result,
                    lag,
                    outcome,
                    strategies,
                    len(strategies),
                    topic,
                ]
            )
        )
        self.fact_count += 1
        for strategy in strategies:
            self.strategies.write(
                _line(
                    [
                        opportunity_id,
                        action.key,
                        1,
                        strategy,
                        rep.rep_id,
                        rep.manager_id,
                        rep.region,
                        completed,
                        result,
                        topic,
                    ]
                )
            )
        if action.key == "legal_review":
            answered = started + timedelta(minutes=rng.lognormvariate(math.log(80), 0.6))
            self.tickets.write(
                _line(
                    [
                        f"{opportunity_id}:legal_review:legal",
                        opportunity_id,
                        "legal",
                        action.key,
                        rep.rep_id,
                        rep.manager_id,
                        rep.region,
                        started,
                        120,
                        answered if answered < DATA_END else None,
                        completed,
                        "resolved" if completed else "acknowledged",
                    ]
                )
            )


# ---- database -------------------------------------------------------------------------------


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(url: str, generator: Generator, reps: list[Rep]) -> dict[str, float]:
    """COPYs the generated rows; indexes are dropped first and rebuilt after, as bulk loads do."""
    timings = {}
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
            "'analytics_action_facts' AND indexname NOT LIKE 'pk_%'"
        ).fetchall()
        for name, _definition in indexes:
            constraint = name.startswith("uq_")
            statement = (
                f"ALTER TABLE analytics_action_facts DROP CONSTRAINT {name}"
                if constraint
                else f"DROP INDEX {name}"
            )
            connection.execute(statement)

        started = time.perf_counter()
        for table, columns, buffer in (
            ("analytics_action_facts", FACT_COLUMNS, generator.facts),
            ("analytics_pipelines", PIPELINE_COLUMNS, generator.pipelines),
            ("analytics_strategy_uses", STRATEGY_COLUMNS, generator.strategies),
            ("analytics_tickets", TICKET_COLUMNS, generator.tickets),
        ):
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
        timings["copy_seconds"] = time.perf_counter() - started

        started = time.perf_counter()
        for name, definition in indexes:
            if name.startswith("uq_"):
                connection.execute(
                    f"ALTER TABLE analytics_action_facts ADD CONSTRAINT {name} "
                    "UNIQUE (opportunity_id, action_key, occurrence)"
                )
            else:
                connection.execute(definition)
        timings["index_seconds"] = time.perf_counter() - started

        for rep in reps:
            connection.execute(
                "INSERT INTO people (person_id, role, manager_id, region, active) "
                "VALUES (%s, 'rep', %s, %s, true) ON CONFLICT DO NOTHING",
                (rep.rep_id, rep.manager_id, rep.region),
            )
    return timings


async def build_rollup(url: str, config: AnalyticsConfig) -> float:
    """Sums the daily rollup from the loaded facts, as the projection keeps it."""
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        async with session_factory(engine).begin() as session:
            await rebuild_daily(session, config)
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def vacuum(url: str) -> float:
    """VACUUM ANALYZE, as autovacuum leaves a table between bursts of writes."""
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# ---- queries --------------------------------------------------------------------------------


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def period(start: datetime, end: datetime, **filters) -> pb.Filter:
    return pb.Filter(start=stamp(start), end=stamp(end), **filters)


def cases(reps: list[Rep]) -> list[tuple[str, str, object]]:
    """(query, filters, a call on the stub) for every query and a few filter shapes."""
    year = period(YEAR_START, DATA_END)
    quarter = DATA_END - timedelta(days=91)
    month = DATA_END - timedelta(days=30)
    week = DATA_END - timedelta(days=7)
    rep = reps[4]
    return [
        ("Heatmap", "year, all regions", lambda s: s.Heatmap(pb.HeatmapRequest(filter=year))),
        (
            "Heatmap",
            "quarter, 1 region, by rep",
            lambda s: s.Heatmap(
                pb.HeatmapRequest(
                    filter=period(quarter, DATA_END, region="East"),
                    group_by=pb.HEATMAP_GROUP_REP,
                )
            ),
        ),
        (
            "Heatmap",
            "month, 1 team",
            lambda s: s.Heatmap(
                pb.HeatmapRequest(filter=period(month, DATA_END, team=rep.manager_id))
            ),
        ),
        (
            "Bottlenecks",
            "this week, all",
            lambda s: s.Bottlenecks(pb.BottlenecksRequest(filter=period(week, DATA_END))),
        ),
        (
            "Bottlenecks",
            "quarter, all, by stalled",
            lambda s: s.Bottlenecks(
                pb.BottlenecksRequest(
                    filter=period(quarter, DATA_END), rank_by=pb.BOTTLENECK_RANK_STALLED
                )
            ),
        ),
        (
            "Bottlenecks",
            "quarter, 1 region",
            lambda s: s.Bottlenecks(
                pb.BottlenecksRequest(filter=period(quarter, DATA_END, region="West"))
            ),
        ),
        ("Conversion", "year, all", lambda s: s.Conversion(pb.ConversionRequest(filter=year))),
        (
            "Conversion",
            "year, all, 14 days (from the facts)",
            lambda s: s.Conversion(pb.ConversionRequest(filter=year, window_days=14)),
        ),
        (
            "Conversion",
            "quarter, 1 rep, 14 days",
            lambda s: s.Conversion(
                pb.ConversionRequest(
                    filter=period(quarter, DATA_END, rep_id=rep.rep_id), window_days=14
                )
            ),
        ),
        ("Quality", "year, per rep", lambda s: s.Quality(pb.QualityRequest(filter=year))),
        (
            "Quality",
            "month, 1 region, instances",
            lambda s: s.Quality(
                pb.QualityRequest(
                    filter=period(month, DATA_END, region="Central"),
                    level=pb.QUALITY_LEVEL_INSTANCE,
                )
            ),
        ),
        (
            "GrowthPath",
            "1 rep, 12 weeks, top 3",
            lambda s: s.GrowthPath(pb.GrowthPathRequest(rep_id=rep.rep_id)),
        ),
        (
            "GrowthPath",
            "1 rep, 52 weeks, top 5",
            lambda s: s.GrowthPath(pb.GrowthPathRequest(rep_id=rep.rep_id, weeks=52, top=5)),
        ),
        (
            "HealthCheck",
            "year, all",
            lambda s: s.HealthCheck(pb.HealthCheckRequest(filter=year)),
        ),
        (
            "HealthCheck",
            "quarter, 1 region",
            lambda s: s.HealthCheck(
                pb.HealthCheckRequest(filter=period(quarter, DATA_END, region="East"))
            ),
        ),
        (
            "LastOutcomes",
            "1 rep, objections about price",
            lambda s: s.LastOutcomes(
                pb.LastOutcomesRequest(
                    rep_id=rep.rep_id, action_key="objection_handling", topic="price"
                )
            ),
        ),
        (
            "StrategySuggestion",
            "1 rep, objection handling, 90 days",
            lambda s: s.StrategySuggestion(
                pb.StrategySuggestionRequest(rep_id=rep.rep_id, action_key="objection_handling")
            ),
        ),
    ]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


async def time_queries(url: str, reps: list[Rep], config: AnalyticsConfig, runs: int):
    engine = create_engine(url)
    sessions = session_factory(engine)
    servicer = AnalyticsServicer(sessions, config, clock=lambda: DATA_END)
    server = await start_server(
        [
            ServiceBinding(
                servicer,
                analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
                "salesflow.analytics.v1.AnalyticsService",
            )
        ],
        port=0,
    )
    director = Caller("Bench Director", Role.DIRECTOR, frozenset({"*"}))
    results = []
    try:
        async with channel(f"127.0.0.1:{server.port}", director) as bench_channel:
            stub = analytics_pb2_grpc.AnalyticsServiceStub(bench_channel)
            for name, filters, call in cases(reps):
                # Cold: the first call of this query on connections opened for it alone.
                await engine.dispose()
                started = time.perf_counter()
                answer = await call(stub)
                cold = time.perf_counter() - started
                warm = []
                for _ in range(runs):
                    started = time.perf_counter()
                    await call(stub)
                    warm.append(time.perf_counter() - started)
                results.append((name, filters, cold, warm, answer))
    finally:
        await server.stop(grace=0)
        await engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9, help="warm runs per query")
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SALESFLOW_TEST_DATABASE_URL", DEFAULT_SERVER),
        help="a PostgreSQL server URL; the benchmark makes its own database there",
    )
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    options = parser.parse_args()

    config = AnalyticsConfig(timezone="Asia/Shanghai")
    rng = random.Random(options.seed)
    reps = team(rng)

    started = time.perf_counter()
    generator = Generator(rng, reps, config)
    while generator.fact_count < options.actions:
        generator.pipeline()
    generate_seconds = time.perf_counter() - started

    name = f"salesflow_bench_analytics_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(options.postgres), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(options.postgres).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        timings = load(url, generator, reps)
        timings["rollup_seconds"] = asyncio.run(build_rollup(url, config))
        timings["vacuum_seconds"] = vacuum(url)
        load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
        results = asyncio.run(time_queries(url, reps, config, options.runs))
    finally:
        if not options.keep:
            with psycopg.connect(libpq(options.postgres), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(
        f"action facts {generator.fact_count:,} in {generator.pipeline_count:,} pipelines "
        f"(generated in {generate_seconds:.1f} s, COPY {timings['copy_seconds']:.1f} s, "
        f"indexes {timings['index_seconds']:.1f} s, daily rollup "
        f"{timings['rollup_seconds']:.1f} s, VACUUM ANALYZE {timings['vacuum_seconds']:.1f} s)"
    )
    print(f"database {name} ({'kept' if options.keep else 'dropped'}); warm runs: {options.runs}")
    print(f"load average before the queries: {load_before}")
    print()
    print(f"{'query':<20} {'filters':<36} {'cold ms':>8} {'median ms':>10} {'p95 ms':>8}")
    slowest = 0.0
    for query, filters, cold, warm, _answer in results:
        median = statistics.median(warm)
        slowest = max(slowest, cold, p95(warm))
        print(
            f"{query:<20} {filters:<36} {cold * 1000:>8.1f} {median * 1000:>10.1f} "
            f"{p95(warm) * 1000:>8.1f}"
        )
    print()
    print(f"slowest single call: {slowest * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
