"""The adapter's view of the municipality catalogue, and its runtime settings.

Catalogue errors name the file, the line and the path inside it, e.g.
``catalogue.yaml:12: buildings[2].devices[0].port: Input should be less than or equal to 65535``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polis.adapter.settings import AdapterSettings
from polis.common.catalogue import (
    Building,
    Catalogue,
    CatalogueError,
    PointRef,
    load_catalogue,
    parse_catalogue,
)
from polis.common.clock import Clock


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockConfig(_Model):
    """The shared virtual clock (same fields as the simulator manifest's ``clock``)."""

    origin: datetime
    start: datetime
    speed: float = Field(default=1.0, gt=0)

    def build(self) -> Clock:
        return Clock(origin=self.origin, start=self.start, speed=self.speed)


@dataclass(frozen=True)
class SiteConfig:
    """The adapter's view of the catalogue: its devices and points, and how it runs."""

    catalogue: Catalogue
    adapter: AdapterSettings = field(default_factory=AdapterSettings)
    clock: ClockConfig | None = None

    @property
    def municipality(self) -> str:
        return self.catalogue.municipality

    @property
    def buildings(self) -> tuple[Building, ...]:
        return self.catalogue.buildings


def iter_points(site: SiteConfig) -> Iterator[PointRef]:
    return site.catalogue.points()


class ConfigError(ValueError):
    """Invalid configuration; the message lists every problem as ``file: path: what``."""


def parse_config(
    data: Any,
    source: str = "<catalogue>",
    settings: AdapterSettings | None = None,
    clock: ClockConfig | None = None,
) -> SiteConfig:
    """The adapter's view of a catalogue document (see :mod:`polis.common.catalogue`)."""
    try:
        catalogue = parse_catalogue(data, source)
    except CatalogueError as error:
        raise ConfigError(str(error)) from None
    return SiteConfig(catalogue, settings or AdapterSettings(), clock)


def load_config(
    path: Path | str, settings: AdapterSettings | None = None, clock: ClockConfig | None = None
) -> SiteConfig:
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as error:
        raise ConfigError(str(error)) from None
    return SiteConfig(catalogue, settings or AdapterSettings(), clock)
