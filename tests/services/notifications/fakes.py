"""Stand-ins for the WeCom, DingTalk and Feishu robot webhooks and an SMTP server.

Each listens on 127.0.0.1 on a free port and checks a request the way the real service
documents it — method, path and key, content type, JSON shape per message type, UTF-8
byte limits, signatures — and enforces its rate limit on a rolling window, answering in
the real reply format (HTTP 200 with a non-zero errcode / code). A test can make one
answer errors, fail with HTTP 500, or go down and come back on the same port.

The robots' clocks are injected, like the dispatcher's, so a test moves a minute forward
instead of waiting one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from salesflow.core.servers import free_port

MINUTE = timedelta(minutes=1)


class FakeClock:
    """A clock that moves only when told; callable like our clocks."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


class RobotServer:
    """An HTTP server in a thread; subclasses check the wire format and answer."""

    kind = ""
    path = ""

    def __init__(self, *, clock: Callable[[], datetime], token: str, secret: str = "") -> None:
        self.clock = clock
        self.token = token
        self.secret = secret
        self.port = free_port()
        # Bodies of accepted messages, in order; what reached the group.
        self.accepted: list[dict[str, Any]] = []
        # (code, message) of every refusal, in order.
        self.refused: list[tuple[int, str]] = []
        # Seconds between taking a message and answering: a slow robot.
        self.answer_delay = 0.0
        self._failures: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> RobotServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._respond(self, Reply(405, {"error": "method not allowed"}))

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Goes down: connections are refused until start() again (on the same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def fail_next(self, count: int, *, status: int = 200, **body: Any) -> None:
        """The next `count` requests get this answer instead of being checked."""
        with self._lock:
            self._failures.extend(Reply(status, dict(body)) for _ in range(count))

    @property
    def texts(self) -> list[str]:
        """The text of every accepted message."""
        raise NotImplementedError

    # ---- one request ----------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = request.headers.get("Content-Length")
        raw = request.rfile.read(int(length)) if length and length.isdigit() else None
        with self._lock:
            if self._failures:
                self._respond(request, self._failures.popleft())
                return
            reply = self._check(request, raw)
            code = reply.body.get(self.code_field)
            if code != 0:
                self.refused.append((code, str(reply.body.get(self.message_field))))
        if self.answer_delay:
            time.sleep(self.answer_delay)
        self._respond(request, reply)

    def _check(self, request: BaseHTTPRequestHandler, raw: bytes | None) -> Reply:
        url = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        content_type = request.headers.get("Content-Type", "")
        media, _, params = content_type.partition(";")
        if media.strip().lower() != "application/json":
            return self.error(40000, f"content type {content_type!r} is not application/json")
        if params.strip() and params.strip().lower().replace(" ", "") != "charset=utf-8":
            return self.error(40000, f"charset in {content_type!r} is not utf-8")
        if raw is None:
            return self.error(40000, "no Content-Length")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.error(40000, "body is not UTF-8 JSON")
        if not isinstance(body, dict):
            return self.error(40000, "body is not a JSON object")
        return self.check(url.path, query, raw, body)

    def _respond(self, request: BaseHTTPRequestHandler, reply: Reply) -> None:
        data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        request.send_response(reply.status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    # ---- what subclasses say ----------------------------------------------------------------

    code_field = "errcode"
    message_field = "errmsg"

    def error(self, code: int, message: str) -> Reply:
        return Reply(200, {self.code_field: code, self.message_field: message})

    def ok(self, body: dict[str, Any]) -> Reply:
        self.accepted.append(body)
        return Reply(200, {self.code_field: 0, self.message_field: "ok"})

    def check(self, path: str, query: dict[str, str], raw: bytes, body: dict) -> Reply:
        raise NotImplementedError


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _in_window(times: deque[datetime], now: datetime, period: timedelta) -> int:
    while times and times[0] <= now - period:
        times.popleft()
    return len(times)


class WeComRobot(RobotServer):
    """企业微信 group robot: POST /cgi-bin/webhook/send?key=KEY."""

    kind = "wecom"
    TEXT_LIMIT = 2048
    MARKDOWN_LIMIT = 4096
    PER_MINUTE = 20

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: deque[datetime] = deque()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={self.token}"

    @property
    def texts(self) -> list[str]:
        return [body[body["msgtype"]]["content"] for body in self.accepted]

    def check(self, path: str, query: dict[str, str], raw: bytes, body: dict) -> Reply:
        if path != "/cgi-bin/webhook/send" or query.get("key") != self.token:
            return self.error(93000, "invalid webhook url")
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "markdown"):
            return self.error(40008, f"invalid message type {msgtype!r}")
        if set(body) != {"msgtype", msgtype} or not isinstance(body[msgtype], dict):
            return self.error(40058, f"a {msgtype} message is {{msgtype, {msgtype}: {{...}}}}")
        content = _text(body[msgtype].get("content"))
        if content is None:
            return self.error(44004, "empty content")
        limit = self.TEXT_LIMIT if msgtype == "text" else self.MARKDOWN_LIMIT
        if len(content.encode("utf-8")) > limit:
            return self.error(40058, f"content exceeds {limit} bytes")
        if _in_window(self._sent, self.clock(), MINUTE) >= self.PER_MINUTE:
            return self.error(45009, "api freq out of limit")
        self._sent.append(self.clock())
        return self.ok(body)


class DingTalkRobot(RobotServer):
    """钉钉 custom robot: POST /robot/send?access_token=TOKEN[&timestamp=..&sign=..]."""

    kind = "dingtalk"
    PER_MINUTE = 20
    THROTTLE = timedelta(minutes=10)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: deque[datetime] = deque()
        self._throttled_until: datetime | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={self.token}"

    @property
    def texts(self) -> list[str]:
        return [body["markdown"]["text"] for body in self.accepted]

    def expected_sign(self, timestamp: str) -> str:
        digest = hmac.new(
            self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256
        ).digest()
        return base64.b64encode(digest).decode()

    def check(self, path: str, query: dict[str, str], raw: bytes, body: dict) -> Reply:
        if path != "/robot/send" or query.get("access_token") != self.token:
            return self.error(300001, "token is not exist")
        now = self.clock()
        if self.secret:
            timestamp = query.get("timestamp", "")
            if not timestamp.isdigit():
                return self.error(310000, "timestamp missing")
            sent_at = datetime.fromtimestamp(int(timestamp) / 1000, UTC)
            if abs(now - sent_at) > timedelta(hours=1):
                return self.error(310000, "invalid timestamp")
            # parse_qs has undone the URL encoding; an unencoded "+" arrives as a space.
            if query.get("sign") != self.expected_sign(timestamp):
                return self.error(310000, "sign not match")
        msgtype = body.get("msgtype")
        if msgtype == "markdown":
            markdown = body.get("markdown")
            if not isinstance(markdown, dict) or not (
                _text(markdown.get("title")) and _text(markdown.get("text"))
            ):
                return self.error(40035, "markdown needs a title and a text")
        elif msgtype == "text":
            if not isinstance(body.get("text"), dict) or not _text(body["text"].get("content")):
                return self.error(40035, "text needs content")
        else:
            return self.error(40035, f"unsupported msgtype {msgtype!r}")
        if set(body) - {"msgtype", msgtype, "at"}:
            return self.error(40035, f"unexpected fields {sorted(set(body))}")
        if self._throttled_until is not None and now < self._throttled_until:
            return self.error(130101, "send too fast, exceed 20 times per minute")
        if _in_window(self._sent, now, MINUTE) >= self.PER_MINUTE:
            self._throttled_until = now + self.THROTTLE
            return self.error(130101, "send too fast, exceed 20 times per minute")
        self._sent.append(now)
        return self.ok(body)


class FeishuRobot(RobotServer):
    """飞书 custom robot: POST /open-apis/bot/v2/hook/TOKEN."""

    kind = "feishu"
    code_field = "code"
    message_field = "msg"
    BODY_LIMIT = 20 * 1024
    PER_MINUTE = 100
    PER_SECOND = 5

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: deque[datetime] = deque()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/open-apis/bot/v2/hook/{self.token}"

    @property
    def texts(self) -> list[str]:
        return [body["content"]["text"] for body in self.accepted]

    def ok(self, body: dict[str, Any]) -> Reply:
        self.accepted.append(body)
        return Reply(200, {"code": 0, "msg": "success", "data": {}})

    def expected_sign(self, timestamp: str) -> str:
        key = f"{timestamp}\n{self.secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    def check(self, path: str, query: dict[str, str], raw: bytes, body: dict) -> Reply:
        if path != f"/open-apis/bot/v2/hook/{self.token}":
            return self.error(19001, "param invalid: incoming webhook access token invalid")
        if len(raw) > self.BODY_LIMIT:
            return self.error(9499, "Bad Request: body larger than 20 KB")
        now = self.clock()
        if self.secret:
            timestamp = body.get("timestamp", "")
            if not isinstance(timestamp, str) or not timestamp.isdigit():
                return self.error(19021, "sign match fail or timestamp is not within one hour")
            if abs(now - datetime.fromtimestamp(int(timestamp), UTC)) > timedelta(hours=1):
                return self.error(19021, "sign match fail or timestamp is not within one hour")
            if body.get("sign") != self.expected_sign(timestamp):
                return self.error(19021, "sign match fail or timestamp is not within one hour")
        if body.get("msg_type") != "text":
            return self.error(9499, f"Bad Request: msg_type {body.get('msg_type')!r}")
        content = body.get("content")
        if not isinstance(content, dict) or not _text(content.get("text")):
            return self.error(9499, "Bad Request: content.text is required")
        if set(body) - {"msg_type", "content", "timestamp", "sign"}:
            return self.error(9499, f"Bad Request: unexpected fields {sorted(set(body))}")
        in_minute = _in_window(self._sent, now, MINUTE)
        in_second = sum(1 for moment in self._sent if moment > now - timedelta(seconds=1))
        if in_minute >= self.PER_MINUTE or in_second >= self.PER_SECOND:
            return self.error(11232, "frequency limited")
        self._sent.append(now)
        return self.ok(body)


# ---- SMTP --------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: Any  # email.message.EmailMessage

    @property
    def text(self) -> str:
        """The body, with mail's CRLF line ends read back as newlines."""
        return self.message.get_content().replace("\r\n", "\n")


class _MailHandler:
    def __init__(self, fake: SmtpServer) -> None:
        self.fake = fake

    async def handle_DATA(self, server, session, envelope) -> str:
        return self.fake._receive(envelope)


class SmtpServer:
    """An SMTP server (aiosmtpd) that checks each mail like a strict relay would."""

    def __init__(self, *, sender: str) -> None:
        self.sender = sender
        self.port = free_port()
        self.received: list[ReceivedMail] = []
        self.refused: list[str] = []
        self._failures: deque[str] = deque()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, count: int, reply: str = "451 4.3.0 try again later") -> None:
        self._failures.extend([reply] * count)

    def _receive(self, envelope) -> str:
        if self._failures:
            return self._failures.popleft()
        problem = self._problem(envelope)
        if problem:
            self.refused.append(problem)
            return f"554 5.6.0 {problem}"
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def _problem(self, envelope) -> str:
        if envelope.mail_from != self.sender:
            return f"envelope sender {envelope.mail_from} is not {self.sender}"
        raw: bytes = envelope.original_content
        try:
            raw.decode("ascii")
        except UnicodeDecodeError:
            # Neither SMTPUTF8 nor 8BITMIME was asked for: the mail must be 7-bit.
            return "8-bit data without SMTPUTF8 or 8BITMIME"
        message = message_from_bytes(raw, policy=default_policy)
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            if message[header] is None:
                return f"no {header} header"
        if message["From"].addresses[0].addr_spec != self.sender:
            return "From does not match the envelope"
        if [a.addr_spec for a in message["To"].addresses] != list(envelope.rcpt_tos):
            return "To does not match the envelope"
        message_id = str(message["Message-ID"]).strip()
        if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
            return f"malformed Message-ID {message_id}"
        if message.get_content_type() != "text/plain":
            return f"content type {message.get_content_type()}"
        if message.get_content_charset() != "utf-8":
            return f"charset {message.get_content_charset()}"
        if any(len(line) > 998 for line in raw.split(b"\r\n")):
            return "line longer than 998 octets"
        return ""
