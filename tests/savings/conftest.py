"""Shared helpers for the savings tests: synthetic buildings written to a meter store as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from polis.savings.application import SavingsApp
from polis.savings.measurement import MeasurementOptions, Window
from polis.savings.sites import Site, SiteDirectory
from polis.savings.store import MemoryMeterStore
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 6, 30, 21, tzinfo=UTC)
SITES = SiteDirectory(
    {
        "town-hall": Site("town-hall", "kentro", "larissa"),
        "school-1": Site("school-1", "kentro", "larissa"),
        "pool": Site("pool", "neapoli", "larissa"),
    }
)


def synthetic_csv(building: str, seed: int, scale: float = 1.0) -> str:
    """Hourly energy (Wh, to exercise conversion) and temperature rows for one building."""
    hours = int((END - START).total_seconds() // 3600)
    data = synthetic_building(
        START, hours, seed, SyntheticBuilding(base_kw=20 * scale), 0.12, SWITCH
    )
    times = [(START + timedelta(hours=i)).isoformat() for i in range(hours)]
    lines = ["meter_id,timestamp,value,unit"]
    energy = np.round(data.series.energy_kwh * 1000, 1)
    temp = np.round(data.series.temperature_c, 2)
    for t, e, c in zip(times, energy.tolist(), temp.tolist(), strict=True):
        lines.append(f"{building}/main/energy,{t},{e},Wh")
        lines.append(f"{building}/weather/outdoor_temperature,{t},{c},degC")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Scenario:
    store: MemoryMeterStore
    sites: SiteDirectory
    baseline: Window
    reporting: Window


@pytest.fixture(scope="session")
def scenario(loaded_store: MemoryMeterStore) -> Scenario:
    return Scenario(loaded_store, SITES, Window(START, SWITCH), Window(SWITCH, END))


@pytest.fixture(scope="session")
def loaded_store() -> MemoryMeterStore:
    store = MemoryMeterStore()
    app = SavingsApp(store, SITES, MeasurementOptions())
    for seed, building in enumerate(("town-hall", "school-1", "pool")):
        outcome = app.import_csv(synthetic_csv(building, seed + 20), "test")
        assert not outcome.errors
    return store
