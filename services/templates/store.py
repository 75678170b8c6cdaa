"""The template library: immutable versions of each template, saved and read.

Saving validates (nothing is saved when any problem exists), resolves the calendars'
holidays for the years around now, and inserts version = previous + 1, unless the
resolved content equals the latest version, which is then answered instead. Every save
is written to the operation log in the same transaction. The default template is seeded
as version 1 of `b2b-default` when absent.

The pipeline service reads the latest version here when it starts a pipeline.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow import calendars
from salesflow.core.caller import SYSTEM_CALLER, Caller
from salesflow.core.db import utcnow
from salesflow.core.errors import InvalidArgument, NotFound
from salesflow.core.oplog import append_operation
from services.templates.codec import canonical_json, template_body, template_from_body
from services.templates.models import TemplateVersion
from services.templates.problems import Problem
from services.templates.validation import validate_template
from services.templates.yaml_format import dump_template
from workflows.pipeline.template import (
    DEFAULT_TEMPLATE_ID,
    CalendarSpec,
    PipelineTemplate,
    default_template,
)

logger = logging.getLogger(__name__)

SERVICE = "templates"
# Holidays are resolved from last year to two years ahead; a running pipeline judges dates
# outside them by weekends only.
YEARS_BEFORE = 1
YEARS_AFTER = 2
SAVE_ATTEMPTS = 3


class TemplateRejected(InvalidArgument):
    """The template has problems; nothing was saved. `problems` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        listed = "; ".join(map(str, problems))
        super().__init__("template", f"{len(problems)} problem(s): {listed}")
        self.problems = problems


@dataclass(frozen=True)
class StoredVersion:
    """One saved version, as the library lists it."""

    template_id: str
    version: int
    name: str
    sha256: str
    action_keys: tuple[str, ...]
    created_at: datetime
    created_by: str
    comment: str


@dataclass(frozen=True)
class SaveResult:
    version: StoredVersion
    # False when the content equalled the latest version, which is answered instead.
    created: bool
    # Per calendar with a holiday country: the years resolved, and those the holiday
    # package knows no make-up working days for yet.
    coverage: tuple[calendars.CalendarCoverage, ...] = ()


def resolution_years(now: datetime) -> tuple[int, ...]:
    return tuple(range(now.year - YEARS_BEFORE, now.year + YEARS_AFTER + 1))


def resolve_calendars(
    specs: Iterable[CalendarSpec], years: tuple[int, ...]
) -> tuple[CalendarSpec, ...]:
    """Each calendar with its holidays and make-up working days filled for `years`."""
    resolved = [calendars.resolve_calendar(spec, years) for spec in specs]
    return tuple(resolved)


def content_sha256(template: PipelineTemplate) -> str:
    """The hash of a template's resolved content, whatever its version number."""
    body = canonical_json(template_body(replace(template, version=0)))
    return hashlib.sha256(body.encode()).hexdigest()


def _stored(row) -> StoredVersion:
    return StoredVersion(
        template_id=row.template_id,
        version=row.version,
        name=row.name,
        sha256=row.sha256,
        action_keys=tuple(row.action_keys.split()),
        created_at=row.created_at,
        created_by=row.created_by,
        comment=row.comment,
    )


