"""Message splitting and rate windows: the limits every robot channel relies on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.notifications.limits import (
    RateLimiter,
    SlidingWindow,
    json_string_bytes,
    pack,
    split_message,
    strip_marker,
)
from tests.services.notifications.fakes import FakeClock

# 3 bytes per character in UTF-8; lines of different lengths, one far longer than a part.
LINE = "客户对价格有异议，建议采用成本拆解策略。"


def chinese_text(size: int) -> str:
    lines = []
    while sum(len(line.encode()) for line in lines) < size:
        count = len(lines) % 7 + 1
        lines.append(LINE * count + "\n")
    lines.append("没有换行的长段落" * 300)
    return "".join(lines)


def test_a_long_chinese_message_splits_on_character_boundaries_and_rejoins():
    text = chinese_text(10_000)
    assert len(text.encode()) > 10_000

    parts = split_message(text, 4096)

    assert len(parts) > 2
    for index, part in enumerate(parts, start=1):
        encoded = part.encode("utf-8")
        assert len(encoded) <= 4096
        assert encoded.decode("utf-8") == part
        assert part.startswith(f"({index}/{len(parts)})\n")
    assert "".join(strip_marker(part) for part in parts) == text
    # Whole lines stay together where they fit: only the last, overlong line is cut.
    cut_inside_a_line = [strip_marker(part) for part in parts[:-1] if not part.endswith("\n")]
    assert all("没有换行的长段落" in piece for piece in cut_inside_a_line)


def test_a_message_that_fits_is_sent_as_it_is():
    assert split_message("短消息 short", 4096) == ["短消息 short"]


def test_splitting_by_json_size_keeps_each_encoded_part_within_the_limit():
    text = 'quote " and backslash \\ and 中文\n' * 2_000
    parts = split_message(text, 9_000, cost=json_string_bytes)

    for part in parts:
        assert len(json.dumps(part, ensure_ascii=False).encode()) - 2 <= 9_000
    assert "".join(strip_marker(part) for part in parts) == text


def test_a_limit_too_small_for_the_marker_is_refused():
    with pytest.raises(ValueError):
        split_message("x" * 100, 10)


def test_packing_groups_texts_under_the_limit_and_leaves_out_the_oversized():
    texts = ["a" * 40, "b" * 40, "c" * 40, "d" * 200, "e" * 10]
    groups = list(pack(texts, 100, separator="--"))
    assert groups == [[0, 1], [2, 4]]


def test_a_window_admits_twenty_a_minute_and_says_when_the_next_may_go():
    clock = FakeClock()
    window = SlidingWindow(20, timedelta(minutes=1), clock=clock, margin=timedelta(seconds=1))
    start = clock()

    for _ in range(20):
        assert window.take("east")
        clock.advance(seconds=1)
    assert window.free("east") == 0
    assert not window.take("east")
    assert window.free("west") == 20
    assert window.next_free_at("east") == start + timedelta(seconds=61)

    clock.now = start + timedelta(seconds=61)
    assert window.free("east") == 1
    assert window.take("east")


def test_a_blocked_key_takes_nothing_until_the_time_given():
    clock = FakeClock()
    limiter = RateLimiter(
        SlidingWindow(100, timedelta(minutes=1), clock=clock),
        SlidingWindow(5, timedelta(seconds=1), clock=clock),
    )
    for _ in range(5):
        assert limiter.take("bot")
    assert limiter.free("bot") == 0
    clock.advance(seconds=1)
    assert limiter.free("bot") == 5

    limiter.block_until("bot", clock() + timedelta(minutes=10))
    assert limiter.free("bot") == 0
    assert limiter.next_free_at("bot") == clock() + timedelta(minutes=10)
    clock.advance(minutes=10)
    assert limiter.free("bot") == 5
