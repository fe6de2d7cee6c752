"""What a baseline model expects over a period (the gateway's energy alarms): the same adjusted
baseline and uncertainty as a report of that period, its share at the main meter when
generation is added back, and the unoccupied hours' expected power."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from savings.conftest import SITES, START, synthetic_csv

from polis.savings.application import SavingsApp
from polis.savings.expectation import per_interval
from polis.savings.measurement import MeasurementOptions, ModelKind, Window
from polis.savings.sites import Scope, ScopeKind
from polis.savings.store import MemoryMeterStore

pytestmark = pytest.mark.unit

# A week of the reporting period (tests/savings/conftest.py), after the 12 % reduction started.
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
WEEK = Window(SWITCH + timedelta(days=14), SWITCH + timedelta(days=21))


def with_pv(store: MemoryMeterStore, building: str, pv_kwh: float) -> str:
    """The building's main meter and weather from ``store`` as CSV, with a PV meter producing
    ``pv_kwh`` every hour and the main meter that much lower."""
    start, end = SWITCH - timedelta(days=366), WEEK.end
    lines = ["meter_id,timestamp,value,unit"]
    for t, v in store.energy(building, "main", start, end):
        lines.append(f"{building}/main/energy,{t.isoformat()},{v - pv_kwh},kWh")
        # a PV meter records its production as export: negative energy
        lines.append(f"{building}/pv/energy,{t.isoformat()},{-pv_kwh},kWh")
    for t, c in store.temperature(building, start, end):
        lines.append(f"{building}/weather/outdoor_temperature,{t.isoformat()},{c},degC")
    return "\n".join(lines) + "\n"


def report_total(app: SavingsApp, baseline: Window, kind: ModelKind | None = None) -> Any:
    report = app.report(Scope(ScopeKind.BUILDING, "town-hall"), baseline, WEEK, kind)
    (building,) = report.buildings
    return building.measurement.periods[-1]


def test_the_expectation_is_the_reports_adjusted_baseline_with_its_uncertainty(
    scenario: Any,
) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    e = app.expectation("town-hall", scenario.baseline, WEEK)
    total = report_total(app, scenario.baseline)
    assert e.accepted
    assert e.model.startswith("hourly TOWT")
    assert e.intervals == 7 * 24
    assert e.expected_kwh == pytest.approx(total.baseline_kwh, rel=1e-9)
    assert e.actual_kwh == pytest.approx(total.actual_kwh, rel=1e-9)
    assert e.uncertainty_kwh == pytest.approx(total.uncertainty_68_kwh, rel=1e-9)
    # 12 % below what the model expects, and that far outside its uncertainty
    assert e.actual_kwh / e.expected_kwh == pytest.approx(0.88, abs=0.03)
    assert e.expected_kwh - e.actual_kwh > 5 * e.uncertainty_kwh


def test_unoccupied_hours_expect_the_base_load(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    e = app.expectation("town-hall", scenario.baseline, WEEK)
    # The synthetic town hall: 20 kW base, 35 kW more when open, heating by the weather.
    assert e.unoccupied_kw is not None
    assert 15.0 < e.unoccupied_kw < e.expected_kwh / e.intervals
    assert e.unoccupied_uncertainty_kw > 0
    daily = app.expectation("town-hall", scenario.baseline, WEEK, ModelKind.DAILY)
    assert daily.accepted
    assert daily.intervals == 7
    assert daily.unoccupied_kw is None  # a daily model knows no hours


def test_the_main_meter_expects_consumption_less_generation(scenario: Any) -> None:
    """The main meter sees consumption less what the rooftop PV produced."""
    store = MemoryMeterStore()
    pv_kwh = 3.0
    csv = with_pv(scenario.store, "town-hall", pv_kwh)
    app = SavingsApp(store, scenario.sites, MeasurementOptions(), generation_device="pv")
    assert not app.import_csv(csv).errors
    plain = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    e = app.expectation("town-hall", scenario.baseline, WEEK)
    consumption = plain.expectation("town-hall", scenario.baseline, WEEK)
    assert e.accepted
    # the model sees the same consumption; the main meter, that less the PV's production
    assert e.expected_kwh == pytest.approx(consumption.expected_kwh, rel=1e-6)
    assert e.actual_kwh == pytest.approx(consumption.actual_kwh, rel=1e-6)
    assert consumption.expected_main_kwh == pytest.approx(consumption.expected_kwh, rel=1e-9)
    assert e.expected_main_kwh == pytest.approx(e.expected_kwh - pv_kwh * 7 * 24, rel=1e-6)


def test_a_building_without_data_has_no_expectation(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    e = app.expectation("library", scenario.baseline, WEEK)
    assert not e.accepted
    assert "coverage" in e.reason or "days" in e.reason
    assert e.expected_kwh == 0.0


def test_interval_energy_is_summed_into_the_interval_it_starts_in() -> None:
    starts = np.array([0, 3600, 7200], dtype=np.int64)
    points = [
        (datetime.fromtimestamp(s, UTC), v)
        for s, v in ((0, 1.0), (1800, 2.0), (3600, 4.0), (10_799, 8.0), (10_800, 16.0))
    ]
    got = per_interval(starts, 10_800, points)
    assert got.tolist() == [3.0, 4.0, 8.0]  # the last point is past the end
    assert np.isnan(per_interval(starts, 10_800, points[:1])[1])


class CountingStore(MemoryMeterStore):
    """A meter store that counts the reads reaching back to a given instant."""

    def __init__(self, since: datetime) -> None:
        super().__init__()
        self.since = since
        self.baseline_reads = 0

    def energy(self, building: str, device: str, start: datetime, end: datetime) -> Any:
        self.baseline_reads += start <= self.since
        return super().energy(building, device, start, end)


NIGHTS = [  # after-hours spans of the reporting period, as the gateway's rule asks them
    Window(SWITCH + timedelta(days=d, hours=h), SWITCH + timedelta(days=d, hours=h + 2))
    for d in (3, 17, 40, 95)
    for h in (0, 2)
]


def test_the_kept_fit_expects_what_a_fresh_fit_does() -> None:
    """The hourly model fitted once on the baseline predicts every later span exactly as the
    model fitted afresh with the span does, and the baseline's data is read once."""
    store = CountingStore(SWITCH - timedelta(days=300))
    assert (
        not SavingsApp(store, SITES, MeasurementOptions())
        .import_csv(synthetic_csv("town-hall", 20))
        .errors
    )
    kept = SavingsApp(store, SITES, MeasurementOptions())
    fresh = SavingsApp(store, SITES, MeasurementOptions(), baseline_cache_s=0.0)
    baseline = Window(START, SWITCH)
    for period in [*NIGHTS, WEEK]:
        a = kept.expectation("town-hall", baseline, period)
        b = fresh.expectation("town-hall", baseline, period)
        assert a.accepted
        assert b.accepted
        assert a.intervals == b.intervals > 0
        assert a.expected_kwh == pytest.approx(b.expected_kwh, rel=1e-12)
        assert a.actual_kwh == pytest.approx(b.actual_kwh, rel=1e-12)
        assert a.uncertainty_kwh == pytest.approx(b.uncertainty_kwh, rel=1e-12)
        assert a.unoccupied_kw == pytest.approx(b.unoccupied_kw, rel=1e-12)
        assert a.unoccupied_uncertainty_kw == pytest.approx(b.unoccupied_uncertainty_kw)
    store.baseline_reads = 0
    for period in NIGHTS:
        kept.expectation("town-hall", baseline, period)
    assert store.baseline_reads == 0
    for period in NIGHTS:
        fresh.expectation("town-hall", baseline, period)
    assert store.baseline_reads == len(NIGHTS)  # without the cache: a read per span


