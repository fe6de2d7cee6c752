"""Injected faults: parsed and checked against the municipality, and acting on the physics and
on the values the controllers and chargers serve, only inside their windows (in process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import yaml

from polis.simulator.__main__ import _config
from polis.simulator.bacnet_points import object_values
from polis.simulator.config import (
    Building,
    ConfigError,
    MeterRole,
    MunicipalityConfig,
    default_config_text,
    parse_config,
)
from polis.simulator.faults import (
    Fault,
    FaultError,
    ReducedCapacity,
    parse_fault_option,
    parse_faults,
)
from polis.simulator.model import Simulation
from polis.simulator.ocpp_chargers import connector_status
from polis.simulator.plant import Commands, Trace

pytestmark = pytest.mark.unit

# Wednesday 15 January 2025, local midnight (Europe/Athens is UTC+2 in winter)
MIDNIGHT = datetime(2025, 1, 14, 22, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def iso(hours: float) -> str:
    return at(hours).isoformat()


def fault(kind: str, building: str, target: str, start: float, end: float, **kw: Any) -> Fault:
    data = {"kind": kind, "building": building, "target": target, "from": iso(start)}
    data["until"] = iso(end)
    return parse_faults([{**data, **kw}])[0]


def with_faults(config: MunicipalityConfig, *faults: Fault) -> MunicipalityConfig:
    return config.model_copy(update={"faults": list(faults)})


def building(config: MunicipalityConfig, building_id: str) -> Building:
    return next(b for b in config.buildings if b.id == building_id)


class Run:
    """A simulation from the evening before, every step's traces and the reading after each
    step, by building."""

    def __init__(self, config: MunicipalityConfig, hours: float, chunk: int = 60) -> None:
        self.config = config
        self.sim = Simulation(config, MIDNIGHT - timedelta(hours=6))
        self.sim.advance_to(MIDNIGHT)
        self.traces: list[dict[str, Trace]] = []
        self.sensed: list[dict[str, dict[str, float]]] = []
        self.values: list[dict[str, dict[str, float | bool]]] = []
        self.ends: list[float] = []
        steps = int(hours * 60)
        while steps > 0:
            n = min(chunk, steps)
            for traces in self.sim.advance(n):
                self.traces.append(traces)
            self.ends.append(self.sim.time.timestamp())
            readings = self.sim.readings
            self.sensed.append(
                {
                    b.id: {z.id: readings[b.id].sensed_temperature_c(z.id) for z in b.zones}
                    for b in config.buildings
                }
            )
            self.values.append(
                {b.id: object_values(b, readings[b.id], True) for b in config.buildings}
            )
            steps -= n

    def channel(self, building_id: str, role: MeterRole) -> np.ndarray:
        return np.concatenate([t[building_id].channels_w[role] for t in self.traces])

    def zone_temperatures(self, building_id: str, zone: int) -> np.ndarray:
        return np.concatenate([t[building_id].zone_temperatures_c[zone] for t in self.traces])

    def step_ends(self) -> np.ndarray:
        first = self.traces[0][self.config.buildings[0].id]
        n = sum(t[self.config.buildings[0].id].steps for t in self.traces)
        return first.start + first.step_seconds * np.arange(1, n + 1)

    def value_at(self, hours: float, building_id: str, name: str) -> float | bool:
        return self.values[self.ends.index(at(hours).timestamp())][building_id][name]


# -- configuration -------------------------------------------------------------------------


def test_faults_in_the_municipality_yaml_and_on_the_command_line() -> None:
    data = yaml.safe_load(default_config_text())
    data["faults"] = [
        {
            "kind": "stuck_sensor",
            "building": "town-hall",
            "target": "offices",
            "from": "2026-01-14T06:00:00Z",
        },
        {
            "kind": "load_left_on",
            "building": "school",
            "target": "lighting",
            "from": "2026-01-14T18:00:00Z",
            "until": "2026-01-15T05:00:00Z",
            "power_kw": 12,
        },
    ]
    config = parse_config(data)
    stuck, lights = config.faults
    assert stuck.active(datetime(2026, 1, 14, 6, 0, tzinfo=UTC).timestamp())
    assert not stuck.active(datetime(2026, 1, 14, 5, 59, tzinfo=UTC).timestamp())
    assert stuck.until is None  # open-ended
    assert lights.active(datetime(2026, 1, 15, 4, 59, tzinfo=UTC).timestamp())
    assert not lights.active(datetime(2026, 1, 15, 5, 0, tzinfo=UTC).timestamp())  # until: out

    option = parse_fault_option(
        "kind=reduced_capacity,building=library,target=reading-room,factor=0.1,"
        "from=2026-01-14T06:00:00Z,until=2026-01-14T18:00:00+00:00"
    )
    assert isinstance(option, ReducedCapacity)
    assert option.factor == 0.1
    cli = _config(None, None, ["kind=dead_meter,building=depot,target=pv"])
    assert [f.describe() for f in cli.faults] == ["dead_meter depot/pv"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "melted", "building": "school", "target": "admin"}, "faults.0.kind: unknown"),
        ({"kind": "stuck_sensor", "building": "school"}, "faults.0.target: Field required"),
        (
            {"kind": "reduced_capacity", "building": "school", "target": "admin", "factor": 1.5},
            "faults.0.factor",
        ),
        (
            {
                "kind": "stuck_sensor",
                "building": "school",
                "target": "admin",
                "from": "2026-01-14T06:00:00",
            },
            "faults.0.from: Input should have timezone info",
        ),
        (
            {"kind": "stuck_sensor", "building": "school", "target": "admin", "fator": 1},
            "faults.0.fator: Extra inputs are not permitted",
        ),
        ({"kind": "stuck_sensor", "building": "castle", "target": "admin"}, "faults.0.building"),
        ({"kind": "stuck_sensor", "building": "school", "target": "gym"}, "faults.0.target"),
        (
            {"kind": "heating_and_cooling", "building": "school", "target": "classrooms"},
            "faults.0.target: zone 'classrooms' of school has no cooling",
        ),
        ({"kind": "dead_meter", "building": "library", "target": "pv"}, "has no 'pv' meter"),
        (
            {"kind": "charger_faulted", "building": "depot", "target": "depot-cp2/4"},
            "depot-cp2 has connectors 1..3, not 4",
        ),
        (
            {"kind": "charger_faulted", "building": "school", "target": "school-cp1/1"},
            "school has no OCPP chargers",
        ),
        (
            {
                "kind": "broken_sensor",
                "building": "school",
                "target": "zone-admin-heating-setpoint",
            },
            "school's controller has no analog input 'zone-admin-heating-setpoint'",
        ),
        (
            {
                "kind": "stuck_sensor",
                "building": "school",
                "target": "admin",
                "from": "2026-01-14T06:00:00Z",
                "until": "2026-01-14T05:00:00Z",
            },
            "faults.0.until: must be after from",
        ),
    ],
)
def test_a_fault_that_does_not_fit_is_refused_naming_the_field(
    entry: dict[str, Any], message: str
) -> None:
    data = yaml.safe_load(default_config_text())
    data["faults"] = [entry]
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert message in str(error.value)


def test_a_bad_command_line_fault_names_the_option() -> None:
    with pytest.raises(FaultError, match="expected key=value pairs"):
        parse_fault_option("stuck_sensor town-hall offices")
    with pytest.raises(FaultError, match=r"^--fault\.period_minutes"):
        parse_fault_option("kind=short_cycling,building=school,target=admin,period_minutes=1")
    with pytest.raises(FaultError, match=r"faults\.0\.target: school has no zone 'gym'"):
        _config(None, None, ["kind=stuck_sensor,building=school,target=gym"])


# -- physics and served values --------------------------------------------------------------


def test_a_stuck_sensor_holds_the_value_it_had_when_the_window_began(
    municipality: MunicipalityConfig,
) -> None:
    stuck = fault("stuck_sensor", "town-hall", "offices", 5.5, 11.0)
    run = Run(with_faults(municipality, stuck), 14.0, chunk=7)
    truth = run.zone_temperatures("town-hall", 0)
    ends = run.step_ends()
    frozen = float(truth[np.flatnonzero(ends >= at(5.5).timestamp())[0]])
    sensed = np.array([s["town-hall"]["offices"] for s in run.sensed])
    inside = (np.array(run.ends) >= at(5.5).timestamp()) & (np.array(run.ends) < at(11).timestamp())
    assert (sensed[inside] == frozen).all()
    # the zone itself goes on: warmed up by the morning, and read again after the window
    true_at_ends = np.interp(run.ends, ends, truth)
    assert float(np.ptp(true_at_ends[inside])) > 1.0
    assert (sensed[~inside] == true_at_ends[~inside]).all()
    # the other zone's sensor was never stuck
    chamber = np.array([s["town-hall"]["council-chamber"] for s in run.sensed])
    assert float(np.ptp(chamber[inside])) > 0.5


def test_faults_do_not_depend_on_how_the_steps_are_chunked(
    municipality: MunicipalityConfig,
) -> None:
    faults = (
        fault("stuck_sensor", "town-hall", "offices", 5.5, 11.0),
        fault("short_cycling", "school", "admin", 8.0, 10.0, period_minutes=6),
        fault("heating_and_cooling", "town-hall", "council-chamber", 9.0, 11.0),
        fault("charger_faulted", "depot", "depot-cp1/2", 6.0, 12.0),
    )
    config = with_faults(municipality, *faults)
    whole, pieces = Run(config, 12.0, chunk=720), Run(config, 12.0, chunk=13)
    for b in config.buildings:
        for role in (MeterRole.MAIN, MeterRole.HVAC):
            if role in {m.role for m in b.meters}:
                np.testing.assert_array_equal(whole.channel(b.id, role), pieces.channel(b.id, role))
    assert whole.sensed[-1] == pieces.sensed[-1]


def test_reduced_capacity_leaves_the_zone_cold_at_full_power(
    municipality: MunicipalityConfig,
) -> None:
    degraded = fault("reduced_capacity", "library", "reading-room", 0.0, 14.0, factor=0.1)
    sound, broken = Run(municipality, 16.0), Run(with_faults(municipality, degraded), 16.0)
    # open 08:30; by noon the sound heat pump has the room near its 20.5 °C setpoint, the
    # broken one runs flat out and leaves it cold
    for hours in (10, 11, 12, 13):
        assert broken.value_at(hours, "library", "zone-reading-room-heating-output") == 100.0
    cold = broken.zone_temperatures("library", 0)
    warm = sound.zone_temperatures("library", 0)
    noon = 12 * 60 - 1
    assert warm[noon] > 20.0
    assert cold[noon] < warm[noon] - 2.0
    # at full output it draws what the sound heat pump draws at full output
    hvac_broken = broken.channel("library", MeterRole.HVAC)
    hvac_sound = sound.channel("library", MeterRole.HVAC)
    first_hour = slice(8 * 60 + 30, 9 * 60 + 30)  # both at full output while warming up
    np.testing.assert_allclose(hvac_broken[first_hour], hvac_sound[first_hour], rtol=1e-9)
    # after the window the heat pump recovers the room
    assert cold[-1] > cold[14 * 60 - 1] + 1.0


def test_reduced_capacity_leaves_the_zone_hot_in_summer(municipality: MunicipalityConfig) -> None:
    june = datetime(2026, 6, 9, 21, 0, tzinfo=UTC)  # Wednesday 10 June, local midnight
    degraded = parse_faults(
        [
            {
                "kind": "reduced_capacity",
                "building": "library",
                "target": "reading-room",
                "factor": 0.1,
            }
        ]
    )
    temperatures = []
    for config in (municipality, with_faults(municipality, *degraded)):
        sim = Simulation(config, june - timedelta(days=1))
        sim.advance_to(june + timedelta(hours=17))
        temperatures.append(sim.readings["library"].zone_temperatures_c["reading-room"])
    # the cooling (35 kW) holds the reading room below 26 °C; at a tenth it passes 27
    assert temperatures[0] < 26.0
    assert temperatures[1] > 27.0


def test_a_stuck_cooling_valve_heats_and_cools_at_once(municipality: MunicipalityConfig) -> None:
    valve = fault("heating_and_cooling", "town-hall", "council-chamber", 9.0, 12.0, fraction=0.5)
    sound, broken = Run(municipality, 14.0), Run(with_faults(municipality, valve), 14.0)
    for hours in (10, 11):
        heating = broken.value_at(hours, "town-hall", "zone-council-chamber-heating-output")
        cooling = broken.value_at(hours, "town-hall", "zone-council-chamber-cooling-output")
        assert isinstance(heating, float)
        assert heating > 20.0
        assert cooling == 50.0
        assert sound.value_at(hours, "town-hall", "zone-council-chamber-cooling-output") == 0.0
    window = slice(9 * 60, 12 * 60)
    used = [r.channel("town-hall", MeterRole.HVAC)[window].sum() / 60e3 for r in (sound, broken)]
    assert used[1] > used[0] + 3.0  # kWh wasted by cooling what is heated
    assert broken.value_at(13, "town-hall", "zone-council-chamber-cooling-output") == 0.0


def test_a_stuck_heating_valve_heats_a_warm_zone(municipality: MunicipalityConfig) -> None:
    valve = fault("stuck_heating", "town-hall", "offices", 17.0, 22.0, fraction=0.6)
    sound, broken = Run(municipality, 23.0), Run(with_faults(municipality, valve), 23.0)
    # after 17:00 the offices set back to 16 °C and no longer heat ...
    assert sound.value_at(19, "town-hall", "zone-offices-heating-output") == 0.0
    # ... except with the valve stuck open
    assert broken.value_at(19, "town-hall", "zone-offices-heating-output") == 60.0
    offices = [r.zone_temperatures("town-hall", 0)[22 * 60 - 1] for r in (sound, broken)]
    assert offices[1] > offices[0] + 0.3
    assert broken.value_at(23, "town-hall", "zone-offices-heating-output") == 0.0


def test_short_cycling_starts_the_heat_pump_once_per_period(
    municipality: MunicipalityConfig,
) -> None:
    # the library has one zone: its HVAC meter is that zone's heat pump
    cycling = fault("short_cycling", "library", "reading-room", 9.0, 11.0, period_minutes=6)
    sound, broken = Run(municipality, 12.0), Run(with_faults(municipality, cycling), 12.0)

    def starts(run: Run, start: float, end: float) -> int:
        on = run.channel("library", MeterRole.HVAC) > 0
        ends = run.step_ends()
        inside = (ends > at(start).timestamp()) & (ends <= at(end).timestamp())
        return int(np.sum(on[1:][inside[1:]] & ~on[:-1][inside[1:]]))

    # 10 per hour; the first on-phase goes on from before, not a start
    assert starts(broken, 9.0, 11.0) == 19
    assert starts(sound, 9.0, 11.0) == 0  # the sound heat pump runs through
    assert starts(broken, 11.0, 12.0) <= 1
    # the status object says what runs next: off in the second half of each period
    run = Run(with_faults(municipality, cycling), 10.0, chunk=1)
    phase = {
        round((t - at(9).timestamp()) / 60) % 6: v["library"]["zone-reading-room-heat-pump-status"]
        for v, t in zip(run.values, run.ends, strict=True)
        if at(9.5).timestamp() <= t < at(10).timestamp()
    }
    assert phase == {0: True, 1: True, 2: True, 3: False, 4: False, 5: False}


def test_a_forgotten_override_holds_the_zone_at_its_value_in_the_physics(
    municipality: MunicipalityConfig,
) -> None:
    """Without the BACnet controllers too (the history export, a warm-up): an operator's
    value outranks Polis' commands, inside its window only."""
    held = fault("forgotten_override", "library", "reading-room", 9.0, 11.0, value=24.0)
    sim = Simulation(with_faults(municipality, held), MIDNIGHT)
    command = {"library": Commands(heating_setpoints_c={"reading-room": 19.0})}
    setpoints = []
    for traces in sim.advance(12 * 60, command):
        setpoints.append(traces["library"].zone_setpoints_c[0])
    sp = np.concatenate(setpoints)
    assert set(sp[9 * 60 : 11 * 60]) == {24.0}
    assert set(sp[: 9 * 60]) == {19.0}
    assert set(sp[11 * 60 :]) == {19.0}


