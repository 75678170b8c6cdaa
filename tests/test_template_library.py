"""The template library end to end: a sales-ops person exports the default template with the
CLI, adds the company's own step, imports it, and a pipeline started on it keeps that
version; its evidence lock refuses and then accepts the new step. On the whole stack
(PostgreSQL, the stack's own nats-server, Temporal's time-skipping server)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import grpc
import pytest

from salesflow.core.caller import Caller, Role
from salesflow.core.rpc import channel
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from salesflow.replay.files import document_bytes
from salesflow.templates.v1 import templates_pb2, templates_pb2_grpc
from services.pipeline.directory import upsert_team
from tests.conftest import eventually
from workflows.pipeline.workflow import PipelineWorkflow

REP = Caller("Tina Template", Role.REP, frozenset({"North"}))
SALES_OPS = Caller("Sam Ops", Role.SALES_OPS, frozenset())

COLD_CHAIN_STEP = """\
  - key: cold_chain_plan
    name: Cold-chain transport plan confirmation
    name_zh: 冷链运输方案确认
    evidence:
      - kind: cold_chain_plan
        count: 1
        description: the cold-chain transport plan signed by the customer
        content_types: [application/pdf]
    time:
      clock: business
      calendar: default
      warning_hours: 8
      due_hours: 16
      escalations:
        - {after_hours: 16, to: regional_manager}
    points: {completion: 8, overdue: -3}
"""

workflow_changes_templates = pytest.mark.skipif(
    not hasattr(PipelineWorkflow, "change_template"),
    reason="needs the workflow's preview_template_change query and change_template update",
)


@pytest.fixture
async def stack(stack):
    await upsert_team(stack.sessions, [TeamMember(REP.id, "Nina North", "North")])
    return stack


async def salesflow(stack, *args: str, cwd: Path) -> tuple[int, str, str]:
    """Runs the real `salesflow` CLI in a process of its own against the stack."""
    environment = {
        **os.environ,
        "SALESFLOW_GRPC_HOST": stack.settings.grpc_host,
        **{
            f"SALESFLOW_{name.upper()}_PORT": str(service.port)
            for name, service in stack.services.items()
        },
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "salesflow.cli.main",
        *args,
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    return process.returncode, stdout.decode(), stderr.decode()


def with_cold_chain_step(exported: str, template_id: str) -> str:
    """The exported default with a new id and the company's step after the appointment."""
    text = exported.replace("id: b2b-default", f"id: {template_id}")
    marker = "  - key: onsite_diagnosis\n"
    assert marker in text
    return text.replace(marker, COLD_CHAIN_STEP + marker)


async def start(stack, opportunity_id: str, template_id: str) -> pipeline_pb2.StartPipelineResponse:
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        return await pipeline_pb2_grpc.PipelineServiceStub(rep_channel).StartPipeline(
            pipeline_pb2.StartPipelineRequest(
                opportunity_id=opportunity_id, rep_id=REP.id, template_id=template_id
            )
        )


async def import_file(stack, text: str) -> templates_pb2.ImportTemplateResponse:
    async with channel(stack.target("templates"), SALES_OPS) as ops_channel:
        return await templates_pb2_grpc.TemplateServiceStub(ops_channel).ImportTemplate(
            templates_pb2.ImportTemplateRequest(yaml=text)
        )


async def test_from_the_cli_a_custom_step_is_added_and_its_lock_refuses_then_accepts(
    stack, tmp_path
):
    template_id = f"cold-chain-{uuid.uuid4().hex[:6]}"
    file = tmp_path / "template.yaml"

    code, out, err = await salesflow(stack, "template", "export", "-o", str(file), cwd=tmp_path)
    assert code == 0, err
    assert "version 1 of b2b-default" in out
    file.write_text(with_cold_chain_step(file.read_text(), template_id), encoding="utf-8")

    code, out, _ = await salesflow(stack, "template", "validate", str(file), cwd=tmp_path)
    assert code == 0 and "appointment -> cold_chain_plan -> onsite_diagnosis" in out
    ops = ("--as", SALES_OPS.id, "--role", "sales_ops")
    code, out, err = await salesflow(
        stack, "template", "import", str(file), *ops, "--comment", "cold chain", cwd=tmp_path
    )
    assert code == 0, err
    assert f"saved {template_id} version 1" in out
    code, out, _ = await salesflow(stack, "template", "import", str(file), *ops, cwd=tmp_path)
    assert code == 0 and "unchanged" in out
    code, out, _ = await salesflow(stack, "template", "versions", template_id, cwd=tmp_path)
    assert out.count(f"{template_id} v") == 1 and "cold chain" in out

    # The rest as the rep, still from the CLI alone: start, refused, upload, accepted.
    rep = ("--as", REP.id, "--role", "rep", "--regions", "North")
    opportunity_id = f"CC{uuid.uuid4().hex[:6].upper()}"
    code, out, err = await salesflow(
        stack,
        "pipeline",
        "start",
        opportunity_id,
        "--rep",
        REP.id,
        "--template",
        template_id,
        *rep,
        cwd=tmp_path,
    )
    assert code == 0, err
    assert f"template {template_id} v1" in out
    assert out.index("appointment") < out.index("cold_chain_plan") < out.index("onsite_diagnosis")

    # A later version does not change the running pipeline.
    await import_file(stack, file.read_text().replace("due_hours: 16", "due_hours: 24"))

    code, out, err = await salesflow(
        stack, "pipeline", "complete", opportunity_id, "appointment", *rep, cwd=tmp_path
    )
    assert code == 0, err
    code, out, err = await salesflow(
        stack, "pipeline", "complete", opportunity_id, "cold_chain_plan", *rep, cwd=tmp_path
    )
    assert code == 1
    assert "cold_chain_plan is locked until:" in err
    assert "- evidence cold_chain_plan: 0/1" in err

    plan_file = tmp_path / "cold-chain-plan.pdf"
    plan_file.write_bytes(document_bytes(f"cold chain plan {opportunity_id}"))
    code, out, err = await salesflow(
        stack,
        "evidence",
        "upload",
        str(plan_file),
        "--opportunity",
        opportunity_id,
        "--action",
        "cold_chain_plan",
        "--kind",
        "cold_chain_plan",
        *rep,
        cwd=tmp_path,
    )
    assert code == 0, err
    plan = out.strip()
    assert "application/pdf" in err

    code, out, err = await salesflow(
        stack,
        "pipeline",
        "complete",
        opportunity_id,
        "cold_chain_plan",
        "--evidence",
        plan,
        *rep,
        cwd=tmp_path,
    )
    assert code == 0, err
    assert "cold_chain_plan completed (on time, +8 points)" in out
    assert "at onsite_diagnosis" in out
    assert f"template {template_id} v1" in out

    async def listed():
        code, out, _ = await salesflow(stack, "template", "usage", template_id, cwd=tmp_path)
        return (
            out if code == 0 and f"{template_id} v1: 1 running ({opportunity_id})" in out else None
        )

    await eventually(listed, timeout=30)


