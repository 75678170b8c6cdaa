"""gRPC plumbing shared by every service: the server lifecycle, one decorator per RPC that
checks the caller, logs one line and maps domain errors to status codes, and client channels.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from salesflow.core import errors
from salesflow.core.caller import Caller, caller_from_metadata

logger = logging.getLogger(__name__)

_STATUS_BY_ERROR: list[tuple[type[errors.SalesflowError], grpc.StatusCode]] = [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.TooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
]


def status_code_for(error: errors.SalesflowError) -> grpc.StatusCode:
    for error_type, code in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.UNKNOWN


async def _abort(context: grpc.aio.ServicerContext, error: errors.SalesflowError) -> None:
    code = status_code_for(error)
    if error.detail is None:
        await context.abort(code, error.message)
    detail = any_pb2.Any()
    detail.Pack(error.detail)
    status = status_pb2.Status(
        code=getattr(code_pb2, code.name), message=error.message, details=[detail]
    )
    await context.abort_with_status(rpc_status.to_status(status))


def rpc(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a unary or client-streaming servicer method.

    The method is called as method(self, request, context, caller). Domain errors become
    their status code with the reason; anything else is logged and answered INTERNAL.
    """

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        outcome = "OK"
        try:
            caller = caller_from_metadata(context.invocation_metadata())
            return await method(self, request, context, caller)
        except errors.SalesflowError as error:
            outcome = status_code_for(error).name
            await _abort(context, error)
        except Exception:
            outcome = "INTERNAL"
            logger.exception("rpc=%s failed", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the service log")
        finally:
            logger.info(
                "rpc=%s status=%s ms=%.1f",
                method.__qualname__,
                outcome,
                (time.perf_counter() - started) * 1000,
            )

    return wrapper


def rpc_stream(method: Callable[..., Any]) -> Callable[..., Any]:
    """Like rpc, for server-streaming methods (async generators)."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            caller = caller_from_metadata(context.invocation_metadata())
            async for item in method(self, request, context, caller):
                yield item
        except errors.SalesflowError as error:
            await _abort(context, error)
        except Exception:
            logger.exception("rpc=%s failed", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the service log")

    return wrapper


@dataclass(frozen=True)
class ServiceBinding:
    """One servicer and how to add it to a server."""

    servicer: Any
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    full_name: str


class RunningServer:
    """A started grpc.aio server with its health service; stop() drains gracefully."""

    def __init__(self, server: grpc.aio.Server, port: int, health_servicer: Any, names: list[str]):
        self.server = server
        self.port = port
        self._health = health_servicer
        self._names = names

    async def stop(self, grace: float = 5.0) -> None:
        for name in [*self._names, ""]:
            await self._health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def start_server(
    bindings: Iterable[ServiceBinding], *, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Starts a server with the bindings plus standard health and reflection services.

    Port 0 picks a free port; the chosen one is on the returned RunningServer.
    """
    bindings = list(bindings)
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ]
    )
    for binding in bindings:
        binding.add_to_server(binding.servicer, server)

    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [binding.full_name for binding in bindings]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )

    bound_port = server.add_insecure_port(f"{host}:{port}")
    if bound_port == 0:
        raise RuntimeError(f"could not bind gRPC server to {host}:{port}")
    await server.start()
    for name in [*names, ""]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("grpc server listening on %s:%s services=%s", host, bound_port, ",".join(names))
    return RunningServer(server, bound_port, health_servicer, names)


class _CallerMetadata:
    """Adds a caller's identity to the metadata of a call."""

    def __init__(self, caller: Caller) -> None:
        self._metadata = caller.metadata()

    def _with_identity(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = list(details.metadata or []) + list(self._metadata)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


# grpc.aio files an interceptor under the first call kind it implements only, so each call
# kind needs an interceptor object of its own.
class _UnaryUnaryCaller(_CallerMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(self._with_identity(details), request)


class _UnaryStreamCaller(_CallerMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(self._with_identity(details), request)


class _StreamUnaryCaller(_CallerMetadata, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, details, requests):
        return await continuation(self._with_identity(details), requests)


def channel(target: str, caller: Caller | None = None) -> grpc.aio.Channel:
    """An insecure channel to one of our services, sending the caller's identity if given."""
    interceptors = None
    if caller is not None:
        interceptors = [
            _UnaryUnaryCaller(caller),
            _UnaryStreamCaller(caller),
            _StreamUnaryCaller(caller),
        ]
    return grpc.aio.insecure_channel(
        target,
        interceptors=interceptors,
        options=[("grpc.max_send_message_length", 8 * 1024 * 1024)],
    )


def rejection_detail(error: grpc.aio.AioRpcError, message_type: type) -> Any | None:
    """Unpacks the first rich-status detail of the given type from a failed call."""
    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(message_type.DESCRIPTOR):
            message = message_type()
            detail.Unpack(message)
            return message
    return None
