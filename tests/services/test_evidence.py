"""The evidence service through a real gRPC server, on the real PostgreSQL test database."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pillow_heif
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import ExifTags, Image
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from salesflow.core.caller import SYSTEM_CALLER, Caller, Role
from salesflow.core.errors import InvalidArgument, TooLarge
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.rpc import channel
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.core.settings import Settings, SettingsError
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from services.evidence.blobs import BlobStore, LocalBlobStore
from services.evidence.filetypes import sniff_content_type
from services.evidence.models import CaptureTimeSource, EvidenceRecord
from services.evidence.server import build_store, serve
from services.evidence.store import EvidenceStore, EvidenceUpload
from tests.schema import schema_differences

MIB = 1024 * 1024
REP = Caller(id="Anna Snelling", role=Role.REP, regions=frozenset({"Central"}))
# ISO-BMFF ftyp box as an iPhone writes it: major brand heic, compatible mif1 and heic.
HEIC_HEAD = (24).to_bytes(4, "big") + b"ftypheic" + bytes(4) + b"mif1heic"


@dataclass
class EvidenceUnderTest:
    service: RunningService
    store: EvidenceStore
    blob_root: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.service.port}"

    def stub(self, caller: Caller | None = REP) -> evidence_pb2_grpc.EvidenceServiceStub:
        stub = evidence_pb2_grpc.EvidenceServiceStub(channel(self.target, caller))
        # The raw-message tests build their own calls and send the identity themselves.
        stub.identity = caller.metadata() if caller is not None else None
        return stub


class AnyoneMayAccess:
    """These tests are about files, not ownership: who may see which pipeline's evidence is
    the pipeline service's answer, tested end to end in tests/test_end_to_end.py."""

    async def require(self, caller: Caller, opportunity_id: str, *, write: bool) -> None:
        return None


async def _start(database_url, db_sessions, blob_root: Path, max_upload_bytes: int):
    settings = Settings(
        database_url=database_url, evidence_dir=blob_root, max_upload_bytes=max_upload_bytes
    )
    deps = ServiceDeps(settings=settings, sessions=db_sessions, bus=None)
    service = await serve(deps, port=0, access=AnyoneMayAccess())
    return EvidenceUnderTest(service, build_store(deps), blob_root)


@pytest.fixture
async def evidence(database_url, db_sessions, tmp_path) -> AsyncIterator[EvidenceUnderTest]:
    """The evidence service with a 32 MiB upload limit and blobs of this test's own."""
    running = await _start(database_url, db_sessions, tmp_path / "blobs", 32 * MIB)
    yield running
    await running.service.stop()


@pytest.fixture
async def small_limit_evidence(
    database_url, db_sessions, tmp_path
) -> AsyncIterator[EvidenceUnderTest]:
    """The evidence service configured to accept at most 1 MiB per file."""
    running = await _start(database_url, db_sessions, tmp_path / "small-blobs", 1 * MIB)
    yield running
    await running.service.stop()


@pytest.fixture
def opportunity_id() -> str:
    return f"opp-{uuid.uuid4().hex[:12]}"


def _metadata(opportunity_id: str, /, **overrides) -> evidence_pb2.UploadMetadata:
    fields = {
        "opportunity_id": opportunity_id,
        "action_key": "solution_demo",
        "kind": "onsite_photo",
        "filename": "demo.jpg",
        **overrides,
    }
    return evidence_pb2.UploadMetadata(**fields)


async def _requests(metadata, data: bytes, chunk_size: int):
    yield evidence_pb2.UploadRequest(metadata=metadata)
    for start in range(0, len(data), chunk_size):
        yield evidence_pb2.UploadRequest(chunk=data[start : start + chunk_size])


async def _upload(stub, metadata, data: bytes, *, chunk_size: int = 256 * 1024):
    return await stub.Upload(_requests(metadata, data, chunk_size), metadata=stub.identity)


