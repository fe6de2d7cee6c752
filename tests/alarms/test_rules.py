"""Every built-in rule: it raises, holds in its hysteresis band, and clears (windows by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alarms.scene import (
    CONNECTOR,
    COOLING,
    EXPORT,
    HEATING,
    IMPORT,
    MAIN_POWER,
    MANUAL,
    NOW,
    OUTDOOR,
    SETPOINT,
    STATUS,
    TEMPERATURE,
    engine,
    healthy,
    judge,
    series,
)
from polis.alarms.facts import (
    BaselineExpectation,
    ControlFacts,
    ExpectationKind,
    FallbackPlan,
    OverrideInForce,
    RefusedCommand,
)
from polis.alarms.model import Severity, Status
from polis.alarms.rules.base import (
    DEMAND,
    ENERGY,
    FLAT_MAX,
    FLAT_MIN,
    FLAT_PLANT,
    HELD,
    ZONE,
    ZONE_MIN,
)
from polis.alarms.rules.energy import after_hours_span
from polis.alarms.windows import Windows

pytestmark = pytest.mark.unit

HOUR = timedelta(hours=1)
SPAN = timedelta(hours=2)


# -- communication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("silent_min", "status"),
    [(20, Status.RAISE), (7, Status.HOLD), (1, Status.CLEAR)],
)
def test_a_silent_device_is_stale_after_ten_minutes_and_clears_within_five(
    silent_min: int, status: Status
) -> None:
    windows = healthy()
    for pid in [p for p in windows.last_measured if "/b1-main/" in p]:
        windows.last_measured[pid] = NOW - timedelta(minutes=silent_min)
    found = judge(engine(), windows, "communication.stale", "b1-main")
    assert found.status is status
    assert found.severity is Severity.MAJOR
    assert found.evidence.figures["raise_after_min"] == 10.0  # 5 polls of 10 s is less
    assert found.evidence.figures["clear_within_min"] == 5.0
    # its points are the device's alarm, not each their own
    point = judge(engine(), windows, "communication.stale", "b1-main/total-power")
    assert point.status is (Status.CLEAR if status is Status.CLEAR else Status.HOLD)


def test_a_point_silent_while_its_device_answers_is_stale_as_a_warning() -> None:
    windows = healthy()
    windows.last_measured[OUTDOOR] = NOW - timedelta(minutes=30)
    found = judge(engine(), windows, "communication.stale", "b1-bms/outdoor-air-temperature")
    assert (found.status, found.severity) == (Status.RAISE, Severity.WARNING)
    assert judge(engine(), windows, "communication.stale", "b1-bms").status is Status.CLEAR


def test_a_store_that_just_started_receiving_raises_nothing_stale() -> None:
    windows = healthy()
    windows.last_measured.clear()  # nothing measured yet ...
    windows.first_seen = NOW - timedelta(minutes=3)  # ... in the three minutes since start
    verdicts = {
        a.status for a in engine().assess(NOW, windows) if a.key.rule == "communication.stale"
    }
    assert verdicts == {Status.CLEAR}
    windows.first_seen = None  # nothing at all in the store: nothing can be judged
    verdicts = {
        a.status for a in engine().assess(NOW, windows) if a.key.rule == "communication.stale"
    }
    assert verdicts == {Status.HOLD}


@pytest.mark.parametrize(
    ("flagged", "status"), [(30, Status.RAISE), (10, Status.HOLD), (2, Status.CLEAR)]
)
def test_flagged_readings_above_a_fifth_raise_and_below_five_percent_clear(
    flagged: int, status: Status
) -> None:
    windows = healthy()
    for ref in engine().catalogue.points():
        windows.quality[ref.point_id] = {"good": 100}
    windows.quality[OUTDOOR] = {"good": 100 - flagged, "out_of_range": flagged}
    found = judge(engine(), windows, "communication.quality", "b1-bms")
    assert found.status is status
    if status is Status.RAISE:
        assert found.points == (OUTDOOR,)
        assert "out_of_range 30 of 100" in found.message


def test_a_device_that_does_not_answer_leaves_quality_to_the_stale_rule() -> None:
    windows = healthy()
    for ref in engine().catalogue.points():
        windows.quality[ref.point_id] = {"missing": 60}
        windows.last_measured[ref.point_id] = NOW - HOUR
    assert judge(engine(), windows, "communication.quality", "b1-bms").status is Status.HOLD


# -- comfort ------------------------------------------------------------------------------


def zone(temperature: float, heating: float = 100.0, now: datetime = NOW) -> Windows:
    windows: Windows = healthy(now)
    series(windows, ZONE, TEMPERATURE, temperature, SPAN)
    series(windows, ZONE, HEATING, heating, SPAN)
    series(windows, ZONE, COOLING, 0.0, SPAN)
    return windows


@pytest.mark.parametrize(
    ("temperature", "status"), [(18.0, Status.RAISE), (19.0, Status.HOLD), (20.2, Status.CLEAR)]
)
def test_a_cold_zone_raises_below_the_band_less_1_5_k_and_clears_within_0_5_k(
    temperature: float, status: Status
) -> None:
    found = judge(engine(), zone(temperature), "comfort.too_cold", "z1")
    assert found.status is status
    assert found.evidence.figures["threshold_c"] == 18.5


def test_the_message_tells_under_capacity_from_a_control_problem() -> None:
    full = judge(engine(), zone(18.0, heating=100.0), "comfort.too_cold", "z1")
    assert "heat pump at 100% of full output: under capacity" in full.message
    assert full.severity is Severity.WARNING
    idle = judge(engine(), zone(18.0, heating=20.0), "comfort.too_cold", "z1")
    assert "only 20% of full output: a control problem" in idle.message
    assert full.evidence.series[0].point_id == TEMPERATURE
    assert full.evidence.series[1].point_id == HEATING


def test_a_zone_warming_up_or_not_occupied_long_enough_is_not_judged_cold() -> None:
    warming = zone(18.0)
    series(warming, ZONE, TEMPERATURE, lambda t: 17.0 + (t - (NOW - SPAN)) / HOUR * 0.5, SPAN)
    assert judge(engine(), warming, "comfort.too_cold", "z1").status is Status.HOLD
    morning = NOW.replace(hour=6, minute=50)  # occupied since 06:00: inside the grace
    assert judge(engine(), zone(16.0, now=morning), "comfort.too_cold", "z1").status is Status.HOLD
    night = NOW.replace(hour=23, minute=30)
    assert judge(engine(), zone(16.0, now=night), "comfort.too_cold", "z1").status is Status.HOLD


def test_a_gap_in_the_readings_leaves_the_zone_unjudged() -> None:
    windows = zone(18.0)
    series(
        windows,
        ZONE,
        TEMPERATURE,
        lambda t: None if t > NOW - 40 * timedelta(minutes=1) else 18.0,
        SPAN,
    )
    assert judge(engine(), windows, "comfort.too_cold", "z1").status is Status.HOLD


def test_a_hot_zone_is_judged_against_its_cooling_setpoint() -> None:
    # band 20-22, cooling from 20 + 5 = 25, at least 26 (EN 16798-1): raise above 27.5
    hot = zone(28.0, heating=0.0)
    series(hot, ZONE, COOLING, 100.0, SPAN)
    found = judge(engine(), hot, "comfort.too_hot", "z1")
    assert (found.status, found.evidence.figures["threshold_c"]) == (Status.RAISE, 27.5)
    assert found.severity is Severity.INFO  # cooling at full output: under capacity
    series(hot, ZONE, COOLING, 10.0, SPAN)
    found = judge(engine(), hot, "comfort.too_hot", "z1")
    assert found.severity is Severity.WARNING
    assert judge(engine(), zone(27.0, heating=0), "comfort.too_hot", "z1").status is Status.HOLD
    assert judge(engine(), zone(26.4, heating=0), "comfort.too_hot", "z1").status is Status.CLEAR


def test_a_zone_override_changes_its_thresholds_and_can_switch_a_rule_off() -> None:
    strict = engine(
        {
            "overrides": [
                {
                    "building": "b1",
                    "zone": "z1",
                    "rules": {"comfort.too_cold": {"raise_margin_k": 0.5}},
                }
            ]
        }
    )
    found = judge(strict, zone(19.0), "comfort.too_cold", "z1")
    assert (found.status, found.evidence.figures["threshold_c"]) == (Status.RAISE, 19.5)
    off = engine(
        {"overrides": [{"building": "b1", "rules": {"comfort.too_cold": {"enabled": False}}}]}
    )
    assert not [a for a in off.assess(NOW, zone(15.0)) if a.key.rule == "comfort.too_cold"]


# -- hvac ---------------------------------------------------------------------------------


def test_heating_and_cooling_at_once_for_15_minutes_raises_and_clears_when_apart() -> None:
    windows = healthy()
    for point in (HEATING, COOLING):
        series(windows, ZONE_MIN, point, 30.0, SPAN)
        series(windows, ZONE, point, 35.0, SPAN)
    found = judge(engine(), windows, "hvac.simultaneous_heat_cool", "z1")
    assert (found.status, found.severity) == (Status.RAISE, Severity.MAJOR)
    series(
        windows, ZONE_MIN, COOLING, lambda t: 0.0 if t >= NOW - timedelta(minutes=5) else 30.0, SPAN
    )
    assert judge(engine(), windows, "hvac.simultaneous_heat_cool", "z1").status is Status.HOLD
    series(windows, ZONE, COOLING, 0.0, SPAN)
    assert judge(engine(), windows, "hvac.simultaneous_heat_cool", "z1").status is Status.CLEAR


@pytest.mark.parametrize(
    ("outdoor", "status"), [(19.0, Status.RAISE), (17.5, Status.HOLD), (16.5, Status.CLEAR)]
)
def test_heating_above_the_heating_limit(outdoor: float, status: Status) -> None:
    # limit = the band's 20 °C less 4 K = 16 °C; raise above 18, clear below 17
    windows = healthy()
    series(windows, ZONE, HEATING, 60.0, SPAN)
    series(windows, ZONE, OUTDOOR, outdoor, SPAN)
    found = judge(engine(), windows, "hvac.heating_above_limit", "z1")
    assert (found.status, found.evidence.figures["heating_limit_c"]) == (status, 16.0)


def test_the_catalogue_heating_limit_wins() -> None:
    doc_engine = engine()
    zone_load = (
        doc_engine.catalogue.buildings[0].loads[0].model_copy(update={"heating_limit_c": 10.0})
    )
    building = doc_engine.catalogue.buildings[0].model_copy(update={"loads": (zone_load,)})
    from polis.alarms.engine import AlarmEngine

    e = AlarmEngine(doc_engine.catalogue.model_copy(update={"buildings": (building,)}))
    windows = healthy()
    series(windows, ZONE, HEATING, 60.0, SPAN)
    series(windows, ZONE, OUTDOOR, 13.0, SPAN)
    assert judge(e, windows, "hvac.heating_above_limit", "z1").status is Status.RAISE


@pytest.mark.parametrize(
    ("starts", "status"), [(8, Status.RAISE), (5, Status.HOLD), (2, Status.CLEAR)]
)
def test_short_cycling_counts_starts_in_the_hour(starts: int, status: Status) -> None:
    windows = healthy()
    windows.starts[STATUS] = starts
    found = judge(engine(), windows, "hvac.short_cycling", "z1")
    assert (found.status, found.evidence.figures["starts"]) == (status, float(starts))


def flat(windows: Windows, lows: float, highs: float, plant: float) -> None:
    span = timedelta(hours=5)
    series(windows, FLAT_MIN, TEMPERATURE, lows, span)
    series(windows, FLAT_MAX, TEMPERATURE, highs, span)
    series(windows, FLAT_PLANT, HEATING, plant, span)
    series(windows, FLAT_PLANT, COOLING, 0.0, span)


def test_a_sensor_that_does_not_move_for_four_hours_while_heating_is_flatlined() -> None:
    windows = healthy()
    flat(windows, 20.5, 20.5, 60.0)
    found = judge(engine(), windows, "sensor.flatlined", "b1-bms/zone-z1-temperature")
    assert found.status is Status.RAISE
    flat(windows, 20.5, 20.5, 0.0)  # the plant is off: a stable room, not a stuck sensor
    assert (
        judge(engine(), windows, "sensor.flatlined", "b1-bms/zone-z1-temperature").status
        is Status.HOLD
    )
    flat(windows, 20.4, 20.6, 60.0)
    assert (
        judge(engine(), windows, "sensor.flatlined", "b1-bms/zone-z1-temperature").status
        is Status.CLEAR
    )


# -- energy -------------------------------------------------------------------------------


def counters(
    windows: Windows, kwh_per_hour: float, hours: int = 30, missing: datetime | None = None
) -> None:
    start = NOW - timedelta(hours=hours)
    series(
        windows,
        ENERGY,
        IMPORT,
        lambda t: None if t == missing else 1000 + (t - start) / HOUR * kwh_per_hour,
        timedelta(hours=hours),
    )
    series(windows, ENERGY, EXPORT, 0.0, timedelta(hours=hours))


DAY = BaselineExpectation("b1", NOW - timedelta(hours=24), NOW - timedelta(hours=14), 100.0, 5.0)


@pytest.mark.parametrize(
    ("per_hour", "status"), [(13.0, Status.RAISE), (11.2, Status.HOLD), (10.5, Status.CLEAR)]
)
def test_consumption_above_the_expectation_and_its_uncertainty(
    per_hour: float, status: Status
) -> None:
    # 10 hours expected at 100 ± 5 kWh: raise above max(100 + 3σ, 110, 105) = 115, clear at 110
    windows = healthy()
    counters(windows, per_hour)
    found = judge(engine(), windows, "energy.above_baseline", baselines=[DAY])
    assert found.status is status
    assert found.evidence.figures["measured_kwh"] == pytest.approx(per_hour * 10)
    assert found.evidence.figures["threshold_kwh"] == 115.0


def test_a_noisy_building_needs_more_to_alarm_and_a_gap_is_not_judged() -> None:
    noisy = BaselineExpectation("b1", DAY.start, DAY.end, 100.0, 15.0)
    windows = healthy()
    counters(windows, 13.5)  # 135 kWh: an alarm for the building at ± 5 kWh, not at ± 15 kWh
    assert judge(engine(), windows, "energy.above_baseline", baselines=[DAY]).status is Status.RAISE
    assert (
        judge(engine(), windows, "energy.above_baseline", baselines=[noisy]).status is Status.HOLD
    )
    counters(windows, 13.0, missing=NOW - timedelta(hours=20))
    assert judge(engine(), windows, "energy.above_baseline", baselines=[DAY]).status is Status.HOLD


def _night(start: datetime, end: datetime, kw: float, sigma_kw: float) -> BaselineExpectation:
    hours = (end - start) / HOUR
    return BaselineExpectation(
        "b1", start, end, kw * hours, sigma_kw * hours, kind=ExpectationKind.AFTER_HOURS
    )


def test_after_hours_span_is_the_last_unoccupied_hours_clear_of_the_morning_start() -> None:
    (b1,) = engine().buildings
    night = NOW.replace(hour=3, minute=30)  # unoccupied since 22:00, opening at 06:00
    assert after_hours_span(b1, night) == (night.replace(hour=1, minute=0), night.replace(minute=0))
    assert after_hours_span(b1, night.replace(hour=5)) is None  # 03:00-05:00: the warm-up
    assert after_hours_span(b1, NOW) is None  # open
    assert after_hours_span(b1, NOW.replace(hour=23, minute=10)) is None  # 21:00 was open
    assert after_hours_span(b1, NOW.replace(hour=0, minute=30)) is None  # the wind-down
    assert after_hours_span(b1, NOW.replace(hour=2, minute=30)) is not None  # 00:00-02:00


def test_after_hours_consumption_above_what_the_model_expects_for_those_hours() -> None:
    night = NOW.replace(hour=3, minute=30)  # unoccupied since 22:00
    span = (night.replace(hour=1, minute=0), night.replace(minute=0))
    windows = healthy(night)
    series(
        windows,
        ENERGY,
        IMPORT,
        lambda t: (t - night).total_seconds() / 3600 * 8.0 + 500,
        timedelta(hours=8),
    )
    series(windows, ENERGY, EXPORT, 0.0, timedelta(hours=8))
    day = BaselineExpectation("b1", night - timedelta(days=1), night - HOUR, 100, 5)
    base = _night(*span, 5.0, 0.5)
    found = judge(engine(), windows, "energy.after_hours", baselines=[day, base])
    assert (found.status, found.evidence.figures["measured_kw"]) == (Status.RAISE, 8.0)
    assert found.evidence.figures["threshold_kw"] == pytest.approx(6.5)  # 5 + 3 × 0.5
    # a model whose day says an hour is uncertain by 1 kW: 8 kW is not above 5 + 3 × 1
    wide = BaselineExpectation(
        "b1", night - timedelta(days=1), night - HOUR, 100, 5, unoccupied_uncertainty_kw=1.0
    )
    lenient = judge(engine(), windows, "energy.after_hours", baselines=[wide, base])
    assert (lenient.status, lenient.evidence.figures["threshold_kw"]) == (Status.HOLD, 8.0)
    # a cold night the model expects 7.5 kW for: 8 kW is within it
    cold = judge(engine(), windows, "energy.after_hours", baselines=[_night(*span, 7.5, 0.5)])
    assert cold.status is Status.CLEAR
    # only a day's expectation (the model was not asked about these hours): not judged
    assert judge(engine(), windows, "energy.after_hours", baselines=[day]).status is Status.HOLD
    series(
        windows,
        ENERGY,
        IMPORT,
        lambda t: (t - night).total_seconds() / 3600 * 5.2 + 500,
        timedelta(hours=8),
    )
    assert judge(engine(), windows, "energy.after_hours", baselines=[base]).status is Status.CLEAR
    # hours within 3 h of the opening are the morning start: an expectation for them is not
    # judged
    dawn = healthy(night.replace(hour=5))
    series(
        dawn,
        ENERGY,
        IMPORT,
        lambda t: (t - night).total_seconds() / 3600 * 8.0 + 500,
        timedelta(hours=8),
    )
    series(dawn, ENERGY, EXPORT, 0.0, timedelta(hours=8))
    warm_up = _night(night.replace(hour=3, minute=0), night.replace(hour=5, minute=0), 5.0, 0.5)
    assert judge(engine(), dawn, "energy.after_hours", baselines=[warm_up]).status is Status.HOLD
    # by day the night's verdict stands: raised at night, still raised at noon
    day_windows = healthy()
    series(
        day_windows,
        ENERGY,
        IMPORT,
        lambda t: (t - night).total_seconds() / 3600 * 8.0 + 500,
        timedelta(hours=14),
    )
    series(day_windows, ENERGY, EXPORT, 0.0, timedelta(hours=14))
    assert judge(engine(), day_windows, "energy.after_hours", baselines=[base]).status is (
        Status.RAISE
    )


@pytest.mark.parametrize(
    ("kw", "status"), [(85.0, Status.RAISE), (75.0, Status.HOLD), (70.0, Status.CLEAR)]
)
def test_a_quarter_hour_above_the_contracted_peak(kw: float, status: Status) -> None:
    windows = healthy()
    series(
        windows,
        DEMAND,
        MAIN_POWER,
        lambda t: kw if t >= NOW - timedelta(minutes=30) else 60.0,
        SPAN,
    )
    found = judge(engine(), windows, "energy.peak_limit")
    assert (found.status, found.severity) == (status, Severity.MAJOR)


# -- control ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "status"), [(25, Status.RAISE), (2, Status.HOLD), (None, Status.CLEAR)]
)
def test_an_override_in_force_for_more_than_a_day(hours: int | None, status: Status) -> None:
    overrides = (
        ()
        if hours is None
        else (
            OverrideInForce("b1", SETPOINT, NOW - timedelta(hours=hours), by="maria", value=23.0),
        )
    )
    windows = healthy()
    series(windows, HELD, MANUAL, 0.0, timedelta(hours=30))  # the controller holds nothing
    found = judge(
        engine(),
        windows,
        "control.override_long",
        "b1-bms/zone-z1-heating-setpoint",
        ControlFacts(overrides=overrides),
    )
    assert found.status is status
    if status is Status.RAISE:
        assert "overridden at 23 by maria" in found.message


@pytest.mark.parametrize(
    ("held_h", "status"),
    [(26, Status.RAISE), (5, Status.HOLD), (0, Status.CLEAR), (None, Status.HOLD)],
)
def test_a_setpoint_held_at_the_controller_for_more_than_a_day(
    held_h: int | None, status: Status
) -> None:
    """The controller's manual-override status: on for 26 h raises, for 5 h holds, off in its
    latest half hour clears; no readings at all (a silent device) holds."""
    windows = healthy()
    if held_h is not None:
        since = NOW - timedelta(hours=held_h)
        series(windows, HELD, MANUAL, lambda t: 1.0 if t >= since else 0.0, timedelta(hours=30))
    found = judge(engine(), windows, "control.override_long", "b1-bms/zone-z1-heating-setpoint")
    assert found.status is status
    if status is Status.RAISE:
        assert "held by a manual command at the controller" in found.message
        assert [s.point_id for s in found.evidence.series] == [MANUAL]
    # an override through Polis in force for an hour and the controller held for a day:
    # the controller's account raises
    if held_h == 26:
        facts = ControlFacts(overrides=(OverrideInForce("b1", SETPOINT, NOW - HOUR, by="maria"),))
        both = judge(
            engine(), windows, "control.override_long", "b1-bms/zone-z1-heating-setpoint", facts
        )
        assert both.status is Status.RAISE


@pytest.mark.parametrize(
    ("minutes", "status"), [(120, Status.RAISE), (10, Status.HOLD), (None, Status.CLEAR)]
)
def test_a_building_on_the_fallback_plan_for_an_hour(minutes: int | None, status: Status) -> None:
    plans = (
        ()
        if minutes is None
        else (FallbackPlan("b1", NOW - timedelta(minutes=minutes), "solver timed out"),)
    )
    found = judge(
        engine(), healthy(), "control.fallback_plan", facts=ControlFacts(fallback_plans=plans)
    )
    assert found.status is status


def test_refused_commands_raise_and_clear_after_an_hour_without() -> None:
    e = engine({"rules": {"control.command_refused": {"raise_count": 2}}})
    subject = "b1-bms/zone-z1-heating-setpoint"

    def verdict(*minutes_ago: int) -> Status:
        refused = tuple(
            RefusedCommand("b1", SETPOINT, NOW - timedelta(minutes=m), "out of limits")
            for m in minutes_ago
        )
        facts = ControlFacts(refused_commands=refused)
        status: Status = judge(e, healthy(), "control.command_refused", subject, facts).status
        return status

    assert verdict(5, 20) is Status.RAISE
    assert verdict(5) is Status.HOLD
    assert verdict(90) is Status.CLEAR


def test_a_connector_faulted_for_15_minutes() -> None:
    windows = healthy()
    series(windows, ZONE_MIN, CONNECTOR, 8.0, SPAN)
    found = judge(engine(), windows, "ev.charger_faulted", "b1-cp/connector-1-status")
    assert (found.status, found.message) == (
        Status.RAISE,
        "b1-cp/connector-1-status: faulted for 15 min",
    )
    series(windows, ZONE_MIN, CONNECTOR, 2.0, SPAN)
    assert (
        judge(engine(), windows, "ev.charger_faulted", "b1-cp/connector-1-status").status
        is Status.CLEAR
    )
