"""The quick-start sample: a small CRM export written by salesflow itself.

Same layout as a real export, with a few of the faults real exports have (an unknown rep,
a duplicate id, a close date before the engage date, a malformed date, a product spelt
differently, a missing account), so the first run shows how rejects are reported.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from salesflow.replay.export import PIPELINE_COLUMNS, TEAMS_COLUMNS

TEAM = (
    ("Lin Wei", "Zhou Min", "East"),
    ("Chen Jing", "Zhou Min", "East"),
    ("Wang Fang", "Zhou Min", "East"),
    ("Liu Yang", "Sun Hao", "North"),
    ("Zhao Lei", "Sun Hao", "North"),
    ("Huang Li", "Sun Hao", "North"),
)
PRODUCTS = (("Flow Basic", "FL", 900), ("Flow Pro", "FL", 4200), ("Cold Chain Kit", "CC", 12000))
ACCOUNTS = (
    ("Hangzhou MedSupply", "medical"),
    ("Ningbo Automation", "industrial"),
    ("Wenzhou Build Mart", "building materials"),
    ("Suzhou Cloud Ops", "software"),
    ("Qingdao Cold Logistics", "logistics"),
    ("Jinan Hospital Group", "medical"),
)


def write_sample_export(directory: Path, *, opportunities: int = 36, seed: int = 7) -> Path:
    """Writes the four CSV files into directory and returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)

    with (directory / "sales_teams.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TEAMS_COLUMNS)
        writer.writerows(TEAM)
    with (directory / "products.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["product", "series", "sales_price"])
        writer.writerows(PRODUCTS)
    with (directory / "accounts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "account",
                "sector",
                "year_established",
                "revenue",
                "employees",
                "office_location",
                "subsidiary_of",
            ]
        )
        for name, sector in ACCOUNTS:
            writer.writerow([name, sector, 2001, 120.5, 300, "China", ""])

    start = date(2025, 3, 3)
    rows = []
    for number in range(opportunities):
        rep = TEAM[number % len(TEAM)][0]
        product, _series, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
        account = ACCOUNTS[rng.randrange(len(ACCOUNTS))][0]
        engage = start + timedelta(days=rng.randrange(0, 40))
        stage = ("Won", "Won", "Lost", "Engaging", "Won", "Prospecting")[number % 6]
        close = engage + timedelta(days=rng.randrange(3, 45)) if stage in ("Won", "Lost") else None
        value = int(price * rng.uniform(0.8, 1.1)) if stage == "Won" else (0 if close else "")
        rows.append(
            [
                f"SF{number:04d}",
                rep,
                product,
                account,
                stage,
                "" if stage == "Prospecting" else engage.isoformat(),
                close.isoformat() if close else "",
                value,
            ]
        )

    # What real exports contain, one of each.
    rows.append(
        [
            "SF9001",
            "Nobody Known",
            "Flow Pro",
            ACCOUNTS[0][0],
            "Won",
            "2025-03-05",
            "2025-03-20",
            4000,
        ]
    )
    rows.append([rows[0][0], *rows[0][1:]])
    rows.append(
        ["SF9002", TEAM[0][0], "Flow Basic", ACCOUNTS[1][0], "Won", "2025-04-10", "2025-04-01", 950]
    )
    rows.append(
        ["SF9003", TEAM[1][0], "Flow Basic", ACCOUNTS[2][0], "Lost", "2025-13-01", "2025-04-02", 0]
    )
    rows.append(
        ["SF9004", TEAM[3][0], "FlowPro", ACCOUNTS[3][0], "Won", "2025-03-10", "2025-04-08", 4100]
    )
    rows.append(["SF9005", TEAM[4][0], "Flow Basic", "", "Engaging", "2025-04-01", "", ""])

    with (directory / "sales_pipeline.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PIPELINE_COLUMNS)
        writer.writerows(rows)
    return directory
