"""The quarterly export for the HR bonus calculation, which closes the quarter.

Per rep: region, team, and the quarter's points by kind (earned, penalties, bonuses,
adjustments, redemptions net of refunds) and in total, as CSV (UTF-8 with a byte-order
mark, so spreadsheet programs read Chinese names) and XLSX. Exporting locks the quarter's
row (SELECT ... FOR UPDATE) against every writer, stores both files on it and closes it in
one transaction: from then on the database refuses entries dated in the quarter, and
exporting again answers the stored files, byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salesflow.core.caller import Caller
from salesflow.core.db import insert_ignoring_duplicates
from salesflow.core.errors import FailedPrecondition
from salesflow.core.oplog import append_operation
from services.points import periods
from services.points.ledger import SERVICE, PointsLedger, latest_places
from services.points.models import (
    ADJUSTMENT,
    BONUS,
    EARNED,
    PENALTY,
    REDEMPTION,
    REFUND,
    LedgerEntry,
    Period,
)

logger = logging.getLogger(__name__)

COLUMNS = (
    "rep",
    "region",
    "team",
    "earned",
    "penalties",
    "bonuses",
    "adjustments",
    "redemptions",
    "total",
)
# Which column each entry kind adds to; refunds give back what redemptions took.
COLUMN_OF_KIND = {
    EARNED: "earned",
    PENALTY: "penalties",
    BONUS: "bonuses",
    ADJUSTMENT: "adjustments",
    REDEMPTION: "redemptions",
    REFUND: "redemptions",
}


@dataclass(frozen=True)
class QuarterExport:
    period: str
    csv: bytes
    xlsx: bytes
    closed_at: datetime
    closed_by: str
    newly_closed: bool
    reps: int
    total: int


async def export_quarter(ledger: PointsLedger, caller: Caller, quarter: str) -> QuarterExport:
    """The quarter's files; closes it the first time. FAILED_PRECONDITION before its end."""
    window = periods.quarter_window(quarter, ledger.zone)
    now = ledger.clock()
    if now < window.end:
        raise FailedPrecondition(
            f"{window.label} has not ended yet: it ends "
            f"{window.end.astimezone(ledger.zone).isoformat()}"
        )

    async with ledger.sessions.begin() as session:
        await session.execute(
            insert_ignoring_duplicates(session, Period, [{"period": window.label}])
        )
        period = await session.get(Period, window.label, with_for_update=True)
        if period.closed_at is not None:
            return _stored(period, newly_closed=False)

        rows = await quarter_rows(session, window.label)
        period.csv = _csv(rows)
        period.xlsx = _xlsx(rows, window.label, now)
        period.closed_at, period.closed_by = now, caller.id
        period.reps = len(rows)
        period.total = sum(row["total"] for row in rows)
        await session.flush()
        await append_operation(
            session,
            caller=caller,
            service=SERVICE,
            operation="period.closed",
            subject=f"points_period:{window.label}",
            payload={
                "reps": period.reps,
                "total": period.total,
                "csv_sha256": hashlib.sha256(period.csv).hexdigest(),
                "xlsx_sha256": hashlib.sha256(period.xlsx).hexdigest(),
            },
        )
    logger.info("quarter %s exported and closed by=%s reps=%d", window.label, caller.id, len(rows))
    return _stored(period, newly_closed=True)


async def quarter_rows(session: AsyncSession, quarter: str) -> list[dict]:
    """One row per rep with entries in the quarter, by rep id."""
    sums = await session.execute(
        select(LedgerEntry.rep_id, LedgerEntry.kind, func.sum(LedgerEntry.points))
        .where(LedgerEntry.period == quarter)
        .group_by(LedgerEntry.rep_id, LedgerEntry.kind)
    )
    by_rep: dict[str, dict] = {}
    for rep_id, kind, points in sums:
        row = by_rep.setdefault(rep_id, {column: 0 for column in COLUMNS[3:]} | {"rep": rep_id})
        row[COLUMN_OF_KIND.get(kind, "adjustments")] += int(points)
        row["total"] += int(points)
    places = await latest_places(session, list(by_rep), [LedgerEntry.period == quarter])
    for rep_id, row in by_rep.items():
        row["region"], row["team"] = places.get(rep_id, ("", ""))
    return [by_rep[rep] for rep in sorted(by_rep)]


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[dict], quarter: str, now: datetime) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"points {quarter}"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[column] for column in COLUMNS])
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (24, 12, 24, 10, 10, 10, 12, 12, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    # The file says when the quarter closed, not when some later request read it.
    workbook.properties.created = now.replace(tzinfo=None)
    workbook.properties.modified = now.replace(tzinfo=None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _stored(period: Period, *, newly_closed: bool) -> QuarterExport:
    return QuarterExport(
        period=period.period,
        csv=period.csv or b"",
        xlsx=period.xlsx or b"",
        closed_at=period.closed_at,
        closed_by=period.closed_by,
        newly_closed=newly_closed,
        reps=period.reps,
        total=period.total,
    )
