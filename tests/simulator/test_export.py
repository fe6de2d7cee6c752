"""History export: straight from the model, consistent with the live simulation."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from polis.simulator.config import MeterRole, MunicipalityConfig
from polis.simulator.export import write_history
from polis.simulator.model import Simulation

pytestmark = pytest.mark.unit

START = datetime(2025, 3, 3, tzinfo=UTC)


def test_export_matches_the_counters_of_a_live_run(municipality: MunicipalityConfig) -> None:
    end = START + timedelta(days=2)
    out = io.StringIO()
    rows = write_history(out, municipality, START, end, 900)
    out.seek(0)
    table = list(csv.DictReader(out))
    assert len(table) == rows
    assert set(table[0]) == {"meter_id", "timestamp", "value", "unit"}
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    units = {}
    for row in table:
        series[row["meter_id"]].append((row["timestamp"], float(row["value"])))
        units[row["meter_id"]] = row["unit"]
    assert units["town-hall/town-hall-main/energy"] == "kWh"
    assert units["depot/weather/outdoor_temperature"] == "degC"
    assert len(series["school/school-hvac/energy"]) == 2 * 96
    assert series["school/school-hvac/energy"][0][0] == "2025-03-03T00:00:00Z"

    # The same period stepped the way the live site steps (irregular catch-up chunks).
    live = Simulation(municipality, START)
    before = {
        bid: {role: m.import_kwh - m.export_kwh for role, m in r.meters.items()}
        for bid, r in live.readings.items()
    }
    remaining = 2 * 24 * 60
    for n in (1, 59, 600, 17, 1000):
        for _ in live.advance(n):
            pass
        remaining -= n
    for _ in live.advance(remaining):
        pass
    for building in municipality.buildings:
        for meter in building.meters:
            reading = live.readings[building.id].meters[meter.role]
            delta = reading.import_kwh - reading.export_kwh - before[building.id][meter.role]
            exported = sum(v for _, v in series[f"{building.id}/{building.id}-{meter.role}/energy"])
            assert exported == pytest.approx(delta, rel=1e-6, abs=1e-3)
    pv = sum(v for _, v in series["depot/depot-pv/energy"])
    assert pv < 0  # generation is exported through the PV meter
    assert MeterRole.PV in {m.role for m in municipality.buildings[4].meters}