async def _download(stub, evidence_id: str) -> tuple[evidence_pb2.Evidence, bytes]:
    metadata = None
    body = bytearray()
    request = evidence_pb2.GetEvidenceRequest(evidence_id=evidence_id)
    async for message in stub.Download(request, metadata=stub.identity):
        if message.WhichOneof("part") == "metadata":
            assert metadata is None, "metadata must come once, first"
            metadata = message.metadata
        else:
            assert metadata is not None, "a chunk came before the metadata"
            assert len(message.chunk) <= 64 * 1024
            body += message.chunk
    return metadata, bytes(body)


def _exif(
    exif: dict[int, str] | None = None,
    *,
    ifd0: dict[int, str] | None = None,
    gps: dict[int, object] | None = None,
) -> Image.Exif:
    """EXIF tags as a camera writes them: IFD0, the Exif IFD and the GPS IFD."""
    tags = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        tags[tag] = value
    if exif:
        tags[ExifTags.IFD.Exif] = exif
    if gps:
        tags[ExifTags.IFD.GPSInfo] = gps
    return tags


def _image(
    fmt: str,
    *,
    exif: dict[int, str] | None = None,
    ifd0: dict[int, str] | None = None,
    gps: dict[int, object] | None = None,
) -> bytes:
    picture = Image.new("RGB", (16, 12), (200, 30, 30))
    buffer = io.BytesIO()
    if exif is None and ifd0 is None and gps is None:
        picture.save(buffer, fmt)
    else:
        picture.save(buffer, fmt, exif=_exif(exif, ifd0=ifd0, gps=gps))
    return buffer.getvalue()


def _unique_photo() -> bytes:
    """A JPEG no other test uploads: the test database is shared by the whole session."""
    return _image(
        "JPEG",
        ifd0={ExifTags.Base.ImageDescription: uuid.uuid4().hex},
        exif={ExifTags.Base.DateTimeOriginal: "2024:03:05 14:30:00"},
    )


def _heic(*, exif: dict[int, str] | None = None) -> bytes:
    """A real HEIC photo, HEVC-encoded by libheif, with the EXIF given."""
    heif = pillow_heif.from_pillow(Image.new("RGB", (16, 12), (30, 160, 90)))
    buffer = io.BytesIO()
    heif.save(buffer, quality=50, exif=_exif(exif).tobytes() if exif else None)
    return buffer.getvalue()


def _png_with_exif_after_broken_pixels(exif: dict[int, str]) -> bytes:
    """A PNG whose eXIf chunk follows image data that would not inflate.

    Reading its capture time proves the pixels are skipped, never decoded.
    """
    plain = _image("PNG")
    image_data_at = plain.index(b"IDAT") - 4
    end_at = plain.index(b"IEND") - 4
    length = int.from_bytes(plain[image_data_at : image_data_at + 4], "big")
    garbage = bytes(range(256)) * (length // 256 + 1)
    broken = b"IDAT" + garbage[:length]
    payload = _exif(exif).tobytes()
    exif_chunk = b"eXIf" + payload

    def chunk(body: bytes, data_length: int) -> bytes:
        crc = zlib.crc32(body).to_bytes(4, "big")
        return data_length.to_bytes(4, "big") + body + crc

    return (
        plain[:image_data_at]
        + chunk(broken, length)
        + chunk(exif_chunk, len(payload))
        + plain[end_at:]
    )


def _blob_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_streamed_25mb_upload_round_trips_by_hash(evidence, opportunity_id):
    data = os.urandom(25_000_000)
    stub = evidence.stub()

    uploaded = await _upload(stub, _metadata(opportunity_id, filename="site.bin"), data)
    described, downloaded = await _download(stub, uploaded.evidence_id)

    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert uploaded.size_bytes == len(data)
    assert uploaded.uploaded_by == REP.id
    assert described == uploaded
    assert hashlib.sha256(downloaded).hexdigest() == uploaded.sha256
    assert downloaded == data


async def test_same_bytes_twice_make_two_records_and_one_blob(evidence, opportunity_id):
    data = _image("PNG")
    stub = evidence.stub()

    first = await _upload(stub, _metadata(opportunity_id, filename="a.png"), data)
    second = await _upload(stub, _metadata(opportunity_id, filename="b.png"), data)

    assert first.evidence_id != second.evidence_id
    assert first.sha256 == second.sha256
    listed = await stub.ListEvidence(
        evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id)
    )
    assert [item.filename for item in listed.evidence] == ["a.png", "b.png"]
    blob_path = LocalBlobStore(evidence.blob_root).path_for(first.sha256)
    assert _blob_files(evidence.blob_root) == [blob_path]
    assert blob_path.relative_to(evidence.blob_root).parts[:2] == (
        first.sha256[:2],
        first.sha256[2:4],
    )


