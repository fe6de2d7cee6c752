"""What the faults of :mod:`polis.simulator.faults` do to a building's exogenous inputs
(pure, vectorised over a chunk of steps).

Faults are functions of the instant alone, like the weather, so they are applied to the
chunk's :class:`~polis.simulator.drivers.Drivers` and chunking still does not change results.
Faults on the heat pumps become per-step arrays the plant reads (:class:`ZoneFaults`); a
load left on adds to the lighting or plug channel (and, as heat, to the zones); a faulted
charger is masked; a forgotten override holds the zone's setpoint. The faults that live in
the field devices (a stuck or broken sensor, a dead meter, the override's priority 8, refused
writes) are applied where the values are served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from polis.simulator.config import Building
from polis.simulator.drivers import Drivers, HeatPumpCurves
from polis.simulator.faults import (
    ChargerFaulted,
    Fault,
    ForgottenOverride,
    HeatingAndCooling,
    LoadLeftOn,
    ReducedCapacity,
    ShortCycling,
    StuckHeating,
    connector_of,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ZoneFaults:
    """Per step, what faults force on one zone's heat pump."""

    heating_min: FloatArray  # the heating output is at least this (a stuck heating valve)
    cooling_min: FloatArray  # the cooling output is at least this (a stuck cooling valve)
    full: BoolArray  # any heating demand runs at full output (a compressor that restarts)
    tripped: BoolArray  # the compressor is off whatever the demand
    # the setpoint an operator's forgotten override holds (NaN: none); it outranks Polis'
    # commands as priority 8 outranks the automation's priority
    held_c: FloatArray


@dataclass(frozen=True)
class ZoneFaultState:
    """The same at one instant, for the controller's objects."""

    heating_min: float = 0.0
    cooling_min: float = 0.0
    full: bool = False
    tripped: bool = False

    def outputs(self, heat: float, cool: float) -> tuple[float, float]:
        """(heating, cooling) output fractions once the faults act on the controller's."""
        if self.tripped:
            return 0.0, 0.0
        if self.full and heat > 0.0:
            heat = 1.0
        return max(heat, self.heating_min), max(cool, self.cooling_min)


def _mask(fault: Fault, t: FloatArray) -> BoolArray:
    start, end = fault.window()
    return (t >= start) & (t < end)


def _tripped(fault: ShortCycling, t: FloatArray) -> BoolArray:
    """Off in the second half of each period, counted from the window's start."""
    period = fault.period_minutes * 60.0
    origin = fault.window()[0] if fault.from_ is not None else 0.0
    return ((t - origin) % period) >= period / 2.0


def zone_faults(faults: Sequence[Fault], zone_id: str, t: FloatArray) -> ZoneFaults | None:
    """The heat-pump faults on ``zone_id`` over the steps starting at ``t``; None if none."""
    n = len(t)
    heating_min = np.zeros(n)
    cooling_min = np.zeros(n)
    full = np.zeros(n, dtype=bool)
    tripped = np.zeros(n, dtype=bool)
    held = np.full(n, np.nan)
    found = False
    for fault in faults:
        if fault.target != zone_id:
            continue
        mask = _mask(fault, t)
        if isinstance(fault, StuckHeating):
            heating_min = np.where(mask, np.maximum(heating_min, fault.fraction), heating_min)
        elif isinstance(fault, HeatingAndCooling):
            cooling_min = np.where(mask, np.maximum(cooling_min, fault.fraction), cooling_min)
        elif isinstance(fault, ShortCycling):
            off = _tripped(fault, t)
            tripped |= mask & off
            full |= mask & ~off
        elif isinstance(fault, ForgottenOverride):
            held = np.where(mask, fault.value, held)
        else:
            continue
        found = found or bool(mask.any())
    return ZoneFaults(heating_min, cooling_min, full, tripped, held) if found else None


def zone_state_at(faults: Sequence[Fault], zone_id: str, epoch: float) -> ZoneFaultState:
    if not faults:
        return ZoneFaultState()
    effects = zone_faults(faults, zone_id, np.array([epoch]))
    if effects is None:
        return ZoneFaultState()
    return ZoneFaultState(
        float(effects.heating_min[0]),
        float(effects.cooling_min[0]),
        bool(effects.full[0]),
        bool(effects.tripped[0]),
    )


