"""Fixtures of the analytics tests: a configuration with weights and references chosen for
hand arithmetic, an emptied read model, and the service on a real gRPC server."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from sqlalchemy import select

from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from services.analytics import projection
from services.analytics.config import AnalyticsConfig, QualityWeights
from services.analytics.models import DERIVED_TABLES, AnalyticsEvent
from services.analytics.server import serve
from tests.services.analytics.scenario import NOW, Scenario

CONFIG = AnalyticsConfig(
    quality_weights=QualityWeights(evidence=40, answers=20, timeliness=20, feedback=20),
    quality_target=92.0,
    conversion_references=MappingProxyType(
        {"appointment": 0.6, "solution_demo": 0.5, "objection_handling": 0.9}
    ),
    visit_actions=("solution_demo",),
    min_outcomes=2,
    timezone="Asia/Shanghai",
)


@pytest.fixture
def config() -> AnalyticsConfig:
    return CONFIG


@pytest.fixture
async def clean(db_sessions):
    """An empty analytics read model (the session's database is shared by every test)."""
    await projection.clear(db_sessions, keep_events=False)
    yield
    await projection.clear(db_sessions, keep_events=False)


@pytest.fixture
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture
async def recorded(db_sessions, clean, scenario, config) -> Scenario:
    """The scenario's events applied to the read model in one batch."""
    await projection.apply_events(db_sessions, scenario.events(), config)
    return scenario


@pytest.fixture
async def analytics(db_sessions, event_bus, config):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, config=config, clock=lambda: NOW)
    yield service
    await service.stop()


@pytest.fixture
def client_for(analytics, open_channel):
    """A client per caller; channels stay open until the test ends."""
    return lambda caller: analytics_pb2_grpc.AnalyticsServiceStub(
        open_channel(f"127.0.0.1:{analytics.port}", caller)
    )


async def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every derived row (without surrogate ids) and every stored event id, sorted."""
    found = {}
    async with sessions() as session:
        for table in DERIVED_TABLES:
            columns = [c for c in table.__table__.columns if c.name != "id"]
            rows = (await session.execute(select(*columns))).all()
            found[table.__tablename__] = sorted(
                (tuple(_comparable(value) for value in row) for row in rows), key=repr
            )
        found["events"] = sorted(await session.scalars(select(AnalyticsEvent.event_id)))
    return found


def _comparable(value):
    # Sums of the same floats added in another order may differ in the last bits.
    if isinstance(value, float):
        return round(value, 9)
    return tuple(value) if isinstance(value, list) else value
