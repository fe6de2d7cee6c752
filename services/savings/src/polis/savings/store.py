"""The savings service's I/O seam: where readings are written to and read from.

``MeterStore`` is the small interface the domain needs; ``InfluxMeterStore`` implements it on
``polis.common.influx.InfluxStore`` (measurement ``reading`` in the raw bucket) and
``MemoryMeterStore`` in memory with the same overwrite semantics (a point with the same tags
and timestamp replaces the previous one), for tests and demos.

Stored form: tags municipality, neighbourhood, building, device, point (the meter id),
quantity (``energy`` or ``outdoor_temperature``), unit (``kWh`` or ``degC``) and quality
(``imported`` or ``prorated``); field ``value``; the timestamp is the interval start. The
quantity ``energy`` is interval energy (kWh per interval), distinct from the adapter's
cumulative ``active_energy`` counters.

Where no imported data covers a time, ``InfluxMeterStore`` falls back to the adapter's own
measurements of the same building (see ``polis.savings.metered``): hourly energy from the
meter device's ``import-energy`` (minus ``export-energy``) counters and the hourly mean of the
building controller's ``outdoor-air-temperature`` point.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from polis.common.influx import READING, Aggregate, InfluxStore, Sample, Suffix, to_ns
from polis.savings.csv_import import ENERGY, OUTDOOR_TEMPERATURE, Reading
from polis.savings.metered import HOUR, hourly_from_counter, merge_preferring, net_hourly
from polis.savings.series_builder import Point
from polis.savings.sites import SiteDirectory

WEATHER_DEVICE = "weather"
# What the adapter measures (quality "missing" repeats the last value and is not a measurement).
MEASURED_QUALITIES = ("good", "stale", "reset", "out_of_range")
# Point tags are stable ids, municipality/building/device/point; these are their last parts.
IMPORT_COUNTER = "/import-energy"
EXPORT_COUNTER = "/export-energy"
OUTDOOR_AIR_POINT = "/outdoor-air-temperature"


def reading_sample(reading: Reading, sites: SiteDirectory) -> Sample:
    site = sites.site(reading.meter.building)
    return Sample(
        measurement=READING,
        tags={
            "municipality": site.municipality,
            "neighbourhood": site.neighbourhood,
            "building": reading.meter.building,
            "device": reading.meter.device,
            "point": str(reading.meter),
            "quantity": reading.meter.quantity,
            "unit": reading.unit,
            "quality": reading.quality,
        },
        fields={"value": float(reading.value)},
        time_ns=to_ns(reading.time),
    )


class MeterStore(Protocol):
    def write(self, samples: Sequence[Sample]) -> int:
        """Write all samples (batched); return how many were written."""
        ...

    def energy(self, building: str, device: str, start: datetime, end: datetime) -> list[Point]:
        """Interval energy (kWh) of one building's meter in [start, end), by time."""
        ...

    def temperature(self, building: str, start: datetime, end: datetime) -> list[Point]:
        """Outdoor temperature (°C) at one building in [start, end), by time."""
        ...

    def power_energy(
        self, building: str, point: str, start: datetime, end: datetime
    ) -> list[Point]:
        """kWh per hour from the hourly mean of a building's power point (kW) named ``point``."""
        ...


