"""The robot channels against local stand-ins that check the wire format and the limits."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from salesflow.core.settings import RobotSettings, Settings, SettingsError
from services.notifications.channels import (
    OutgoingMessage,
    PermanentError,
    RetryLater,
    TransientError,
)
from services.notifications.robots import DingTalkChannel, FeishuChannel, WeComChannel
from tests.services.notifications.fakes import DingTalkRobot, FakeClock, FeishuRobot, WeComRobot

BODY = "**【升级】异议处理 已超时 48 小时**\nEscalation: objection handling open 48 h\n\n> 商机: X1"


def message(body: str = BODY, *, target: str = "east") -> OutgoingMessage:
    return OutgoingMessage(
        key=f"event-{uuid.uuid4().hex[:6]}|Mona|wecom",
        target=target,
        subject="【升级】异议处理 已超时 48 小时 / Escalation: objection handling open 48 h",
        body=body,
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def robots():
    """Starts fakes on demand; every one is stopped when the test ends."""
    started = []

    def start(kind, **kwargs):
        started.append(kind(token=uuid.uuid4().hex, **kwargs).start())
        return started[-1]

    yield start
    for robot in started:
        robot.stop()


def settings_for(server, name: str = "east", secret: str = "") -> RobotSettings:
    return RobotSettings(name, server.kind, server.url, secret)


# ---- WeCom -------------------------------------------------------------------------------


async def test_wecom_sends_a_markdown_message(robots, clock):
    robot = robots(WeComRobot, clock=clock)
    channel = WeComChannel([settings_for(robot)], clock=clock)

    await channel.send(message())

    assert robot.accepted == [{"msgtype": "markdown", "markdown": {"content": BODY}}]


async def test_the_wecom_stand_in_refuses_what_the_real_robot_refuses(robots, clock):
    robot = robots(WeComRobot, clock=clock)
    channel = WeComChannel([settings_for(robot)], clock=clock)

    # Content over 4096 bytes: the robot refuses it, and retrying cannot help.
    with pytest.raises(PermanentError, match="40058"):
        await channel.send(message("长" * 1366))
    # A key the robot does not know.
    wrong = WeComChannel([RobotSettings("east", "wecom", robot.url + "x")], clock=clock)
    with pytest.raises(PermanentError, match="93000"):
        await wrong.send(message())

    # The 21st message in a rolling minute is refused with 45009, whoever sends it.
    def post(content: str) -> dict:
        request = urllib.request.Request(
            robot.url,
            data=json.dumps({"msgtype": "text", "text": {"content": content}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    answers = [post(f"message {number}")["errcode"] for number in range(21)]
    assert answers == [0] * 20 + [45009]
    clock.advance(seconds=60)
    assert post("a minute later")["errcode"] == 0


async def test_wecom_errors_are_typed_by_what_retrying_can_do(robots, clock):
    robot = robots(WeComRobot, clock=clock)
    channel = WeComChannel([settings_for(robot)], clock=clock)

    robot.fail_next(1, errcode=-1, errmsg="system busy")
    with pytest.raises(TransientError, match="-1"):
        await channel.send(message())

    robot.fail_next(1, status=500, errcode=-1, errmsg="internal")
    with pytest.raises(TransientError, match="HTTP 500"):
        await channel.send(message())

    robot.fail_next(1, errcode=45009, errmsg="api freq out of limit")
    with pytest.raises(RetryLater) as later:
        await channel.send(message())
    assert later.value.at == clock() + timedelta(minutes=1)
    # The robot said "too fast": nothing more goes to it until then.
    assert channel.free_slots("east") == 0

    with pytest.raises(PermanentError, match="no wecom robot named 'west'"):
        await channel.send(message(target="west"))

    robot.stop()
    clock.advance(minutes=1)
    with pytest.raises(TransientError, match="no answer"):
        await channel.send(message())


async def test_wecom_never_sends_a_21st_message_in_a_minute(robots, clock):
    robot = robots(WeComRobot, clock=clock)
    channel = WeComChannel([settings_for(robot)], clock=clock)

    for _ in range(20):
        await channel.send(message())
        clock.advance(seconds=2)
    with pytest.raises(RetryLater) as later:
        await channel.send(message())

    assert len(robot.accepted) == 20
    assert robot.refused == []
    # The first of the 20 leaves the window a minute (and a second of margin) after it went.
    assert later.value.at == clock() - timedelta(seconds=40) + timedelta(seconds=61)


# ---- DingTalk ----------------------------------------------------------------------------


async def test_dingtalk_signs_its_requests_and_the_robot_checks_the_signature(robots, clock):
    secret = "SEC" + uuid.uuid4().hex
    robot = robots(DingTalkRobot, clock=clock, secret=secret)
    channel = DingTalkChannel([settings_for(robot, secret=secret)], clock=clock)

    # Until signatures with "+" went out: unless URL-encoded, "+" arrives as a space.
    sent = with_plus = 0
    while with_plus < 3 and sent < 100:
        with_plus += "+" in robot.expected_sign(str(int(clock().timestamp() * 1000)))
        await channel.send(message())
        sent += 1
        clock.advance(seconds=4)

    assert with_plus == 3
    assert len(robot.accepted) == sent
    assert robot.accepted[0] == {
        "msgtype": "markdown",
        "markdown": {"title": message().subject, "text": BODY},
    }

    forged = DingTalkChannel([settings_for(robot, secret="SECwrong")], clock=clock)
    with pytest.raises(PermanentError, match="310000"):
        await forged.send(message())
    unsigned = DingTalkChannel([settings_for(robot)], clock=clock)
    with pytest.raises(PermanentError, match="310000"):
        await unsigned.send(message())


async def test_dingtalk_too_fast_waits_out_the_ten_minute_throttle(robots, clock):
    robot = robots(DingTalkRobot, clock=clock)
    channel = DingTalkChannel([settings_for(robot)], clock=clock)

    robot.fail_next(1, errcode=130101, errmsg="send too fast, exceed 20 times per minute")
    with pytest.raises(RetryLater) as later:
        await channel.send(message())
    assert later.value.at == clock() + timedelta(minutes=10)

    robot.fail_next(1, errcode=400013, errmsg="群已被解散")
    clock.advance(minutes=10)
    with pytest.raises(PermanentError, match="400013"):
        await channel.send(message())


# ---- Feishu ------------------------------------------------------------------------------


async def test_feishu_sends_signed_text_and_a_non_zero_code_is_a_failure(robots, clock):
    secret = uuid.uuid4().hex
    robot = robots(FeishuRobot, clock=clock, secret=secret)
    channel = FeishuChannel([settings_for(robot, secret=secret)], clock=clock)

    await channel.send(message())

    [body] = robot.accepted
    assert body["msg_type"] == "text"
    # Feishu shows text as it is: the markdown marks are gone.
    assert body["content"]["text"].startswith("【升级】异议处理 已超时 48 小时\nEscalation")
    assert "**" not in body["content"]["text"]
    assert body["timestamp"] == str(int(clock().timestamp()))

    forged = FeishuChannel([settings_for(robot, secret="wrong")], clock=clock)
    with pytest.raises(PermanentError, match="19021"):
        await forged.send(message())

    robot.fail_next(1, code=9499, msg="Bad Request")
    with pytest.raises(PermanentError, match="9499"):
        await channel.send(message())

    robot.fail_next(1, code=11232, msg="frequency limited")
    with pytest.raises(RetryLater):
        await channel.send(message())


async def test_feishu_keeps_to_five_a_second(robots, clock):
    robot = robots(FeishuRobot, clock=clock)
    channel = FeishuChannel([settings_for(robot)], clock=clock)

    for _ in range(5):
        await channel.send(message())
    with pytest.raises(RetryLater):
        await channel.send(message())
    clock.advance(seconds=1.5)
    await channel.send(message())

    assert len(robot.accepted) == 6
    assert robot.refused == []


# ---- configuration -----------------------------------------------------------------------


def test_robots_come_from_the_environment_and_secrets_stay_out_of_reprs():
    settings = Settings.from_env(
        {
            "SALESFLOW_ROBOT_EAST": "wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1",
            "SALESFLOW_ROBOT_NORTH": "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=t",
            "SALESFLOW_ROBOT_NORTH_SECRET": "SECabc",
            "SALESFLOW_ROBOT_LOCAL": "feishu:http://127.0.0.1:9/open-apis/bot/v2/hook/x",
        }
    )
    by_name = {robot.name: robot for robot in settings.robots}
    assert sorted(by_name) == ["east", "local", "north"]
    assert (by_name["north"].kind, by_name["north"].secret) == ("dingtalk", "SECabc")
    assert "k1" not in repr(settings) and "SECabc" not in repr(settings)

    for bad in (
        {"SALESFLOW_ROBOT_EAST": "slack:https://example.invalid/hook"},
        {"SALESFLOW_ROBOT_EAST": "wecom:http://qyapi.weixin.qq.com/cgi-bin/webhook/send"},
        {"SALESFLOW_SMTP_HOST": "mail.example.invalid"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env(bad)
