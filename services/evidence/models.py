"""Tables the evidence service owns: one immutable record per uploaded file.

The bytes live in a blob store keyed by SHA-256 (see blobs.py), so the same photo uploaded
twice is two records pointing at one stored file. Records are never updated or deleted (the
database refuses both, see migration evidence_0002): a correction is a new upload, and the
old record stays in the opportunity's history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, String, text
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime


class CaptureTimeSource(StrEnum):
    """Where an evidence record's capture time came from, strongest first."""

    # EXIF DateTimeOriginal with its OffsetTimeOriginal: the camera said when and where.
    EXIF = "exif"
    # EXIF DateTimeOriginal without an offset, read in the company's time zone.
    EXIF_ASSUMED_OFFSET = "exif_assumed_offset"
    # The uploading client's claim; weaker, the client may be wrong or lying.
    CLIENT = "client"
    NONE = "none"


class EvidenceFlag(StrEnum):
    """A problem found when the file was uploaded; a flagged file never counts for an action."""

    # The same bytes were attached to another customer's opportunity first. That first
    # upload stays valid; this one (and every later one elsewhere) is flagged.
    REUSED_ELSEWHERE = "reused_elsewhere"
    # The photo's EXIF dates disagree with DateTimeOriginal (tolerances in capture.py).
    EXIF_DATES_CONFLICT = "exif_dates_conflict"


_SOURCES_SQL = ", ".join(f"'{source.value}'" for source in CaptureTimeSource)


class EvidenceRecord(Base):
    """One uploaded file attached to an opportunity's action."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(f"capture_time_source IN ({_SOURCES_SQL})", name="capture_time_source"),
    )

    evidence_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    capture_time_source: Mapped[str] = mapped_column(String(32), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # The camera's wall-clock time when EXIF carried no offset (no zone: it is not an
    # instant until someone decides where the photo was taken).
    captured_local: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    # EvidenceFlag values, decided once at upload.
    flags: Mapped[list[str]] = mapped_column(
        JSON, nullable=False, default=list, server_default=text("'[]'")
    )
    # With REUSED_ELSEWHERE: the opportunities that held these bytes before, first first.
    reused_from: Mapped[list[str]] = mapped_column(
        JSON, nullable=False, default=list, server_default=text("'[]'")
    )

    @property
    def capture_offset_assumed(self) -> bool:
        """Whether captured_at reads an offset-less EXIF time in the company's zone."""
        return self.capture_time_source == CaptureTimeSource.EXIF_ASSUMED_OFFSET