class InfluxMeterStore:
    def __init__(self, influx: InfluxStore) -> None:
        self._influx = influx

    def write(self, samples: Sequence[Sample]) -> int:
        return self._influx.write(samples)

    def _points(self, tags: dict[str, str], start: datetime, end: datetime) -> list[Point]:
        rows = self._influx.query_range(start, end, tags, group_by=("point",))
        return sorted((row.time, row.value) for row in rows)

    def energy(self, building: str, device: str, start: datetime, end: datetime) -> list[Point]:
        tags = {"building": building, "device": device, "quantity": ENERGY}
        return merge_preferring(
            self._points(tags, start, end), self._metered_energy(building, device, start, end)
        )

    def temperature(self, building: str, start: datetime, end: datetime) -> list[Point]:
        tags = {"building": building, "device": WEATHER_DEVICE, "quantity": OUTDOOR_TEMPERATURE}
        return merge_preferring(
            self._points(tags, start, end), self._metered_temperature(building, start, end)
        )

    def power_energy(
        self, building: str, point: str, start: datetime, end: datetime
    ) -> list[Point]:
        rows = self._influx.query_window(
            start,
            end,
            {
                "building": building,
                "quantity": "active_power",
                "unit": "kW",
                "point": Suffix(f"/{point}"),
                "quality": MEASURED_QUALITIES,
            },
            HOUR,
            Aggregate.MEAN,
        )
        # the mean power over an hour, in kW, is the hour's energy in kWh
        return sorted((r.time, r.value) for r in rows)

    def _metered_energy(
        self, building: str, device: str, start: datetime, end: datetime
    ) -> list[Point]:
        rows = self._influx.query_window(
            start - HOUR,
            end,
            {
                "building": building,
                "device": device,
                "quantity": "active_energy",
                "point": Suffix("-energy"),
                "quality": MEASURED_QUALITIES,
            },
            HOUR,
            Aggregate.LAST,
        )
        counters: dict[str, list[Point]] = {}
        for row in rows:
            counters.setdefault(row.tags["point"], []).append((row.time, row.value))
        imported = next((v for k, v in counters.items() if k.endswith(IMPORT_COUNTER)), None)
        if imported is None:
            return []
        exported = next((v for k, v in counters.items() if k.endswith(EXPORT_COUNTER)), None)
        hourly = net_hourly(
            hourly_from_counter(imported),
            hourly_from_counter(exported) if exported is not None else None,
        )
        return [(hour, kwh) for hour, kwh in hourly if start <= hour < end]

    def _metered_temperature(self, building: str, start: datetime, end: datetime) -> list[Point]:
        rows = self._influx.query_window(
            start,
            end,
            {
                "building": building,
                "quantity": "temperature",
                "point": Suffix(OUTDOOR_AIR_POINT),
                "quality": MEASURED_QUALITIES,
            },
            HOUR,
            Aggregate.MEAN,
        )
        return sorted((r.time, r.value) for r in rows)


_SeriesKey = tuple[tuple[str, str], ...]


class MemoryMeterStore:
    def __init__(self) -> None:
        # one series per distinct tag set: time (ns) -> value
        self.series: dict[_SeriesKey, dict[int, float]] = {}

    @property
    def points(self) -> dict[tuple[_SeriesKey, int], float]:
        """Every stored point by (tags, time in ns)."""
        return {(tags, ns): v for tags, values in self.series.items() for ns, v in values.items()}

    def write(self, samples: Sequence[Sample]) -> int:
        for sample in samples:
            key = tuple(sorted(sample.tags.items()))
            self.series.setdefault(key, {})[sample.time_ns] = float(sample.fields["value"])
        return len(samples)

    def _select(self, wanted: dict[str, str], start: datetime, end: datetime) -> list[Point]:
        lo, hi = to_ns(start), to_ns(end)
        out: list[Point] = []
        for tags, values in self.series.items():
            found = dict(tags)
            if all(found.get(k) == v for k, v in wanted.items()):
                out.extend(
                    (datetime.fromtimestamp(ns / 1e9, tz=start.tzinfo), value)
                    for ns, value in values.items()
                    if lo <= ns < hi
                )
        return sorted(out)

    def energy(self, building: str, device: str, start: datetime, end: datetime) -> list[Point]:
        return self._select(
            {"building": building, "device": device, "quantity": ENERGY}, start, end
        )

    def temperature(self, building: str, start: datetime, end: datetime) -> list[Point]:
        wanted = {"building": building, "device": WEATHER_DEVICE, "quantity": OUTDOOR_TEMPERATURE}
        return self._select(wanted, start, end)

    def power_energy(
        self, building: str, point: str, start: datetime, end: datetime
    ) -> list[Point]:
        return []  # holds imported interval data only, no adapter readings
