"""The quarterly export for HR (CSV and XLSX over gRPC and from the CLI), and the closed
quarter it leaves: nothing enters it, events for it are parked with the reason."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import uuid
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy.exc
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from salesflow.cli.main import main
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.points.ledger import PointsLedger
from services.points.server import serve
from services.templates.store import TemplateStore
from services.templates.validation import check_template_text
from tests.services.points_events import (
    ADMIN,
    HR,
    completed,
    overdue,
    rep_caller,
    started,
    unique,
)

TEMPLATE = """
id: {template_id}
name: Visits
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
    points:
      completion: {completion}
      overdue: -2
      quality_bonus: {{key: punctual, points: 2, when: on_time}}
"""
HEADER = ["rep", "region", "team", "earned", "penalties", "bonuses", "adjustments"]
HEADER += ["redemptions", "total"]


@pytest.fixture
async def points(db_sessions, event_bus):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, ledger=PointsLedger(db_sessions))
    yield service
    await service.stop()


@pytest.fixture
def client_for(points, open_channel):
    return lambda caller: points_pb2_grpc.PointsServiceStub(
        open_channel(f"127.0.0.1:{points.port}", caller)
    )


async def save(db_sessions, template_id: str, completion: int) -> None:
    source = TEMPLATE.format(template_id=template_id, completion=completion)
    checked = check_template_text(source)
    assert checked.ok, checked.problems
    await TemplateStore(db_sessions).save(ADMIN, checked.template)


async def a_quarter_of_work(db_sessions, year: int, month: int) -> tuple[list, PointsLedger]:
    """Two reps' quarter, adjusted once; answers the rows HR must get, by rep id."""
    ledger = PointsLedger(db_sessions)
    template_id = f"visits-{uuid.uuid4().hex[:8]}"
    await save(db_sessions, template_id, completion=5)
    ada, bob = unique("Ada"), unique("Bob")
    north, south = unique("North"), unique("South")
    day = lambda d: datetime(year, month, d, 3, tzinfo=UTC)  # noqa: E731
    o1, o2, o3 = unique("Q"), unique("Q"), unique("Q")
    await ledger.record_events(
        [
            started(ada, north, opp=o1, template=template_id, manager="Team A", at=day(1)),
            started(ada, north, opp=o2, template=template_id, manager="Team A", at=day(1)),
            started(bob, south, opp=o3, template=template_id, manager="Team B", at=day(1)),
            completed(ada, north, "appointment", opp=o1, at=day(2)),
            completed(ada, north, "appointment", opp=o2, at=day(3)),
            overdue(ada, north, "appointment", opp=o2, at=day(2)),
            completed(bob, south, "appointment", opp=o3, at=day(4), on_time=False),
        ]
    )
    # The rules change to 6 per completion and the quarter is recalculated.
    await save(db_sessions, template_id, completion=6)
    quarter = f"{year}Q{(month - 1) // 3 + 1}"
    await ledger.recalculate(ADMIN, quarter=quarter, label="completion is worth 6")
    expected = {
        ada: [ada, north, "Team A", 10, -2, 4, 2, 0, 14],
        bob: [bob, south, "Team B", 5, 0, 0, 1, 0, 6],
    }
    return [expected[rep] for rep in sorted(expected)], ledger


