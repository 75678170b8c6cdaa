"""The notifications service's gRPC face: listing notices and an admin's retry.

Who sees what: everyone their own notices; legal and logistics also their department's
("role:legal"); managers the notices about their regions; directors and admins all.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, PermissionDenied
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from salesflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from services.notifications import outbox
from services.notifications.models import ROLE_PREFIX, STATUSES, Notification

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def notification_message(row: Notification) -> notifications_pb2.Notification:
    """The wire form of an outbox row."""
    return notifications_pb2.Notification(
        notification_id=row.id,
        recipient=row.recipient,
        channel=row.channel,
        target=row.target,
        kind=row.kind,
        subject=row.subject,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=timestamp(row.next_attempt_at),
        last_error=row.last_error,
        delivered_at=timestamp(row.delivered_at),
        created_at=timestamp(row.created_at),
        event_id=row.event_id,
        opportunity_id=row.opportunity_id,
        region=row.region,
        occurred_at=timestamp(row.occurred_at),
    )


def _own_recipients(caller: Caller) -> list[str]:
    own = [caller.id]
    if caller.role in (Role.LEGAL, Role.LOGISTICS):
        own.append(f"{ROLE_PREFIX}{caller.role.value}")
    return own


def visible_to(caller: Caller, recipient: str) -> list[Any]:
    """Conditions that keep a listing to what the caller may see (and asked for)."""
    own = _own_recipients(caller)
    conditions: list[Any] = [Notification.recipient == recipient] if recipient else []
    if caller.role in (Role.ADMIN, Role.DIRECTOR, Role.SYSTEM):
        return conditions
    if caller.role is Role.MANAGER:
        if "*" in caller.regions:
            return conditions
        regions = sorted(caller.regions)
        return [*conditions, or_(Notification.recipient.in_(own), Notification.region.in_(regions))]
    if recipient and recipient not in own:
        raise PermissionDenied(f"{caller.id} ({caller.role.value}) may read only their own notices")
    return [*conditions, Notification.recipient.in_(own)]


class NotificationServicer(notifications_pb2_grpc.NotificationServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @rpc
    async def ListNotifications(
        self, request, context, caller: Caller
    ) -> notifications_pb2.ListNotificationsResponse:
        """Notices the caller may see, newest first, by recipient and status; paged."""
        page_size = bounded_limit(
            request.page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE, field="page_size"
        )
        status = request.status.strip()
        if status and status not in STATUSES:
            raise InvalidArgument("status", f"must be one of {', '.join(STATUSES)}")
        after_id = None
        if request.page_token:
            if not request.page_token.isdigit():
                raise InvalidArgument("page_token", "is not a token this service issued")
            after_id = int(request.page_token)

        conditions = visible_to(caller, request.recipient.strip())
        if status:
            conditions.append(Notification.status == status)
        rows, last_id = await outbox.list_notifications(
            self._sessions, conditions=conditions, page_size=page_size, after_id=after_id
        )
        return notifications_pb2.ListNotificationsResponse(
            notifications=[notification_message(row) for row in rows],
            next_page_token=str(last_id) if last_id is not None else "",
        )

    @rpc
    async def RetryNotification(
        self, request, context, caller: Caller
    ) -> notifications_pb2.Notification:
        """Admin: a dead or failed notice is sent again, its attempts starting over."""
        caller.require_role(Role.ADMIN)
        if request.notification_id <= 0:
            raise InvalidArgument("notification_id", "is required")
        row = await outbox.retry(self._sessions, caller, request.notification_id)
        return notification_message(row)
