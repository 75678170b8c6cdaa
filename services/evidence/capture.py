"""When a photo was taken: EXIF first, the client's word second, never the upload time.

A demo needs on-site photos taken inside the action's window, so the capture time must
come from the camera. EXIF `DateTimeOriginal` is local wall-clock time; the offset in
`OffsetTimeOriginal` (EXIF 2.31+) places it on the time line. Older cameras omit the
offset, so the time is read in the company's time zone and marked as assumed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, UnidentifiedImageError

from services.evidence.models import CaptureTimeSource

logger = logging.getLogger(__name__)

# Pillow reads EXIF from these; HEIC needs a plugin we do not ship.
# Limitation: HEIC photos fall back to the client's capture time — Pillow cannot read HEIF
# without the pillow-heif plugin, which is not a dependency yet.
EXIF_CONTENT_TYPES = frozenset({"image/jpeg", "image/png"})

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@dataclass(frozen=True)
class CaptureTime:
    at: datetime | None
    source: CaptureTimeSource


NO_CAPTURE_TIME = CaptureTime(None, CaptureTimeSource.NONE)


def capture_time(
    image: BinaryIO,
    content_type: str,
    *,
    zone: ZoneInfo,
    client_captured_at: datetime | None,
) -> CaptureTime:
    """The capture time of an uploaded file, and where it came from.

    Blocking (Pillow parses the image headers); run it in a thread from async code.
    """
    if content_type in EXIF_CONTENT_TYPES:
        found = exif_capture_time(image, zone=zone)
        if found is not None:
            return found
    if client_captured_at is not None:
        return CaptureTime(client_captured_at.astimezone(UTC), CaptureTimeSource.CLIENT)
    return NO_CAPTURE_TIME


def exif_capture_time(image: BinaryIO, *, zone: ZoneInfo) -> CaptureTime | None:
    """The EXIF DateTimeOriginal as UTC, or None when the image has no usable one."""
    try:
        with Image.open(image) as opened:
            exif_ifd = opened.getexif().get_ifd(ExifTags.IFD.Exif)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
    ) as error:
        # A file that starts like an image but is not one still counts as evidence; we
        # never decode pixels, so a huge declared size is no danger either.
        logger.debug("no EXIF readable: %s", error)
        return None

    local = _exif_datetime(exif_ifd.get(ExifTags.Base.DateTimeOriginal))
    if local is None:
        return None
    subseconds = _exif_subseconds(exif_ifd.get(ExifTags.Base.SubsecTimeOriginal))
    local = local + subseconds

    offset = _exif_offset(exif_ifd.get(ExifTags.Base.OffsetTimeOriginal))
    if offset is None:
        return CaptureTime(
            local.replace(tzinfo=zone).astimezone(UTC), CaptureTimeSource.EXIF_ASSUMED_OFFSET
        )
    return CaptureTime(local.replace(tzinfo=offset).astimezone(UTC), CaptureTimeSource.EXIF)


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
