import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from polis.savings.aggregate import combine_periods
from polis.savings.application import SavingsApp
from polis.savings.charts import write_charts
from polis.savings.measurement import MeasurementOptions, ModelKind, Window
from polis.savings.report_files import write_report
from polis.savings.sites import Scope, ScopeKind, UnknownScope
from polis.savings.store import MemoryMeterStore

pytestmark = pytest.mark.unit


def test_neighbourhood_report_sums_its_accepted_buildings(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    report = app.report(
        Scope(ScopeKind.NEIGHBOURHOOD, "kentro"), scenario.baseline, scenario.reporting
    )
    assert [b.site.building for b in report.buildings] == ["school-1", "town-hall"]
    assert all(b.measurement.accepted for b in report.buildings)
    assert all(b.measurement.model_kind is ModelKind.HOURLY for b in report.buildings)
    expected = combine_periods(b.measurement.periods for b in report.buildings)
    assert report.total == expected
    total = report.total[-1]
    assert total.fractional_savings == pytest.approx(0.12, abs=0.01)
    assert [p.period for p in report.total[:-1]] == [f"2026-0{m}" for m in range(1, 7)]


def test_daily_model_on_request(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    report = app.report(
        Scope(ScopeKind.BUILDING, "pool"),
        scenario.baseline,
        scenario.reporting,
        ModelKind.DAILY,
    )
    (pool,) = report.buildings
    assert pool.measurement.model_label.startswith("daily change-point")
    assert pool.site.neighbourhood == "neapoli"


def test_unknown_scope_and_reversed_periods(scenario: Any) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    with pytest.raises(UnknownScope):
        app.report(Scope(ScopeKind.MUNICIPALITY, "nowhere"), scenario.baseline, scenario.reporting)
    with pytest.raises(ValueError, match="after the baseline"):
        app.report(
            Scope(ScopeKind.BUILDING, "pool"),
            Window(scenario.baseline.start, scenario.reporting.end),
            scenario.reporting,
        )


def test_report_files_and_charts(scenario: Any, tmp_path: Path) -> None:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    report = app.report(
        Scope(ScopeKind.MUNICIPALITY, "larissa"), scenario.baseline, scenario.reporting
    )
    paths = write_report(report, tmp_path, "larissa") + write_charts(report, tmp_path, "larissa")
    assert [p.name for p in paths] == ["larissa.json", "larissa.csv", "larissa.svg", "larissa.png"]
    data = json.loads(paths[0].read_text())
    assert data["method"] == "IPMVP Option C, ASHRAE Guideline 14"
    assert len(data["buildings"]) == 3
    assert data["total"][-1]["avoided_kwh"] == pytest.approx(report.total[-1].avoided_kwh)
    # the bill without and with the measures at the default flat 0.20 €/kWh
    total = data["total"][-1]
    assert total["baseline_eur"] == pytest.approx(0.20 * total["baseline_kwh"])
    assert total["actual_eur"] == pytest.approx(0.20 * total["actual_kwh"])
    assert total["avoided_eur"] == pytest.approx(total["baseline_eur"] - total["actual_eur"])
    rows = paths[1].read_text().splitlines()
    assert rows[0].startswith("scope,building,neighbourhood,model")
    assert len(rows) == 1 + 3 * 7 + 7  # buildings x (6 months + total), then the totals
    assert paths[3].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths[2].read_text()[:500]


def test_storage_flows_leave_the_boundary_only_when_they_cover_the_period(scenario: Any) -> None:
    store = MemoryMeterStore()
    store.series.update(scenario.store.series)
    options = MeasurementOptions()
    app = SavingsApp(store, scenario.sites, options, storage_devices=["{building}-battery"])
    plain = app.measure_building("pool", scenario.baseline, scenario.reporting, ModelKind.HOURLY)

    def battery_csv(start: datetime, hours: int, kwh: float) -> str:
        rows = [
            f"pool/pool-battery/energy,{(start + timedelta(hours=h)).isoformat()},{kwh},kWh"
            for h in range(hours)
        ]
        return "meter_id,timestamp,value,unit\n" + "\n".join(rows) + "\n"

    # a battery metered for the last 100 hours only: not used, the rest would be gaps
    assert not app.import_csv(battery_csv(scenario.reporting.start, 100, 1.0)).errors
    partial = app.measure_building("pool", scenario.baseline, scenario.reporting, ModelKind.HOURLY)
    assert partial.total == plain.total
    # metered throughout: its net charging (1 kWh every hour) is taken out of consumption
    span = int((scenario.reporting.end - scenario.baseline.start).total_seconds() // 3600)
    assert not app.import_csv(battery_csv(scenario.baseline.start, span, 1.0)).errors
    full = app.measure_building("pool", scenario.baseline, scenario.reporting, ModelKind.HOURLY)
    assert full.total is not None
    assert plain.total is not None
    assert full.total.actual_kwh == pytest.approx(plain.total.actual_kwh - full.total.points)