@pytest.mark.parametrize("chunk_size", [64 * 1024, 4 * MIB + 1], ids=["chunked", "one-message"])
async def test_file_of_4_mib_and_1_byte_round_trips(evidence, opportunity_id, chunk_size):
    # gRPC's default message limit is 4 MiB; streamed, or sent as one chunk, the file works.
    data = os.urandom(4 * MIB + 1)
    stub = evidence.stub()

    uploaded = await _upload(stub, _metadata(opportunity_id), data, chunk_size=chunk_size)
    _, downloaded = await _download(stub, uploaded.evidence_id)

    assert uploaded.size_bytes == 4 * MIB + 1
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(downloaded).hexdigest() == uploaded.sha256


def test_the_default_upload_limit_takes_4_mib_and_1_byte_and_is_configurable():
    assert Settings().max_upload_bytes >= 4 * MIB + 1
    configured = Settings.from_env({"SALESFLOW_MAX_UPLOAD_BYTES": str(25 * MIB)})
    assert configured.max_upload_bytes == 25 * MIB
    with pytest.raises(SettingsError):
        Settings.from_env({"SALESFLOW_MAX_UPLOAD_BYTES": "0"})


async def test_one_message_over_8_mib_is_refused_by_grpc_and_stores_nothing(
    evidence, opportunity_id
):
    # A client without our channel's send limit: the server's per-message limit answers.
    data = os.urandom(8 * MIB + 1)
    async with grpc.aio.insecure_channel(evidence.target) as unlimited:
        stub = evidence_pb2_grpc.EvidenceServiceStub(unlimited)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Upload(
                _requests(_metadata(opportunity_id), data, len(data)), metadata=REP.metadata()
            )

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(8 * MIB) in raised.value.details()
    assert await evidence.store.list(opportunity_id) == []
    assert _blob_files(evidence.blob_root) == []


async def test_upload_over_the_limit_is_resource_exhausted(small_limit_evidence, opportunity_id):
    stub = small_limit_evidence.stub()

    at_limit = await _upload(stub, _metadata(opportunity_id), os.urandom(MIB))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _upload(stub, _metadata(opportunity_id), os.urandom(MIB + 1))

    assert at_limit.size_bytes == MIB
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "too large" in raised.value.details()
    assert "1048576 bytes" in raised.value.details()
    assert "1.0 MiB" in raised.value.details()
    listed = await stub.ListEvidence(
        evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id)
    )
    assert [item.evidence_id for item in listed.evidence] == [at_limit.evidence_id]
    assert len(_blob_files(small_limit_evidence.blob_root)) == 1


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("photo.jpg", _image("PNG"), "image/png"),
        ("scan.png", _image("JPEG"), "image/jpeg"),
        ("IMG_0042.jpg", HEIC_HEAD + os.urandom(64), "image/heic"),
        ("IMG_0043.jpg", _heic(), "image/heic"),
        ("contract", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
        ("notes.pdf", b"just some text, not a PDF", "application/octet-stream"),
    ],
)
async def test_content_type_comes_from_the_bytes_not_the_name(
    evidence, opportunity_id, filename, data, content_type
):
    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id, filename=filename), data)

    assert uploaded.content_type == content_type
    assert uploaded.filename == filename


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        ((24).to_bytes(4, "big") + b"ftypmif1" + bytes(4) + b"mif1heic", "image/heic"),
        ((20).to_bytes(4, "big") + b"ftypmif1" + bytes(4) + b"mif1", "image/heif"),
        ((20).to_bytes(4, "big") + b"ftyphevc" + bytes(4) + b"msf1", "image/heic-sequence"),
        # An MP4 video has an ftyp box too, with brands that are no HEIF.
        (
            (24).to_bytes(4, "big") + b"ftypisom" + bytes(4) + b"isomiso2",
            "application/octet-stream",
        ),
        (b"", "application/octet-stream"),
    ],
)
def test_heif_brands_decide_the_type(head, content_type):
    assert sniff_content_type(head) == content_type


