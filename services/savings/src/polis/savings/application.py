"""The savings use cases, independent of transport: import CSV data, report savings.

Only buildings whose baseline is accepted (sufficient data, Guideline 14 gates met) count in
the scope totals; the others are listed with their reason, so no claimed euro rests on a
rejected model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from polis.common.logging import get_logger
from polis.savings.aggregate import combine_periods
from polis.savings.calendar import daily_from_hourly
from polis.savings.closures import BuildingCalendar, Closure
from polis.savings.csv_import import RowError, parse_csv
from polis.savings.expectation import Expectation, expectation
from polis.savings.measurement import (
    BuildingMeasurement,
    FittedBaseline,
    MeasurementOptions,
    ModelKind,
    PeriodSavings,
    Window,
    fit_hourly,
    measure_daily,
    measure_hourly,
    report_hourly,
)
from polis.savings.metered import add_generation, subtract_submeter
from polis.savings.series_builder import Point, daily_series, hourly_series, is_daily
from polis.savings.sites import Scope, Site, SiteDirectory, SiteMeters
from polis.savings.store import MeterStore, reading_sample
from polis.savings.sufficiency import Sufficiency

METHOD = "IPMVP Option C, ASHRAE Guideline 14"
FITS_KEPT = 2048  # baseline fits kept for expectations: a municipality's buildings, twice
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    rows: int
    points_written: int
    errors: tuple[RowError, ...]


@dataclass(frozen=True, slots=True)
class BuildingReport:
    site: Site
    measurement: BuildingMeasurement


@dataclass(frozen=True, slots=True)
class SavingsReport:
    scope: Scope
    baseline: Window
    reporting: Window
    buildings: tuple[BuildingReport, ...]
    total: tuple[PeriodSavings, ...]
    cumulative: tuple[PeriodSavings, ...]
    method: str = METHOD


@dataclass(frozen=True, slots=True)
class Exclusion:
    window: Window
    building: str | None = None  # None: applies to every building


@dataclass(frozen=True, slots=True)
class BuildingClosure:
    closure: Closure
    building: str | None = None  # None: every building (a public holiday)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """A building's consumption inside its measurement boundary, and its outdoor temperature,
    over one window; with the two facts the choice of model rests on."""

    energy: list[Point]
    temperature: list[Point]
    daily_data: bool  # energy per day or coarser
    storage_metered: bool  # the storage's flows were taken out


@dataclass(frozen=True, slots=True)
class _Fit:
    """A baseline window's fit as kept between expectations (``fitted`` None: not an hourly
    model, asked the uncached way)."""

    fitted: FittedBaseline | None
    daily_data: bool
    storage_metered: bool
    at: float  # time.monotonic() of the fit


class SavingsApp:
    def __init__(
        self,
        store: MeterStore,
        sites: SiteDirectory,
        options: MeasurementOptions,
        *,
        energy_device: str = "main",
        generation_device: str | None = None,
        excluded_devices: Sequence[str] = (),
        storage_devices: Sequence[str] = (),
        storage_power_point: str | None = None,
        exclusions: Sequence[Exclusion] = (),
        closures: Sequence[BuildingClosure] = (),
        baseline_cache_s: float = 86400.0,
    ) -> None:
        self.store = store
        self.sites = sites
        self.options = options
        self.energy_device = energy_device
        self.generation_device = generation_device
        self.excluded_devices = tuple(excluded_devices)
        self.storage_devices = tuple(storage_devices)
        self.storage_power_point = storage_power_point
        self.exclusions = tuple(exclusions)
        self.closures = tuple(closures)
        # Baseline fits the expectations reuse: the gateway asks every building's after-hours
        # hours against the same baseline window each hour, and reading that window (a year
        # of hourly data) is what an expectation costs. A baseline lies in the past: its data
        # changes by a CSV import, which forgets every fit, or by an adapter catching up after
        # an outage, which the fit sees within ``baseline_cache_s`` of wall time. At most
        # FITS_KEPT windows are kept (any client may ask about any window).
        self.baseline_cache_s = baseline_cache_s
        self._fits: dict[tuple[str, datetime, datetime, ModelKind | None], _Fit] = {}
        self._fits_lock = threading.Lock()

    def calendar(self, building: str) -> BuildingCalendar:
        """The building's closures: its own from the sites file, then the configured ones."""
        return self.sites.site(building).calendar.with_closures(
            c.closure for c in self.closures if c.building is None or c.building == building
        )

    def meters(self, building: str) -> SiteMeters:
        """The building's boundary from the catalogue, else the configured device names."""
        own = self.sites.site(building).meters
        if own is not None:
            return own
        return SiteMeters(
            self.energy_device.format(building=building),
            self.generation_device.format(building=building) if self.generation_device else None,
            tuple(d.format(building=building) for d in self.excluded_devices),
            tuple(d.format(building=building) for d in self.storage_devices),
        )

    def options_for(self, building: str) -> MeasurementOptions:
        """The measurement options with the building's own tariff and CO2 intensity."""
        site = self.sites.site(building)
        return replace(
            self.options,
            tariff=site.tariff or self.options.tariff,
            emission_factor=site.emission_factor or self.options.emission_factor,
        )

    def import_csv(self, text: str, source: str = "") -> ImportOutcome:
        """Validate all rows, then write all readings, or nothing when any row is bad."""
        parsed = parse_csv(text, self.options.timezone)
        if not parsed.ok:
            log.warning("csv import rejected", source=source, errors=len(parsed.errors))
            return ImportOutcome(parsed.rows, 0, parsed.errors)
        samples = [reading_sample(r, self.sites) for r in parsed.readings]
        written = self.store.write(samples)
        with self._fits_lock:
            self._fits.clear()
        log.info("csv imported", source=source, rows=parsed.rows, points=written)
        return ImportOutcome(parsed.rows, written, ())

    def _inputs(self, building: str, start: datetime, end: datetime) -> _Inputs:
        meters = self.meters(building)
        energy = self.store.energy(building, meters.main, start, end)
        if meters.generation:
            # The main meter sees consumption net of rooftop PV; the model needs consumption.
            generated = self.store.energy(building, meters.generation, start, end)
            energy = add_generation(energy, generated)
        for excluded in meters.excluded:
            # Sub-metered loads outside the measurement boundary (e.g. EV charging for fleets
            # and the public), which follow their own drivers, not weather or occupancy.
            sub = self.store.energy(building, excluded, start, end)
            energy = subtract_submeter(energy, sub)
        energy, storage_metered = self._without_storage(building, energy, start, end)
        temperature = self.store.temperature(building, start, end)
        return _Inputs(energy, temperature, is_daily(energy), storage_metered)

    def _kind(self, building: str, inputs: _Inputs, kind: ModelKind | None) -> ModelKind:
        # Unmetered storage behind the meter reshapes the hourly load by the state of the
        # battery, not by weather or occupancy; daily totals are nearly unaffected by it.
        unmetered_storage = self.sites.site(building).storage and not inputs.storage_metered
        if kind is not None:
            return kind
        return ModelKind.DAILY if inputs.daily_data or unmetered_storage else ModelKind.HOURLY

    def _exclusions(self, building: str) -> list[Window]:
        return [e.window for e in self.exclusions if e.building is None or e.building == building]

    def measure_building(
        self, building: str, baseline: Window, reporting: Window, kind: ModelKind | None
    ) -> BuildingMeasurement:
        start, end = min(baseline.start, reporting.start), max(baseline.end, reporting.end)
        options = self.options_for(building)
        inputs = self._inputs(building, start, end)
        chosen = self._kind(building, inputs, kind)
        exclusions = self._exclusions(building)
        calendar = self.calendar(building)
        if chosen is ModelKind.HOURLY and inputs.daily_data:
            reason = "the hourly model needs hourly or finer data; this meter has daily data"
            return BuildingMeasurement(
                building, chosen, "hourly TOWT", Sufficiency(False, (reason,), 0.0), None, None
            )
        if chosen is ModelKind.HOURLY:
            series = hourly_series(inputs.energy, inputs.temperature, start, end)
            return measure_hourly(
                building, series, baseline, reporting, options, exclusions, calendar
            )
        if inputs.daily_data:
            days = daily_series(inputs.energy, inputs.temperature, start, end, options.timezone)
        else:
            days = daily_from_hourly(
                hourly_series(inputs.energy, inputs.temperature, start, end), options.timezone
            )
        return measure_daily(building, days, baseline, reporting, options, exclusions, calendar)

    def _fit(self, building: str, baseline: Window, kind: ModelKind | None) -> _Fit:
        """The building's hourly model on ``baseline``, fitted at most once per
        ``baseline_cache_s`` (two threads asking at once may both fit; either result is the
        same)."""
        key = (building, baseline.start, baseline.end, kind)
        with self._fits_lock:
            kept = self._fits.get(key)
        if kept is not None and time.monotonic() - kept.at < self.baseline_cache_s:
            return kept
        began = time.monotonic()
        inputs = self._inputs(building, baseline.start, baseline.end)
        fitted = None
        if self._kind(building, inputs, kind) is ModelKind.HOURLY and not inputs.daily_data:
            series = hourly_series(inputs.energy, inputs.temperature, baseline.start, baseline.end)
            fitted = fit_hourly(
                building,
                series,
                baseline,
                self.options_for(building),
                self._exclusions(building),
                self.calendar(building),
            )
        fit = _Fit(fitted, inputs.daily_data, inputs.storage_metered, time.monotonic())
        # A baseline without enough data is not kept: its history may be arriving (an
        # adapter catching up, a backfill), and reading little data costs little.
        if fitted is None or fitted.model is not None:
            with self._fits_lock:
                self._fits[key] = fit
                while len(self._fits) > FITS_KEPT:
                    del self._fits[min(self._fits, key=lambda k: self._fits[k].at)]
        log.info(
            "baseline fitted",
            building=building,
            model=fitted.label if fitted is not None else "not hourly",
            seconds=round(fit.at - began, 3),
        )
        return fit

    def _expected(
        self, building: str, baseline: Window, period: Window, kind: ModelKind | None
    ) -> BuildingMeasurement:
        """The measurement of ``period`` against the baseline, on the kept hourly fit where
        the period's data leads to the same model as the baseline's; otherwise (a daily
        model, a period overlapping the baseline, daily data or storage flows in one window
        only) the way a report measures it."""
        if period.start < baseline.end:
            return self.measure_building(building, baseline, period, kind)
        fit = self._fit(building, baseline, kind)
        if fit.fitted is None:
            return self.measure_building(building, baseline, period, kind)
        inputs = self._inputs(building, period.start, period.end)
        if (inputs.daily_data, inputs.storage_metered) != (fit.daily_data, fit.storage_metered):
            return self.measure_building(building, baseline, period, kind)
        series = hourly_series(inputs.energy, inputs.temperature, period.start, period.end)
        return report_hourly(
            fit.fitted,
            series,
            period,
            self.options_for(building),
            self._exclusions(building),
            self.calendar(building),
        )

    def _without_storage(
        self, building: str, energy: list[Point], start: datetime, end: datetime
    ) -> tuple[list[Point], bool]:
        """Consumption less the storage's net charging; True when storage flows were found.

        A battery's charging and discharging are not consumption (its losses, being inside
        the storage system, go with it): a storage meter is subtracted like a sub-metered
        load, or else the storage power point's hourly mean. Flows that cover only part of the
        energy's hours (live readings without history, say) are not used: subtracting them
        would leave the rest as gaps, and one boundary must serve baseline and reporting.
        """
        needed = self.options.sufficiency.min_hourly_coverage * len(energy)
        hours = {t for t, _ in energy}

        def covering(flows: list[Point]) -> bool:
            return bool(flows) and sum(t in hours for t, _ in flows) >= needed

        found = False
        for device in self.meters(building).storage:
            flows = self.store.energy(building, device, start, end)
            if covering(flows):
                energy, found = subtract_submeter(energy, flows), True
        if not found and self.storage_power_point:
            flows = self.store.power_energy(building, self.storage_power_point, start, end)
            if covering(flows):
                energy, found = subtract_submeter(energy, flows), True
        if not found and self.sites.site(building).storage:
            log.info("storage flows not metered over the period", building=building)
        return energy, found

    def expectation(
        self, building: str, baseline: Window, period: Window, kind: ModelKind | None = None
    ) -> Expectation:
        """What the building's baseline model, fitted on ``baseline``, expects over ``period``
        (the reference of the gateway's energy alarms)."""
        # A building without data answers not accepted, with the sufficiency rule it fails.
        measured = self._expected(building, baseline, period, kind)
        main = self.store.energy(building, self.meters(building).main, period.start, period.end)
        return expectation(measured, main, period, self.options.timezone, self.calendar(building))

    def report(
        self, scope: Scope, baseline: Window, reporting: Window, kind: ModelKind | None = None
    ) -> SavingsReport:
        if reporting.start < baseline.end:
            raise ValueError("the reporting period must start after the baseline period ends")
        buildings = []
        for site in self.sites.buildings(scope):
            result = self.measure_building(site.building, baseline, reporting, kind)
            buildings.append(BuildingReport(site, result))
            log.info(
                "building measured",
                building=site.building,
                model=result.model_label,
                accepted=result.accepted,
                reason=result.reason,
            )
        accepted = [b.measurement for b in buildings if b.measurement.accepted]
        return SavingsReport(
            scope=scope,
            baseline=baseline,
            reporting=reporting,
            buildings=tuple(buildings),
            total=combine_periods(m.periods for m in accepted),
            cumulative=combine_periods(m.cumulative for m in accepted),
        )
