"""`salesflow up` as an operator runs it: in a process of its own, on ports of the test's own.

It refuses ports and state folders someone else holds, and leaves no server behind when it
is killed outright.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from salesflow.core.servers import free_port
from salesflow.core.settings import SERVICES


@pytest.fixture
def up_env(tmp_path) -> dict[str, str]:
    """Variables for an `up` of the test's own: its home, free ports, no inherited config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SALESFLOW_")}
    env.update(
        SALESFLOW_HOME=str(tmp_path / "home"),
        SALESFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        SALESFLOW_NATS_URL=f"nats://127.0.0.1:{free_port()}",
        SALESFLOW_UI_PORT=str(free_port()),
    )
    for service in SERVICES:
        env[f"SALESFLOW_{service.upper()}_PORT"] = str(free_port())
    return env


def _up(env: dict[str, str], *, log: Path | None = None) -> subprocess.Popen:
    """`salesflow up` in a process of its own; its log goes to a file when one is named
    (a long run would fill a pipe nobody reads)."""
    return subprocess.Popen(
        [sys.executable, "-m", "salesflow.cli.main", "up", "--ui-port", env["SALESFLOW_UI_PORT"]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if log is None else log.open("w"),
        text=True,
    )


def _refusal(env: dict[str, str]) -> tuple[int, str]:
    process = _up(env)
    try:
        _out, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("salesflow up started instead of refusing")
    return process.returncode, err


def _listen(port: int) -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen()
    return listener


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_up_refuses_ports_another_server_holds(up_env):
    temporal = _port(up_env["SALESFLOW_TEMPORAL_ADDRESS"])
    ui = int(up_env["SALESFLOW_UI_PORT"])
    evidence = int(up_env["SALESFLOW_EVIDENCE_PORT"])
    with ExitStack() as held:
        for port in (temporal, ui, evidence):
            held.enter_context(_listen(port))
        code, err = _refusal(up_env)

    assert code == 2
    assert "Traceback" not in err
    assert "salesflow: cannot start:" in err
    assert f"port {temporal} (Temporal frontend) is already in use" in err
    assert "SALESFLOW_TEMPORAL_ADDRESS" in err
    assert f"port {ui} (Temporal web UI)" in err and "--ui-port" in err
    assert f"port {evidence} (evidence service)" in err and "SALESFLOW_EVIDENCE_PORT" in err
    # Nothing was started or written before the refusal.
    assert not (Path(up_env["SALESFLOW_HOME"]) / "salesflow.db").exists()


def test_up_refuses_a_port_configured_twice(up_env):
    up_env["SALESFLOW_POINTS_PORT"] = up_env["SALESFLOW_PIPELINE_PORT"]
    code, err = _refusal(up_env)
    assert code == 2
    assert "configured for both the pipeline service and the points service" in err
    assert "SALESFLOW_POINTS_PORT" in err


def test_up_refuses_a_home_another_up_or_its_nats_server_uses(up_env):
    home = Path(up_env["SALESFLOW_HOME"])
    home.mkdir()
    lock = home / "up.lock"

    # A live `up` holds the lock.
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("up 4242\n")
        held.flush()
        code, err = _refusal(up_env)
    assert code == 2 and "Traceback" not in err
    assert "another salesflow up (pid 4242) is running on" in err
    assert "SALESFLOW_HOME" in err

    # An `up` that died left its nats-server running on the store.
    stray = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "nats-server", "-sd", "nats"]
    )
    try:
        lock.write_text(f"up 999999\nnats-server {stray.pid}\n")
        code, err = _refusal(up_env)
    finally:
        stray.kill()
        stray.wait()
    assert code == 2 and "Traceback" not in err
    assert f"a nats-server (pid {stray.pid}) left by an earlier salesflow up" in err
    assert str(home / "nats") in err


def _descendants(pid: int) -> set[int]:
    """Every process below pid, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _gone(pids: set[int], timeout: float = 30) -> bool:
    """Whether every one of pids has exited within timeout (a server stopping cleanly
    takes a moment after its parent has gone)."""
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _alive(pids)


def _wait_until_up(process: subprocess.Popen, log: Path) -> None:
    for line in process.stdout:
        if "Press Ctrl-C to stop." in line:
            return
    process.kill()
    pytest.fail(f"salesflow up did not come up: {log.read_text()[-3000:]}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_servers_die_with_up_killed_outright(up_env, tmp_path):
    log = tmp_path / "up.log"
    process = _up(up_env, log=log)
    try:
        _wait_until_up(process, log)
        children = _descendants(process.pid)
        commands = {Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children}
        assert any(b"nats-server" in command for command in commands)
        assert any(b"start-dev" in command for command in commands)

        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _gone(children), "servers outlived salesflow up"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # The next `up` on the same home starts (nothing stale holds it) and stops on SIGTERM.
    again = _up(up_env, log=log)
    try:
        _wait_until_up(again, log)
        children = _descendants(again.pid)
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0
        assert _gone(children)
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()


def test_up_stops_within_bounds_while_a_pipeline_is_stuck(up_env, tmp_path):
    """A pipeline whose event NATS refuses keeps its local activity retrying; the worker's
    shutdown used to wait for it for good, so `up` ignored SIGTERM and Ctrl-C."""
    team = tmp_path / "team.csv"
    team.write_text("sales_agent,manager,regional_office\nSam Stuck,Mia Manager,East\n")
    cli = [sys.executable, "-m", "salesflow.cli.main"]
    imported = subprocess.run(
        [*cli, "team", "import", str(team)], env=up_env, capture_output=True, timeout=120
    )
    assert imported.returncode == 0, imported.stderr

    log = tmp_path / "up.log"
    process = _up(up_env, log=log)
    try:
        _wait_until_up(process, log)
        started = subprocess.run(
            [*cli, "pipeline", "start", "STUCK-1", "--rep", "Sam Stuck"],
            env=up_env,
            capture_output=True,
            timeout=120,
        )
        assert started.returncode == 0, started.stderr
        # Past the pipeline service's bounds, straight to the workflow: an event over NATS's
        # payload limit, as a 1.1 MB note made before the service bounded notes.
        stuck = subprocess.run(
            [sys.executable, "-c", SEND_HUGE_NOTE, up_env["SALESFLOW_TEMPORAL_ADDRESS"]],
            capture_output=True,
            timeout=120,
        )
        assert stuck.returncode == 0, stuck.stderr
        time.sleep(2)

        children = _descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=45) == 0
        assert "still busy 10.0s after it was told to stop" in log.read_text()
        assert _gone(children), [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


SEND_HUGE_NOTE = """
import asyncio, sys
from temporalio.client import Client
from workflows.pipeline.types import CustomerReplyInput
from workflows.pipeline.workflow import PipelineWorkflow

async def main():
    client = await Client.connect(sys.argv[1])
    handle = client.get_workflow_handle("pipeline-STUCK-1")
    note = CustomerReplyInput(note="x" * 1_100_000)
    await handle.execute_update(PipelineWorkflow.record_customer_reply, note)

asyncio.run(main())
"""