def test_a_csv_import_forgets_the_kept_fit() -> None:
    """New baseline data (a corrected meter export, say) is what the next expectation fits."""
    store = MemoryMeterStore()
    app = SavingsApp(store, SITES, MeasurementOptions())
    assert not app.import_csv(synthetic_csv("town-hall", 20)).errors
    baseline = Window(START, SWITCH)
    before = app.expectation("town-hall", baseline, NIGHTS[0])
    # the same building with a third more base load, over the same hours
    assert not app.import_csv(synthetic_csv("town-hall", 20, scale=4 / 3)).errors
    after = app.expectation("town-hall", baseline, NIGHTS[0])
    again = SavingsApp(store, SITES, MeasurementOptions()).expectation(
        "town-hall", baseline, NIGHTS[0]
    )
    assert after.expected_kwh == pytest.approx(again.expected_kwh, rel=1e-12)
    assert after.expected_kwh > before.expected_kwh + 10.0  # 2 h of ~6.7 kW more base load


def test_a_daily_model_is_not_kept_and_still_answers(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    first = app.expectation("town-hall", scenario.baseline, WEEK, ModelKind.DAILY)
    second = app.expectation("town-hall", scenario.baseline, WEEK, ModelKind.DAILY)
    assert first.accepted
    assert first.intervals == 7
    assert second.expected_kwh == first.expected_kwh


def test_a_baseline_short_of_data_is_fitted_again_once_its_history_arrives() -> None:
    """Readings written straight to the store (an adapter catching up, not a CSV import)
    complete the baseline: the next expectation is accepted."""
    full = MemoryMeterStore()
    assert (
        not SavingsApp(full, SITES, MeasurementOptions())
        .import_csv(synthetic_csv("town-hall", 20))
        .errors
    )
    store = MemoryMeterStore()
    half = START + (SWITCH - START) / 2
    for tags, values in full.series.items():
        store.series[tags] = {ns: v for ns, v in values.items() if ns >= half.timestamp() * 1e9}
    app = SavingsApp(store, SITES, MeasurementOptions())
    baseline = Window(START, SWITCH)
    short = app.expectation("town-hall", baseline, NIGHTS[0])
    assert not short.accepted
    for tags, values in full.series.items():
        store.series[tags].update(values)
    complete = app.expectation("town-hall", baseline, NIGHTS[0])
    assert complete.accepted
    assert complete.expected_kwh > 0