def test_a_zone_without_cooling_never_shows_a_cooling_output(
    municipality: MunicipalityConfig,
) -> None:
    """The school's classrooms have no cooling: hot in June, their cooling output stays 0,
    also with the heating valve stuck open."""
    june = datetime(2026, 6, 9, 21, 0, tzinfo=UTC)
    valve = parse_faults(
        [{"kind": "stuck_heating", "building": "school", "target": "classrooms", "fraction": 0.3}]
    )
    sim = Simulation(with_faults(municipality, *valve), june - timedelta(days=2))
    sim.advance_to(june + timedelta(hours=12))
    school = building(municipality, "school")
    values = object_values(school, sim.readings["school"], True)
    assert sim.readings["school"].zone_temperatures_c["classrooms"] > 30.0
    assert values["zone-classrooms-heating-output"] == 30.0
    assert values["zone-classrooms-cooling-output"] == 0.0


def test_a_load_left_on_overnight_shows_on_its_meter_and_the_main_meter(
    municipality: MunicipalityConfig,
) -> None:
    lights = fault("load_left_on", "town-hall", "lighting", 20.0, 30.0)
    heater = fault("load_left_on", "school", "plug", 1.0, 3.0, power_kw=40.0)
    sound = Run(municipality, 30.0)
    broken = Run(with_faults(municipality, lights, heater), 30.0)
    town_hall = building(municipality, "town-hall")
    full_kw = town_hall.lighting_w_per_m2 * town_hall.floor_area_m2 / 1000.0
    night = slice(22 * 60, 28 * 60)  # 22:00 to 04:00 local
    lit = broken.channel("town-hall", MeterRole.LIGHTING)[night] / 1000.0
    np.testing.assert_allclose(lit, full_kw)
    usual = sound.channel("town-hall", MeterRole.LIGHTING)[night] / 1000.0
    assert float(usual.max()) < 0.1 * full_kw  # a night light only
    extra = broken.channel("town-hall", MeterRole.MAIN) - sound.channel("town-hall", MeterRole.MAIN)
    np.testing.assert_allclose(extra[night] / 1000.0, full_kw - usual, rtol=1e-9)
    school = broken.channel("school", MeterRole.MAIN) - sound.channel("school", MeterRole.MAIN)
    assert float(np.mean(school[60:180])) == pytest.approx(40_000.0, rel=0.02)
    assert float(np.abs(school[:60]).max()) == 0.0


