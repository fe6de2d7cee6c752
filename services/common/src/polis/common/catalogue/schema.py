"""The municipality catalogue: municipality → neighbourhood → building → device → point,
with each building's loads, tariff, occupancy calendar and meters.

The schema checks each entry on its own; :mod:`polis.common.catalogue.references` checks
what the entries say about each other (a load's command point exists and is writable, a
building's tariff exists, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from polis.common.catalogue.alarms import AlarmsConfig
from polis.common.catalogue.calendars import OccupancyCalendar
from polis.common.catalogue.devices import DeviceConfig, PointConfig
from polis.common.catalogue.ids import ID_PATTERN, point_id
from polis.common.catalogue.loads import LoadConfig
from polis.common.catalogue.tariffs import TariffConfig
from polis.common.timezone import TimezoneName

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


Entry = TypeVar("Entry", bound=_HasId)


def by_id(entries: Iterable[Entry], key: str) -> Entry:
    """The entry with id ``key`` (KeyError naming it when there is none)."""
    for entry in entries:
        if entry.id == key:
            return entry
    raise KeyError(key)


class Meters(_Model):
    """Which devices meter the building, by device id (each is one of its devices)."""

    main: str  # the whole-building (fiscal) meter: IPMVP Option C's boundary
    generation: str | None = None  # on-site generation (PV) behind the main meter
    excluded: tuple[str, ...] = ()  # sub-meters of loads outside the boundary (EV chargers)
    storage: tuple[str, ...] = ()  # storage behind the main meter (charging positive)


class Building(_Model):
    id: str = Field(pattern=ID_PATTERN)
    neighbourhood: str = Field(pattern=ID_PATTERN)
    name: str = ""
    use: str = ""
    floor_area_m2: Positive | None = None
    tariff: str | None = None
    calendar: str | None = None
    meters: Meters | None = None
    pv_kwp: NonNegative = 0.0
    base_load_kw: NonNegative = 5.0  # the optimizer's forecast until enough history exists
    # the grid connection's contracted peak (kW, 15-minute demand); else the tariff's
    contracted_peak_kw: Positive | None = None
    devices: tuple[DeviceConfig, ...] = ()
    loads: tuple[LoadConfig, ...] = ()

    def device(self, device_id: str) -> DeviceConfig:
        return by_id(self.devices, device_id)


class Neighbourhood(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    transformer_kw: Positive | None = None
    shared_pv_kwp: NonNegative = 0.0
    shared_feed_in_eur_per_kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class PointRef:
    """A point with its place in the hierarchy."""

    point_id: str
    municipality: str
    neighbourhood: str
    building: str
    device: str
    point: PointConfig


class Catalogue(_Model):
    municipality: str = Field(pattern=ID_PATTERN)
    name: str = ""
    timezone: TimezoneName = "Europe/Athens"
    tariffs: tuple[TariffConfig, ...] = ()
    calendars: tuple[OccupancyCalendar, ...] = ()
    neighbourhoods: tuple[Neighbourhood, ...] = ()
    buildings: tuple[Building, ...] = ()
    alarms: AlarmsConfig = AlarmsConfig()

    def building(self, building_id: str) -> Building:
        return by_id(self.buildings, building_id)

    def tariff(self, tariff_id: str) -> TariffConfig:
        return by_id(self.tariffs, tariff_id)

    def calendar(self, calendar_id: str) -> OccupancyCalendar:
        return by_id(self.calendars, calendar_id)

    def neighbourhood(self, hood_id: str) -> Neighbourhood:
        return by_id(self.neighbourhoods, hood_id)

    def points(self) -> Iterator[PointRef]:
        """Every point of every device, Modbus profile registers included."""
        for building in self.buildings:
            for device in building.devices:
                for p in device.all_points():
                    yield PointRef(
                        point_id(self.municipality, building.id, device.id, p.id),
                        self.municipality,
                        building.neighbourhood,
                        building.id,
                        device.id,
                        p,
                    )
