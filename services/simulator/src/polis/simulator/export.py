"""History export: meter readings straight from the model, no protocol traffic.

CSV columns ``meter_id,timestamp,value,unit``:

- ``<building>/<device>/energy`` — **interval** energy in kWh through the meter during
  ``[timestamp, timestamp + interval)``, net of export (import − export; a PV meter is
  negative). Summing the intervals gives the change of the meter's counters.
- ``<building>/weather/outdoor_temperature`` — mean outdoor air temperature over the
  interval, degC.

Timestamps are interval starts in UTC (ISO 8601, ``Z``). The run uses the same model, grid
and seed as the live simulator started at ``start``, so it reproduces the live readings.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TextIO

import numpy as np

from polis.simulator.config import MunicipalityConfig
from polis.simulator.endpoints import device_id
from polis.simulator.model import Simulation

INTERVALS = {"15min": 900, "1h": 3600}


def history_rows(
    config: MunicipalityConfig, start: datetime, end: datetime, interval_seconds: int
) -> Iterator[tuple[str, str, float, str]]:
    """Rows of the export, building by building within each simulated chunk."""
    step = config.step_seconds
    if interval_seconds % step:
        raise ValueError(f"interval {interval_seconds}s is not a multiple of the {step}s step")
    if start.timestamp() % interval_seconds:
        raise ValueError("start must lie on an interval boundary")
    simulation = Simulation(config, start)
    total = int((end.timestamp() - start.timestamp()) // interval_seconds) * (
        interval_seconds // step
    )
    per = interval_seconds // step
    t0 = start.timestamp()
    done = 0
    for traces in simulation.advance(total):
        n = next(iter(traces.values())).steps
        stamps = [
            (datetime.fromtimestamp(t0 + (done + k * per) * step, tz=UTC))
            .isoformat()
            .replace("+00:00", "Z")
            for k in range(n // per)
        ]
        for building in config.buildings:
            trace = traces[building.id]
            outdoor = trace.outdoor_c.reshape(-1, per).mean(axis=1)
            for stamp, value in zip(stamps, outdoor.tolist(), strict=True):
                yield (f"{building.id}/weather/outdoor_temperature", stamp, round(value, 3), "degC")
            for meter in building.meters:
                power = trace.channels_w[meter.role]
                kwh = power.reshape(-1, per).sum(axis=1) * step / 3.6e6
                meter_id = f"{building.id}/{device_id(building, meter.role)}/energy"
                for stamp, value in zip(stamps, np.round(kwh, 6).tolist(), strict=True):
                    yield (meter_id, stamp, value, "kWh")
        done += n


def write_history(
    out: TextIO,
    config: MunicipalityConfig,
    start: datetime,
    end: datetime,
    interval_seconds: int,
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["meter_id", "timestamp", "value", "unit"])
    rows = 0
    for row in history_rows(config, start, end, interval_seconds):
        writer.writerow(row)
        rows += 1
    return rows


def parse_day(text: str) -> datetime:
    """``2025-01-01`` or a full ISO instant; naive values are UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
