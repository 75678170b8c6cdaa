"""Resolving a template's calendars from a maintained holiday package.

Runs when a template version is saved (never inside a workflow): the package's public
holidays and make-up working days (调休) for the given years, plus the company's own
extra days, become explicit date lists in the saved version.
"""

from __future__ import annotations

from collections.abc import Iterable

from workflows.pipeline.template import CalendarSpec


def resolve_calendar(spec: CalendarSpec, years: Iterable[int]) -> CalendarSpec:
    """A copy of `spec` with days_off, workdays and resolved_years filled for `years`."""
    raise NotImplementedError
