"""Roles, principals and the authorisation policy (pure; no I/O).

- facility_manager: its own buildings; reads everything about them, may plan, apply, override.
- energy_department: every building; reads and reports, never controls.
- neighbourhood_scheme: its neighbourhood; aggregates and flexibility requests only, never
  per-building raw data.
- admin: everything, including keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    FACILITY_MANAGER = "facility_manager"
    ENERGY_DEPARTMENT = "energy_department"
    NEIGHBOURHOOD_SCHEME = "neighbourhood_scheme"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key id or a token subject, with the scope their role is bound to."""

    subject: str
    role: Role
    buildings: frozenset[str] = field(default_factory=frozenset)
    neighbourhood: str | None = None
    rate_per_s: float | None = None

    @property
    def rate_key(self) -> str:
        return self.subject


class Forbidden(Exception):
    """The principal is authenticated but may not do this."""


def scope_error(role: Role, buildings: frozenset[str], neighbourhood: str | None) -> str | None:
    """Why a role/scope combination is invalid, or None when it is fine."""
    if role is Role.FACILITY_MANAGER and not buildings:
        return "buildings: a facility_manager needs at least one building"
    if role is Role.NEIGHBOURHOOD_SCHEME and not neighbourhood:
        return "neighbourhood: a neighbourhood_scheme needs its neighbourhood"
    return None


def can_read_building(p: Principal, building: str) -> bool:
    if p.role in (Role.ADMIN, Role.ENERGY_DEPARTMENT):
        return True
    if p.role is Role.FACILITY_MANAGER:
        return building in p.buildings
    return False


def can_control_building(p: Principal, building: str) -> bool:
    if p.role is Role.ADMIN:
        return True
    return p.role is Role.FACILITY_MANAGER and building in p.buildings


def can_read_neighbourhood(p: Principal, neighbourhood: str) -> bool:
    """Aggregates of a neighbourhood."""
    if p.role in (Role.ADMIN, Role.ENERGY_DEPARTMENT):
        return True
    return p.role is Role.NEIGHBOURHOOD_SCHEME and p.neighbourhood == neighbourhood


def can_request_flexibility(p: Principal, neighbourhood: str) -> bool:
    if p.role is Role.ADMIN:
        return True
    return p.role is Role.NEIGHBOURHOOD_SCHEME and p.neighbourhood == neighbourhood


def can_report_all(p: Principal) -> bool:
    return p.role in (Role.ADMIN, Role.ENERGY_DEPARTMENT)


def can_import(p: Principal) -> bool:
    return p.role in (Role.ADMIN, Role.ENERGY_DEPARTMENT)


def is_admin(p: Principal) -> bool:
    return p.role is Role.ADMIN


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise Forbidden(what)
