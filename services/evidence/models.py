"""Tables the evidence service owns: one immutable record per uploaded file.

The bytes live in a blob store keyed by SHA-256 (see blobs.py), so the same photo uploaded
twice is two records pointing at one stored file. Records are never updated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, String
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
