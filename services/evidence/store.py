"""The evidence domain: validating, hashing, typing and recording uploaded files.

Used by the gRPC servicer (service.py) and in process by the CLI's replay. Bytes go to a
BlobStore once per SHA-256; every upload becomes its own immutable EvidenceRecord and an
`evidence.uploaded` entry in the operation log, committed in one transaction. There is no
update or delete: a correction is a new upload, and both stay in the history.

Flags are decided once, at upload: `exif_dates_conflict` from the photo's own EXIF, and
`reused_elsewhere` when another customer's opportunity recorded the same bytes first. The
first opportunity to record a content owns it: its uploads stay valid, uploads of the same
bytes for any other opportunity are flagged (and never count for an action). Uploads of one
content are serialised by a PostgreSQL advisory lock, so two customers racing with the
same photo cannot both be first.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller
from salesflow.core.db import utcnow
from salesflow.core.errors import InvalidArgument, NotFound, TooLarge
from salesflow.core.oplog import Operation, append_operations
from services.evidence.blobs import CHUNK_SIZE, BlobMissing, BlobStore
from services.evidence.capture import CaptureTime, capture_time
from services.evidence.filetypes import HEAD_BYTES, sniff_content_type
from services.evidence.models import EvidenceFlag, EvidenceRecord

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# Uploads up to this size stay in memory while they are hashed; larger ones spill to disk.
SPOOL_IN_MEMORY_BYTES = 1 * MIB
# A client clock may run a little ahead of ours; a capture later than that is no capture.
CLIENT_CLOCK_SKEW = timedelta(minutes=5)
# Blobs written at once by put_many; each write ends with an fsync, so a few overlap well.
BULK_BLOB_WRITERS = 8
# Ids per query in get_many, far below PostgreSQL's bind-parameter limit.
IDS_PER_QUERY = 1000
# Advisory locks serialising uploads of one content: (this key, the hash's first byte).
REUSE_LOCK_SPACE = 0x45564944  # "EVID"

# Column widths of EvidenceRecord, checked before the database would refuse them.
_MAX_LENGTHS = {"opportunity_id": 100, "action_key": 100, "kind": 100, "filename": 255}


@dataclass(frozen=True)
class EvidenceUpload:
    """One small file for put_many, held in memory."""

    opportunity_id: str
    action_key: str
    kind: str
    filename: str
    data: bytes
    client_captured_at: datetime | None = None


@dataclass(frozen=True)
class _Fields:
    opportunity_id: str
    action_key: str
    kind: str
    filename: str


@dataclass(frozen=True)
class _Examined:
    sha256: str
    size_bytes: int
    content_type: str
    capture: CaptureTime


class EvidenceStore:
    """The evidence records and their bytes.

    `sessions` must not expire objects on commit (salesflow.core.db.session_factory does
    not): the records returned here are read after their transaction has ended.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        *,
        max_upload_bytes: int,
        timezone: str,
    ) -> None:
        if max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be positive, got {max_upload_bytes}")
        self._sessions = sessions
        self._blobs = blobs
        self.max_upload_bytes = max_upload_bytes
        self._zone = ZoneInfo(timezone)

    async def put(
        self,
        *,
        caller: Caller,
        opportunity_id: str,
        action_key: str,
        kind: str,
        filename: str,
        data: bytes | AsyncIterable[bytes],
        client_captured_at: datetime | None = None,
    ) -> EvidenceRecord:
        """Stores one file, streamed, and records it as evidence for an action.

        Raises InvalidArgument for a missing or malformed field (checked before any byte
        is read) and TooLarge as soon as the bytes pass max_upload_bytes.
        """
        fields = _validate_fields(opportunity_id, action_key, kind, filename)
        _validate_client_time(client_captured_at, "captured_at")

        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
            sha256, size_bytes, head = await self._receive(data, spool)
            content_type = sniff_content_type(head)
            spool.seek(0)
            capture = await asyncio.to_thread(
                capture_time,
                spool,
                content_type,
                zone=self._zone,
                client_captured_at=client_captured_at,
            )
            # The blob goes first: a crash before the commit leaves an unreferenced blob
            # (harmless, content-addressed), never a record without its bytes.
            spool.seek(0)
            await self._blobs.put(sha256, spool)

        examined = _Examined(sha256, size_bytes, content_type, capture)
        record = _new_record(fields, examined, caller=caller, uploaded_at=utcnow())
        async with self._sessions() as session, session.begin():
            await _flag_reuse(session, [record])
            session.add(record)
            await _log_upload(session, caller, record)

        _log_stored(record)
        return record

    async def put_many(
        self, *, caller: Caller, uploads: Sequence[EvidenceUpload]
    ) -> list[EvidenceRecord]:
        """Stores many small in-memory files in one transaction (bulk import).

        Validation is the same as put's; a field problem names the upload by index, e.g.
        `uploads[3].kind`, and nothing is recorded. Returns the records in upload order.
        """
        fields = [self._validate_upload(index, upload) for index, upload in enumerate(uploads)]
        if not fields:
            return []

        examined = await asyncio.to_thread(_examine_all, uploads, self._zone)
        await self._put_blobs(uploads, examined)

        uploaded_at = utcnow()
        records = [
            _new_record(upload_fields, facts, caller=caller, uploaded_at=uploaded_at)
            for upload_fields, facts in zip(fields, examined, strict=True)
        ]
        async with self._sessions() as session, session.begin():
            await _flag_reuse(session, records)
            session.add_all(records)
            await _log_uploads(session, caller, records)

        logger.info("evidence bulk stored count=%s by=%s", len(records), caller.id)
        return records

    async def get(self, evidence_id: str) -> EvidenceRecord:
        """One evidence record; raises NotFound if there is none with this id."""
        evidence_id = _validate_evidence_id(evidence_id)
        async with self._sessions() as session:
            record = await session.get(EvidenceRecord, evidence_id)
        if record is None:
            raise NotFound(f"no evidence with id {evidence_id}")
        return record

    async def get_many(self, ids: Sequence[str]) -> list[EvidenceRecord]:
        """The records with these ids, in the order asked, each once.

        Unknown (or malformed) ids are left out rather than raised, so a caller checking
        an action's attachments can tell exactly which ones are missing.
        """
        wanted = list(dict.fromkeys(_canonical_uuid(value) for value in ids))
        wanted = [value for value in wanted if value is not None]

        found: dict[str, EvidenceRecord] = {}
        async with self._sessions() as session:
            for start in range(0, len(wanted), IDS_PER_QUERY):
                batch = wanted[start : start + IDS_PER_QUERY]
                rows = await session.scalars(
                    select(EvidenceRecord).where(EvidenceRecord.evidence_id.in_(batch))
                )
                found.update((record.evidence_id, record) for record in rows)
        return [found[value] for value in wanted if value in found]

    async def list(self, opportunity_id: str, action_key: str = "") -> list[EvidenceRecord]:
        """An opportunity's evidence, oldest upload first; only one action's if given."""
        opportunity_id = _validate_text("opportunity_id", opportunity_id)
        query = select(EvidenceRecord).where(EvidenceRecord.opportunity_id == opportunity_id)
        if action_key.strip():
            query = query.where(EvidenceRecord.action_key == action_key.strip())
        query = query.order_by(EvidenceRecord.uploaded_at, EvidenceRecord.evidence_id)

        async with self._sessions() as session:
            return [*(await session.scalars(query))]

    async def open(
        self, evidence_id: str, *, chunk_size: int = CHUNK_SIZE
    ) -> tuple[EvidenceRecord, AsyncIterator[bytes]]:
        """A record and an iterator over its bytes; raises NotFound for an unknown id.

        A record whose blob is gone raises blobs.BlobMissing here, before any byte is
        sent, so a download never starts on a file it cannot finish.
        """
        record = await self.get(evidence_id)
        if not await self._blobs.exists(record.sha256):
            raise BlobMissing(f"evidence {record.evidence_id} lost its blob {record.sha256}")
        return record, self._blobs.open(record.sha256, chunk_size=chunk_size)

    async def _receive(
        self, data: bytes | AsyncIterable[bytes], spool: IO[bytes]
    ) -> tuple[str, int, bytes]:
        """Spools the bytes while hashing them; returns (sha256, size, first bytes)."""
        digest = hashlib.sha256()
        size = 0
        head = bytearray()

        async for chunk in _as_chunks(data):
            size += len(chunk)
            if size > self.max_upload_bytes:
                raise TooLarge(self._too_large_message())
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            # In a thread, so hashing and spooling a large chunk never stall the event loop.
            await asyncio.to_thread(_absorb, digest, spool, chunk)

        if size == 0:
            raise InvalidArgument("data", "the file is empty")
        return digest.hexdigest(), size, bytes(head)

    def _validate_upload(self, index: int, upload: EvidenceUpload) -> _Fields:
        try:
            fields = _validate_fields(
                upload.opportunity_id, upload.action_key, upload.kind, upload.filename
            )
            _validate_client_time(upload.client_captured_at, "client_captured_at")
            if not upload.data:
                raise InvalidArgument("data", "the file is empty")
        except InvalidArgument as error:
            problem = error.message.removeprefix(f"{error.field}: ")
            raise InvalidArgument(f"uploads[{index}].{error.field}", problem) from error
        if len(upload.data) > self.max_upload_bytes:
            raise TooLarge(f"uploads[{index}]: {self._too_large_message()}")
        return fields

    async def _put_blobs(
        self, uploads: Sequence[EvidenceUpload], examined: Sequence[_Examined]
    ) -> None:
        """Writes each distinct content once, a few at a time."""
        distinct = {
            facts.sha256: upload.data for upload, facts in zip(uploads, examined, strict=True)
        }
        writers = asyncio.Semaphore(BULK_BLOB_WRITERS)

        async def put_one(sha256: str, data: bytes) -> None:
            async with writers:
                await self._blobs.put(sha256, io.BytesIO(data))

        async with asyncio.TaskGroup() as group:
            for sha256, data in distinct.items():
                group.create_task(put_one(sha256, data))

    def _too_large_message(self) -> str:
        limit = self.max_upload_bytes
        return f"file too large: the upload limit is {limit} bytes ({limit / MIB:.1f} MiB)"