async def test_exif_time_with_offset_gives_utc_capture_time(evidence, opportunity_id):
    photo = _image(
        "JPEG",
        exif={
            ExifTags.Base.DateTimeOriginal: "2024:03:05 14:30:00",
            ExifTags.Base.OffsetTimeOriginal: "+02:00",
        },
    )
    # The client's claim loses to the camera's.
    claimed = Timestamp()
    claimed.FromDatetime(datetime(2024, 3, 1, tzinfo=UTC))

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id, captured_at=claimed), photo)

    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(2024, 3, 5, 12, 30, tzinfo=UTC)
    record = await evidence.store.get(uploaded.evidence_id)
    assert record.capture_time_source == CaptureTimeSource.EXIF
    assert record.captured_at != record.uploaded_at


async def test_exif_time_without_offset_is_read_in_shanghai_and_marked_assumed(
    evidence, opportunity_id
):
    photo = _image("JPEG", exif={ExifTags.Base.DateTimeOriginal: "2024:03:05 14:30:00"})

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), photo)

    # Asia/Shanghai is UTC+8 all year.
    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(2024, 3, 5, 6, 30, tzinfo=UTC)
    assert uploaded.capture_time_source == CaptureTimeSource.EXIF_ASSUMED_OFFSET
    assert uploaded.capture_offset_assumed
    # The camera's own wall-clock time is kept for the lock to read in the rep's zone.
    assert uploaded.captured_local == "2024-03-05T14:30:00"
    record = await evidence.store.get(uploaded.evidence_id)
    assert record.capture_time_source == CaptureTimeSource.EXIF_ASSUMED_OFFSET


async def test_jpeg_with_offset_plus_8_and_subseconds(evidence, opportunity_id):
    photo = _image(
        "JPEG",
        exif={
            ExifTags.Base.DateTimeOriginal: "2024:11:20 09:15:42",
            ExifTags.Base.SubsecTimeOriginal: "25",
            ExifTags.Base.OffsetTimeOriginal: "+08:00",
        },
    )

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), photo)

    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(
        2024, 11, 20, 1, 15, 42, 250_000, tzinfo=UTC
    )
    assert uploaded.capture_time_source == "exif"
    assert not uploaded.capture_offset_assumed
    assert uploaded.captured_local == ""
    assert list(uploaded.flags) == []


async def test_heic_named_jpg_is_heic_and_its_exif_time_is_read(evidence, opportunity_id):
    photo = _heic(
        exif={
            ExifTags.Base.DateTimeOriginal: "2024:06:01 16:05:09",
            ExifTags.Base.SubsecTimeOriginal: "5",
            ExifTags.Base.OffsetTimeOriginal: "-04:00",
        }
    )
    assert photo[4:12] == b"ftypheic"

    uploaded = await _upload(
        evidence.stub(), _metadata(opportunity_id, filename="IMG_7781.jpg"), photo
    )

    assert uploaded.content_type == "image/heic"
    assert uploaded.filename == "IMG_7781.jpg"
    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(
        2024, 6, 1, 20, 5, 9, 500_000, tzinfo=UTC
    )
    assert uploaded.capture_time_source == "exif"


async def test_heic_without_offset_keeps_the_local_time_and_is_marked_assumed(
    evidence, opportunity_id
):
    photo = _heic(exif={ExifTags.Base.DateTimeOriginal: "2024:06:01 16:05:09"})

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), photo)

    assert uploaded.captured_local == "2024-06-01T16:05:09"
    assert uploaded.capture_offset_assumed
    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(2024, 6, 1, 8, 5, 9, tzinfo=UTC)


