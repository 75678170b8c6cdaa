"""Test environment: real PostgreSQL, real nats-server, real Temporal servers.

PostgreSQL: SALESFLOW_TEST_DATABASE_URL (default: the server on 127.0.0.1:5432). When none
answers, a throwaway cluster is made with initdb on a free port. Each test session works in
a fresh database of its own, migrated by the real migration step, dropped at the end.
NATS: every test that needs it gets a nats-server of its own on a free port.
Temporal: timer tests get a fresh time-skipping server each.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from salesflow.core.db import create_engine, session_factory
from salesflow.core.events import EventBus
from salesflow.core.migrate import upgrade
from salesflow.core.servers import NatsServer, free_port, start_time_skipping_environment

DEFAULT_TEST_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _throwaway_cluster(stack: list) -> str:
    """initdb + pg_ctl on a free port; as root, runs them as the postgres user."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not binaries or binaries[-1] is None:
        pytest.exit("no PostgreSQL reachable and initdb is not installed", returncode=3)
    bin_dir = Path(binaries[-1]).parent
    data_dir = Path(tempfile.mkdtemp(prefix="salesflow-pg-"))
    port = free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-o",
            f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop_and_remove() -> None:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(data_dir, ignore_errors=True)

    stack.append(stop_and_remove)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    cleanups: list = []
    server_url = os.environ.get("SALESFLOW_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE)
    if not _reachable(server_url):
        server_url = _throwaway_cluster(cleanups)

    name = f"salesflow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for cleanup in cleanups:
            cleanup()


@pytest.fixture(scope="session")
async def db_engine(database_url: str):
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def db_sessions(db_engine):
    return session_factory(db_engine)


@pytest.fixture
async def nats_server() -> AsyncIterator[NatsServer]:
    """A nats-server with JetStream of this test's own, on a free port."""
    server = await NatsServer().start()
    yield server
    await server.stop()
    shutil.rmtree(server.store_dir, ignore_errors=True)


@pytest.fixture
def event_prefix() -> str:
    """A subject prefix (and stream) of this test's own."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def event_bus(nats_server: NatsServer, event_prefix: str) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(nats_server.url, event_prefix, name="test")
    yield bus
    await bus.close()


@pytest.fixture
async def time_skipping_env():
    """A fresh Temporal time-skipping server for one test."""
    env = await start_time_skipping_environment()
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


async def eventually(check, *, timeout: float = 20.0, interval: float = 0.05):
    """Polls an async check until it returns a truthy value; fails with its last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@pytest.fixture
async def stack(database_url, tmp_path, event_prefix):
    """The whole stack in this process: PostgreSQL, its own nats-server, time skipping."""
    from dataclasses import replace

    from salesflow.core.settings import Settings
    from salesflow.stack import Stack, StackOptions

    settings = replace(
        Settings(),
        database_url=database_url,
        event_prefix=event_prefix,
        evidence_dir=tmp_path / "evidence",
        task_queue=f"stack-{uuid.uuid4().hex[:6]}",
    )
    async with Stack(settings, StackOptions()) as running:
        yield running


@pytest.fixture
async def open_channel():
    """Opens gRPC channels as a caller; every one is closed when the test ends."""
    from salesflow.core.rpc import channel

    opened = []

    def connect(target: str, caller):
        opened.append(channel(target, caller))
        return opened[-1]

    yield connect
    for each in opened:
        await each.close()
