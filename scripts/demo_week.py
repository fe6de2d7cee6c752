"""The demo's figures of a reporting period: cost per building and comfort per zone.

A controlled period is measured as a user would measure it: the main meters' import and
export counters and the zone temperatures the adapter wrote to InfluxDB, priced with the
catalogue's tariff and judged against the catalogue's comfort periods. The same period
as-is (the buildings on their own schedules, nothing commanded) comes from the simulator's
model, measured the same way. Nothing here configures the product.

- **Cost**: each 15-minute slot's imported energy at the tariff's price of that slot, less
  its exported energy at the feed-in price. A counter read less often than every slot is
  interpolated linearly between its readings.
- **Comfort**: degree-hours below the lower bound of the zone's occupied comfort periods (the
  building's own setpoint), the temperature taken at each slot's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from polis.common.catalogue import Catalogue, resolve_point_ref
from polis.common.catalogue.loads import ZoneConfig
from polis.common.catalogue.schema import Building
from polis.common.influx import InfluxStore
from polis.optimizer.commissioning.plant import main_meter_counters
from polis.simulator.config import MeterRole, MunicipalityConfig
from polis.simulator.model import Simulation

SLOT = timedelta(minutes=15)
SKIPPED_SLOTS = 4


@dataclass
class PeriodFigures:
    cost_by_building: dict[str, float] = field(default_factory=dict)
    comfort_kh: dict[str, float] = field(default_factory=dict)  # "building/zone" -> Kh

    @property
    def cost_eur(self) -> float:
        return sum(self.cost_by_building.values())


def slot_starts(start: datetime, days: float) -> list[datetime]:
    """The period's slots after its first hour, in which the simulator and the adapter start
    (the counters' first reading comes a few virtual minutes in): every run is judged on the
    same slots."""
    return [start + k * SLOT for k in range(SKIPPED_SLOTS, round(days * 96))]


def _price(catalogue: Catalogue, building: Building, starts: list[datetime]) -> np.ndarray:
    assert building.tariff is not None
    tariff = catalogue.tariff(building.tariff)
    tz = ZoneInfo(catalogue.timezone)
    return np.array([tariff.price_at(s.astimezone(tz)) for s in starts])


def _cost(
    catalogue: Catalogue,
    building: Building,
    starts: list[datetime],
    imported: np.ndarray,
    exported: np.ndarray,
) -> float:
    assert building.tariff is not None
    feed_in = catalogue.tariff(building.tariff).feed_in_eur_per_kwh
    price = _price(catalogue, building, starts)
    return float(np.sum(price * imported) - feed_in * np.sum(exported))


def _occupied_lo(zone: ZoneConfig, ends: list[datetime], timezone: str) -> np.ndarray:
    """The comfort periods' lower bound at each slot's end, NaN outside them."""
    tz = ZoneInfo(timezone)
    out = np.full(len(ends), np.nan)
    for k, end in enumerate(ends):
        period = next((p for p in zone.occupied if p.contains(end.astimezone(tz))), None)
        if period is not None:
            out[k] = period.lo_c
    return out


def _deficit_kh(temperature: np.ndarray, lo: np.ndarray) -> float:
    below = np.where(np.isfinite(lo) & np.isfinite(temperature), lo - temperature, 0.0)
    return float(np.sum(np.clip(below, 0.0, None)) * SLOT.total_seconds() / 3600.0)


def _zones(building: Building) -> list[ZoneConfig]:
    return [x for x in building.loads if isinstance(x, ZoneConfig)]


def _series(
    store: InfluxStore, point: str, start: datetime, stop: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """(epoch seconds, values) of the point's readings, in time order."""
    rows = store.query_range(start, stop, {"point": point})
    return np.array([r.time.timestamp() for r in rows]), np.array([r.value for r in rows])


def _at(t: np.ndarray, values: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Linear interpolation, NaN outside the readings."""
    if len(t) < 2:
        return np.full(len(when), np.nan)
    out: np.ndarray = np.asarray(np.interp(when, t, values), dtype=np.float64)
    out[(when < t[0]) | (when > t[-1])] = np.nan
    return out


def measured_figures(
    catalogue: Catalogue, store: InfluxStore, start: datetime, days: float
) -> PeriodFigures:
    """A controlled period from what the adapter wrote to InfluxDB."""
    starts = slot_starts(start, days)
    edges = np.array([s.timestamp() for s in [*starts, starts[-1] + SLOT]])
    ends = [s + SLOT for s in starts]
    # nothing before the period: a bucket may hold earlier runs of the same points
    lo_at, hi_at = start, ends[-1] + timedelta(hours=2)
    figures = PeriodFigures()
    for building in catalogue.buildings:
        energy = {}
        for direction, point in main_meter_counters(catalogue, building).items():
            t, counter = _series(store, point, lo_at, hi_at)
            energy[direction] = np.nan_to_num(np.diff(_at(t, counter, edges)))
        imported = energy.get("import", np.zeros(len(starts)))
        exported = energy.get("export", np.zeros(len(starts)))
        figures.cost_by_building[building.id] = _cost(
            catalogue, building, starts, imported, exported
        )
        for zone in _zones(building):
            if zone.temperature_point is None:
                continue
            point = resolve_point_ref(zone.temperature_point, catalogue.municipality, building.id)
            t, temps = _series(store, point, lo_at, hi_at)
            at_end = _at(t, temps, edges[1:])
            lo = _occupied_lo(zone, ends, catalogue.timezone)
            figures.comfort_kh[f"{building.id}/{zone.id}"] = _deficit_kh(at_end, lo)
    return figures


def as_is_figures(
    config: MunicipalityConfig, catalogue: Catalogue, start: datetime, days: float
) -> PeriodFigures:
    """The same period with the buildings on their own schedules (the simulator's model,
    started at ``start`` as the demo's simulator is)."""
    starts = slot_starts(start, days)
    ends = [s + SLOT for s in starts]
    step = config.step_seconds
    per_slot = round(SLOT.total_seconds() / step)
    simulation = Simulation(config, start)
    main: dict[str, list[np.ndarray]] = {b.id: [] for b in config.buildings}
    zones: dict[str, list[np.ndarray]] = {b.id: [] for b in config.buildings}
    for traces in simulation.advance((SKIPPED_SLOTS + len(starts)) * per_slot):
        for b in config.buildings:
            main[b.id].append(traces[b.id].channels_w[MeterRole.MAIN])
            zones[b.id].append(traces[b.id].zone_temperatures_c)
    figures = PeriodFigures()
    for building in catalogue.buildings:
        power_w = np.concatenate(main[building.id]).reshape(-1, per_slot)[SKIPPED_SLOTS:]
        imported = np.clip(power_w, 0.0, None).sum(axis=1) * step / 3.6e6
        exported = np.clip(-power_w, 0.0, None).sum(axis=1) * step / 3.6e6
        figures.cost_by_building[building.id] = _cost(
            catalogue, building, starts, imported, exported
        )
        ends_c = np.concatenate(zones[building.id], axis=1)[:, per_slot - 1 :: per_slot]
        temps = ends_c[:, SKIPPED_SLOTS:]
        sim_zones = [z.id for b in config.buildings if b.id == building.id for z in b.zones]
        for zone in _zones(building):
            lo = _occupied_lo(zone, ends, catalogue.timezone)
            row = temps[sim_zones.index(zone.id)]
            figures.comfort_kh[f"{building.id}/{zone.id}"] = _deficit_kh(row, lo)
    return figures


def print_figures(title: str, columns: dict[str, PeriodFigures]) -> None:
    """Cost per building and comfort per zone, one column per run."""
    names = list(columns)
    first = columns[names[0]]
    print(f"\n{title}")
    print(f"{'':30s}" + "".join(f"{n:>14s}" for n in names))
    print(f"{'cost (EUR)':30s}" + "".join(f"{c.cost_eur:14.2f}" for c in columns.values()))
    for building in first.cost_by_building:
        row = "".join(f"{c.cost_by_building[building]:14.2f}" for c in columns.values())
        print(f"{'  ' + building:30s}{row}")
    print("below comfort (Kh, occupied hours)")
    for zone in first.comfort_kh:
        row = "".join(f"{c.comfort_kh[zone]:14.2f}" for c in columns.values())
        print(f"{'  ' + zone:30s}{row}")