async def test_png_exif_is_read_without_decoding_the_pixels(evidence, opportunity_id):
    photo = _png_with_exif_after_broken_pixels(
        {
            ExifTags.Base.DateTimeOriginal: "2024:03:05 14:30:00",
            ExifTags.Base.OffsetTimeOriginal: "+08:00",
        }
    )
    with pytest.raises(OSError):
        Image.open(io.BytesIO(photo)).load()

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), photo)

    assert uploaded.content_type == "image/png"
    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(2024, 3, 5, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [
        HEIC_HEAD + os.urandom(4096),
        _heic(exif={ExifTags.Base.DateTimeOriginal: "2024:06:01 16:05:09"})[:300],
        b"\xff\xd8\xff\xe1\x00\x20Exif\x00\x00" + os.urandom(64),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x40eXIf" + os.urandom(20),
    ],
    ids=["heic-garbage", "heic-truncated", "jpeg-garbage-exif", "png-truncated-exif"],
)
async def test_malformed_images_are_stored_without_a_capture_time(evidence, opportunity_id, data):
    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), data)

    assert uploaded.content_type == sniff_content_type(data[:4096])
    assert uploaded.content_type.startswith("image/")
    assert not uploaded.HasField("captured_at")
    assert uploaded.capture_time_source == "none"


@pytest.mark.parametrize(
    ("ifd0", "exif", "gps", "flags"),
    [
        # Written by one camera at one moment: no conflict.
        (
            {ExifTags.Base.DateTime: "2024:03:05 14:30:01"},
            {ExifTags.Base.DateTimeDigitized: "2024:03:05 14:30:00"},
            {ExifTags.GPS.GPSDateStamp: "2024:03:05", ExifTags.GPS.GPSTimeStamp: (6.0, 29.0, 58.0)},
            [],
        ),
        # Edited two days later: DateTime moves on, the capture does not. Allowed.
        ({ExifTags.Base.DateTime: "2024:03:07 09:00:00"}, {}, None, []),
        # Digitized three hours after it was "taken".
        (None, {ExifTags.Base.DateTimeDigitized: "2024:03:05 17:30:00"}, None, ["conflict"]),
        # The file last changed before the photo was taken: impossible.
        ({ExifTags.Base.DateTime: "2024:03:04 10:00:00"}, {}, None, ["conflict"]),
        # The satellites say a different day.
        (
            None,
            {},
            {ExifTags.GPS.GPSDateStamp: "2024:03:04", ExifTags.GPS.GPSTimeStamp: (6.0, 30.0, 0.0)},
            ["conflict"],
        ),
    ],
    ids=["consistent", "edited-later", "digitized-later", "changed-before", "gps-other-day"],
)
async def test_conflicting_exif_dates_are_flagged(evidence, opportunity_id, ifd0, exif, gps, flags):
    tags = {
        ExifTags.Base.DateTimeOriginal: "2024:03:05 14:30:00",
        ExifTags.Base.OffsetTimeOriginal: "+08:00",
        **exif,
    }
    photo = _image("JPEG", exif=tags, ifd0=ifd0, gps=gps)

    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), photo)

    expected = ["exif_dates_conflict"] if flags else []
    assert list(uploaded.flags) == expected
    # The capture time is still DateTimeOriginal's; the flag keeps it from counting.
    assert uploaded.captured_at.ToDatetime(tzinfo=UTC) == datetime(2024, 3, 5, 6, 30, tzinfo=UTC)
    assert (await evidence.store.get(uploaded.evidence_id)).flags == expected


