"""Group-robot channels: WeCom (企业微信), DingTalk (钉钉) and Feishu/Lark (飞书) webhooks.

Each robot is a webhook URL from the settings (SALESFLOW_ROBOT_<NAME>); a message is one
HTTP POST of a JSON body in the robot's own format. What each side publishes, and what we
do with it:

    WeCom     {"msgtype": "markdown", "markdown": {"content": ...}}; content at most 4096
              bytes of UTF-8; 20 messages a minute per robot; the answer is HTTP 200 with
              {"errcode": 0, "errmsg": "ok"} — any other errcode is a failure. 45009 ("api
              freq out of limit") means too fast: wait a minute, not a failure. -1 (system
              busy) is retried with backoff; every other code is permanent.
    DingTalk  {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}; 20 messages
              a minute per robot, and a robot that exceeds it is throttled for 10 minutes
              (errcode 130101). With a signing secret, the URL carries `timestamp` (ms) and
              `sign` = url-encoded base64 of HMAC-SHA256(secret, "timestamp\\nsecret").
    Feishu    {"msg_type": "text", "content": {"text": ...}}; the request body at most 20 KB;
              100 messages a minute and 5 a second per robot; the answer's `code` must be
              0 (11232 means too fast). With a secret, the body carries `timestamp` (s) and
              `sign` = base64 of HMAC-SHA256 keyed with "timestamp\\nsecret" over no data.

Limitation: DingTalk publishes no byte limit for a robot message that we could confirm;
its messages are split at WeCom's 4096 bytes so none is ever cut short.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from salesflow.core.settings import RobotSettings
from services.notifications.channels import (
    OutgoingMessage,
    PermanentError,
    RetryLater,
    TransientError,
    plain_text,
)
from services.notifications.limits import (
    Clock,
    RateLimiter,
    SlidingWindow,
    json_string_bytes,
    utf8_bytes,
)
from services.notifications.models import CHANNEL_DINGTALK, CHANNEL_FEISHU, CHANNEL_WECOM

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
# Our clock and the robot's differ a little; a window a second longer never overruns theirs.
CLOCK_MARGIN = timedelta(seconds=1)
HTTP_TIMEOUT = 10.0
# Robots answer with a small JSON object; anything longer is not an answer we can read.
MAX_REPLY_BYTES = 64 * 1024


async def post_json(url: str, body: dict[str, Any], *, timeout: float) -> tuple[int, bytes]:
    """POSTs the body as UTF-8 JSON; returns the HTTP status and the reply's bytes.

    Raises TransientError when no answer arrives (refused, reset, timed out).
    """
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    def post() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(MAX_REPLY_BYTES)
        except urllib.error.HTTPError as error:
            return error.code, error.read(MAX_REPLY_BYTES)

    try:
        return await asyncio.to_thread(post)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise TransientError(f"no answer: {error}") from error


def _reply_object(status: int, reply: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(reply.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


class RobotChannel:
    """What the three robots share: their settings, the rate limiter and the HTTP call."""

    name: str
    content_limit: int
    cost = staticmethod(utf8_bytes)
    # The field of the answer that holds the result code, and its message.
    code_field = "errcode"
    message_field = "errmsg"
    # Codes that mean "too fast", and how long to wait after one.
    rate_limited_codes: dict[int, timedelta] = {}
    transient_codes: frozenset[int] = frozenset()

    def __init__(
        self, robots: Sequence[RobotSettings], *, clock: Clock, timeout: float = HTTP_TIMEOUT
    ) -> None:
        self._robots = {robot.name: robot for robot in robots if robot.kind == self.name}
        self._clock = clock
        self._timeout = timeout
        self._limiter = self.limiter(clock)

    def limiter(self, clock: Clock) -> RateLimiter:
        return RateLimiter(SlidingWindow(20, MINUTE, clock=clock, margin=CLOCK_MARGIN))

    def free_slots(self, target: str) -> int | None:
        return self._limiter.free(target)

    def next_slot_at(self, target: str) -> datetime:
        return self._limiter.next_free_at(target)

    async def send(self, message: OutgoingMessage) -> None:
        robot = self._robots.get(message.target)
        if robot is None:
            raise PermanentError(f"no {self.name} robot named {message.target!r} is configured")
        if not self._limiter.take(robot.name):
            at = self._limiter.next_free_at(robot.name)
            raise RetryLater(at, f"{self.name} robot {robot.name} is at its rate limit")

        url, body = self.request(robot, message)
        status, reply = await post_json(url, body, timeout=self._timeout)
        self._check(robot, status, reply)
        logger.debug("%s robot=%s delivered key=%s", self.name, robot.name, message.key)

    def request(self, robot: RobotSettings, message: OutgoingMessage) -> tuple[str, dict]:
        """The URL and JSON body of one message, in the robot's format."""
        raise NotImplementedError

    def _check(self, robot: RobotSettings, status: int, reply: bytes) -> None:
        answer = _reply_object(status, reply)
        code = answer.get(self.code_field) if answer is not None else None
        if status == 429:
            raise self._slow_down(robot, MINUTE, f"HTTP 429 from {self.name} robot {robot.name}")
        if status >= 500:
            raise TransientError(f"HTTP {status} from {self.name} robot {robot.name}")
        if not isinstance(code, int):
            if status == 200:
                raise TransientError(f"unreadable answer from {self.name} robot {robot.name}")
            raise PermanentError(f"HTTP {status} from {self.name} robot {robot.name}")
        if code == 0 and status == 200:
            return

        text = f"{self.name} robot {robot.name} answered {code}: {answer.get(self.message_field)}"
        if code in self.rate_limited_codes:
            raise self._slow_down(robot, self.rate_limited_codes[code], text)
        if code in self.transient_codes:
            raise TransientError(text)
        raise PermanentError(text)

    def _slow_down(self, robot: RobotSettings, wait: timedelta, reason: str) -> RetryLater:
        """Blocks the robot for `wait`; returns the error that defers the message."""
        until = self._clock() + wait
        self._limiter.block_until(robot.name, until)
        return RetryLater(until, reason)


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class WeComChannel(RobotChannel):
    """WeCom group robots, markdown messages."""

    name = CHANNEL_WECOM
    content_limit = 4096
    rate_limited_codes = {45009: MINUTE}
    # -1: "system busy".
    transient_codes = frozenset({-1})

    def request(self, robot: RobotSettings, message: OutgoingMessage) -> tuple[str, dict]:
        return robot.url, {"msgtype": "markdown", "markdown": {"content": message.body}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature (before URL encoding)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkChannel(RobotChannel):
    """DingTalk custom robots, markdown messages, signed when a secret is configured."""

    name = CHANNEL_DINGTALK
    content_limit = 4096
    # Past 20 a minute DingTalk throttles the robot for 10 minutes.
    rate_limited_codes = {130101: timedelta(minutes=10)}
    transient_codes = frozenset({-1})

    def request(self, robot: RobotSettings, message: OutgoingMessage) -> tuple[str, dict]:
        url = robot.url
        if robot.secret:
            timestamp = int(self._clock().timestamp() * 1000)
            url = _with_query(
                url, {"timestamp": str(timestamp), "sign": dingtalk_sign(robot.secret, timestamp)}
            )
        title = message.subject or plain_text(message.body).strip().split("\n", 1)[0]
        return url, {"msgtype": "markdown", "markdown": {"title": title, "text": message.body}}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: the HMAC key is "timestamp\\nsecret" and the data is empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


# Room in Feishu's 20 KB body for everything beside the text (type, timestamp, sign).
FEISHU_BODY_LIMIT = 20 * 1024
FEISHU_ENVELOPE = 512


class FeishuChannel(RobotChannel):
    """Feishu/Lark custom robots, text messages, signed when a secret is configured."""

    name = CHANNEL_FEISHU
    # The limit is on the request body, so the text is measured as it is inside JSON.
    content_limit = FEISHU_BODY_LIMIT - FEISHU_ENVELOPE
    cost = staticmethod(json_string_bytes)
    code_field = "code"
    message_field = "msg"
    rate_limited_codes = {11232: MINUTE}

    def limiter(self, clock: Clock) -> RateLimiter:
        return RateLimiter(
            SlidingWindow(100, MINUTE, clock=clock, margin=CLOCK_MARGIN),
            SlidingWindow(5, timedelta(seconds=1), clock=clock, margin=timedelta(seconds=0.2)),
        )

    def request(self, robot: RobotSettings, message: OutgoingMessage) -> tuple[str, dict]:
        body: dict[str, Any] = {}
        if robot.secret:
            timestamp = int(self._clock().timestamp())
            body = {"timestamp": str(timestamp), "sign": feishu_sign(robot.secret, timestamp)}
        body |= {"msg_type": "text", "content": {"text": plain_text(message.body)}}
        return robot.url, body
