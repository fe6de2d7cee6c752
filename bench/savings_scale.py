"""Savings (M&V) at municipal scale: 200 building-years of hourly data, seeded and synthetic.

Prints:
- daily change-point fits per second and the fit time per building-year, without and with
  day types (weekdays + closed days), against a reference grid search that solves each
  candidate with np.linalg.lstsq (same run);
- hourly TOWT (three-month weighted) fits per second;
- the time of a 200-building monthly report (baseline fit, one reporting month, monthly
  savings, aggregation to the municipality, JSON + CSV + SVG + PNG), for both models.

Targets on 2 cores: daily fit <= 1 s per building-year; 200-building monthly report <= 30 s.

    uv run python bench/savings_scale.py [--buildings 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from polis.savings.aggregate import combine_periods
from polis.savings.application import BuildingReport, SavingsReport
from polis.savings.calendar import daily_from_hourly, local_calendar
from polis.savings.charts import write_charts
from polis.savings.closures import BuildingCalendar, Closure, DayTypes, day_types
from polis.savings.daily_model import CALTRACK_BALANCE_POINTS_C, fit_daily_model
from polis.savings.hourly_model import fit_hourly_model
from polis.savings.measurement import MeasurementOptions, ModelKind, Window, measure
from polis.savings.report_files import write_report
from polis.savings.sites import Scope, ScopeKind, Site
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 1, 31, 22, tzinfo=UTC)
TZ = "Europe/Athens"


def reference_daily_fit(usage: np.ndarray, temp: np.ndarray) -> float:
    """Grid search with one lstsq per candidate (HDD+CDD pairs only): the naive way."""
    grid = np.asarray(CALTRACK_BALANCE_POINTS_C)
    best = -np.inf
    for hb in grid:
        hdd = np.maximum(hb - temp, 0)
        for cb in grid[grid >= hb]:
            x = np.column_stack([np.ones_like(temp), hdd, np.maximum(temp - cb, 0)])
            _, res, *_ = np.linalg.lstsq(x, usage, rcond=None)
            if res.size:
                best = max(best, -float(res[0]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buildings", type=int, default=200)
    args = parser.parse_args()
    n = args.buildings
    hours = int((END - START).total_seconds() // 3600)

    t0 = time.perf_counter()
    rng = np.random.default_rng(2026)
    data = []
    for i in range(n):
        spec = SyntheticBuilding(
            base_kw=float(rng.uniform(5, 60)),
            occupied_kw=float(rng.uniform(5, 80)),
            heating_kw_per_k=float(rng.uniform(0.5, 6)),
            cooling_kw_per_k=float(rng.uniform(0.5, 8)),
            heating_balance_c=float(rng.uniform(13, 18)),
            cooling_balance_c=float(rng.uniform(20, 25)),
            noise_kw=float(rng.uniform(1, 6)),
        )
        data.append(synthetic_building(START, hours, 1000 + i, spec, 0.1, SWITCH, TZ))
    print(f"generated {n} buildings x {hours} h in {time.perf_counter() - t0:.1f} s")

    baseline = Window(START, SWITCH)
    first = data[0].series.slice(START, SWITCH)
    cal = local_calendar(first, TZ)
    month = cal.month % 12 + 1
    dailies = [daily_from_hourly(d.series.slice(START, SWITCH), TZ) for d in data]

    t0 = time.perf_counter()
    for day in dailies:
        fit_daily_model(day.energy_kwh, day.temperature_c)
    daily_s = time.perf_counter() - t0

    # the same fits with day-of-week types and a closed day type (school holidays)
    school = BuildingCalendar((Closure("06-20", "09-10"), Closure("12-24", "01-07")))
    typed = [day_types(d.day, school.closed(d.day), DayTypes.DAY_OF_WEEK) for d in dailies]
    t0 = time.perf_counter()
    for day, types in zip(dailies, typed, strict=True):
        fit_daily_model(day.energy_kwh, day.temperature_c, None, types)
    typed_s = time.perf_counter() - t0

    ref_n = min(5, n)
    t0 = time.perf_counter()
    for day in dailies[:ref_n]:
        ok = np.isfinite(day.energy_kwh) & np.isfinite(day.temperature_c)
        reference_daily_fit(day.energy_kwh[ok], day.temperature_c[ok])
    ref_per_fit = (time.perf_counter() - t0) / ref_n

    t0 = time.perf_counter()
    for building in data:
        s = building.series.slice(START, SWITCH)
        fit_hourly_model(s.energy_kwh, s.temperature_c, cal.hour_of_week, month)
    hourly_s = time.perf_counter() - t0

    print(
        f"daily change-point: {n / daily_s:8.1f} fits/s, "
        f"{1000 * daily_s / n:7.1f} ms per building-year (target <= 1000 ms)"
    )
    print(
        f"  with 8 day types:  {n / typed_s:8.1f} fits/s, "
        f"{1000 * typed_s / n:7.1f} ms per building-year ({typed_s / daily_s:.2f}x CalTRACK)"
    )
    print(
        f"  reference (lstsq per candidate, HDD+CDD only): {1000 * ref_per_fit:7.1f} ms "
        f"per building-year -> vectorised search is {ref_per_fit / (daily_s / n):.0f}x faster"
    )
    print(
        f"hourly TOWT:        {n / hourly_s:8.1f} fits/s, "
        f"{1000 * hourly_s / n:7.1f} ms per building-year"
    )

    options = MeasurementOptions(timezone=TZ)
    sites = [Site(f"b{i:03d}", f"n{i % 8}", "larissa") for i in range(n)]
    for kind in (ModelKind.DAILY, ModelKind.HOURLY):
        t0 = time.perf_counter()
        results = [
            BuildingReport(
                site, measure(site.building, d.series, baseline, Window(SWITCH, END), kind, options)
            )
            for site, d in zip(sites, data, strict=True)
        ]
        accepted = [r.measurement for r in results if r.measurement.accepted]
        report = SavingsReport(
            scope=Scope(ScopeKind.MUNICIPALITY, "larissa"),
            baseline=baseline,
            reporting=Window(SWITCH, END),
            buildings=tuple(results),
            total=combine_periods(m.periods for m in accepted),
            cumulative=combine_periods(m.cumulative for m in accepted),
        )
        with tempfile.TemporaryDirectory() as tmp:
            write_report(report, Path(tmp), "bench")
            write_charts(report, Path(tmp), "bench")
        elapsed = time.perf_counter() - t0
        total = report.total[-1]
        print(
            f"{n}-building monthly report ({kind.value} model): {elapsed:6.1f} s "
            f"(target <= 30 s); {len(accepted)}/{n} baselines accepted; "
            f"savings {total.fractional_savings:.1%} (true 10.0 %)"
        )


if __name__ == "__main__":
    main()
