"""Who may upload or read an opportunity's evidence: the pipeline service decides.

Ownership and region are pipeline data, so the evidence service asks the pipeline service,
forwarding the caller's own identity: whoever may not see a pipeline may not see its files,
and only those who may change it (its rep, their manager, directors, admins) may add files.
"""

from __future__ import annotations

from typing import Protocol

import grpc

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import FailedPrecondition, NotFound, PermissionDenied, Unavailable
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc

# The roles that may add evidence; HR, legal and logistics read pipelines but do not act.
UPLOADER_ROLES = frozenset({Role.REP, Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
CHECK_TIMEOUT_SECONDS = 10


class AccessPolicy(Protocol):
    async def require(self, caller: Caller, opportunity_id: str, *, write: bool) -> None: ...


class PipelineAccess:
    def __init__(self, pipeline_channel: grpc.aio.Channel) -> None:
        self._stub = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)

    async def require(self, caller: Caller, opportunity_id: str, *, write: bool) -> None:
        """Raises PermissionDenied, NotFound or FailedPrecondition unless the caller may."""
        # Our own services (the pipeline service resolving evidence for the lock) read freely.
        if caller.role is Role.SYSTEM:
            return
        if write and caller.role not in UPLOADER_ROLES:
            raise PermissionDenied(f"role {caller.role.value} may read evidence but not add it")

        try:
            state = await self._stub.GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_id),
                metadata=caller.metadata(),
                timeout=CHECK_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.PERMISSION_DENIED:
                raise PermissionDenied(error.details() or "not your pipeline") from error
            if error.code() is grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"no pipeline {opportunity_id!r}") from error
            if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
                raise NotFound(f"no pipeline {opportunity_id!r}: {error.details()}") from error
            raise Unavailable(
                f"the pipeline service could not confirm access: {error.code().name}"
            ) from error

        if write and state.outcome != "open":
            raise FailedPrecondition(
                f"pipeline {opportunity_id} is {state.outcome}; it takes no more evidence"
            )
