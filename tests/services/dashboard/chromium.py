"""A headless Debian chromium driven over the DevTools protocol (a websocket), for the
dashboard's browser tests: load a page, evaluate, click like a mouse, take a screenshot.

Chromium starts with every background service off and a fresh profile, so it makes no
connection beyond the page it is given (this machine has no internet); the test kills only
the process it started.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class DevToolsError(RuntimeError):
    pass


class Chromium:
    """One chromium process and one page of it."""

    def __init__(self, *, width: int = 1280, height: int = 900) -> None:
        self.width = width
        self.height = height
        self.profile = Path(tempfile.mkdtemp(prefix="salesflow-chromium-"))
        self.process: asyncio.subprocess.Process | None = None
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._events: dict[str, list[asyncio.Future]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._socket = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Chromium:
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def _start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port = await self._devtools_port()
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(target for target in targets if target["type"] == "page")
        self._socket = await self._session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        for domain in ("Page", "Runtime", "Log"):
            await self.send(f"{domain}.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )

    async def _devtools_port(self, timeout: float = 30.0) -> int:
        """Chromium writes the port it chose into the profile once DevTools listens."""
        marker = self.profile / "DevToolsActivePort"
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self.process.returncode is not None:
                raise DevToolsError(f"chromium exited with {self.process.returncode}")
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            await asyncio.sleep(0.1)
        raise DevToolsError(f"chromium did not open DevTools within {timeout}s")

    async def _read(self) -> None:
        async for message in self._socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            self._on_event(data["method"], data.get("params", {}))

    def _on_event(self, method: str, params: dict) -> None:
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description", "")
            self.errors.append(f"exception: {details.get('text')} {description}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(
                "console: " + " ".join(str(a.get("value", "")) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']}")
        for waiter in self._events.pop(method, []):
            if not waiter.done():
                waiter.set_result(params)

    async def send(self, method: str, **params: Any) -> dict:
        message_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message = {"id": message_id, "method": method, "params": params}
        await self._socket.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply["result"]

    async def open(self, url: str, *, timeout: float = 30.0) -> None:
        """Navigates and waits for the load event."""
        loaded = asyncio.get_running_loop().create_future()
        self._events.setdefault("Page.loadEventFired", []).append(loaded)
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, timeout)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float = 30.0) -> Any:
        """Evaluates until the expression is truthy; fails with its last value."""
        deadline = asyncio.get_running_loop().time() + timeout
        value = None
        while asyncio.get_running_loop().time() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"{expression} stayed {value!r} for {timeout}s; errors {self.errors}")

    async def click(self, selector: str) -> None:
        """A left click at the middle of the first element matching the selector."""
        box = await self.evaluate(
            f"""(() => {{
                const node = document.querySelector({json.dumps(selector)});
                if (!node) return null;
                node.scrollIntoView({{block: "center"}});
                const r = node.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
            }})()"""
        )
        if box is None:
            raise AssertionError(f"nothing matches {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left" if kind != "mouseMoved" else "none",
                clickCount=1 if kind != "mouseMoved" else 0,
            )

    async def screenshot(self, path: Path) -> tuple[int, int]:
        """The whole page as a PNG; returns its (width, height) in CSS pixels."""
        height = int(await self.evaluate("document.documentElement.scrollHeight"))
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return self.width, height

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._session is not None:
            await self._session.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
