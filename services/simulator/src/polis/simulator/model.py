"""The whole municipality stepped on a fixed grid: weather shared, one plant per building.

The step grid is aligned to the Unix epoch (multiples of ``step_seconds``), so every process
and the history export step at the same instants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from polis.simulator.config import Building, MeterRole, MunicipalityConfig
from polis.simulator.drivers import Drivers, building_drivers, step_grid
from polis.simulator.fault_effects import (
    ZoneFaultState,
    apply_faults,
    faulted_chargers,
    zone_state_at,
)
from polis.simulator.faults import Fault, StuckSensor, check_faults, of_building
from polis.simulator.plant import BuildingState, Commands, Trace, run
from polis.simulator.schedules import local_calendar
from polis.simulator.weather import Weather

# Steps simulated per call of the plant; bounds memory on long runs (a week at one minute).
MAX_CHUNK_STEPS = 7 * 24 * 60


@dataclass(frozen=True)
class MeterReading:
    power_w: float
    import_kwh: float
    export_kwh: float


@dataclass(frozen=True)
class ZonePlant:
    """A zone heat pump's capability at the last step (from the exogenous curves)."""

    cop: float
    eer: float
    heating_capacity_kw: float
    cooling_capacity_kw: float
    # injected faults on its heat pump in the next step
    faults: ZoneFaultState = field(default_factory=ZoneFaultState)


@dataclass(frozen=True)
class ChargerReading:
    """One EV charger after the last step, as its OCPP charge point reports it."""

    session: int  # -1: no car; a new value: a new car
    remaining_kwh: float  # what the car still takes
    power_kw: float
    energy_kwh: float  # the charger's meter register
    faulted: bool = False  # an injected fault: reports Faulted, delivers nothing


@dataclass(frozen=True)
class PlantReading:
    """Further values of the last simulated step, exposed for the building controller's
    objects; nothing here feeds back into the physics."""

    occupancy: float  # fraction of full occupancy, 0..1
    ghi_w_m2: float
    lighting_kw: float
    plug_kw: float
    dhw_kw: float
    pool_kw: float
    ev_kw: float
    pv_kw: float
    battery_kw: float  # positive while charging
    battery_soc: float | None  # fraction, None without a battery
    heater_on: bool
    ev_connected: int  # chargers with a car plugged in
    zones: dict[str, ZonePlant]
    chargers: tuple[ChargerReading, ...] = ()


@dataclass(frozen=True)
class BuildingReading:
    """The instantaneous view of a building after the last simulated step."""

    time: datetime
    outdoor_c: float
    zone_temperatures_c: dict[str, float]
    zone_setpoints_c: dict[str, float]
    hvac_power_kw: float
    tank_temperature_c: float | None
    meters: dict[MeterRole, MeterReading]
    plant: PlantReading | None = None  # None before the first simulated step
    # zone -> the value a stuck temperature sensor holds (an injected fault)
    stuck_sensors: dict[str, float] = field(default_factory=dict)

    def sensed_temperature_c(self, zone_id: str) -> float:
        """What the zone's temperature sensor reads."""
        return self.stuck_sensors.get(zone_id, self.zone_temperatures_c[zone_id])


def align(epoch: float, step_seconds: int) -> float:
    """The grid instant at or before ``epoch``."""
    return float(np.floor(epoch / step_seconds) * step_seconds)


