from datetime import UTC, datetime

import pytest

from polis.savings.application import SavingsApp
from polis.savings.csv_import import parse_csv, prorate_by_day
from polis.savings.measurement import MeasurementOptions
from polis.savings.sites import SiteDirectory
from polis.savings.store import MemoryMeterStore

pytestmark = pytest.mark.unit

GOOD = """meter_id,timestamp,value,unit
town-hall/main/energy,2026-01-01T00:00:00+02:00,1500,Wh
town-hall/main/energy,2026-01-01T01:00:00+02:00,1.25,kWh
town-hall/main/energy,2026-01-01T02:00:00+02:00,0.002,MWh
town-hall/weather/outdoor_temperature,2026-01-01T00:00:00Z,50,degF
"""

BAD = """meter_id,timestamp,value,unit
town-hall/main/energy,2026-01-01T00:00:00+02:00,1.5,kWh
town-hall/main,2026-01-01T01:00:00+02:00,1.5,kWh
town-hall/main/energy,2026-01-01 02:00,1.5,kWh
town-hall/main/energy,2026-01-01T03:00:00+02:00,abc,kWh
town-hall/main/energy,2026-01-01T04:00:00+02:00,1.5,therms
town-hall/main/energy,2026-01-01T00:00:00+02:00,1.7,kWh
town-hall/main/energy,2026-01-01T05:00:00+02:00,inf,kWh
"""


def _app() -> tuple[SavingsApp, MemoryMeterStore]:
    store = MemoryMeterStore()
    return SavingsApp(store, SiteDirectory({}), MeasurementOptions()), store


def test_units_are_converted_to_kwh_and_celsius() -> None:
    parsed = parse_csv(GOOD)
    assert parsed.ok
    assert [r.value for r in parsed.readings] == pytest.approx([1.5, 1.25, 2.0, 10.0])
    assert parsed.readings[0].time == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert parsed.readings[3].unit == "degC"


def test_bad_rows_reported_by_line_and_field_and_nothing_written() -> None:
    app, store = _app()
    outcome = app.import_csv(BAD)
    found = {(e.line, e.field) for e in outcome.errors}
    assert found == {
        (3, "meter_id"),
        (4, "timestamp"),
        (5, "value"),
        (6, "unit"),
        (7, "timestamp"),
        (8, "value"),
    }
    reasons = {e.line: e.reason for e in outcome.errors}
    assert "no UTC offset" in reasons[4]
    assert "duplicate of line 2" in reasons[7]
    assert outcome.points_written == 0
    assert store.points == {}


def test_missing_columns_rejected_on_header_line() -> None:
    outcome = parse_csv("meter,when,value\nx,y,1\n")
    assert [(e.line, e.field) for e in outcome.errors] == [(1, "header"), (1, "header")]


def test_reimport_is_idempotent() -> None:
    app, store = _app()
    first = app.import_csv(GOOD)
    assert first.points_written == 4
    app.import_csv(GOOD)
    assert len(store.points) == 4


def test_billing_periods_are_prorated_by_hours_per_local_day() -> None:
    text = (
        "meter_id,period_start,period_end,value,unit\n"
        "school-1/main/energy,2026-01-01T12:00:00+02:00,2026-01-03T00:00:00+02:00,360,kWh\n"
    )
    parsed = parse_csv(text)
    assert parsed.ok
    # 12 hours on 1 January, 24 hours on 2 January: 120 and 240 kWh.
    assert [r.value for r in parsed.readings] == pytest.approx([120.0, 240.0])
    assert {r.quality for r in parsed.readings} == {"prorated"}
    assert parsed.readings[1].time == datetime(2026, 1, 1, 22, tzinfo=UTC)


def test_overlapping_billing_periods_are_rejected() -> None:
    text = (
        "meter_id,period_start,period_end,value,unit\n"
        "pool/main/energy,2026-01-01T00:00:00+02:00,2026-02-01T00:00:00+02:00,100,kWh\n"
        "pool/main/energy,2026-01-20T00:00:00+02:00,2026-03-01T00:00:00+02:00,100,kWh\n"
    )
    errors = parse_csv(text).errors
    assert [(e.line, e.field) for e in errors] == [(3, "period_start")]
    assert "line 2" in errors[0].reason


def test_prorate_across_dst_change_keeps_the_total() -> None:
    parts = prorate_by_day(
        datetime(2026, 3, 28, 22, tzinfo=UTC),
        datetime(2026, 3, 31, 21, tzinfo=UTC),
        71.0,
        "Europe/Athens",
    )
    assert sum(v for _, v in parts) == pytest.approx(71.0)
    assert [v for _, v in parts] == pytest.approx([23.0, 24.0, 24.0])  # 29 March: 23 h


def test_net_export_through_a_bidirectional_meter_is_kept() -> None:
    text = "meter_id,timestamp,value,unit\ndepot/depot-main/energy,2026-06-01T12:00:00Z,-12.5,kWh\n"
    parsed = parse_csv(text)
    assert parsed.ok
    assert [r.value for r in parsed.readings] == [-12.5]
