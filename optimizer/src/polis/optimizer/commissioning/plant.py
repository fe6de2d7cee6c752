"""A building's hot-water tank and base load learned from its history in InfluxDB.

The points are found by the names BACnet discovery drafts on the simulator's controllers
(``dhw-heater-power``, ``hvac-electric-power``, …) and the catalogue's own references (the
tank's ``temperature_point``, the building's main meter); docs/commissioning.md lists them.
A building whose BMS names them otherwise keeps its catalogue figures, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from polis.common.catalogue import Catalogue, resolve_point_ref
from polis.common.catalogue.loads import (
    BatteryConfig,
    DeferrableConfig,
    EVConfig,
    ModelState,
    TankConfig,
    ZoneConfig,
)
from polis.common.catalogue.schema import Building
from polis.common.influx import InfluxStore
from polis.optimizer.commissioning.history import Span, read_points
from polis.optimizer.identify.base_load import BaseLoad, base_load
from polis.optimizer.identify.series import FloatArray
from polis.optimizer.identify.tank import TankModel, fit_tank, outflow_kw

DIGITS = 4
HEATER_POWER = ("dhw-heater-power", "hot-water-heater-power")
# the power point of each kind of planned load (the whole building's), and the battery's
LOAD_POWER: dict[type, tuple[str, ...]] = {
    ZoneConfig: ("hvac-electric-power",),
    TankConfig: HEATER_POWER,
    DeferrableConfig: ("pool-pump-power",),
    EVConfig: ("ev-charging-power",),
    BatteryConfig: ("battery-power",),
}
GENERATION = ("pv-power",)


@dataclass(frozen=True)
class TankResult:
    load_id: str
    model: TankModel | None
    reasons: tuple[str, ...]
    points: dict[str, str]

    @property
    def accepted(self) -> bool:
        return self.model is not None and not self.reasons

    def entry(self) -> dict[str, Any]:
        assert self.model is not None
        return {
            "model": ModelState.LEARNED.value,
            "daily_draw_kwh": list(self.model.daily_draw_kwh),
            "loss_kw": round(self.model.loss_kw, DIGITS),
        }


@dataclass(frozen=True)
class PlantResult:
    building: str
    tanks: list[TankResult] = field(default_factory=list)
    base_load: BaseLoad | None = None
    base_points: dict[str, str] = field(default_factory=dict)
    base_reason: str | None = None

    def building_entry(self) -> dict[str, Any]:
        if self.base_load is None or self.base_load.kw is None:
            return {}
        return {"base_load_kw": round(self.base_load.kw, 2)}

    def load_entries(self) -> dict[str, dict[str, Any]]:
        return {t.load_id: t.entry() for t in self.tanks if t.accepted}


def _named(catalogue: Catalogue, building: Building, names: tuple[str, ...]) -> str | None:
    for name in names:
        for ref in catalogue.points():
            if ref.building == building.id and ref.point.id == name:
                return ref.point_id
    return None


def main_meter_counters(catalogue: Catalogue, building: Building) -> dict[str, str]:
    """The main meter's whole-meter import (and export) energy counters, as
    ``{"import": point id, "export": point id}``."""
    if building.meters is None:
        return {}
    main = building.device(building.meters.main)
    counters = [
        p.id
        for p in main.all_points()
        if p.quantity.value == "active_energy" and p.kind.value == "cumulative"
    ]
    found: dict[str, str] = {}
    for direction in ("import", "export"):
        exact = f"{direction}-energy"
        # the whole meter's counter, not a phase's (``import-energy-l1``)
        named = [c for c in counters if direction in c and not c.endswith(("l1", "l2", "l3"))]
        chosen = exact if exact in counters else (named[0] if named else None)
        if chosen is not None:
            found[direction] = resolve_point_ref(
                f"{main.id}/{chosen}", catalogue.municipality, building.id
            )
    return found


def _calendar(span: Span) -> tuple[FloatArray, FloatArray]:
    """Local hour and weekday flag (1.0 Monday to Friday) per step."""
    tz = ZoneInfo(span.timezone)
    local = [t.astimezone(tz) for t in span.times()]
    hours = np.array([float(t.hour) for t in local])
    weekday = np.array([1.0 if t.weekday() < 5 else 0.0 for t in local])
    return hours, weekday


def learn_tank(
    catalogue: Catalogue,
    building: Building,
    tank: TankConfig,
    store: InfluxStore,
    span: Span,
    holdout_days: int,
) -> TankResult:
    heater = _named(catalogue, building, HEATER_POWER)
    temperature = (
        resolve_point_ref(tank.temperature_point, catalogue.municipality, building.id)
        if tank.temperature_point
        else None
    )
    points = {k: v for k, v in (("temperature", temperature), ("heater", heater)) if v}
    if heater is None or temperature is None or tank.volume_l is None:
        missing = [n for n, v in (("temperature", temperature), ("heater power", heater)) if not v]
        if tank.volume_l is None:
            missing.append("volume_l")
        return TankResult(tank.id, None, (f"no {', '.join(missing)}",), points)
    data = read_points(store, [temperature, heater], span)
    out = outflow_kw(data[temperature], data[heater], 0.25, tank.volume_l, tank.cold_water_c)
    hours, weekday = _calendar(span)
    model = fit_tank(out, hours, weekday, 0.25, holdout_days)
    return TankResult(tank.id, model, model.reasons, points)


def learn_base_load(
    catalogue: Catalogue, building: Building, store: InfluxStore, span: Span
) -> tuple[BaseLoad | None, dict[str, str], str | None]:
    """(base load, points used, why not)."""
    counters = main_meter_counters(catalogue, building)
    if "import" not in counters:
        return None, {}, "no import energy counter on the main meter"
    kinds = {type(load) for load in building.loads}
    powers: dict[str, str] = {}
    missing = []
    for kind, names in LOAD_POWER.items():
        if kind in kinds:
            found = _named(catalogue, building, names)
            if found is None:
                missing.append(names[0])
            else:
                powers[names[0]] = found
    generation = _named(catalogue, building, GENERATION) if building.pv_kwp > 0 else None
    if building.pv_kwp > 0 and generation is None:
        missing.append(GENERATION[0])
    points = {f"main {k}": v for k, v in counters.items()} | powers
    if generation is not None:
        points["generation"] = generation
    if missing:
        return None, points, f"no point for: {', '.join(missing)}"
    data = read_points(store, list(points.values()), span)
    net = data[counters["import"]]
    if "export" in counters:
        net = net - data[counters["export"]]
    added = [data[generation]] if generation is not None else []
    _, weekday = _calendar(span)
    loads = [data[p] for p in powers.values()]
    return base_load(net, loads, added, weekday, 0.25), points, None


def learn_plant(
    catalogue: Catalogue, building_id: str, store: InfluxStore, span: Span, holdout_days: int
) -> PlantResult:
    building = catalogue.building(building_id)
    tanks = [
        learn_tank(catalogue, building, load, store, span, holdout_days)
        for load in building.loads
        if isinstance(load, TankConfig)
    ]
    base, points, reason = learn_base_load(catalogue, building, store, span)
    if base is not None and base.reason is not None:
        reason = base.reason
    return PlantResult(building_id, tanks, base, points, reason)


def describe(result: PlantResult) -> list[str]:
    """Printable lines."""
    lines = []
    for tank in result.tanks:
        verdict = "ACCEPTED" if tank.accepted else "REJECTED"
        lines.append(f"  {tank.load_id}: {verdict}")
        model = tank.model
        if model is not None:
            cv = "—" if model.cv is None else f"{model.cv:.1%}"
            lines.append(
                f"    outflow {model.outflow_kwh_per_day:.1f} kWh/day over "
                f"{model.training_days} weekdays, standing loss {model.loss_kw:.2f} kW, "
                f"held-out CV {cv} over {model.holdout_days} weekdays"
            )
        lines += [f"    reason: {r}" for r in tank.reasons]
    if result.base_load is not None and result.base_load.kw is not None:
        lines.append(
            f"  base load: {result.base_load.kw:.1f} kW (mean of {result.base_load.days} weekdays)"
        )
    else:
        lines.append(f"  base load: catalogue kept ({result.base_reason})")
    return lines
