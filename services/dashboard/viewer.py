"""Who the page shows figures to: the configured viewer, or the one its address names.

    ?as=<id>&role=<role>&regions=<r1,r2>

Each parameter replaces that part of the configured viewer (SALESFLOW_DASHBOARD_VIEWER*,
a director over every region by default). The analytics and pipeline services then narrow
every answer to that identity exactly as they do for any gRPC caller.

Limitation: this is not authentication — anyone who can open the page can claim any
identity. The dashboard binds to 127.0.0.1 for one person's local use; a shared deployment
must put an authenticating proxy in front of it that sets these parameters itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from salesflow.core.caller import Caller
from salesflow.core.errors import InvalidArgument
from salesflow.core.settings import SettingsError
from services.dashboard.config import parse_regions, parse_role

MAX_ID_LENGTH = 200


def viewer_from_query(query: Mapping[str, str], default: Caller) -> Caller:
    """The viewer a request names, over the configured default."""
    viewer_id = query.get("as", "").strip() or default.id
    if len(viewer_id) > MAX_ID_LENGTH:
        raise InvalidArgument("as", f"must be at most {MAX_ID_LENGTH} characters")

    role = default.role
    if query.get("role", "").strip():
        try:
            role = parse_role(query["role"], "role")
        except SettingsError as error:
            raise InvalidArgument("role", str(error).removeprefix("role ")) from error

    regions = default.regions
    if "regions" in query:
        regions = parse_regions(query["regions"])
    return Caller(id=viewer_id, role=role, regions=regions)


def viewer_json(viewer: Caller) -> dict:
    return {"id": viewer.id, "role": viewer.role.value, "regions": sorted(viewer.regions)}