async def test_without_exif_the_client_time_is_used_and_never_the_upload_time(
    evidence, opportunity_id
):
    stub = evidence.stub()
    claimed = Timestamp()
    claimed.FromDatetime(datetime(2024, 3, 5, 9, 15, tzinfo=UTC))

    with_claim = await _upload(stub, _metadata(opportunity_id, captured_at=claimed), _image("PNG"))
    without = await _upload(stub, _metadata(opportunity_id), _image("PNG"))

    assert with_claim.captured_at == claimed
    assert (await evidence.store.get(with_claim.evidence_id)).capture_time_source == "client"
    assert not without.HasField("captured_at")
    assert without.HasField("uploaded_at")
    assert (await evidence.store.get(without.evidence_id)).capture_time_source == "none"


async def test_a_client_capture_time_in_the_future_is_refused(evidence, opportunity_id):
    claimed = Timestamp()
    claimed.FromDatetime(datetime(2999, 1, 1, tzinfo=UTC))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _upload(evidence.stub(), _metadata(opportunity_id, captured_at=claimed), b"x")

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details().startswith("captured_at:")


@pytest.mark.parametrize("field", ["opportunity_id", "action_key", "kind", "filename"])
async def test_missing_metadata_field_is_invalid_argument_naming_it(
    evidence, opportunity_id, field
):
    metadata = _metadata(opportunity_id, **{field: "  "})

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _upload(evidence.stub(), metadata, b"some bytes")

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == f"{field}: is required"


async def test_upload_must_start_with_metadata(evidence):
    async def chunks_only():
        yield evidence_pb2.UploadRequest(chunk=b"bytes without a name")

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        stub = evidence.stub()
        await stub.Upload(chunks_only(), metadata=stub.identity)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details().startswith("metadata:")


async def test_metadata_sent_twice_is_invalid_argument(evidence, opportunity_id):
    async def twice():
        yield evidence_pb2.UploadRequest(metadata=_metadata(opportunity_id))
        yield evidence_pb2.UploadRequest(chunk=b"first part")
        yield evidence_pb2.UploadRequest(metadata=_metadata(opportunity_id, filename="other"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        stub = evidence.stub()
        await stub.Upload(twice(), metadata=stub.identity)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details().startswith("metadata:")
    assert await evidence.store.list(opportunity_id) == []


async def test_empty_file_is_invalid_argument(evidence, opportunity_id):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _upload(evidence.stub(), _metadata(opportunity_id), b"")

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "data: the file is empty"


async def test_unknown_id_is_not_found(evidence):
    stub = evidence.stub()
    unknown = evidence_pb2.GetEvidenceRequest(evidence_id=str(uuid.uuid4()))

    with pytest.raises(grpc.aio.AioRpcError) as on_get:
        await stub.GetEvidence(unknown)
    with pytest.raises(grpc.aio.AioRpcError) as on_download:
        await _download(stub, unknown.evidence_id)
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await stub.GetEvidence(evidence_pb2.GetEvidenceRequest(evidence_id="not-a-uuid"))

    assert on_get.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown.evidence_id in on_get.value.details()
    assert on_download.value.code() == grpc.StatusCode.NOT_FOUND
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert malformed.value.details().startswith("evidence_id:")


async def test_missing_caller_metadata_is_unauthenticated(evidence, opportunity_id):
    anonymous = evidence.stub(caller=None)

    with pytest.raises(grpc.aio.AioRpcError) as on_upload:
        await _upload(anonymous, _metadata(opportunity_id), b"bytes")
    with pytest.raises(grpc.aio.AioRpcError) as on_list:
        await anonymous.ListEvidence(
            evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id)
        )

    assert on_upload.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert on_list.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await evidence.store.list(opportunity_id) == []


async def test_list_filters_by_action(evidence, opportunity_id):
    stub = evidence.stub()
    demo = await _upload(stub, _metadata(opportunity_id, action_key="solution_demo"), b"demo")
    await _upload(stub, _metadata(opportunity_id, action_key="contract_archive"), b"contract")

    only_demo = await stub.ListEvidence(
        evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id, action_key="solution_demo")
    )
    everything = await stub.ListEvidence(
        evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id)
    )
    with pytest.raises(grpc.aio.AioRpcError) as no_opportunity:
        await stub.ListEvidence(evidence_pb2.ListEvidenceRequest())

    assert [item.evidence_id for item in only_demo.evidence] == [demo.evidence_id]
    assert len(everything.evidence) == 2
    assert no_opportunity.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert no_opportunity.value.details() == "opportunity_id: is required"


