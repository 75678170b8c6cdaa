"""Reading a messy export: every row runs or is rejected with its line and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from salesflow.replay.export import ExportError, read_export
from salesflow.replay.sample import write_sample_export

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
GOOD = "Lin Wei,Flow Pro,Ningbo Automation,Won,2025-03-03,2025-03-20,4000"


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    directory = write_sample_export(tmp_path / "export")
    return directory


def write_pipeline(directory: Path, lines: list[bytes]) -> None:
    (directory / "sales_pipeline.csv").write_bytes(b"\n".join(lines) + b"\n")


def test_each_faulty_row_is_rejected_with_its_line_in_the_file(export_dir):
    write_pipeline(
        export_dir,
        [
            HEADER.encode(),
            f"G1,{GOOD}".encode(),
            b"",
            f"G2,{GOOD},EXTRA".encode(),
            "G3,Lin Wei,Flow Pro,Ningbo \xff\xfe,Won,2025-03-03,2025-03-20,1".encode("latin-1"),
            b"G4,Lin Wei,Flow Pro,Ningbo Automation,Prospecting",
            b"G5,Lin Wei,Flow Pro,Ningbo Automation,Won,2025-02-30,2025-03-20,1",
            b"G6,Lin Wei,Flow Pro,Ningbo Automation,Won,2025-03-03,2025-03-20,nan",
            b"G7,Lin Wei,Flow Pro,Ningbo Automation,Won,2025-03-03,2025-03-20,-5",
            b"G8,Lin Wei,Flow Pro,Ningbo Automation,Signed,2025-03-03,2025-03-20,1",
            b"G 9,Lin Wei,Flow Pro,Ningbo Automation,Won,2025-03-03,2025-03-20,1",
            f"G1,{GOOD}".encode(),
            b"G10,Nobody,Flow Pro,Ningbo Automation,Won,2025-03-03,2025-03-20,1",
            b"   ",
            b"BAD\xfe,Lin Wei",
        ],
    )

    export = read_export(export_dir)

    assert [(o.row, o.opportunity_id) for o in export.opportunities] == [(2, "G1")]
    assert [(r.row, r.opportunity_id, r.reason) for r in export.rejections] == [
        (4, "G2", "wrong_field_count: 9 of 8"),
        (5, "G3", "not_utf8"),
        (6, "G4", "wrong_field_count: 5 of 8"),
        (7, "G5", "bad_engage_date: 2025-02-30"),
        (8, "G6", "bad_close_value: nan"),
        (9, "G7", "negative_close_value"),
        (10, "G8", "unknown_deal_stage: Signed"),
        (11, "G 9", "malformed_opportunity_id"),
        (12, "G1", "duplicate_opportunity_id"),
        (13, "G10", "unknown_sales_agent: Nobody"),
        (15, "BAD?", "not_utf8"),
    ]
    assert export.rows_read == 12


def test_teams_file_problems_are_reported(export_dir):
    with (export_dir / "sales_teams.csv").open("a") as teams:
        teams.write("Lin Wei,Someone Else,West\nHalf Row,,\n")

    export = read_export(export_dir)

    assert [(r.row, r.opportunity_id, r.reason) for r in export.team_rejections] == [
        (8, "Lin Wei", "duplicate_sales_agent"),
        (9, "Half Row", "incomplete_team_row"),
    ]
    assert export.team["Lin Wei"].manager_id == "Zhou Min"


def test_a_missing_directory_or_file_or_column_is_one_clear_error(export_dir, tmp_path):
    with pytest.raises(ExportError, match="no export directory"):
        read_export(tmp_path / "nowhere")

    (export_dir / "sales_teams.csv").unlink()
    with pytest.raises(ExportError, match="missing file .*sales_teams.csv"):
        read_export(export_dir)

    other = write_sample_export(tmp_path / "other")
    write_pipeline(other, [b"opportunity_id,sales_agent", b"X,Lin Wei"])
    with pytest.raises(ExportError, match="lacks columns: product, account"):
        read_export(other)
    shutil.rmtree(other)


def test_a_header_only_export_reads_as_empty(export_dir):
    write_pipeline(export_dir, [HEADER.encode()])
    export = read_export(export_dir)
    assert (export.rows_read, export.opportunities, export.rejections) == (0, [], [])


def test_a_teams_file_may_name_each_rep_s_time_zone(tmp_path):
    from salesflow.replay.export import read_team_file

    teams = tmp_path / "sales_teams.csv"
    teams.write_text(
        "sales_agent,manager,regional_office,time_zone\n"
        "Lin Wei,Zhou Min,East,Asia/Shanghai\n"
        "Klara Berg,Zhou Min,West,Europe/Berlin\n"
        "Sam Default,Zhou Min,West,\n"
        "Max Mars,Zhou Min,West,Mars/Olympus_Mons\n"
        "Lou Local,Zhou Min,West,localtime\n"
        "Fay Factory,Zhou Min,West,Factory\n"
        "Pat Posix,Zhou Min,West,posixrules\n"
    )
    team, rejections = read_team_file(teams)

    assert {rep: member.time_zone for rep, member in team.items()} == {
        "Lin Wei": "Asia/Shanghai",
        "Klara Berg": "Europe/Berlin",
        "Sam Default": "",
    }
    # Names the zone files answer to that are no IANA zone: the server's own zone, the
    # zone of an unconfigured machine, the POSIX rules.
    assert [(r.row, r.opportunity_id, r.reason) for r in rejections] == [
        (5, "Max Mars", "unknown_time_zone: Mars/Olympus_Mons"),
        (6, "Lou Local", "unknown_time_zone: localtime"),
        (7, "Fay Factory", "unknown_time_zone: Factory"),
        (8, "Pat Posix", "unknown_time_zone: posixrules"),
    ]


def test_a_teams_file_without_time_zones_leaves_them_unknown(export_dir):
    export = read_export(export_dir)
    assert {member.time_zone for member in export.team.values()} == {None}