class Simulation:
    """Steps every building from ``start`` (aligned down to the step grid)."""

    def __init__(self, config: MunicipalityConfig, start: datetime) -> None:
        self.config = config
        self.step_seconds = config.step_seconds
        self.weather = Weather(config.climate, config.seed)
        t0 = align(start.timestamp(), self.step_seconds)
        self.states = {b.id: BuildingState.initial(b, t0) for b in config.buildings}
        self.buildings: dict[str, Building] = {b.id: b for b in config.buildings}
        self.readings: dict[str, BuildingReading] = {
            b.id: self._initial_reading(b, t0) for b in config.buildings
        }
        self._time = t0
        self.faults: list[Fault] = list(config.faults)
        # each stuck sensor's fault -> the temperature it froze at
        self._frozen: dict[StuckSensor, float] = {}

    def set_faults(self, faults: list[Fault]) -> None:
        """Replace the injected faults (FaultError if one names what the municipality lacks);
        they act from the next step."""
        check_faults(faults, self.config.buildings)
        self.faults = list(faults)
        self._frozen = {f: v for f, v in self._frozen.items() if f in self.faults}

    @property
    def time(self) -> datetime:
        """The instant up to which the model has been simulated."""
        return datetime.fromtimestamp(self._time, tz=UTC)

    def steps_until(self, instant: datetime) -> int:
        return max(0, int((instant.timestamp() - self._time) // self.step_seconds))

    def advance_to(self, instant: datetime, commands: Mapping[str, Commands] | None = None) -> int:
        """Simulate every whole step that ends at or before ``instant``."""
        steps = self.steps_until(instant)
        for _ in self.advance(steps, commands):
            pass
        return steps

    def advance(
        self, steps: int, commands: Mapping[str, Commands] | None = None
    ) -> Iterator[dict[str, Trace]]:
        """Simulate ``steps`` steps, yielding the traces of each chunk as it is done."""
        commands = commands or {}
        remaining = steps
        while remaining > 0:
            n = min(remaining, MAX_CHUNK_STEPS)
            t = step_grid(self._time, n, self.step_seconds)
            sample = self.weather.sample(t)
            calendar = local_calendar(t, self.config.climate.timezone)
            traces: dict[str, Trace] = {}
            for building in self.config.buildings:
                drivers = building_drivers(
                    building,
                    sample,
                    calendar,
                    t,
                    self.step_seconds,
                    self.config.seed,
                    self.config.climate.timezone,
                )
                faults = of_building(self.faults, building.id)
                drivers = apply_faults(building, drivers, faults, t)
                state = self.states[building.id]
                before = list(state.zone_temperatures_c)
                trace = run(building, state, drivers, commands.get(building.id, Commands()))
                self._freeze(building, faults, trace, before)
                traces[building.id] = trace
                self.readings[building.id] = self._reading(building, state, trace, drivers)
            self._time += n * self.step_seconds
            remaining -= n
            yield traces

    def _freeze(
        self, building: Building, faults: list[Fault], trace: Trace, before: list[float]
    ) -> None:
        """Remember what each stuck sensor froze at: the temperature at the end of the first
        step that ends inside its window (the chunk's start if the window began before)."""
        ends = trace.start + trace.step_seconds * np.arange(1, trace.steps + 1)
        for fault in faults:
            if not isinstance(fault, StuckSensor) or fault in self._frozen:
                continue
            start, end = fault.window()
            inside = np.flatnonzero((ends >= start) & (ends < end))
            if not len(inside):
                continue
            zi = [z.id for z in building.zones].index(fault.target)
            self._frozen[fault] = (
                before[zi]
                if start <= trace.start
                else float(trace.zone_temperatures_c[zi, int(inside[0])])
            )

    def _stuck_sensors(self, building: Building, epoch: float) -> dict[str, float]:
        return {
            fault.target: frozen
            for fault, frozen in self._frozen.items()
            if fault.building == building.id and fault.active(epoch)
        }

    def _initial_reading(self, building: Building, t0: float) -> BuildingReading:
        state = self.states[building.id]
        outdoor = float(self.weather.sample(np.array([t0])).temperature_c[0])
        return BuildingReading(
            time=datetime.fromtimestamp(t0, tz=UTC),
            outdoor_c=outdoor,
            zone_temperatures_c={
                z.id: state.zone_temperatures_c[i] for i, z in enumerate(building.zones)
            },
            zone_setpoints_c={z.id: float("nan") for z in building.zones},
            hvac_power_kw=0.0,
            tank_temperature_c=state.tank_temperature_c if building.hot_water else None,
            meters={
                role: MeterReading(0.0, state.import_wh[role] / 1000.0, 0.0)
                for role in state.import_wh
            },
        )

    def _reading(
        self, building: Building, state: BuildingState, trace: Trace, drivers: Drivers
    ) -> BuildingReading:
        last = trace.steps - 1
        return BuildingReading(
            time=datetime.fromtimestamp(state.time, tz=UTC),
            outdoor_c=float(trace.outdoor_c[last]),
            zone_temperatures_c={
                z.id: float(trace.zone_temperatures_c[i, last])
                for i, z in enumerate(building.zones)
            },
            zone_setpoints_c={
                z.id: float(trace.zone_setpoints_c[i, last]) for i, z in enumerate(building.zones)
            },
            hvac_power_kw=float(trace.channels_w[MeterRole.HVAC][last]) / 1000.0,
            tank_temperature_c=float(trace.tank_temperature_c[last])
            if building.hot_water
            else None,
            meters={
                role: MeterReading(
                    power_w=float(trace.channels_w[role][last]),
                    import_kwh=state.import_wh[role] / 1000.0,
                    export_kwh=state.export_wh[role] / 1000.0,
                )
                for role in state.import_wh
            },
            plant=_plant_reading(building, state, trace, drivers, self.faults),
            stuck_sensors=self._stuck_sensors(building, state.time),
        )


def _plant_reading(
    building: Building,
    state: BuildingState,
    trace: Trace,
    drivers: Drivers,
    faults: list[Fault],
) -> PlantReading:
    last = trace.steps - 1
    ch = {role: float(values[last]) / 1000.0 for role, values in trace.channels_w.items()}
    plug = float(drivers.plug_w[last]) / 1000.0
    loads = (
        ch[MeterRole.HVAC]
        + ch[MeterRole.LIGHTING]
        + plug
        + ch[MeterRole.DHW]
        + ch[MeterRole.POOL]
        + ch[MeterRole.EV]
    )
    pv = -ch[MeterRole.PV]
    battery = building.battery
    own = of_building(faults, building.id)
    return PlantReading(
        occupancy=float(drivers.occupancy[last]),
        ghi_w_m2=float(drivers.ghi_w_m2[last]),
        lighting_kw=ch[MeterRole.LIGHTING],
        plug_kw=plug,
        dhw_kw=ch[MeterRole.DHW],
        pool_kw=ch[MeterRole.POOL],
        ev_kw=ch[MeterRole.EV],
        pv_kw=pv,
        battery_kw=ch[MeterRole.MAIN] - loads + pv,
        battery_soc=state.battery_soc_wh / (battery.capacity_kwh * 1000.0) if battery else None,
        heater_on=state.heater_on,
        ev_connected=sum(1 for session in state.ev_session if session >= 0),
        zones={
            z.id: ZonePlant(
                cop=float(curves.cop[last]),
                eer=float(curves.eer[last]),
                heating_capacity_kw=float(curves.heating_capacity_w[last]) / 1000.0,
                cooling_capacity_kw=float(curves.cooling_capacity_w[last]) / 1000.0,
                faults=zone_state_at(own, z.id, state.time),
            )
            for z, curves in zip(building.zones, drivers.heat_pumps, strict=True)
        },
        chargers=_charger_readings(
            state, trace, faulted_chargers(building, own, state.time) if own else frozenset()
        ),
    )


def _charger_readings(
    state: BuildingState, trace: Trace, faulted: frozenset[int]
) -> tuple[ChargerReading, ...]:
    powers = trace.ev_charger_w
    if powers is None or powers.shape[0] == 0:
        return ()
    return tuple(
        ChargerReading(
            session=state.ev_session[c],
            remaining_kwh=max(state.ev_remaining_wh[c], 0.0) / 1000.0,
            power_kw=float(powers[c, -1]) / 1000.0,
            energy_kwh=state.ev_energy_wh[c] / 1000.0,
            faulted=c in faulted,
        )
        for c in range(powers.shape[0])
    )
