"""Hourly energy from the adapter's cumulative counters: pure rules, then on real InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from polis.common.influx import InfluxStore, Sample, to_ns
from polis.savings.metered import (
    add_generation,
    hourly_from_counter,
    merge_preferring,
    net_hourly,
    subtract_submeter,
)
from polis.savings.store import InfluxMeterStore

pytestmark = pytest.mark.integration

H0 = datetime(2026, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


def test_counter_differences_become_hourly_energy() -> None:
    last = [(H0, 100.0), (H0 + H, 104.5), (H0 + 2 * H, 110.0)]
    assert hourly_from_counter(last) == {H0 + H: 4.5, H0 + 2 * H: 5.5}


def test_gaps_are_not_zero_and_resets_count_from_zero() -> None:
    last = [(H0, 100.0), (H0 + 3 * H, 120.0), (H0 + 4 * H, 2.0)]
    assert hourly_from_counter(last) == {H0 + 4 * H: 2.0}


def test_net_is_import_minus_export_on_common_hours() -> None:
    imported = {H0: 10.0, H0 + H: 8.0}
    exported = {H0 + H: 3.0}
    assert net_hourly(imported, exported) == [(H0 + H, 5.0)]
    assert net_hourly(imported) == [(H0, 10.0), (H0 + H, 8.0)]


def test_imported_history_wins_over_measurements() -> None:
    assert merge_preferring([(H0, 1.0)], [(H0, 9.0), (H0 + H, 2.0)]) == [(H0, 1.0), (H0 + H, 2.0)]


def _reading(
    point: str, quantity: str, value: float, at: datetime, quality: str = "good"
) -> Sample:
    return Sample(
        "reading",
        {
            "building": "library",
            "device": "library-bms" if quantity == "temperature" else "library-main",
            "point": point,
            "quantity": quantity,
            "quality": quality,
        },
        {"value": value},
        to_ns(at),
    )


@pytest.mark.influx
def test_store_derives_hours_from_adapter_readings(influx_store: InfluxStore) -> None:
    # Point tags as the adapter writes them: stable ids.
    imp = "larissa/library/library-main/import-energy"
    exp = "larissa/library/library-main/export-energy"
    oat = "larissa/library/library-bms/outdoor-air-temperature"
    samples = []
    for minute in range(0, 4 * 60, 10):  # readings every 10 minutes for four hours
        at = H0 + timedelta(minutes=minute)
        samples.append(_reading(imp, "active_energy", 1000.0 + 2.0 * minute / 60 * 6, at))
        samples.append(_reading(exp, "active_energy", 50.0 + minute / 60, at))
        # A per-phase counter whose name starts alike must not be taken for the total.
        samples.append(_reading(imp + "-l1", "active_energy", 9.0 * minute, at))
        samples.append(_reading(oat, "temperature", 4.0 + minute / 60, at))
    # A missing reading repeats a stale value and must not count as a measurement.
    samples.append(_reading(imp, "active_energy", 0.0, H0 + timedelta(minutes=235), "missing"))
    influx_store.write(samples)
    store = InfluxMeterStore(influx_store)

    energy = store.energy("library", "library-main", H0, H0 + 4 * H)
    # last import reading per hour: minute 50 of each hour → 12 kWh/h import, 1 kWh/h export
    assert [t for t, _ in energy] == [H0 + k * H for k in (1, 2, 3)]
    assert [kwh for _, kwh in energy] == pytest.approx([11.0, 11.0, 11.0])
    temperature = store.temperature("library", H0, H0 + 4 * H)
    assert [t for t, _ in temperature] == [H0 + k * H for k in range(4)]
    assert temperature[0][1] == pytest.approx(4.0 + sum(range(0, 60, 10)) / 6 / 60)


def test_generation_is_added_back_to_net_grid_energy() -> None:
    net = [(H0, -3.0), (H0 + H, 5.0), (H0 + 2 * H, 4.0)]
    pv = [(H0, -10.0), (H0 + H, -2.0)]  # production recorded as export
    assert add_generation(net, pv) == [(H0, 7.0), (H0 + H, 7.0), (H0 + 2 * H, 4.0)]


def test_submetered_loads_outside_the_boundary_are_subtracted() -> None:
    energy = [(H0, 10.0), (H0 + H, 12.0)]
    assert subtract_submeter(energy, [(H0, 4.0), (H0 + H, 0.0)]) == [(H0, 6.0), (H0 + H, 12.0)]
    assert subtract_submeter(energy, [(H0, 4.0)]) == [(H0, 6.0)]  # a sub-meter gap is a gap
    assert subtract_submeter(energy, []) == energy  # no such sub-meter


@pytest.mark.influx
def test_storage_power_point_becomes_hourly_energy(influx_store: InfluxStore) -> None:
    point = "larissa/depot/depot-bms/battery-power"
    samples = []
    for minute in range(0, 3 * 60, 10):
        at = H0 + timedelta(minutes=minute)
        kw = (30.0, -20.0, 6.0 * (minute % 60) / 10)[minute // 60]  # hour 2 ramps 0..30 kW
        tags = {"building": "depot", "device": "depot-bms", "point": point}
        tags |= {"quantity": "active_power", "unit": "kW", "quality": "good"}
        samples.append(Sample("reading", tags, {"value": kw}, to_ns(at)))
    influx_store.write(samples)
    energy = InfluxMeterStore(influx_store).power_energy("depot", "battery-power", H0, H0 + 3 * H)
    assert [t for t, _ in energy] == [H0, H0 + H, H0 + 2 * H]
    # mean kW over each hour = kWh in it: 30, -20, and the ramp's mean (0+6+...+30)/6 = 15
    assert [kwh for _, kwh in energy] == pytest.approx([30.0, -20.0, 15.0])