async def test_upload_is_recorded_in_the_operation_log(evidence, db_sessions, opportunity_id):
    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), b"signed page")

    async with db_sessions() as session:
        entries = (
            await session.scalars(
                select(OperationLogEntry).where(OperationLogEntry.subject == opportunity_id)
            )
        ).all()

    assert [(entry.service, entry.operation) for entry in entries] == [
        ("evidence", "evidence.uploaded")
    ]
    assert entries[0].actor_id == REP.id
    assert uploaded.evidence_id in entries[0].payload
    assert uploaded.sha256 in entries[0].payload


async def test_put_many_records_all_in_one_go_and_stores_each_content_once(
    evidence, opportunity_id
):
    photo = _image("JPEG", exif={ExifTags.Base.DateTimeOriginal: "2017:01:02 10:00:00"})
    uploads = [
        EvidenceUpload(opportunity_id, "solution_demo", "onsite_photo", f"p{index}.jpg", photo)
        for index in range(3)
    ] + [EvidenceUpload(opportunity_id, "contract_archive", "product_list", "list.pdf", b"%PDF-")]

    records = await evidence.store.put_many(caller=SYSTEM_CALLER, uploads=uploads)

    assert [record.filename for record in records] == ["p0.jpg", "p1.jpg", "p2.jpg", "list.pdf"]
    assert records[0].captured_at == datetime(2017, 1, 2, 2, 0, tzinfo=UTC)
    assert records[3].content_type == "application/pdf"
    assert len(_blob_files(evidence.blob_root)) == 2
    listed = await evidence.store.list(opportunity_id)
    assert {record.evidence_id for record in listed} == {record.evidence_id for record in records}


async def test_put_many_refuses_the_whole_batch_on_one_bad_upload(evidence, opportunity_id):
    good = EvidenceUpload(opportunity_id, "solution_demo", "onsite_photo", "ok.jpg", b"ok")
    nameless = EvidenceUpload(opportunity_id, "solution_demo", "", "bad.jpg", b"bad")
    oversized = EvidenceUpload(
        opportunity_id, "solution_demo", "onsite_photo", "big.bin", bytes(32 * MIB + 1)
    )

    with pytest.raises(InvalidArgument) as invalid:
        await evidence.store.put_many(caller=SYSTEM_CALLER, uploads=[good, nameless])
    with pytest.raises(TooLarge) as too_large:
        await evidence.store.put_many(caller=SYSTEM_CALLER, uploads=[good, oversized])

    assert invalid.value.field == "uploads[1].kind"
    assert too_large.value.message.startswith("uploads[1]:")
    assert await evidence.store.list(opportunity_id) == []
    assert _blob_files(evidence.blob_root) == []


async def test_get_many_keeps_the_order_asked_and_leaves_out_unknown_ids(evidence, opportunity_id):
    stub = evidence.stub()
    first = await _upload(stub, _metadata(opportunity_id), b"one")
    second = await _upload(stub, _metadata(opportunity_id), b"two")

    found = await evidence.store.get_many(
        [second.evidence_id, str(uuid.uuid4()), first.evidence_id, "junk", second.evidence_id]
    )

    assert [record.evidence_id for record in found] == [second.evidence_id, first.evidence_id]


def test_blob_names_must_be_hashes(tmp_path):
    blobs = LocalBlobStore(tmp_path)

    with pytest.raises(ValueError):
        blobs.path_for("../../etc/passwd")


def test_migration_matches_the_model(database_url):
    assert schema_differences(database_url, [EvidenceRecord.__table__]) == []


