"""Tables the template service owns: immutable template versions and pipeline moves.

A version row is only ever inserted. Its body is the resolved template a pipeline started
on it receives; `yaml_source` is the file as it was imported (comments included).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime


class TemplateVersion(Base):
    __tablename__ = "template_versions"

    template_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    # Canonical JSON of the resolved PipelineTemplate (services.templates.codec).
    body: Mapped[str] = mapped_column(Text, nullable=False)
    yaml_source: Mapped[str] = mapped_column(Text, nullable=False)
    # SHA-256 of the canonical body with the version number left out: equal content.
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The action keys in order, space-separated, for listings that need no body.
    action_keys: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class TemplateMove(Base):
    """A running pipeline moved to another version of its template by an operator.

    The pipeline projection records the version a pipeline started on; the latest move of
    a pipeline says which version it runs now.
    """

    __tablename__ = "template_moves"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    template_id: Mapped[str] = mapped_column(String(100), nullable=False)
    from_version: Mapped[int] = mapped_column(Integer, nullable=False)
    to_version: Mapped[int] = mapped_column(Integer, nullable=False)
    moved_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    moved_by: Mapped[str] = mapped_column(String(200), nullable=False)
