"""The limits channels put on messages: how long one may be and how many may go per minute.

Splitting cuts a long text into parts that each fit, on line boundaries where it can and
on character boundaries where a line alone is too long, so no UTF-8 character is ever
broken. Each part starts with a marker line "(i/n)"; removing the markers and joining the
parts gives back the original text exactly.

The rate limiter is a sliding window per robot, on an injected clock, so tests move time
instead of waiting a minute.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

Clock = Callable[[], datetime]
Cost = Callable[[str], int]

MARKER_FORMAT = "({index}/{total})\n"


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def json_string_bytes(text: str) -> int:
    """Bytes the text takes inside a JSON string (escapes counted), without the quotes."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def part_marker(index: int, total: int) -> str:
    return MARKER_FORMAT.format(index=index, total=total)


def strip_marker(part: str) -> str:
    """A part without its "(i/n)" marker line; the text itself when it has none."""
    if part.startswith("("):
        head, newline, rest = part.partition("\n")
        numbers = head[1:-1].split("/")
        if (
            newline
            and head.endswith(")")
            and len(numbers) == 2
            and all(number.isdigit() for number in numbers)
        ):
            return rest
    return part


def split_message(text: str, limit: int, *, cost: Cost = utf8_bytes) -> list[str]:
    """The text as parts of at most `limit` (as `cost` counts), marked "(i/n)" when several.

    `cost` must be additive over characters (UTF-8 bytes, or bytes inside a JSON string).
    """
    if cost(text) <= limit:
        return [text]

    total = 2
    while True:
        budget = limit - cost(part_marker(total, total))
        # Room for at least two of the widest characters (a JSON escape takes six bytes).
        if budget < 12:
            raise ValueError(f"a limit of {limit} leaves no room for text beside the marker")
        pieces = _pieces(text, budget, cost)
        if len(pieces) <= total:
            break
        # More parts than guessed: the marker may need more digits, so measure again.
        total = len(pieces)
    return [part_marker(index, len(pieces)) + piece for index, piece in enumerate(pieces, 1)]


def _pieces(text: str, budget: int, cost: Cost) -> list[str]:
    pieces: list[str] = []
    current, used = [], 0
    for line in text.splitlines(keepends=True):
        size = cost(line)
        if used + size <= budget:
            current.append(line)
            used += size
            continue
        if current:
            pieces.append("".join(current))
            current, used = [], 0
        if size <= budget:
            current, used = [line], size
            continue
        # One line longer than a whole part: cut it between characters.
        for character in line:
            width = cost(character)
            if used + width > budget and current:
                pieces.append("".join(current))
                current, used = [], 0
            current.append(character)
            used += width
    if current:
        pieces.append("".join(current))
    return pieces


def pack(texts: Iterable[str], limit: int, *, separator: str, cost: Cost = utf8_bytes):
    """Groups consecutive texts so each group joined with the separator fits the limit.

    Yields lists of indexes into `texts`; a text too long for any group is left out (its
    caller sends it alone, split).
    """
    group: list[int] = []
    used = 0
    for index, text in enumerate(texts):
        size = cost(text)
        if size > limit:
            continue
        extra = size if not group else size + cost(separator)
        if group and used + extra > limit:
            yield group
            group, used = [], 0
            extra = size
        group.append(index)
        used += extra
    if group:
        yield group


class SlidingWindow:
    """At most `limit` messages per key in any `period` (plus a margin for clock skew)."""

    def __init__(
        self, limit: int, period: timedelta, *, clock: Clock, margin: timedelta = timedelta()
    ) -> None:
        self.limit = limit
        self.period = period + margin
        self._clock = clock
        self._sent: dict[str, deque[datetime]] = {}
        self._blocked_until: dict[str, datetime] = {}

    def _window(self, key: str, now: datetime) -> deque[datetime]:
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        return sent

    def free(self, key: str) -> int:
        """Messages that may go to the key now."""
        now = self._clock()
        if self._blocked_until.get(key, now) > now:
            return 0
        return max(0, self.limit - len(self._window(key, now)))

    def take(self, key: str) -> bool:
        """Counts one message against the key; False (and nothing counted) when it is full."""
        if self.free(key) == 0:
            return False
        self._sent[key].append(self._clock())
        return True

    def next_free_at(self, key: str) -> datetime:
        """When the next message may go to the key."""
        now = self._clock()
        blocked = self._blocked_until.get(key, now)
        sent = self._window(key, now)
        opens = sent[0] + self.period if len(sent) >= self.limit else now
        return max(now, blocked, opens)

    def block_until(self, key: str, until: datetime) -> None:
        """Sends nothing to the key before `until` (the other side said "too fast")."""
        self._blocked_until[key] = max(until, self._blocked_until.get(key, until))


class RateLimiter:
    """Several windows at once, e.g. Feishu's 100 a minute and 5 a second."""

    def __init__(self, *windows: SlidingWindow) -> None:
        self._windows = windows

    def free(self, key: str) -> int:
        return min(window.free(key) for window in self._windows)

    def take(self, key: str) -> bool:
        if self.free(key) == 0:
            return False
        for window in self._windows:
            window.take(key)
        return True

    def next_free_at(self, key: str) -> datetime:
        return max(window.next_free_at(key) for window in self._windows)

    def block_until(self, key: str, until: datetime) -> None:
        for window in self._windows:
            window.block_until(key, until)
