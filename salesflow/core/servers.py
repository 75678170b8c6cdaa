"""The real servers salesflow runs beside itself: nats-server and Temporal's test and dev
servers, all from PyPI wheels, all listening on 127.0.0.1 where they allow it.

Used by the CLI's embedded stack and by the test suite; production points the services
at existing clusters instead (see deploy/).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from salesflow.core.guard import guarded

logger = logging.getLogger(__name__)


def find_binary(name: str) -> str:
    """A server binary installed by a wheel: beside this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} not found; install the project (pip install -e .) to get it from PyPI"
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (nothing else listens there).

    The probe binds without SO_REUSEPORT, so it also finds a gRPC server, which would
    otherwise share the port silently; SO_REUSEADDR keeps a recently closed connection
    from counting as a listener.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


async def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            await asyncio.sleep(0.05)


@dataclass
class NatsServer:
    """A nats-server with JetStream on a port of its own; stop() and start() keep its data."""

    port: int = field(default_factory=free_port)
    store_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="salesflow-nats-"))
    )
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        # Popen returns at once; the wait for the port below is the asynchronous part.
        # The guard stops the server when this process dies, even by SIGKILL; its own
        # session keeps a Ctrl-C in the terminal from stopping it before our services.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            guarded(
                [
                    find_binary("nats-server"),
                    "-js",
                    "-sd",
                    str(self.store_dir),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        await wait_for_port("127.0.0.1", self.port)
        logger.info("nats-server started url=%s store=%s", self.url, self.store_dir)
        return self

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 10)
        self.process = None

    async def kill(self) -> None:
        """Stops the server abruptly, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            # The guard and the server are one process group: both go at once.
            os.killpg(self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait, 10)
            await wait_for_port_free("127.0.0.1", self.port)
        self.process = None

    @property
    def pid(self) -> int | None:
        """The guard's pid: it lives exactly as long as the server (see core/guard.py)."""
        return self.process.pid if self.process is not None else None


async def wait_for_port_free(host: str, port: int, timeout: float = 10.0) -> None:
    """Waits until nothing listens on host:port any more (a server has really gone)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not port_is_free(host, port):
        if asyncio.get_running_loop().time() > deadline:
            logger.warning(
                "%s:%s still in use %ss after its server was stopped", host, port, timeout
            )
            return
        await asyncio.sleep(0.05)


async def start_time_skipping_environment(**kwargs):
    """Temporal's time-skipping test server (a real server whose clock we can advance).

    Limitation: the test server takes only a port and listens on every interface; it is
    started on a random free port and lives only as long as the process that started it.
    """
    from temporalio.testing import WorkflowEnvironment

    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"), **kwargs
    )


async def start_dev_server_environment(
    *, db_file: Path | None, ui_port: int | None, search_attributes, **kwargs
):
    """Temporal's dev server (the full server on SQLite) with our search attributes.

    Its web UI, when ui_port is given, shows every pipeline's history and lets operations
    filter by the search attributes. The SDK spawns the server from its Rust runtime and
    takes only a path to run, so the path is a small script running it under our guard
    (core/guard.py): the server never outlives this process. The SDK's own shutdown kills
    the guard, which stops the server with SIGTERM; callers wait for its port to be free.
    """
    from temporalio.testing import WorkflowEnvironment

    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="salesflow-temporal-") as scratch:
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(_guarded_script(Path(scratch), find_binary("temporal"))),
            ip="127.0.0.1",
            ui=ui_port is not None,
            ui_port=ui_port,
            search_attributes=list(search_attributes),
            dev_server_database_filename=str(db_file) if db_file is not None else None,
            # WAL roughly doubles the dev server's throughput on its SQLite file.
            dev_server_extra_args=[
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
            ],
            **kwargs,
        )


def _guarded_script(directory: Path, binary: str) -> Path:
    """An executable that runs binary under our guard with the arguments it is given."""
    script = directory / Path(binary).name
    command = " ".join(shlex.quote(part) for part in guarded([binary]))
    script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    script.chmod(0o755)
    return script
