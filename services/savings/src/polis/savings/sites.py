"""Where each building sits (neighbourhood, municipality: tags and report scopes), its calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from polis.savings.closures import NO_CLOSURES, BuildingCalendar
from polis.savings.pricing import RateSchedule


class ScopeKind(StrEnum):
    BUILDING = "building"
    NEIGHBOURHOOD = "neighbourhood"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True, slots=True)
class SiteMeters:
    """Device ids of the measurement boundary (IPMVP Option C), from the catalogue."""

    main: str
    generation: str | None = None
    excluded: tuple[str, ...] = ()
    storage: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Site:
    building: str
    neighbourhood: str
    municipality: str
    calendar: BuildingCalendar = NO_CLOSURES  # closures from the catalogue
    #: Electrical storage (a battery) behind the main meter, per the catalogue.
    storage: bool = False
    #: None: the service's default device names and rates apply.
    meters: SiteMeters | None = None
    tariff: RateSchedule | None = None
    emission_factor: RateSchedule | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    name: str


class UnknownScope(LookupError):
    """The requested neighbourhood or municipality has no buildings."""


@dataclass(frozen=True, slots=True)
class SiteDirectory:
    sites: Mapping[str, Site]
    default_neighbourhood: str = "unassigned"
    default_municipality: str = "unassigned"

    def site(self, building: str) -> Site:
        found = self.sites.get(building)
        if found is not None:
            return found
        return Site(building, self.default_neighbourhood, self.default_municipality)

    def buildings(self, scope: Scope) -> list[Site]:
        if scope.kind is ScopeKind.BUILDING:
            return [self.site(scope.name)]
        attr = "neighbourhood" if scope.kind is ScopeKind.NEIGHBOURHOOD else "municipality"
        found = sorted(
            (s for s in self.sites.values() if getattr(s, attr) == scope.name),
            key=lambda s: s.building,
        )
        if not found:
            raise UnknownScope(f"no buildings in {scope.kind.value} {scope.name!r}")
        return found
