"""The CLI as a user drives it: pipeline and evidence commands against a running stack."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from salesflow.cli.main import main
from salesflow.replay.export import TeamMember
from salesflow.replay.files import photo_bytes
from services.pipeline.directory import upsert_team

REP = ["--as", "Cleo Cli", "--role", "rep", "--regions", "East"]
OTHER_REP = ["--as", "Otto Cli", "--role", "rep", "--regions", "East"]


@pytest.fixture
async def cli(stack, monkeypatch):
    """Runs `salesflow ...` against the stack; answers the exit code.

    Its people are its own: the points ledger is shared with the session's other tests.
    """
    await upsert_team(
        stack.sessions,
        [
            TeamMember("Cleo Cli", "Max Cli", "East"),
            TeamMember("Otto Cli", "Max Cli", "East"),
        ],
    )
    monkeypatch.setenv("SALESFLOW_GRPC_HOST", stack.settings.grpc_host)
    for name, service in stack.services.items():
        monkeypatch.setenv(f"SALESFLOW_{name.upper()}_PORT", str(service.port))

    async def run(*argv: str) -> int:
        # main() runs its own event loop, so it gets a thread of its own.
        return await asyncio.to_thread(main, list(argv))

    # main() points logging at the stderr it finds; give the test session its own back.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield run
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_the_lock_refuses_then_accepts_through_the_cli(cli, stack, capsys, tmp_path):
    assert await cli("pipeline", "start", "CLI-1", "--rep", "Cleo Cli", "--account", "Acme") == 0
    out = capsys.readouterr().out
    assert "pipeline pipeline-CLI-1 started" in out
    assert "template b2b-default v1" in out

    assert await cli("pipeline", "complete", "CLI-1", "appointment", *REP) == 0
    assert "appointment completed (on time, +5 points)" in capsys.readouterr().out

    # No photo yet: refused, and the refusal names what is missing.
    assert await cli("pipeline", "complete", "CLI-1", "onsite_diagnosis", *REP) == 1
    err = capsys.readouterr().err
    assert "FAILED_PRECONDITION" in err
    assert "onsite_diagnosis is locked until:" in err
    assert "- evidence onsite_photo: 0/1" in err

    photo = tmp_path / "site.jpg"
    taken = datetime.now(UTC) + timedelta(seconds=1)
    photo.write_bytes(photo_bytes("customer site", taken))
    await asyncio.sleep(1.5)
    upload = ["evidence", "upload", str(photo), "--opportunity", "CLI-1"]
    upload += ["--action", "onsite_diagnosis", "--kind", "onsite_photo"]

    # Another rep may not attach files to this rep's pipeline.
    assert await cli(*upload, *OTHER_REP) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err

    assert await cli(*upload, *REP) == 0
    uploaded = capsys.readouterr()
    evidence_id = uploaded.out.strip()
    assert "image/jpeg" in uploaded.err

    assert await cli("evidence", "list", "CLI-1", *REP) == 0
    assert evidence_id in capsys.readouterr().out

    assert (
        await cli(
            "pipeline", "complete", "CLI-1", "onsite_diagnosis", "--evidence", evidence_id, *REP
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "onsite_diagnosis completed" in out
    assert "at solution_demo" in out

    # Answers are parsed strictly; a malformed one is refused before any call.
    assert await cli("pipeline", "complete", "CLI-1", "solution_demo", "--answer", "x", *REP) == 2
    assert "is not KEY=VALUE" in capsys.readouterr().err


async def test_cli_reports_unknown_pipelines_and_bad_identities(cli, capsys):
    assert await cli("pipeline", "show", "NOPE-404", *REP) == 1
    assert "NOT_FOUND" in capsys.readouterr().err

    assert await cli("pipeline", "close", "NOPE-404", "--reason", " ", *REP) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err


def test_notification_routes_are_imported_from_a_csv(database_url, monkeypatch, tmp_path, capsys):
    from sqlalchemy import create_engine, text

    from salesflow.core.db import sync_url

    region = f"Route-{uuid.uuid4().hex[:6]}"
    routes = tmp_path / "routes.csv"
    routes.write_text(
        "recipient,region,channel,target\n"
        f"role:manager,{region},wecom,east_managers\n"
        f"Rita Rep,{region},email,rita@example.com\n"
    )
    monkeypatch.setenv("SALESFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("SALESFLOW_ROBOT_EAST_MANAGERS", "wecom:https://qyapi.weixin.qq.com/x?key=k")
    # main() points logging at the stderr it finds; give the test session its own back.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert main(["routes", "import", str(routes)]) == 0
        assert "2 notification routes saved" in capsys.readouterr().out

        engine = create_engine(sync_url(database_url))
        with engine.begin() as connection:
            stored = connection.execute(
                text(
                    "SELECT recipient, channel, target FROM notification_routes WHERE region = :r"
                ),
                {"r": region},
            ).all()
            connection.execute(
                text("DELETE FROM notification_routes WHERE region = :r"), {"r": region}
            )
        engine.dispose()
        assert sorted(stored) == [
            ("Rita Rep", "email", "rita@example.com"),
            ("role:manager", "wecom", "east_managers"),
        ]

        routes.write_text("recipient,region,channel,target\nRita Rep,*,pager,123\n")
        assert main(["routes", "import", str(routes)]) == 2
        assert "row 2: channel 'pager' is not one of" in capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_a_rep_with_a_chinese_name_acts_like_anyone_else(cli, stack, capsys):
    await upsert_team(stack.sessions, [TeamMember("张伟", "王经理", "华东", "Asia/Shanghai")])
    zhang = ["--as", "张伟", "--role", "rep", "--regions", "华东"]

    assert await cli("pipeline", "start", "ZH-1", "--rep", "张伟", *zhang) == 0
    assert "ZH-1  rep 张伟 (华东)" in capsys.readouterr().out
    assert await cli("pipeline", "complete", "ZH-1", "appointment", *zhang) == 0
    assert "appointment completed" in capsys.readouterr().out

    # Another rep of the same region still may not touch it.
    other = ["--as", "李娜", "--role", "rep", "--regions", "华东"]
    assert await cli("pipeline", "show", "ZH-1", *other) == 1
    assert "PERMISSION_DENIED: 李娜 does not own pipeline ZH-1" in capsys.readouterr().err


async def test_tickets_from_the_cli_from_department_file_to_report(
    cli, stack, capsys, tmp_path, monkeypatch
):
    from salesflow.core.caller import Caller, Role
    from salesflow.core.rpc import channel
    from salesflow.pipeline.v1 import pipeline_pb2_grpc
    from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
    from services.ticketing.departments import DepartmentConfig, upsert_departments
    from tests.conftest import eventually
    from tests.test_end_to_end import walk_to_contract_archive

    monkeypatch.setenv("SALESFLOW_DATABASE_URL", stack.settings.database_url)
    tess = Caller("Tess Tickets", Role.REP, frozenset({"East"}))
    await upsert_team(stack.sessions, [TeamMember(tess.id, "Max Cli", "East")])
    rep = ["--as", tess.id, "--role", "rep", "--regions", "East"]
    lee = ["--as", "Lee Cli", "--role", "legal", "--regions", ""]

    departments = tmp_path / "departments.yaml"
    departments.write_text("legal:\n  head: Helen Cli\n  members: [Lee Cli]\n  boss: x\n")
    assert await cli("tickets", "departments", str(departments)) == 1
    assert "legal.boss: unknown field" in capsys.readouterr().err
    departments.write_text(
        "legal:\n  head: Helen Cli\n  members: [Lee Cli]\n  escalate_after: [1, 2]\n"
    )
    assert await cli("tickets", "departments", str(departments)) == 0
    assert capsys.readouterr().out.strip() == (
        "legal: head Helen Cli; members Lee Cli; calendar Asia/Shanghai CN; "
        "escalations at 1x, 2x the target"
    )

    async with channel(stack.target("pipeline"), tess) as rep_channel:
        pipelines = pipeline_pb2_grpc.PipelineServiceStub(rep_channel)
        await walk_to_contract_archive(stack, pipelines, "CLI-T1", tess)
    key = "CLI-T1:contract_archive:legal"
    legal = Caller("Lee Cli", Role.LEGAL, frozenset())
    async with channel(stack.target("ticketing"), legal) as legal_channel:
        tickets = ticketing_pb2_grpc.TicketingServiceStub(legal_channel)

        async def ticket(status: str):
            found = await tickets.ListTickets(
                ticketing_pb2.ListTicketsRequest(opportunity_id="CLI-T1", status=status)
            )
            return list(found.tickets)

        await eventually(lambda: ticket("open"))
        assert await cli("tickets", "list", "--opportunity", "CLI-T1", *lee) == 0
        listed = capsys.readouterr().out
        assert key in listed and "assignee Lee Cli" in listed and "Asia/Shanghai" in listed

        assert await cli("tickets", "comment", key, "looking at clause 7", *lee) == 0
        assert "comment added" in capsys.readouterr().out
        assert await cli("tickets", "reject", key, "--reason", " ", *lee) == 1
        assert "INVALID_ARGUMENT" in capsys.readouterr().err
        reason = "clause 7 needs the penalty cap"
        assert await cli("tickets", "request-changes", key, "--reason", reason, *lee) == 0
        assert "status      changes_requested" in capsys.readouterr().out

        async def shown_returned():
            assert await cli("pipeline", "show", "CLI-T1", *rep) == 0
            return f"RETURNED: {reason}" in capsys.readouterr().out

        await eventually(shown_returned)
        assert await cli("pipeline", "resubmit", "CLI-T1", "--note", "cap added", *rep) == 0
        assert f"ticket {key} (legal): resubmitted (cap added)" in capsys.readouterr().out
        await eventually(lambda: ticket("acknowledged"))

        assert await cli("tickets", "resolve", key, "--note", "approved", *lee) == 0
        capsys.readouterr()
        assert await cli("tickets", "show", key, *lee) == 0
        shown = capsys.readouterr().out
        for line in (
            "status      resolved  assignee Lee Cli",
            "(120 business minutes)",
            "comment",
            "Lee Cli (legal): looking at clause 7",
            f"changes_requested by Lee Cli: {reason}",
            "resubmitted by Tess Tickets: cap added",
            "resolved by Lee Cli: approved",
        ):
            assert line in shown, (line, shown)

    assert await cli("tickets", "report", "legal", "--from", "2020-01-01", *lee) == 0
    report = capsys.readouterr().out
    assert report.startswith("legal tickets opened 2020-01-01 00:00 Asia/Shanghai")
    assert "within target" in report and "first response       median" in report
    assert await cli("tickets", "report", "legal", "--from", "yesterday", *lee) == 2
    assert "is not YYYY-MM-DD" in capsys.readouterr().err
    assert await cli("tickets", "report", "legal", *rep) == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    await upsert_departments(stack.sessions, [DepartmentConfig("legal")])