async def test_a_pipeline_starts_on_the_latest_version_and_never_on_an_unknown_template(stack):
    template_id = f"cold-chain-{uuid.uuid4().hex[:6]}"
    async with channel(stack.target("templates"), SALES_OPS) as ops_channel:
        exported = await templates_pb2_grpc.TemplateServiceStub(ops_channel).ExportTemplate(
            templates_pb2.ExportTemplateRequest()
        )
    text = with_cold_chain_step(exported.yaml, template_id)
    await import_file(stack, text)
    second = await import_file(stack, text.replace("completion: 8", "completion: 9"))
    assert second.version.version == 2

    started = await start(stack, f"LV{uuid.uuid4().hex[:6].upper()}", template_id)
    assert started.state.template_version == 2

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await start(stack, f"UT{uuid.uuid4().hex[:6].upper()}", "no-such-template")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-template" in unknown.value.details()

    # Pipelines can be listed by an action only a custom template has.
    async with channel(stack.target("pipeline"), REP) as rep_channel:
        listed = await pipeline_pb2_grpc.PipelineServiceStub(rep_channel).ListPipelines(
            pipeline_pb2.ListPipelinesRequest(current_action="cold_chain_plan")
        )
    assert all(p.current_action == "cold_chain_plan" for p in listed.pipelines)


@workflow_changes_templates
async def test_running_pipelines_are_previewed_and_moved_to_a_new_version(stack, tmp_path):
    template_id = f"cold-chain-{uuid.uuid4().hex[:6]}"
    async with channel(stack.target("templates"), SALES_OPS) as ops_channel:
        templates = templates_pb2_grpc.TemplateServiceStub(ops_channel)
        exported = await templates.ExportTemplate(templates_pb2.ExportTemplateRequest())
        text = with_cold_chain_step(exported.yaml, template_id)
        await import_file(stack, text)
        opportunity_ids = [f"MV{uuid.uuid4().hex[:6].upper()}" for _ in range(2)]
        for opportunity_id in opportunity_ids:
            await start(stack, opportunity_id, template_id)
        # Version 2 gives the first step a deadline it did not have.
        v2 = text.replace(
            "    name_zh: 客户预约\n", "    name_zh: 客户预约\n    time: {due_hours: 24}\n", 1
        )
        assert (await import_file(stack, v2)).version.version == 2

        async def both_on_v1():
            usage = await templates.ListTemplateUsage(
                templates_pb2.ListTemplateUsageRequest(template_id=template_id)
            )
            return [(u.version, u.running) for u in usage.usage] == [(1, 2)]

        await eventually(both_on_v1, timeout=30)

        preview = await templates.PreviewMigration(
            templates_pb2.MigrationRequest(
                template_id=template_id, to_version=2, opportunity_ids=opportunity_ids[:1]
            )
        )
        [item] = preview.pipelines
        assert (item.opportunity_id, item.from_version, item.to_version) == (
            opportunity_ids[0],
            1,
            2,
        )
        assert item.possible, item.problems
        due = next(d for d in item.deadlines if d.key == "due")
        assert not due.HasField("before") and due.HasField("after")

        moved = await templates.MigratePipelines(
            templates_pb2.MigrationRequest(template_id=template_id, to_version=2, from_version=1)
        )
        assert sorted((m.opportunity_id, m.moved) for m in moved.pipelines) == sorted(
            (opportunity_id, True) for opportunity_id in opportunity_ids
        )
        usage = await templates.ListTemplateUsage(
            templates_pb2.ListTemplateUsageRequest(template_id=template_id)
        )
        assert [(u.version, u.running) for u in usage.usage] == [(2, 2)]

    async with channel(stack.target("pipeline"), REP) as rep_channel:
        state = await pipeline_pb2_grpc.PipelineServiceStub(rep_channel).GetPipeline(
            pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_ids[0])
        )
    assert state.template_version == 2
    assert state.actions[0].HasField("due_at")
