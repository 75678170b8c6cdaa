"""Reading a CRM opportunities export as a customer hands it over, mess included.

The layout is that of `sales_pipeline.csv`, `sales_teams.csv`, `accounts.csv` and
`products.csv`. Every pipeline row either becomes an Opportunity or a Rejection with its
row number and reason; rows that are usable but imperfect carry warnings.
"""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from salesflow.core.zones import is_iana_zone

logger = logging.getLogger(__name__)

PIPELINE_FILE = "sales_pipeline.csv"
TEAMS_FILE = "sales_teams.csv"
ACCOUNTS_FILE = "accounts.csv"
PRODUCTS_FILE = "products.csv"

PIPELINE_COLUMNS = (
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
)
TEAMS_COLUMNS = ("sales_agent", "manager", "regional_office")
# Optional teams-file column: the IANA zone the rep works in (e.g. Europe/Berlin).
TIME_ZONE_COLUMN = "time_zone"
# Optional: the sales director over the rep's region, for escalation chains that reach them.
DIRECTOR_COLUMN = "director"
STAGES = ("Prospecting", "Engaging", "Won", "Lost")
# Larger values are typing errors, not deals (and would overflow reports).
MAX_CLOSE_VALUE = 1e12


class ExportError(ValueError):
    """The export as a whole cannot be read (a missing file or column)."""


@dataclass(frozen=True)
class TeamMember:
    rep_id: str
    manager_id: str
    region: str
    # None when the file has no time_zone column (the directory keeps what it knows);
    # "" for the company calendar's zone.
    time_zone: str | None = None
    # The region's sales director when the file names one.
    director_id: str = ""


@dataclass(frozen=True)
class Opportunity:
    row: int
    opportunity_id: str
    rep_id: str
    product: str
    account: str
    stage: str
    engage_date: date | None
    close_date: date | None
    close_value: float | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    row: int
    opportunity_id: str
    reason: str


@dataclass
class Export:
    team: dict[str, TeamMember]
    opportunities: list[Opportunity]
    rejections: list[Rejection]
    rows_read: int
    products: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    team_rejections: list[Rejection] = field(default_factory=list)

    @property
    def as_of(self) -> date:
        """The export's own "today": the latest date it mentions."""
        dates = [
            day
            for opportunity in self.opportunities
            for day in (opportunity.engage_date, opportunity.close_date)
            if day is not None
        ]
        return max(dates) if dates else date.today()

    @property
    def first_date(self) -> date:
        dates = [o.engage_date for o in self.opportunities if o.engage_date is not None]
        return min(dates) if dates else self.as_of

    def first(self, count: int) -> Export:
        """The export cut to its first `count` pipeline records (in file order)."""
        rows = sorted([*(o.row for o in self.opportunities), *(r.row for r in self.rejections)])
        if count >= len(rows):
            return self
        last_row = rows[count - 1] if count > 0 else 0
        opportunities = [o for o in self.opportunities if o.row <= last_row]
        rejections = [r for r in self.rejections if r.row <= last_row]
        return Export(
            team=self.team,
            opportunities=opportunities,
            rejections=rejections,
            rows_read=len(opportunities) + len(rejections),
            products=self.products,
            accounts=self.accounts,
            team_rejections=self.team_rejections,
        )

    def rejected_by_reason(self) -> dict[str, int]:
        return dict(Counter(rejection.reason.split(":")[0] for rejection in self.rejections))

    def warnings_by_kind(self) -> dict[str, int]:
        return dict(Counter(w for o in self.opportunities for w in o.warnings))


