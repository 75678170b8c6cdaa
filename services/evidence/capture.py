"""When a photo was taken: EXIF first, the client's word second, never the upload time.

A demo needs on-site photos taken inside the action's window, so the capture time must
come from the camera. EXIF `DateTimeOriginal` is local wall-clock time; the offset in
`OffsetTimeOriginal` (EXIF 2.31+) places it on the time line. Older cameras omit the
offset: the wall-clock time is kept as it is (the pipeline's lock reads it in the rep's
time zone) and `at` is only a guess in the company's zone, marked as assumed.

The EXIF block is found without decoding a single pixel: JPEG segments and PNG chunks are
walked up to the first image data, and HEIC/HEIF containers are parsed by libheif (through
pillow-heif), which reads the metadata items and leaves the image items encoded. Anything
malformed simply yields no EXIF.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO
from zoneinfo import ZoneInfo

import pillow_heif
from PIL import ExifTags, Image

from services.evidence.models import CaptureTimeSource

logger = logging.getLogger(__name__)

HEIF_CONTENT_TYPES = frozenset(
    {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
)
# Limitation: AVIF photos fall back to the client's capture time — pillow-heif 1.x reads
# HEIF only, and Pillow's own AVIF reader checks the pixel count on open.
EXIF_CONTENT_TYPES = frozenset({"image/jpeg", "image/png"}) | HEIF_CONTENT_TYPES

# EXIF blocks are small (a JPEG segment holds at most 64 KiB); a larger one is no EXIF.
MAX_EXIF_BYTES = 1024 * 1024

# How far the other EXIF dates may stray from DateTimeOriginal before the photo is
# flagged. Cameras write DateTimeDigitized with the same value, and IFD0 DateTime when the
# file is saved, a moment after the shutter; a minute covers bursts and HDR merges.
# DateTime only conflicts when it is *earlier*: editing a photo moves it later, but a
# file cannot change before it was taken. The GPS stamp is the satellite fix in UTC,
# which a phone may reuse for a few minutes, so it gets more room and is compared only
# when the photo's own offset is known.
DIGITIZED_TOLERANCE = timedelta(minutes=1)
MODIFIED_TOLERANCE = timedelta(minutes=1)
GPS_TOLERANCE = timedelta(minutes=10)

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_JPEG_SOI = b"\xff\xd8"
_JPEG_EXIF_HEADER = b"Exif\x00\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GPS_DATE_STAMP = 29
_GPS_TIME_STAMP = 7


@dataclass(frozen=True)
class CaptureTime:
    """A file's capture time as found, with where it came from.

    `at` is the instant in UTC. With source EXIF_ASSUMED_OFFSET, `local` is the camera's
    wall-clock time and `at` reads it in the company's zone. `conflicts` names the EXIF
    dates that disagree with DateTimeOriginal (empty when they agree or are absent).
    """

    at: datetime | None
    source: CaptureTimeSource
    local: datetime | None = None
    conflicts: tuple[str, ...] = ()


NO_CAPTURE_TIME = CaptureTime(None, CaptureTimeSource.NONE)


def capture_time(
    image: BinaryIO,
    content_type: str,
    *,
    zone: ZoneInfo,
    client_captured_at: datetime | None,
) -> CaptureTime:
    """The capture time of an uploaded file, and where it came from.

    Blocking (it reads and parses the file's headers); run it in a thread from async code.
    """
    if content_type in EXIF_CONTENT_TYPES:
        found = exif_capture_time(image, content_type, zone=zone)
        if found is not None:
            return found
    if client_captured_at is not None:
        return CaptureTime(client_captured_at.astimezone(UTC), CaptureTimeSource.CLIENT)
    return NO_CAPTURE_TIME


def exif_capture_time(image: BinaryIO, content_type: str, *, zone: ZoneInfo) -> CaptureTime | None:
    """The EXIF DateTimeOriginal, or None when the file has no usable one."""
    exif = _read_exif(image, content_type)
    if exif is None:
        return None
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)

    local = _exif_datetime(exif_ifd.get(ExifTags.Base.DateTimeOriginal))
    if local is None:
        return None
    local += _exif_subseconds(exif_ifd.get(ExifTags.Base.SubsecTimeOriginal))
    offset = _exif_offset(exif_ifd.get(ExifTags.Base.OffsetTimeOriginal))

    conflicts = _conflicting_dates(exif, local, offset)
    if conflicts:
        logger.info("exif dates disagree with DateTimeOriginal: %s", ", ".join(conflicts))
    if offset is None:
        return CaptureTime(
            local.replace(tzinfo=zone).astimezone(UTC),
            CaptureTimeSource.EXIF_ASSUMED_OFFSET,
            local=local,
            conflicts=conflicts,
        )
    return CaptureTime(
        local.replace(tzinfo=offset).astimezone(UTC), CaptureTimeSource.EXIF, conflicts=conflicts
    )


def _read_exif(image: BinaryIO, content_type: str) -> Image.Exif | None:
    """The file's EXIF tags, or None when it has none or they cannot be parsed."""
    try:
        raw = _raw_exif(image, content_type)
        if not raw:
            return None
        exif = Image.Exif()
        exif.load(raw)
        return exif
    except Exception as error:
        # Parsers of untrusted bytes raise all sorts (struct.error, SyntaxError, libheif's
        # RuntimeError...); whatever they raise, the file simply has no usable EXIF.
        logger.debug("no EXIF readable from %s: %s", content_type, error)
        return None


def _raw_exif(image: BinaryIO, content_type: str) -> bytes | None:
    if content_type == "image/jpeg":
        return _jpeg_exif(image)
    if content_type == "image/png":
        return _png_exif(image)
    if content_type in HEIF_CONTENT_TYPES:
        # libheif parses the boxes and keeps the image items encoded until asked for pixels.
        return pillow_heif.open_heif(image, convert_hdr_to_8bit=False).info.get("exif")
    return None


def _jpeg_exif(image: BinaryIO) -> bytes | None:
    """The APP1 Exif segment's body, found before the first scan (the pixels)."""
    if image.read(2) != _JPEG_SOI:
        return None
    while True:
        marker = image.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:
            # A fill byte; the marker code follows it.
            image.seek(-1, 1)
            continue
        if kind in (0xD9, 0xDA):
            # End of image, or start of scan: metadata segments come before the pixels.
            return None
        if kind == 0x01 or 0xD0 <= kind <= 0xD7:
            continue
        length = int.from_bytes(image.read(2), "big")
        if length < 2:
            return None
        if kind != 0xE1:
            image.seek(length - 2, 1)
            continue
        body = image.read(length - 2)
        if body.startswith(_JPEG_EXIF_HEADER):
            return body


def _png_exif(image: BinaryIO) -> bytes | None:
    """The eXIf chunk's data; the image data chunks are skipped, never inflated."""
    if image.read(8) != _PNG_SIGNATURE:
        return None
    while True:
        header = image.read(8)
        if len(header) < 8:
            return None
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        if kind == b"IEND":
            return None
        if kind == b"eXIf":
            if length > MAX_EXIF_BYTES:
                return None
            return image.read(length)
        # The chunk's data and its CRC.
        image.seek(length + 4, 1)


def _conflicting_dates(
    exif: Image.Exif, original: datetime, offset: timezone | None
) -> tuple[str, ...]:
    """Names of the EXIF dates that disagree with DateTimeOriginal beyond their tolerance."""
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    conflicts = []

    digitized = _exif_datetime(exif_ifd.get(ExifTags.Base.DateTimeDigitized))
    if digitized is not None:
        digitized_offset = _exif_offset(exif_ifd.get(ExifTags.Base.OffsetTimeDigitized))
        gap = _difference(digitized, digitized_offset, original, offset)
        if abs(gap) > DIGITIZED_TOLERANCE:
            conflicts.append("DateTimeDigitized")

    modified = _exif_datetime(exif.get(ExifTags.Base.DateTime))
    if modified is not None:
        modified_offset = _exif_offset(exif_ifd.get(ExifTags.Base.OffsetTime))
        gap = _difference(modified, modified_offset, original, offset)
        if gap < -MODIFIED_TOLERANCE:
            conflicts.append("DateTime")

    satellite = _gps_datetime(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if satellite is not None and offset is not None:
        gap = satellite - original.replace(tzinfo=offset)
        if abs(gap) > GPS_TOLERANCE:
            conflicts.append("GPSDateStamp")

    return tuple(conflicts)


def _difference(
    moment: datetime, moment_offset: timezone | None, original: datetime, offset: timezone | None
) -> timedelta:
    """moment - original; on the time line when both offsets are known, else wall clock."""
    if moment_offset is not None and offset is not None:
        return moment.replace(tzinfo=moment_offset) - original.replace(tzinfo=offset)
    return moment - original


def _gps_datetime(gps: dict) -> datetime | None:
    """GPSDateStamp with GPSTimeStamp (hours, minutes, seconds as rationals), in UTC."""
    day = _exif_text(gps.get(_GPS_DATE_STAMP))
    clock = gps.get(_GPS_TIME_STAMP)
    try:
        date = datetime.strptime(day[:10], "%Y:%m:%d")
        hours, minutes, seconds = (float(part) for part in clock)
        return date.replace(tzinfo=UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


def _exif_datetime(value: object) -> datetime | None:
    # Cameras with an unset clock write "0000:00:00 00:00:00" or blanks; those are no time.
    text = _exif_text(value)
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _exif_subseconds(value: object) -> timedelta:
    digits = _exif_text(value)
    if not digits.isdigit():
        return timedelta(0)
    return timedelta(microseconds=int(digits[:6].ljust(6, "0")))


def _exif_offset(value: object) -> timezone | None:
    match = _OFFSET.fullmatch(_exif_text(value))
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _exif_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return value.strip().strip("\x00").strip() if isinstance(value, str) else ""