def test_a_faulted_charger_reports_faulted_and_delivers_nothing(
    municipality: MunicipalityConfig,
) -> None:
    # the car on depot-cp1's first connector arrives at 08:35 and would charge until 09:51
    broken_cp = fault("charger_faulted", "depot", "depot-cp1/1", 7.0, 11.0)
    sound, broken = Run(municipality, 12.0), Run(with_faults(municipality, broken_cp), 12.0)

    def chargers_w(run: Run) -> np.ndarray:
        return np.concatenate([t["depot"].ev_charger_w for t in run.traces], axis=1)

    window, after = slice(7 * 60, 11 * 60), slice(11 * 60, 12 * 60)
    assert float(chargers_w(sound)[0, window].sum()) > 0.0
    assert float(chargers_w(broken)[0, window].sum()) == 0.0
    assert float(chargers_w(broken)[0, after].sum()) > 0.0  # repaired, the car charges
    np.testing.assert_array_equal(chargers_w(broken)[1:], chargers_w(sound)[1:])
    plant = broken.sim.readings["depot"].plant
    assert plant is not None
    assert not plant.chargers[0].faulted  # the window is over at noon
    mid = Simulation(with_faults(municipality, broken_cp), MIDNIGHT)
    mid.advance_to(at(9))
    chargers = mid.readings["depot"].plant.chargers  # type: ignore[union-attr]
    assert chargers[0].faulted
    assert connector_status(chargers[0]) == "Faulted"
    assert not chargers[3].faulted
    assert connector_status(chargers[3]) == "SuspendedEV"  # its car is full by 08:30


def test_faults_switched_at_run_time_act_from_the_next_step(
    municipality: MunicipalityConfig,
) -> None:
    sim = Simulation(municipality, MIDNIGHT)
    sim.advance_to(at(9))
    sim.set_faults([parse_fault_option("kind=stuck_sensor,building=school,target=admin")])
    sim.advance_to(at(10))
    frozen = sim.readings["school"].sensed_temperature_c("admin")
    sim.advance_to(at(11))
    assert sim.readings["school"].sensed_temperature_c("admin") == frozen
    assert sim.readings["school"].zone_temperatures_c["admin"] != frozen
    sim.set_faults([])
    sim.advance_to(at(11) + timedelta(minutes=1))
    reading = sim.readings["school"]
    assert reading.sensed_temperature_c("admin") == reading.zone_temperatures_c["admin"]
    with pytest.raises(FaultError, match=r"faults\.0\.target"):
        sim.set_faults([parse_fault_option("kind=stuck_sensor,building=school,target=gym")])