def _derated(curves: HeatPumpCurves, factor: FloatArray) -> HeatPumpCurves:
    """A heat pump delivering ``factor`` of its heat and cold for the same electric power."""
    return replace(
        curves,
        heating_capacity_w=curves.heating_capacity_w * factor,
        cooling_capacity_w=curves.cooling_capacity_w * factor,
        cop=curves.cop * factor,
        eer=curves.eer * factor,
    )


def _capacity_factor(faults: Sequence[Fault], zone_id: str, t: FloatArray) -> FloatArray | None:
    factor = np.ones(len(t))
    for fault in faults:
        if isinstance(fault, ReducedCapacity) and fault.target == zone_id:
            factor = np.where(_mask(fault, t), np.minimum(factor, fault.factor), factor)
    return None if bool((factor == 1.0).all()) else factor


def _extra_loads(
    building: Building, drivers: Drivers, faults: Sequence[Fault], t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(lighting, plug) W added by loads left on."""
    lighting = np.zeros(len(t))
    plug = np.zeros(len(t))
    area = building.floor_area_m2
    for fault in faults:
        if not isinstance(fault, LoadLeftOn):
            continue
        mask = _mask(fault, t)
        if fault.power_kw is not None:
            extra = np.where(mask, fault.power_kw * 1000.0, 0.0)
        elif fault.target == "lighting":
            # the lights at full load whatever the occupancy and daylight
            full = building.lighting_w_per_m2 * area
            extra = np.where(mask, np.maximum(full - drivers.lighting_w, 0.0), 0.0)
        else:
            full = building.plug_w_per_m2 * area
            extra = np.where(mask, np.maximum(full - drivers.plug_w, 0.0), 0.0)
        if fault.target == "lighting":
            lighting += extra
        else:
            plug += extra
    return lighting, plug


def charger_faults(building: Building, faults: Sequence[Fault], t: FloatArray) -> BoolArray | None:
    """(chargers, steps): the charger is faulted; None when none is."""
    ev = building.ev_chargers
    chosen = [f for f in faults if isinstance(f, ChargerFaulted)]
    if ev is None or not chosen:
        return None
    out = np.zeros((ev.count, len(t)), dtype=bool)
    for fault in chosen:
        out[connector_of(building, fault.target)] |= _mask(fault, t)
    return out


def faulted_chargers(building: Building, faults: Sequence[Fault], epoch: float) -> frozenset[int]:
    mask = charger_faults(building, faults, np.array([epoch]))
    if mask is None:
        return frozenset()
    return frozenset(int(c) for c in np.flatnonzero(mask[:, 0]))


def apply_faults(
    building: Building, drivers: Drivers, faults: Sequence[Fault], t: FloatArray
) -> Drivers:
    """``drivers`` as the building's ``faults`` change them over the steps at ``t``."""
    if not faults:
        return drivers
    pumps = list(drivers.heat_pumps)
    for zi, zone in enumerate(building.zones):
        factor = _capacity_factor(faults, zone.id, t)
        if factor is not None:
            pumps[zi] = _derated(pumps[zi], factor)
    lighting, plug = _extra_loads(building, drivers, faults, t)
    gains = drivers.zone_gains_w
    if lighting.any() or plug.any():
        zone_area = sum(z.floor_area_m2 for z in building.zones)
        # what the loads left on draw ends up as heat in the zones, by floor area
        gains = [
            g + (lighting + plug) * (z.floor_area_m2 / zone_area)
            for g, z in zip(gains, building.zones, strict=True)
        ]
    return replace(
        drivers,
        heat_pumps=pumps,
        lighting_w=drivers.lighting_w + lighting,
        plug_w=drivers.plug_w + plug,
        zone_gains_w=gains,
        zone_faults=[zone_faults(faults, z.id, t) for z in building.zones],
        charger_faulted=charger_faults(building, faults, t),
    )
