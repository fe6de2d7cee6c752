"""Baselines of the simulator's default municipality: every building passes Guideline 14.

A year of hourly history is exported from the simulator (the same model the demo runs),
imported as CSV, and fitted per building through the savings application, with the catalogue
the simulator emits (its school holidays are the school's closure calendar; the depot's
battery has its own meter, outside the measurement boundary). ``pytest -s`` prints the
figures per building.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from polis.common.catalogue import parse_catalogue
from polis.savings.application import SavingsApp
from polis.savings.catalogue_view import site_directory
from polis.savings.closures import NO_CLOSURES
from polis.savings.measurement import BuildingMeasurement, MeasurementOptions, ModelKind, Window
from polis.savings.sites import Scope, ScopeKind, Site, SiteDirectory
from polis.savings.store import MemoryMeterStore
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.export import write_history

pytestmark = [pytest.mark.unit, pytest.mark.slow]  # a year of hourly history, fitted

START = datetime(2024, 12, 31, 22, tzinfo=UTC)  # 1 January 2025, local midnight in Larissa
END = datetime(2025, 12, 31, 22, tzinfo=UTC)
BASELINE = Window(START, END)
REPORTING = Window(END, END + timedelta(days=1))  # no data: only the baseline is judged here
HOUR = 3600


@dataclass(frozen=True)
class Municipality:
    store: MemoryMeterStore
    sites: SiteDirectory
    buildings: tuple[str, ...]


def _sites(config: MunicipalityConfig) -> SiteDirectory:
    """The savings view of the catalogue the simulator emits for its buildings."""
    endpoints = endpoint_layout(config, "127.0.0.1", 47900)
    document = catalogue(config, endpoints, modbus_poll_s=1.0, bacnet_poll_s=1.0)
    return site_directory(parse_catalogue(document, "simulator catalogue", complete=True))


@pytest.fixture(scope="module")
def municipality() -> Municipality:
    config = load_config()
    out = io.StringIO()
    write_history(out, config, START, END, HOUR)
    sites = _sites(config)
    store = MemoryMeterStore()
    outcome = SavingsApp(store, sites, MeasurementOptions()).import_csv(out.getvalue(), "export")
    assert not outcome.errors
    return Municipality(store, sites, tuple(b.id for b in config.buildings))


def _app(store: MemoryMeterStore, sites: SiteDirectory) -> SavingsApp:
    # the service's defaults (settings.py): PV added back, EV and battery outside the boundary
    return SavingsApp(
        store,
        sites,
        MeasurementOptions(),
        energy_device="{building}-main",
        generation_device="{building}-pv",
        excluded_devices=["{building}-ev"],
        storage_devices=["{building}-battery"],
    )


def _fit(app: SavingsApp, building: str, kind: ModelKind | None) -> BuildingMeasurement:
    return app.measure_building(building, BASELINE, REPORTING, kind)


def _line(building: str, m: BuildingMeasurement) -> str:
    s = m.statistics
    assert s is not None, m.reason
    state = "accepted" if m.accepted else "REJECTED"
    return (
        f"{building:12s} {m.model_kind.value:6s} CV(RMSE) {s.cv_rmse:6.1%}  NMBE {s.nmbe:+6.2%}  "
        f"R² {s.r_squared:.3f}  {state}  {m.model_label}"
    )


def test_every_default_building_passes_the_gates(municipality: Municipality) -> None:
    app = _app(municipality.store, municipality.sites)
    assert [s.building for s in app.sites.buildings(Scope(ScopeKind.MUNICIPALITY, "larissa"))] == (
        sorted(municipality.buildings)
    )
    print()
    for building in municipality.buildings:
        for kind in (ModelKind.DAILY, ModelKind.HOURLY):
            result = _fit(app, building, kind)
            print(_line(building, result))
            assert result.accepted, f"{building} {kind.value}: {result.reason}"
        # automatic choice: hourly data gets the hourly model (the depot's battery is metered)
        chosen = _fit(app, building, None)
        assert chosen.accepted, f"{building}: {chosen.reason}"
        assert chosen.model_kind is ModelKind.HOURLY


def test_school_needs_its_holidays(municipality: Municipality) -> None:
    school = municipality.sites.site("school")
    assert school.calendar  # the closures of the school's occupancy calendar
    no_calendar = SiteDirectory(
        {"school": Site("school", school.neighbourhood, school.municipality, NO_CLOSURES)}
    )
    without = _app(municipality.store, no_calendar)
    with_calendar = _app(municipality.store, municipality.sites)
    print()
    for kind in (ModelKind.DAILY, ModelKind.HOURLY):
        blind = _fit(without, "school", kind)
        print(_line("school (no calendar)", blind))
        fitted = _fit(with_calendar, "school", kind)
        assert blind.statistics is not None
        assert fitted.statistics is not None
        # closed weeks as residuals: the error nearly doubles, and the hourly model fails
        assert blind.statistics.cv_rmse > 1.7 * fitted.statistics.cv_rmse
        assert blind.accepted is (kind is ModelKind.DAILY)


def test_depot_without_its_battery_meter(municipality: Municipality) -> None:
    """Storage behind the main meter with no meter of its own: hourly shape is not weather."""
    store = MemoryMeterStore()
    store.series.update(
        (key, values)
        for key, values in municipality.store.series.items()
        if "depot-battery" not in str(key)
    )
    assert len(store.series) < len(municipality.store.series)
    app = _app(store, municipality.sites)
    print()
    hourly = _fit(app, "depot", ModelKind.HOURLY)
    print(_line("depot (battery not metered)", hourly))
    assert not hourly.accepted
    chosen = _fit(app, "depot", None)  # the catalogue says a battery is there
    print(_line("depot (battery not metered)", chosen))
    assert chosen.accepted, chosen.reason
    assert chosen.model_kind is ModelKind.DAILY