async def _as_chunks(data: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        if data:
            yield bytes(data)
        return
    async for chunk in data:
        if chunk:
            yield chunk


def _examine_all(uploads: Sequence[EvidenceUpload], zone: ZoneInfo) -> list[_Examined]:
    """Hash, type and capture time of each upload (blocking; runs in a thread)."""
    examined = []
    for upload in uploads:
        content_type = sniff_content_type(upload.data[:HEAD_BYTES])
        capture = capture_time(
            io.BytesIO(upload.data),
            content_type,
            zone=zone,
            client_captured_at=upload.client_captured_at,
        )
        sha256 = hashlib.sha256(upload.data).hexdigest()
        examined.append(_Examined(sha256, len(upload.data), content_type, capture))
    return examined


def _absorb(digest: Any, spool: IO[bytes], chunk: bytes) -> None:
    digest.update(chunk)
    spool.write(chunk)


def _validate_fields(opportunity_id: str, action_key: str, kind: str, filename: str) -> _Fields:
    return _Fields(
        opportunity_id=_validate_text("opportunity_id", opportunity_id),
        action_key=_validate_text("action_key", action_key),
        kind=_validate_text("kind", kind),
        filename=_validate_text("filename", _basename(filename)),
    )


def _validate_text(field: str, value: str) -> str:
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidArgument(field, "is required")
    if len(stripped) > _MAX_LENGTHS[field]:
        raise InvalidArgument(field, f"is longer than {_MAX_LENGTHS[field]} characters")
    if any(ord(character) < 32 or ord(character) == 127 for character in stripped):
        raise InvalidArgument(field, "contains control characters")
    return stripped


def _basename(filename: str) -> str:
    # Browsers and phone apps send paths ("C:\\fakepath\\IMG_1.jpg"); only the name counts.
    return (filename or "").replace("\\", "/").rsplit("/", 1)[-1]


def _validate_client_time(value: datetime | None, field: str) -> None:
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(field, "needs a time zone")
    if value > utcnow() + CLIENT_CLOCK_SKEW:
        raise InvalidArgument(field, f"{value.isoformat()} is in the future")


def _validate_evidence_id(value: str) -> str:
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidArgument("evidence_id", "is required")
    canonical = _canonical_uuid(stripped)
    if canonical is None:
        raise InvalidArgument("evidence_id", f"{stripped!r} is not a UUID")
    return canonical


def _canonical_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return None


async def _flag_reuse(session: AsyncSession, records: Sequence[EvidenceRecord]) -> None:
    """Flags the new records whose bytes another opportunity recorded first.

    The owner of a content is the opportunity of its unflagged records (there is one at
    most); in a batch, earlier uploads come first. Must run in the inserting transaction.
    """
    hashes = sorted({record.sha256 for record in records})
    await _lock_contents(session, hashes)

    holders: dict[str, list[str]] = {}
    owners: dict[str, str] = {}
    for start in range(0, len(hashes), IDS_PER_QUERY):
        rows = await session.execute(
            select(EvidenceRecord.sha256, EvidenceRecord.opportunity_id, EvidenceRecord.flags)
            .where(EvidenceRecord.sha256.in_(hashes[start : start + IDS_PER_QUERY]))
            .order_by(EvidenceRecord.uploaded_at, EvidenceRecord.evidence_id)
        )
        for sha256, opportunity_id, flags in rows:
            _note_holder(holders, owners, sha256, opportunity_id, flags)

    for record in records:
        owner = owners.get(record.sha256, record.opportunity_id)
        if owner != record.opportunity_id:
            record.flags = [*record.flags, EvidenceFlag.REUSED_ELSEWHERE.value]
            earlier = [owner, *holders[record.sha256]]
            record.reused_from = [
                opportunity_id
                for opportunity_id in dict.fromkeys(earlier)
                if opportunity_id != record.opportunity_id
            ]
        _note_holder(holders, owners, record.sha256, record.opportunity_id, record.flags)


def _note_holder(
    holders: dict[str, list[str]],
    owners: dict[str, str],
    sha256: str,
    opportunity_id: str,
    flags: Sequence[str],
) -> None:
    held_by = holders.setdefault(sha256, [])
    if opportunity_id not in held_by:
        held_by.append(opportunity_id)
    if EvidenceFlag.REUSED_ELSEWHERE not in flags:
        owners.setdefault(sha256, opportunity_id)


async def _lock_contents(session: AsyncSession, hashes: Sequence[str]) -> None:
    """Holds, until the transaction ends, the advisory locks of these contents.

    One lock per first byte of the hash, taken in ascending order so two batches never
    deadlock. SQLite needs none: its engine has one connection, so writers take turns.
    """
    if session.get_bind().dialect.name != "postgresql" or not hashes:
        return
    buckets = sorted({int(sha256[:2], 16) for sha256 in hashes})
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:space, bucket) "
            "FROM unnest(CAST(:buckets AS integer[])) AS bucket"
        ),
        {"space": REUSE_LOCK_SPACE, "buckets": buckets},
    )