def _lock_key(template_id: str) -> int:
    digest = hashlib.sha256(f"salesflow-template:{template_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class TemplateStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        # Versions never change, so a parsed body can be kept for good.
        self._parsed: dict[tuple[str, int], PipelineTemplate] = {}

    async def save(
        self,
        caller: Caller,
        template: PipelineTemplate,
        *,
        source_yaml: str = "",
        comment: str = "",
    ) -> SaveResult:
        """Saves a new version (or answers the latest when its content is the same).

        Raises TemplateRejected listing every problem; nothing is saved then.
        """
        problems = validate_template(template)
        if problems:
            raise TemplateRejected(problems)
        now = self._clock()
        try:
            resolved_calendars = resolve_calendars(template.calendars, resolution_years(now))
        except Exception as error:
            # The holiday package refused a calendar validation let through; say which.
            raise TemplateRejected(
                [Problem("calendars", f"holidays could not be resolved: {error}")]
            ) from error
        resolved = replace(template, version=0, calendars=resolved_calendars)
        sha256 = content_sha256(resolved)
        source_yaml = source_yaml or dump_template(template)
        coverage = tuple(
            found
            for found in map(calendars.calendar_coverage, resolved_calendars)
            if found is not None
        )

        for attempt in range(SAVE_ATTEMPTS):
            try:
                result = await self._insert(caller, resolved, sha256, source_yaml, comment, now)
                return replace(result, coverage=coverage)
            except IntegrityError:
                # Another save took the same version number first (SQLite has no advisory
                # lock); read the new latest and try again.
                if attempt + 1 == SAVE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _insert(
        self,
        caller: Caller,
        resolved: PipelineTemplate,
        sha256: str,
        source_yaml: str,
        comment: str,
        now: datetime,
    ) -> SaveResult:
        template_id = resolved.template_id
        async with self._sessions() as session, session.begin():
            if session.bind.dialect.name == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(template_id)}
                )
            latest = await session.scalar(
                select(TemplateVersion)
                .where(TemplateVersion.template_id == template_id)
                .order_by(TemplateVersion.version.desc())
                .limit(1)
            )
            if latest is not None and latest.sha256 == sha256:
                return SaveResult(_stored(latest), created=False)

            version = (latest.version if latest is not None else 0) + 1
            saved = replace(resolved, version=version)
            row = TemplateVersion(
                template_id=template_id,
                version=version,
                name=saved.name,
                body=canonical_json(template_body(saved)),
                yaml_source=source_yaml,
                sha256=sha256,
                action_keys=" ".join(saved.action_keys),
                created_at=now,
                created_by=caller.id,
                comment=comment,
            )
            session.add(row)
            await session.flush()
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="template.saved",
                subject=f"{template_id}@{version}",
                payload={
                    "template_id": template_id,
                    "version": version,
                    "sha256": sha256,
                    "comment": comment,
                    "action_keys": list(saved.action_keys),
                },
            )
        self._parsed[(template_id, version)] = saved
        logger.info("template saved id=%s version=%s by=%s", template_id, version, caller.id)
        return SaveResult(_stored(row), created=True)

    async def ensure_default(self) -> None:
        """Seeds the built-in default as version 1 of b2b-default when it has no version."""
        if await self._latest_row_version(DEFAULT_TEMPLATE_ID) is None:
            await self.save(SYSTEM_CALLER, default_template(), comment="built-in default")

    async def template(self, template_id: str, version: int = 0) -> PipelineTemplate:
        """The resolved template of a version (0: the latest); NotFound when missing."""
        if not version:
            latest = await self._latest_row_version(template_id)
            if latest is None and template_id == DEFAULT_TEMPLATE_ID:
                await self.ensure_default()
                latest = await self._latest_row_version(template_id)
            if latest is None:
                raise NotFound(f"template {template_id!r} does not exist")
            version = latest
        cached = self._parsed.get((template_id, version))
        if cached is not None:
            return cached
        row = await self._row(template_id, version)
        parsed = template_from_body(json.loads(row.body))
        self._parsed[(template_id, version)] = parsed
        return parsed

    async def source_yaml(self, template_id: str, version: int) -> str:
        return (await self._row(template_id, version)).yaml_source

    async def versions(self, template_id: str) -> list[StoredVersion]:
        """Every version of a template, oldest first; NotFound for an unknown template."""
        if template_id == DEFAULT_TEMPLATE_ID:
            await self.ensure_default()
        async with self._sessions() as session:
            rows = list(
                await session.scalars(
                    select(TemplateVersion)
                    .where(TemplateVersion.template_id == template_id)
                    .order_by(TemplateVersion.version)
                )
            )
        if not rows:
            raise NotFound(f"template {template_id!r} does not exist")
        return [_stored(row) for row in rows]

    async def latest_versions(self) -> list[StoredVersion]:
        """The latest version of every template, by template id."""
        await self.ensure_default()
        newest = (
            select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
            .group_by(TemplateVersion.template_id)
            .subquery()
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TemplateVersion)
                .join(
                    newest,
                    (TemplateVersion.template_id == newest.c.template_id)
                    & (TemplateVersion.version == newest.c.v),
                )
                .order_by(TemplateVersion.template_id)
            )
            return [_stored(row) for row in rows]

    async def known_action_keys(self) -> set[str]:
        """Every action key of every saved version (and of the built-in default)."""
        async with self._sessions() as session:
            rows = await session.scalars(select(TemplateVersion.action_keys).distinct())
            keys = {key for row in rows for key in row.split()}
        return keys | set(default_template().action_keys)

    async def _latest_row_version(self, template_id: str) -> int | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(func.max(TemplateVersion.version)).where(
                    TemplateVersion.template_id == template_id
                )
            )

    async def _row(self, template_id: str, version: int):
        async with self._sessions() as session:
            row = await session.get(TemplateVersion, (template_id, version))
        if row is None:
            if await self._latest_row_version(template_id) is None:
                raise NotFound(f"template {template_id!r} does not exist")
            raise NotFound(f"template {template_id!r} has no version {version}")
        return row
