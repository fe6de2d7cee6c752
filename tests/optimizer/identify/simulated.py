"""Zone histories from the simulator's own physics, one zone at a time
(``optimizer/zone_physics.py``), and a building's PV generation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from optimizer.zone_physics import START, STEP_HOURS, building_span, step_means, step_zone
from polis.optimizer.identify import CopLine, ZoneSeries
from polis.optimizer.identify.series import FloatArray
from polis.simulator.config import load_config

__all__ = [
    "START",
    "STEP_HOURS",
    "SimulatedPv",
    "SimulatedZone",
    "pv_history",
    "sensor",
    "zone_histories",
]


@dataclass(frozen=True)
class SimulatedZone:
    building: str
    zone: str
    series: ZoneSeries
    tau_h: float  # truth, for the tests only
    r_k_per_kw: float
    c_kwh_per_k: float
    datasheet_cop: CopLine  # what the heat pump's data sheet gives (the catalogue's line)


def zone_histories(
    days: int, start: datetime = START, constant_setpoint_c: float | None = None
) -> list[SimulatedZone]:
    """Every zone of the default municipality over ``days`` from ``start``, on its own
    schedules or held at ``constant_setpoint_c``."""
    config = load_config()
    out: list[SimulatedZone] = []
    for building in config.buildings:
        span = building_span(config, building, days, start)
        held = None if constant_setpoint_c is None else np.full(span.steps, constant_setpoint_c)
        for zone in building.zones:
            z = step_zone(span, zone.id, setpoints_c=held)
            out.append(
                SimulatedZone(
                    building.id,
                    zone.id,
                    z.series,
                    z.tau_h,
                    z.r_k_per_kw,
                    z.c_kwh_per_k,
                    z.datasheet_cop,
                )
            )
    return out


def sensor(temperature_c: FloatArray, resolution_k: float, noise_k: float, seed: int) -> FloatArray:
    """A room sensor's readings of the simulated temperature: white noise of ``noise_k``
    (standard deviation) and steps of ``resolution_k`` (0 for none)."""
    rng = np.random.default_rng(seed)
    noisy = (
        temperature_c + rng.normal(0.0, noise_k, len(temperature_c)) if noise_k else temperature_c
    )
    if not resolution_k:
        return np.asarray(noisy, dtype=np.float64)
    readings: FloatArray = np.round(noisy / resolution_k) * resolution_k
    return readings


@dataclass(frozen=True)
class SimulatedPv:
    generation_kw: FloatArray  # the generation meter: export, negative
    irradiance_w_m2: FloatArray
    peak_kw: float  # truth, for the tests only


def pv_history(days: int, building_id: str = "depot", start: datetime = START) -> SimulatedPv:
    """The generation meter and global irradiance of a building with PV, 15-minute means."""
    config = load_config()
    building = next(b for b in config.buildings if b.id == building_id)
    assert building.pv is not None
    span = building_span(config, building, days, start)
    per = span.per_step
    return SimulatedPv(
        generation_kw=-step_means(span.drivers.pv_w, per) / 1000.0,
        irradiance_w_m2=step_means(span.drivers.ghi_w_m2, per),
        peak_kw=building.pv.peak_kw,
    )