def _new_record(
    fields: _Fields, examined: _Examined, *, caller: Caller, uploaded_at: datetime
) -> EvidenceRecord:
    capture = examined.capture
    return EvidenceRecord(
        evidence_id=str(uuid.uuid4()),
        opportunity_id=fields.opportunity_id,
        action_key=fields.action_key,
        kind=fields.kind,
        filename=fields.filename,
        sha256=examined.sha256,
        size_bytes=examined.size_bytes,
        content_type=examined.content_type,
        captured_at=capture.at,
        capture_time_source=capture.source.value,
        captured_local=capture.local,
        uploaded_at=uploaded_at,
        uploaded_by=caller.id,
        flags=[EvidenceFlag.EXIF_DATES_CONFLICT.value] if capture.conflicts else [],
        reused_from=[],
    )


async def _log_upload(session: AsyncSession, caller: Caller, record: EvidenceRecord) -> None:
    await _log_uploads(session, caller, [record])


async def _log_uploads(
    session: AsyncSession, caller: Caller, records: Sequence[EvidenceRecord]
) -> None:
    # The hash in the chained log makes the file's content tamper-evident as well.
    await append_operations(session, [_upload_operation(caller, record) for record in records])


def _upload_operation(caller: Caller, record: EvidenceRecord) -> Operation:
    return Operation(
        caller=caller,
        service="evidence",
        operation="evidence.uploaded",
        subject=record.opportunity_id,
        payload={
            "evidence_id": record.evidence_id,
            "action_key": record.action_key,
            "kind": record.kind,
            "filename": record.filename,
            "sha256": record.sha256,
            "size_bytes": record.size_bytes,
            "content_type": record.content_type,
            "captured_at": record.captured_at.isoformat() if record.captured_at else None,
            "capture_time_source": record.capture_time_source,
            "captured_local": (
                record.captured_local.isoformat() if record.captured_local else None
            ),
            "flags": list(record.flags),
            "reused_from": list(record.reused_from),
            "uploaded_at": record.uploaded_at.isoformat(),
        },
    )


def _log_stored(record: EvidenceRecord) -> None:
    logger.info(
        "evidence stored id=%s opportunity=%s action=%s kind=%s sha256=%s bytes=%s type=%s "
        "capture_source=%s flags=%s by=%s",
        record.evidence_id,
        record.opportunity_id,
        record.action_key,
        record.kind,
        record.sha256,
        record.size_bytes,
        record.content_type,
        record.capture_time_source,
        ",".join(record.flags) or "-",
        record.uploaded_by,
    )