async def test_exporting_a_quarter_gives_hr_its_totals_and_closes_it(client_for, db_sessions):
    expected, ledger = await a_quarter_of_work(db_sessions, 2019, 5)
    request = points_pb2.ExportQuarterRequest(year=2019, quarter=2)

    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await client_for(rep_caller("Ada", "North")).ExportQuarter(request)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    exported = await client_for(HR).ExportQuarter(request)
    assert (exported.period, exported.newly_closed, exported.closed_by) == ("2019Q2", True, "hr")
    assert (exported.reps, exported.total) == (2, 20)
    assert exported.csv.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.csv.decode("utf-8-sig"))))
    assert rows == [HEADER] + [[str(value) for value in row] for row in expected]
    sheet = load_workbook(io.BytesIO(exported.xlsx)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [HEADER] + expected
    assert sheet.title == "points 2019Q2"

    # Exported again: the stored files, byte for byte, however the ledger moved since.
    again = await client_for(ADMIN).ExportQuarter(request)
    assert (again.csv, again.xlsx, again.newly_closed) == (exported.csv, exported.xlsx, False)
    async with db_sessions() as session:
        closes = await session.scalar(
            select(func.count()).where(
                OperationLogEntry.operation == "period.closed",
                OperationLogEntry.subject == "points_period:2019Q2",
            )
        )
    assert closes == 1

    # A late event for the closed quarter is parked, visibly, with the reason.
    late_rep, late_opp = unique("Cid"), unique("Q")
    late = completed(
        late_rep, "North", "appointment", opp=late_opp, at=datetime(2019, 6, 1, tzinfo=UTC)
    )
    assert await ledger.record_events([started(late_rep, "North", opp=late_opp), late]) == 0
    parked = await client_for(HR).ListParked(points_pb2.ListParkedRequest(limit=500))
    [reason] = [event.reason for event in parked.events if event.event_id == late.id]
    assert reason.startswith("period 2019Q2 is closed: exported for the bonus calculation at ")
    assert reason.endswith(" by hr")

    # Recalculating it is refused, naming the quarter; the database refuses an entry in it.
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await client_for(ADMIN).Recalculate(
            points_pb2.RecalculateRequest(quarter="2019Q2", label="too late")
        )
    assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "period 2019Q2 is closed" in closed.value.details()
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="points period is closed"):
        async with db_sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO points_ledger (rep_id, region, team, points, kind, rule, "
                    "rule_version, event_id, opportunity_id, action_key, label, occurred_at, "
                    "period, recorded_at, entry_key, item_key) VALUES ('x', 'x', '', 1, "
                    "'earned', 'r', 'v', 'e', 'o', 'a', 'l', now(), '2019Q2', now(), "
                    "'sneaky', 'sneaky')"
                )
            )


async def test_a_quarter_not_yet_over_cannot_be_exported(client_for):
    now = datetime.now(UTC)
    request = points_pb2.ExportQuarterRequest(year=now.year, quarter=(now.month - 1) // 3 + 1)
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await client_for(HR).ExportQuarter(request)
    assert early.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "has not ended yet" in early.value.details()


@pytest.fixture
def cli(points, monkeypatch):
    monkeypatch.setenv("SALESFLOW_GRPC_HOST", "127.0.0.1")
    monkeypatch.setenv("SALESFLOW_POINTS_PORT", str(points.port))

    async def run(*argv: str) -> int:
        # main() runs its own event loop, so it gets a thread of its own.
        return await asyncio.to_thread(main, list(argv))

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield run
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_the_cli_exports_closes_and_redeems(cli, db_sessions, capsys, tmp_path):
    expected, _ledger = await a_quarter_of_work(db_sessions, 2019, 8)
    hr = ["--as", "Hana HR", "--role", "hr"]
    file = tmp_path / "2019Q3.xlsx"

    assert (
        await cli(
            "points", "export", "--quarter", "2019q3", "--format", "xlsx", "-o", str(file), *hr
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"wrote {file}" in out and "2019Q3 closed now" in out and "2 reps, 20 points" in out
    sheet = load_workbook(file).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [HEADER] + expected

    assert await cli("points", "close", "--quarter", "2019Q3", *hr) == 0
    assert "2019Q3 closed already" in capsys.readouterr().out
    assert await cli("points", "close", "--quarter", "2019-3", *hr) == 2

    ada, region = expected[0][0], expected[0][1]
    me = ["--as", ada, "--role", "rep", "--regions", region]
    assert await cli("points", "balance", ada, *me) == 0
    assert capsys.readouterr().out.strip() == f"{ada}: 14 points (7 entries)"
    assert (
        await cli(
            "points", "reward", "leave_cli", "--name", "Paid leave", "--price", "10", "--stock", "1"
        )
        == 0
    )
    assert await cli("points", "redeem", "leave_cli", "--key", "cli-1", *me) == 0
    assert " pending " in capsys.readouterr().out
    assert await cli("points", "redeem", "leave_cli", "--key", "cli-2", *me) == 1
    assert "out of stock" in capsys.readouterr().err
    assert await cli("points", "leaderboard", "--region", region, *me) == 0
    assert f"1. {ada}" in capsys.readouterr().out
