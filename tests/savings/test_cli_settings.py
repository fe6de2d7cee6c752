from pathlib import Path
from typing import cast

import pytest
import structlog

from polis.common.catalogue import CatalogueError
from polis.common.influx import InfluxStore
from polis.common.settings import SettingsError, load_settings
from polis.savings.__main__ import build_app, main
from polis.savings.settings import SavingsSettings
from polis.savings.sites import Scope, ScopeKind

pytestmark = pytest.mark.unit


def test_cli_import_reports_bad_rows_with_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bills.csv"
    path.write_text(
        "meter_id,timestamp,value,unit\n"
        "town-hall/main/energy,2026-01-01T00:00:00+02:00,4,kWh\n"
        "town-hall/main/energy,2026-01-01T01:00:00,4,kWh\n"
    )
    # Nothing is written for a bad file, so no InfluxDB is contacted.
    try:
        assert main(["import", str(path)]) == 1
    finally:
        structlog.reset_defaults()  # the CLI configured logging onto the captured stderr
    err = capsys.readouterr().err
    assert f"{path}:line 3: timestamp:" in err
    assert "nothing was written" in err


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLIS_SAVINGS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="POLIS_SAVINGS_TIMEZONE"):
        load_settings(SavingsSettings)
    monkeypatch.delenv("POLIS_SAVINGS_TIMEZONE")
    monkeypatch.setenv("POLIS_SAVINGS_TARIFF", '[{"valid_from": "2026-01-01T00:00:00", "rate": 1}]')
    with pytest.raises(SettingsError, match="POLIS_SAVINGS_TARIFF"):
        load_settings(SavingsSettings)


def test_tariff_and_gates_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "POLIS_SAVINGS_TARIFF",
        '[{"valid_from": "2026-01-01T00:00:00+02:00", "rate": 0.25}]',
    )
    monkeypatch.setenv("POLIS_SAVINGS_HOURLY_MAX_CV_RMSE", "0.2")
    options = load_settings(SavingsSettings).measurement_options()
    assert options.hourly_gates.max_cv_rmse == 0.2
    assert options.tariff.steps[0].rate == 0.25


CATALOGUE = """
municipality: larissa
calendars:
  - id: school-year
    closures: [{start: "06-20", end: "09-10", reason: summer}]
buildings:
  - {id: town-hall, neighbourhood: kentro}
  - {id: school, neighbourhood: neapoli, calendar: school-year}
  - {id: depot, neighbourhood: viopa}
"""


def test_sites_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(CATALOGUE)
    monkeypatch.setenv("POLIS_CATALOGUE", str(path))
    sites = load_settings(SavingsSettings).site_directory()
    assert [s.building for s in sites.buildings(Scope(ScopeKind.MUNICIPALITY, "larissa"))] == [
        "depot",
        "school",
        "town-hall",
    ]
    assert sites.site("town-hall").neighbourhood == "kentro"
    path.write_text("buildings: []\n")
    with pytest.raises(CatalogueError, match=r"catalogue.yaml:1: municipality: Field required"):
        load_settings(SavingsSettings).site_directory()


def test_closures_from_the_catalogue_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(CATALOGUE)
    monkeypatch.setenv("POLIS_CATALOGUE", str(path))
    monkeypatch.setenv(
        "POLIS_SAVINGS_CLOSURES",
        '[{"start": "2026-03-25", "end": "2026-03-25", "reason": "national holiday"},'
        ' {"start": "2026-01-19", "end": "2026-01-23", "building": "depot"}]',
    )
    settings = load_settings(SavingsSettings)
    app = build_app(settings, cast(InfluxStore, None))
    school = app.calendar("school")
    assert [(c.start, c.end) for c in school.closures] == [
        ("06-20", "09-10"),
        ("2026-03-25", "2026-03-25"),
    ]
    assert [c.start for c in app.calendar("depot").closures] == ["2026-03-25", "2026-01-19"]

    monkeypatch.setenv("POLIS_SAVINGS_CLOSURES", '[{"start": "2026-02-30", "end": "2026-03-01"}]')
    with pytest.raises(SettingsError, match="POLIS_SAVINGS_CLOSURES"):
        load_settings(SavingsSettings)
