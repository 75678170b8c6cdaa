"""Who is calling: identity, role and regions carried on every gRPC call as metadata.

    x-salesflow-caller-id       the person's id, e.g. "Anna Snelling"
    x-salesflow-caller-role     rep | manager | director | legal | logistics | hr |
                                sales_ops | admin
    x-salesflow-caller-regions  comma-separated regions the caller may act in ("*" for all)

gRPC metadata values are ASCII, so ids and region names are sent percent-encoded as UTF-8
(RFC 3986; "张伟" travels as "%E5%BC%A0%E4%BC%9F"); plain ASCII names need no encoding.

Limitation: the metadata is trusted as sent — there is no token verification yet; a
deployment must put an authenticating proxy in front of the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote

from salesflow.core.errors import InvalidArgument, PermissionDenied, Unauthenticated

CALLER_ID_KEY = "x-salesflow-caller-id"
CALLER_ROLE_KEY = "x-salesflow-caller-role"
CALLER_REGIONS_KEY = "x-salesflow-caller-regions"


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    DIRECTOR = "director"
    LEGAL = "legal"
    LOGISTICS = "logistics"
    HR = "hr"
    # Sales operations: maintains the action template library and moves running pipelines
    # between its versions; reads pipelines everywhere but never acts on them as a seller.
    SALES_OPS = "sales_ops"
    ADMIN = "admin"
    # The platform itself (replay, workflows, consumers); never accepted from the wire.
    SYSTEM = "system"


# Roles that see every region whatever their region list says.
ALL_REGION_ROLES = {
    Role.DIRECTOR,
    Role.ADMIN,
    Role.SYSTEM,
    Role.HR,
    Role.LEGAL,
    Role.LOGISTICS,
    Role.SALES_OPS,
}


@dataclass(frozen=True)
class Caller:
    id: str
    role: Role
    regions: frozenset[str]

    def may_see_region(self, region: str) -> bool:
        return self.role in ALL_REGION_ROLES or "*" in self.regions or region in self.regions

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The gRPC metadata that carries this identity."""
        return (
            (CALLER_ID_KEY, _encoded(self.id)),
            (CALLER_ROLE_KEY, self.role.value),
            (CALLER_REGIONS_KEY, ",".join(_encoded(region) for region in sorted(self.regions))),
        )

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles and self.role not in (Role.ADMIN, Role.SYSTEM):
            allowed = ", ".join(role.value for role in roles)
            raise PermissionDenied(f"role {self.role.value} may not do this (needs {allowed})")

    def require_region(self, region: str) -> None:
        if not self.may_see_region(region):
            raise PermissionDenied(
                f"{self.id} ({self.role.value}) has no access to region {region}"
            )


SYSTEM_CALLER = Caller(id="salesflow", role=Role.SYSTEM, regions=frozenset({"*"}))
ADMIN_CALLER = Caller(id="admin", role=Role.ADMIN, regions=frozenset({"*"}))


def caller_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Caller:
    """Parses and checks the caller metadata of one request."""
    values = {key: value for key, value in (metadata or ()) if isinstance(value, str)}
    caller_id = unquote(values.get(CALLER_ID_KEY, "")).strip()
    raw_role = values.get(CALLER_ROLE_KEY, "").strip().lower()
    if not caller_id or not raw_role:
        raise Unauthenticated(
            f"missing caller identity: send {CALLER_ID_KEY} and {CALLER_ROLE_KEY}"
        )
    try:
        role = Role(raw_role)
    except ValueError as error:
        accepted = ", ".join(r.value for r in Role if r is not Role.SYSTEM)
        raise InvalidArgument(CALLER_ROLE_KEY, f"unknown role {raw_role!r} ({accepted})") from error
    if role is Role.SYSTEM:
        raise PermissionDenied("the system role cannot be claimed by a caller")
    regions = frozenset(
        unquote(region).strip()
        for region in values.get(CALLER_REGIONS_KEY, "").split(",")
        if unquote(region).strip()
    )
    return Caller(id=caller_id, role=role, regions=regions)


def _encoded(value: str) -> str:
    """Percent-encodes what is not plain printable ASCII (and the separators , and %)."""
    return quote(value, safe=" !#$&'()*+-./:;<=>?@[]^_`{|}~")
