"""CSV import into a real InfluxDB: all-or-nothing, idempotent, and read back for M&V."""

from datetime import UTC, datetime
from typing import Any

import pytest

from polis.savings.application import SavingsApp
from polis.savings.measurement import MeasurementOptions
from polis.savings.sites import Site, SiteDirectory
from polis.savings.store import InfluxMeterStore

pytestmark = [pytest.mark.integration, pytest.mark.influx]

SITES = SiteDirectory({"town-hall": Site("town-hall", "kentro", "larissa")})
CSV = """meter_id,timestamp,value,unit
town-hall/main/energy,2026-01-01T00:00:00+02:00,1500,Wh
town-hall/main/energy,2026-01-01T01:00:00+02:00,1.25,kWh
town-hall/weather/outdoor_temperature,2026-01-01T00:00:00+02:00,8.5,degC
"""
SPAN = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def _count(influx_store: Any) -> int:
    return int(influx_store.count(*SPAN, {"building": "town-hall"}))


def test_bad_rows_write_nothing(influx_store: Any) -> None:
    app = SavingsApp(InfluxMeterStore(influx_store), SITES, MeasurementOptions())
    outcome = app.import_csv(CSV + "town-hall/main/energy,2026-01-01T02:00:00+02:00,,kWh\n")
    assert [(e.line, e.field) for e in outcome.errors] == [(5, "value")]
    assert _count(influx_store) == 0


def test_reimport_overwrites_and_values_read_back(influx_store: Any) -> None:
    store = InfluxMeterStore(influx_store)
    app = SavingsApp(store, SITES, MeasurementOptions())
    assert app.import_csv(CSV).points_written == 3
    assert app.import_csv(CSV).points_written == 3
    assert _count(influx_store) == 3
    energy = store.energy("town-hall", "main", *SPAN)
    assert [v for _, v in energy] == pytest.approx([1.5, 1.25])
    assert energy[0][0] == datetime(2025, 12, 31, 22, tzinfo=UTC)
    rows = influx_store.query_range(*SPAN, {"building": "town-hall"}, group_by=("neighbourhood",))
    assert {r.tags["neighbourhood"] for r in rows} == {"kentro"}
    assert store.temperature("town-hall", *SPAN)[0][1] == pytest.approx(8.5)
