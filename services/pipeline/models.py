"""Tables the pipeline service owns: the team directory and the pipeline read model.

The workflow is the truth about a pipeline; the `pipelines` table is a projection of its
events, kept so pipelines can be listed by rep, region and current action on any server.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime


class Person(Base):
    """Someone in the sales organisation: a rep, a manager or a director."""

    __tablename__ = "people"

    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    manager_id: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    # IANA zone the person works in; their pipelines' dates are judged in it. "" = the
    # company calendar's zone.
    time_zone: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default=""
    )


class PipelineRecord(Base):
    __tablename__ = "pipelines"

    opportunity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(200), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    account: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    product: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    template_id: Mapped[str] = mapped_column(String(100), nullable=False)
    template_version: Mapped[int] = mapped_column(Integer, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    current_action: Mapped[str] = mapped_column(String(100), nullable=False, default="", index=True)
    current_position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    current_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    actions_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overdue_actions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalations: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ProjectedEvent(Base):
    """Ids of events already applied to the projection, so redelivery changes nothing."""

    __tablename__ = "pipeline_projected_events"
    __table_args__ = (UniqueConstraint("event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(300), nullable=False)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
