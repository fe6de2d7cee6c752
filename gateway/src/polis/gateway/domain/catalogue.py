"""The point catalogue as a municipality → neighbourhood → building → device → point tree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from polis.common.catalogue import Catalogue as MunicipalityCatalogue


@dataclass(frozen=True, slots=True)
class PointInfo:
    id: str
    municipality: str
    neighbourhood: str
    building: str
    device: str
    quantity: str
    unit: str
    kind: str
    brick_class: str = ""
    description: str = ""
    min_value: float | None = None
    max_value: float | None = None


class DisplayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    floor_area_m2: float | None = Field(default=None, gt=0)
    use: str | None = None


class DisplayMetadata(BaseModel):
    """Optional human-readable names (keys are catalogue ids), from the municipality catalogue."""

    model_config = ConfigDict(extra="forbid")

    municipalities: dict[str, DisplayEntry] = Field(default_factory=dict)
    neighbourhoods: dict[str, DisplayEntry] = Field(default_factory=dict)
    buildings: dict[str, DisplayEntry] = Field(default_factory=dict)


def metadata_view(municipality: MunicipalityCatalogue) -> DisplayMetadata:
    """Display names, uses and floor areas from the municipality catalogue."""
    return DisplayMetadata(
        municipalities={municipality.municipality: DisplayEntry(name=municipality.name or None)},
        neighbourhoods={
            n.id: DisplayEntry(name=n.name or None) for n in municipality.neighbourhoods
        },
        buildings={
            b.id: DisplayEntry(
                name=b.name or None, use=b.use or None, floor_area_m2=b.floor_area_m2
            )
            for b in municipality.buildings
        },
    )


@dataclass(frozen=True)
class Catalogue:
    points: Mapping[str, PointInfo]
    metadata: DisplayMetadata = field(default_factory=DisplayMetadata)

    @classmethod
    def build(
        cls, points: Iterable[PointInfo], metadata: DisplayMetadata | None = None
    ) -> Catalogue:
        return cls({p.id: p for p in points}, metadata or DisplayMetadata())

    def municipalities(self) -> list[str]:
        return sorted({p.municipality for p in self.points.values()})

    def neighbourhoods(self) -> dict[str, str]:
        """neighbourhood → municipality."""
        return {p.neighbourhood: p.municipality for p in self.points.values()}

    def buildings(self) -> dict[str, tuple[str, str]]:
        """building → (municipality, neighbourhood)."""
        return {p.building: (p.municipality, p.neighbourhood) for p in self.points.values()}

    def buildings_in(self, neighbourhood: str) -> list[str]:
        return sorted(
            {p.building for p in self.points.values() if p.neighbourhood == neighbourhood}
        )

    def points_of(self, building: str) -> list[PointInfo]:
        return sorted(
            (p for p in self.points.values() if p.building == building), key=lambda p: p.id
        )

    def devices_of(self, building: str) -> dict[str, list[PointInfo]]:
        devices: dict[str, list[PointInfo]] = {}
        for point in self.points_of(building):
            devices.setdefault(point.device, []).append(point)
        return devices

    def name(self, level: str, key: str) -> str:
        entries: dict[str, DisplayEntry] = getattr(self.metadata, level)
        entry = entries.get(key)
        return entry.name if entry and entry.name else key

    def entry(self, level: str, key: str) -> DisplayEntry | None:
        entries: dict[str, DisplayEntry] = getattr(self.metadata, level)
        return entries.get(key)
