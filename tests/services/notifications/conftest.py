"""Fixtures of the notification tests: a clean outbox and routes table around each test."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from services.notifications.models import Notification, NotificationRoute


@pytest.fixture
async def sessions(db_sessions):
    """The test database with no outbox rows and no routes of another test.

    Dispatchers claim every due row, and a route for everyone applies to every notice, so
    each test starts from empty tables and leaves them empty.
    """

    async def empty() -> None:
        async with db_sessions.begin() as session:
            await session.execute(delete(Notification))
            await session.execute(delete(NotificationRoute))

    await empty()
    yield db_sessions
    await empty()
