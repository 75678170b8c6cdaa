"""Domain errors every service raises; the gRPC layer turns each into one status code.

Services never import grpc to report a problem: they raise one of these and
salesflow.core.grpc maps it, so the same rule reads the same from every service.
"""

from __future__ import annotations

from typing import Any


class SalesflowError(Exception):
    """Base of every error a caller is meant to see."""

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        # A protobuf message sent as a rich-status detail (e.g. the unmet requirements).
        self.detail = detail


class InvalidArgument(SalesflowError):
    """The request itself is malformed; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class NotFound(SalesflowError):
    """The thing named by the request does not exist."""


class AlreadyExists(SalesflowError):
    """The thing the request would create exists already."""


class FailedPrecondition(SalesflowError):
    """The request is well formed but the state does not allow it yet."""


class PermissionDenied(SalesflowError):
    """The caller's role or region does not allow the request."""


class Unauthenticated(SalesflowError):
    """The request carries no usable caller identity."""


class Unavailable(SalesflowError):
    """A part the request depends on (a worker, a server) does not answer; retry later."""


class TooLarge(SalesflowError):
    """An upload exceeds the configured limit."""


def require(value: str, field: str) -> str:
    """Returns the stripped value of a required string field, or raises InvalidArgument."""
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidArgument(field, "is required")
    return stripped
