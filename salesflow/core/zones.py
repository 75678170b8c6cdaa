"""Time zone names people may give: the IANA zones, nothing a zone database merely answers to.

Used wherever a zone comes from outside (SALESFLOW_TIMEZONE, template calendars, the team
file's time_zone column); workflows only ever receive names checked here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Names a zone database may answer to that are no IANA zone a person means: the
# machine's own zone (whatever it is set to), the POSIX default rules, and "Factory"
# (the zone of a machine nobody configured).
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _iana_zone_names() -> frozenset[str]:
    try:
        listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
        names = frozenset(listed.split())
    except (ModuleNotFoundError, OSError):
        names = frozenset(available_timezones())
    return names - NOT_ZONES


def is_iana_zone(name: str) -> bool:
    """Whether name is an IANA time zone such as Asia/Shanghai (never localtime, Factory,
    posixrules or a posix/ or right/ path, which the zone files also answer to)."""
    if name not in _iana_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