def read_export(directory: Path) -> Export:
    """Reads the four files; raises ExportError only when the export as a whole is unusable."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ExportError(f"no export directory at {directory}")
    team, team_rejections = _read_team(directory / TEAMS_FILE)
    products = _read_names(directory / PRODUCTS_FILE, "product")
    accounts = _read_names(directory / ACCOUNTS_FILE, "account")
    products_by_key = {_squashed(name): name for name in products}

    opportunities: list[Opportunity] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    rows = _rows(directory / PIPELINE_FILE, PIPELINE_COLUMNS)
    for row_number, row, problem in rows:
        if problem:
            rejections.append(Rejection(row_number, row.get("opportunity_id") or "", problem))
            continue
        outcome = _opportunity(row_number, row, team, products_by_key, accounts, seen)
        if isinstance(outcome, Rejection):
            rejections.append(outcome)
        else:
            opportunities.append(outcome)
            seen.add(outcome.opportunity_id)

    rows_read = len(opportunities) + len(rejections)
    logger.info(
        "export read rows=%s opportunities=%s rejected=%s",
        rows_read,
        len(opportunities),
        len(rejections),
    )
    return Export(
        team=team,
        opportunities=opportunities,
        rejections=rejections,
        rows_read=rows_read,
        products=set(products),
        accounts=set(accounts),
        team_rejections=team_rejections,
    )


def _opportunity(
    row_number: int,
    row: dict[str, str],
    team: dict[str, TeamMember],
    products_by_key: dict[str, str],
    accounts: set[str],
    seen: set[str],
) -> Opportunity | Rejection:
    opportunity_id = row["opportunity_id"]

    def reject(reason: str) -> Rejection:
        return Rejection(row_number, opportunity_id, reason)

    if not opportunity_id:
        return reject("missing_opportunity_id")
    if any(char.isspace() for char in opportunity_id) or len(opportunity_id) > 100:
        return reject("malformed_opportunity_id")
    if opportunity_id in seen:
        return reject("duplicate_opportunity_id")
    rep_id = row["sales_agent"]
    if not rep_id:
        return reject("missing_sales_agent")
    if rep_id not in team:
        return reject(f"unknown_sales_agent: {rep_id}")
    stage = row["deal_stage"]
    if stage not in STAGES:
        return reject(f"unknown_deal_stage: {stage}")

    try:
        engage = date.fromisoformat(row["engage_date"]) if row["engage_date"] else None
    except ValueError:
        return reject(f"bad_engage_date: {row['engage_date']}")
    try:
        close = date.fromisoformat(row["close_date"]) if row["close_date"] else None
    except ValueError:
        return reject(f"bad_close_date: {row['close_date']}")
    if stage in ("Won", "Lost") and (engage is None or close is None):
        return reject("closed_without_dates")
    if stage == "Engaging" and engage is None:
        return reject("engaging_without_engage_date")
    if engage is not None and close is not None and close < engage:
        return reject("close_before_engage")

    close_value = None
    if row["close_value"]:
        try:
            close_value = float(row["close_value"])
        except ValueError:
            return reject(f"bad_close_value: {row['close_value']}")
        if not math.isfinite(close_value) or close_value > MAX_CLOSE_VALUE:
            return reject(f"bad_close_value: {row['close_value']}")
        if close_value < 0:
            return reject("negative_close_value")

    warnings: list[str] = []
    product = row["product"]
    canonical = products_by_key.get(_squashed(product))
    if canonical is None:
        warnings.append("unknown_product")
    elif canonical != product:
        warnings.append("product_name_normalised")
        product = canonical
    account = row["account"]
    if not account:
        warnings.append("account_missing")
    elif accounts and account not in accounts:
        warnings.append("unknown_account")
    if stage == "Prospecting" and engage is None:
        warnings.append("not_engaged_yet")
    if stage == "Won" and not close_value:
        warnings.append("won_without_value")

    return Opportunity(
        row=row_number,
        opportunity_id=opportunity_id,
        rep_id=rep_id,
        product=product,
        account=account,
        stage=stage,
        engage_date=engage,
        close_date=close,
        close_value=close_value,
        warnings=tuple(warnings),
    )


def read_team_file(path: Path) -> tuple[dict[str, TeamMember], list[Rejection]]:
    """Reps, their managers and regions from a teams CSV, with the rows that were refused."""
    return _read_team(Path(path))


def _read_team(path: Path) -> tuple[dict[str, TeamMember], list[Rejection]]:
    team: dict[str, TeamMember] = {}
    rejections: list[Rejection] = []
    for row_number, row, problem in _rows(path, TEAMS_COLUMNS):
        if problem:
            rejections.append(Rejection(row_number, row.get("sales_agent") or "", problem))
            continue
        rep_id, manager_id, region = row["sales_agent"], row["manager"], row["regional_office"]
        if not rep_id or not manager_id or not region:
            rejections.append(Rejection(row_number, rep_id, "incomplete_team_row"))
            continue
        if rep_id in team:
            rejections.append(Rejection(row_number, rep_id, "duplicate_sales_agent"))
            continue
        time_zone = row.get(TIME_ZONE_COLUMN)
        if time_zone and not is_iana_zone(time_zone):
            rejections.append(Rejection(row_number, rep_id, f"unknown_time_zone: {time_zone}"))
            continue
        director_id = (row.get(DIRECTOR_COLUMN) or "").strip()
        if director_id and director_id in (rep_id, manager_id):
            rejections.append(Rejection(row_number, rep_id, "director_is_rep_or_manager"))
            continue
        team[rep_id] = TeamMember(rep_id, manager_id, region, time_zone, director_id)
    if not team:
        raise ExportError(f"{path} names no sales agents")
    return team, rejections


def _read_names(path: Path, column: str) -> list[str]:
    if not path.exists():
        logger.warning("export file missing path=%s; its names are not checked", path)
        return []
    return [
        row[column]
        for _number, row, problem in _rows(path, (column,))
        if not problem and row[column]
    ]


def _rows(path: Path, required: tuple[str, ...]):
    """(line number, stripped row, problem) for every record of a CSV file.

    The line number is the record's line in the file, as an editor or spreadsheet shows it
    (blank lines included). A record is a problem when its field count differs from the
    header's (usually an unquoted comma that shifted the columns) or when it is not UTF-8;
    such rows are reported, never guessed at.
    """
    if not path.exists():
        raise ExportError(f"missing file {path}")
    if path.is_dir():
        raise ExportError(f"{path} is a folder; name a CSV file")
    try:
        handle = path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as error:
        raise ExportError(f"cannot open {path}: {error.strerror or error}") from error
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [column for column in required if column not in header]
        if missing:
            raise ExportError(f"{path.name} lacks columns: {', '.join(missing)}")
        for raw in reader:
            number = reader.line_num
            extra = raw.pop(None, None) or []
            values = [value for value in raw.values() if value is not None] + list(extra)
            if not any(value.strip() for value in values):
                continue  # a blank or whitespace-only line is not a record
            row = {key: (value or "").strip() for key, value in raw.items() if key}
            fields = len(values)
            problem = None
            if any(_not_utf8(value) for value in values):
                problem = "not_utf8"
            elif fields != len(header):
                problem = f"wrong_field_count: {fields} of {len(header)}"
            # Reports must stay valid UTF-8 whatever bytes the row held.
            row = {key: _printable(value) for key, value in row.items()}
            yield number, row, problem


def _printable(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def _not_utf8(value: str) -> bool:
    # surrogateescape maps each undecodable byte to a lone surrogate U+DC80..U+DCFF.
    return any("\udc80" <= char <= "\udcff" for char in value)


def _squashed(name: str) -> str:
    return "".join(name.lower().split())
