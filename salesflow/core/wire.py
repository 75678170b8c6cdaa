"""Small translations every gRPC servicer needs between Python values and the wire."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from salesflow.core.errors import InvalidArgument


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A protobuf Timestamp for an aware datetime; None stays unset on the message."""
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def bounded_limit(value: int, *, default: int, maximum: int, field: str = "limit") -> int:
    """A page size or limit from a request: 0 means the default, beyond the bounds refused."""
    if value < 0 or value > maximum:
        raise InvalidArgument(field, f"must be between 0 and {maximum}, got {value}")
    return value or default