async def test_the_same_photo_for_another_customer_is_flagged_and_the_first_stays_valid(
    evidence,
):
    customer_a, customer_b, customer_c = (f"opp-{uuid.uuid4().hex[:12]}" for _ in range(3))
    photo = _unique_photo()
    stub = evidence.stub()

    first = await _upload(stub, _metadata(customer_a), photo)
    reused = await _upload(stub, _metadata(customer_b), photo)
    again_for_a = await _upload(stub, _metadata(customer_a, filename="again.jpg"), photo)
    reused_twice = await _upload(stub, _metadata(customer_c), photo)

    assert list(first.flags) == []
    assert list(reused.flags) == ["reused_elsewhere"]
    assert list(reused.reused_from_opportunity_ids) == [customer_a]
    # The owner may attach its own photo again; it still counts once (same hash).
    assert list(again_for_a.flags) == []
    assert list(reused_twice.flags) == ["reused_elsewhere"]
    assert list(reused_twice.reused_from_opportunity_ids) == [customer_a, customer_b]
    # The flag is the record's own: A's first upload was not touched.
    assert (await evidence.store.get(first.evidence_id)).flags == []
    assert len(_blob_files(evidence.blob_root)) == 1


async def test_reuse_within_one_bulk_import_flags_the_later_upload(evidence):
    customer_a, customer_b = (f"opp-{uuid.uuid4().hex[:12]}" for _ in range(2))
    photo = _unique_photo()
    uploads = [
        EvidenceUpload(customer, "onsite_diagnosis", "onsite_photo", "p.jpg", photo)
        for customer in (customer_a, customer_b, customer_a)
    ]

    records = await evidence.store.put_many(caller=SYSTEM_CALLER, uploads=uploads)

    assert [record.flags for record in records] == [[], ["reused_elsewhere"], []]
    assert records[1].reused_from == [customer_a]


async def test_two_customers_racing_with_one_photo_cannot_both_own_it(evidence):
    customers = [f"opp-{uuid.uuid4().hex[:12]}" for _ in range(4)]
    photo = _unique_photo()
    stub = evidence.stub()

    uploaded = await asyncio.gather(
        *(_upload(stub, _metadata(customer), photo) for customer in customers)
    )

    owners = [item.opportunity_id for item in uploaded if not item.flags]
    assert len(owners) == 1
    for item in uploaded:
        if item.flags:
            assert list(item.reused_from_opportunity_ids)[0] == owners[0]


async def test_a_correction_is_a_new_upload_and_the_history_keeps_both(evidence, opportunity_id):
    stub = evidence.stub()
    wrong = await _upload(stub, _metadata(opportunity_id, filename="page.pdf"), b"%PDF-1.7 v1")
    corrected = await _upload(stub, _metadata(opportunity_id, filename="page.pdf"), b"%PDF-1.7 v2")

    listed = await stub.ListEvidence(
        evidence_pb2.ListEvidenceRequest(opportunity_id=opportunity_id, action_key="solution_demo")
    )

    assert [item.evidence_id for item in listed.evidence] == [
        wrong.evidence_id,
        corrected.evidence_id,
    ]
    _, first_bytes = await _download(stub, wrong.evidence_id)
    assert first_bytes == b"%PDF-1.7 v1"


def test_the_service_offers_no_way_to_change_or_delete_evidence():
    methods = evidence_pb2.DESCRIPTOR.services_by_name["EvidenceService"].methods_by_name
    assert set(methods) == {"Upload", "ListEvidence", "GetEvidence", "Download"}


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_the_database_refuses_to_change_or_delete_evidence(
    evidence, db_sessions, opportunity_id, change
):
    uploaded = await _upload(evidence.stub(), _metadata(opportunity_id), b"signed page")
    row = EvidenceRecord.evidence_id == uploaded.evidence_id
    statement = (
        update(EvidenceRecord).where(row).values(opportunity_id="someone-else")
        if change == "update"
        else delete(EvidenceRecord).where(row)
    )

    with pytest.raises(DBAPIError, match="immutable"):
        async with db_sessions() as session, session.begin():
            await session.execute(statement)

    record = await evidence.store.get(uploaded.evidence_id)
    assert record.opportunity_id == opportunity_id


def test_the_local_directory_is_a_blob_store(tmp_path):
    assert isinstance(LocalBlobStore(tmp_path), BlobStore)
