"""The evidence gRPC service: translates EvidenceService calls to the EvidenceStore.

Uploads arrive as a client stream (metadata first, then chunks) and downloads leave as a
server stream (metadata first, then 64 KiB chunks), so no file meets gRPC's per-message
limit (8 MiB on our servers and channels); a single message larger than that is refused by
gRPC itself with RESOURCE_EXHAUSTED before any byte reaches the store. There is no update
or delete call: evidence is immutable, and a correction is a new upload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC

import grpc

from salesflow.core.caller import Caller
from salesflow.core.errors import InvalidArgument, TooLarge
from salesflow.core.rpc import rpc, rpc_stream
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from services.evidence.access import AccessPolicy
from services.evidence.blobs import CHUNK_SIZE
from services.evidence.models import EvidenceRecord
from services.evidence.store import EvidenceStore

logger = logging.getLogger(__name__)

# A refused upload's rest is read and dropped, up to this many times the limit or this
# long, before the refusal is sent (see _drain).
DRAIN_LIMIT_FACTOR = 4
DRAIN_SECONDS = 30.0


class EvidenceServicer(evidence_pb2_grpc.EvidenceServiceServicer):
    """EvidenceService over an EvidenceStore; the pipeline service decides who may."""

    def __init__(self, store: EvidenceStore, access: AccessPolicy) -> None:
        self._store = store
        self._access = access

    @rpc
    async def Upload(
        self,
        request: AsyncIterable[evidence_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ) -> evidence_pb2.Evidence:
        """Stores one streamed file; the first message must carry the metadata."""
        messages = aiter(request)
        first = await anext(messages, None)
        if first is None or first.WhichOneof("part") != "metadata":
            raise InvalidArgument("metadata", "the first upload message must carry the metadata")
        metadata = first.metadata
        if metadata.opportunity_id.strip():
            await self._access.require(caller, metadata.opportunity_id, write=True)

        try:
            record = await self._store.put(
                caller=caller,
                opportunity_id=metadata.opportunity_id,
                action_key=metadata.action_key,
                kind=metadata.kind,
                filename=metadata.filename,
                data=_upload_chunks(messages),
                client_captured_at=(
                    metadata.captured_at.ToDatetime(tzinfo=UTC)
                    if metadata.HasField("captured_at")
                    else None
                ),
            )
        except TooLarge:
            await _drain(messages, max_bytes=DRAIN_LIMIT_FACTOR * self._store.max_upload_bytes)
            raise
        return evidence_message(record)

    @rpc
    async def ListEvidence(
        self,
        request: evidence_pb2.ListEvidenceRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ) -> evidence_pb2.ListEvidenceResponse:
        """The evidence of an opportunity, oldest first, optionally of one action only."""
        if request.opportunity_id.strip():
            await self._access.require(caller, request.opportunity_id, write=False)
        records = await self._store.list(request.opportunity_id, request.action_key)
        return evidence_pb2.ListEvidenceResponse(
            evidence=[evidence_message(record) for record in records]
        )

    @rpc
    async def GetEvidence(
        self,
        request: evidence_pb2.GetEvidenceRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ) -> evidence_pb2.Evidence:
        """One evidence record's metadata; NOT_FOUND for an unknown id."""
        record = await self._store.get(request.evidence_id)
        await self._access.require(caller, record.opportunity_id, write=False)
        return evidence_message(record)

    @rpc_stream
    async def Download(
        self,
        request: evidence_pb2.GetEvidenceRequest,
        context: grpc.aio.ServicerContext,
        caller: Caller,
    ) -> AsyncIterator[evidence_pb2.DownloadResponse]:
        """Streams a file back: its metadata first, then its bytes in 64 KiB chunks."""
        record = await self._store.get(request.evidence_id)
        await self._access.require(caller, record.opportunity_id, write=False)
        record, chunks = await self._store.open(request.evidence_id, chunk_size=CHUNK_SIZE)
        yield evidence_pb2.DownloadResponse(metadata=evidence_message(record))

        sent = 0
        async for chunk in chunks:
            sent += len(chunk)
            yield evidence_pb2.DownloadResponse(chunk=chunk)
        logger.debug(
            "evidence downloaded id=%s bytes=%s by=%s", record.evidence_id, sent, caller.id
        )


async def _upload_chunks(
    messages: AsyncIterator[evidence_pb2.UploadRequest],
) -> AsyncIterator[bytes]:
    """The bytes of the messages after the metadata; a second metadata is an error."""
    async for message in messages:
        if message.WhichOneof("part") == "metadata":
            raise InvalidArgument("metadata", "sent more than once; send it only first")
        yield message.chunk


async def _drain(
    messages: AsyncIterator[evidence_pb2.UploadRequest],
    *,
    max_bytes: int,
    seconds: float = DRAIN_SECONDS,
) -> None:
    """Reads and drops the rest of a refused upload before the refusal is sent.

    A server that answers while its client is still streaming makes the client's call
    fail with its own error (often INTERNAL, "Internal error from Core") instead of our
    RESOURCE_EXHAUSTED. Reading on until the client has sent everything lets the refusal
    arrive intact; the bound keeps a client that never stops from holding the call open.
    """
    dropped = 0
    try:
        async with asyncio.timeout(seconds):
            async for message in messages:
                dropped += len(message.chunk)
                if dropped > max_bytes:
                    break
    except TimeoutError:
        pass
    logger.debug("refused upload drained bytes=%s", dropped)


def evidence_message(record: EvidenceRecord) -> evidence_pb2.Evidence:
    """The wire form of an evidence record."""
    message = evidence_pb2.Evidence(
        evidence_id=record.evidence_id,
        opportunity_id=record.opportunity_id,
        action_key=record.action_key,
        kind=record.kind,
        filename=record.filename,
        sha256=record.sha256,
        size_bytes=record.size_bytes,
        content_type=record.content_type,
        uploaded_by=record.uploaded_by,
        flags=record.flags,
        reused_from_opportunity_ids=record.reused_from,
        capture_time_source=record.capture_time_source,
        captured_local=record.captured_local.isoformat() if record.captured_local else "",
        capture_offset_assumed=record.capture_offset_assumed,
    )
    message.uploaded_at.FromDatetime(record.uploaded_at)
    if record.captured_at is not None:
        message.captured_at.FromDatetime(record.captured_at)
    return message
