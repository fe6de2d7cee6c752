"""Validation of historical interval and billing data from CSV (pure: text in, records out).

Columns: ``meter_id``, ``value``, ``unit`` and either ``timestamp`` (interval data: the start of
the interval the value covers) or ``period_start`` and ``period_end`` (billing data: the
energy of the whole period). Timestamps are ISO 8601 with a UTC offset; a timestamp without
one is ambiguous and rejected.

Meter ids are ``<building>/<device>/<quantity>``: ``town-hall/main/energy`` for energy,
``town-hall/weather/outdoor_temperature`` for the outdoor temperature. Energy is stored as
interval energy, kWh per interval (Wh and MWh are converted); temperatures in °C (°F is
converted). Billing periods are prorated to local days in proportion to the hours of each day
they cover, stored as daily interval energy with quality ``prorated``.

Every row is checked before anything is written; an error names its line (the header is
line 1), its field and the reason.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ENERGY = "energy"
OUTDOOR_TEMPERATURE = "outdoor_temperature"
QUANTITIES = {ENERGY: "kWh", OUTDOOR_TEMPERATURE: "degC"}

_ENERGY_UNITS = {"wh": 1e-3, "kwh": 1.0, "mwh": 1e3}
_TEMPERATURE_UNITS = {"degc": "C", "°c": "C", "c": "C", "degf": "F", "°f": "F", "f": "F"}
_ID_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class MeterId:
    building: str
    device: str
    quantity: str

    def __str__(self) -> str:
        return f"{self.building}/{self.device}/{self.quantity}"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value to store: interval energy (kWh) or a temperature (°C) at ``time`` (UTC)."""

    meter: MeterId
    time: datetime
    value: float
    unit: str
    quality: str  # "imported" or "prorated"
    line: int


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    rows: int
    readings: tuple[Reading, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_meter_id(text: str) -> MeterId:
    parts = text.strip().split("/")
    if len(parts) != 3 or not all(_ID_PART.match(p) for p in parts):
        raise ValueError(
            f"{text!r} is not <building>/<device>/<quantity> (letters, digits, '-', '_', '.')"
        )
    if parts[2] not in QUANTITIES:
        raise ValueError(f"quantity {parts[2]!r} is not one of {sorted(QUANTITIES)}")
    return MeterId(*parts)


def parse_timestamp(text: str) -> datetime:
    value = text.strip()
    if not value:
        raise ValueError("missing")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (e.g. +02:00 or Z)")
    return moment.astimezone(UTC)


def convert(quantity: str, value: float, unit: str) -> float:
    """The value in the stored unit (kWh or °C); ValueError names the accepted units."""
    key = unit.strip().lower()
    if quantity == ENERGY:
        if key not in _ENERGY_UNITS:
            raise ValueError(f"unit {unit!r} is not one of Wh, kWh, MWh")
        # Negative interval energy is net export through a bidirectional meter (rooftop PV),
        # which whole-building M&V must keep.
        return value * _ENERGY_UNITS[key]
    scale = _TEMPERATURE_UNITS.get(key)
    if scale is None:
        raise ValueError(f"unit {unit!r} is not one of degC, °C, degF, °F")
    celsius = (value - 32.0) * 5.0 / 9.0 if scale == "F" else value
    if not -60.0 <= celsius <= 60.0:
        raise ValueError(f"outdoor temperature {celsius:.1f} °C is implausible")
    return celsius


def prorate_by_day(
    start: datetime, end: datetime, kwh: float, timezone: str
) -> list[tuple[datetime, float]]:
    """Split a billing period's energy over the local days it covers, by hours covered.

    Each part is stamped at the later of the period start and the local midnight of its day.
    """
    zone = ZoneInfo(timezone)
    total = (end - start).total_seconds()
    parts: list[tuple[datetime, float]] = []
    cursor = start
    while cursor < end:
        local = cursor.astimezone(zone)
        next_midnight = datetime.combine(
            local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone
        ).astimezone(UTC)
        stop = min(next_midnight, end)
        parts.append((cursor, kwh * (stop - cursor).total_seconds() / total))
        cursor = stop
    return parts


def parse_csv(text: str, timezone: str = "Europe/Athens") -> ParsedCsv:
    """Parse and validate every row; readings are returned only when no row has an error."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    errors: list[RowError] = []
    missing = [c for c in ("meter_id", "value", "unit") if c not in header]
    interval = "timestamp" in header
    billing = "period_start" in header and "period_end" in header
    if missing:
        errors.append(RowError(1, "header", f"missing column(s) {', '.join(missing)}"))
    if not interval and not billing:
        errors.append(
            RowError(1, "header", "needs a timestamp column or period_start and period_end")
        )
    if errors:
        return ParsedCsv(0, (), tuple(errors))
    reader.fieldnames = header

    readings: list[Reading] = []
    seen: dict[tuple[str, datetime], int] = {}
    periods: dict[str, list[tuple[datetime, datetime, int]]] = {}
    rows = 0
    for row in reader:
        line = reader.line_num
        rows += 1
        row_errors: list[RowError] = []

        def field_value(name: str, row: dict[str, str | None] = row) -> str:
            return (row.get(name) or "").strip()

        meter: MeterId | None = None
        try:
            meter = parse_meter_id(field_value("meter_id"))
        except ValueError as error:
            row_errors.append(RowError(line, "meter_id", str(error)))
        number: float | None = None
        try:
            number = float(field_value("value"))
            if not math.isfinite(number):
                raise ValueError
        except ValueError:
            row_errors.append(
                RowError(line, "value", f"{field_value('value')!r} is not a finite number")
            )
            number = None
        times: dict[str, datetime] = {}
        use_interval = interval and (bool(field_value("timestamp")) or not billing)
        names: tuple[str, ...] = ("timestamp",) if use_interval else ("period_start", "period_end")
        for name in names:
            try:
                times[name] = parse_timestamp(field_value(name))
            except ValueError as error:
                row_errors.append(RowError(line, name, str(error)))
        if "period_end" in times and "period_start" in times:
            if times["period_end"] <= times["period_start"]:
                row_errors.append(RowError(line, "period_end", "must be after period_start"))
            elif meter is not None and meter.quantity != ENERGY:
                row_errors.append(
                    RowError(line, "meter_id", "billing periods are for energy meters only")
                )
        stored: float | None = None
        if meter is not None and number is not None:
            try:
                stored = convert(meter.quantity, number, field_value("unit"))
            except ValueError as error:
                reason = str(error)
                where = "unit" if reason.startswith("unit") else "value"
                row_errors.append(RowError(line, where, reason))
        if row_errors or meter is None or stored is None:
            errors.extend(row_errors)
            continue

        key = str(meter)
        if "timestamp" in times:
            when = times["timestamp"]
            first = seen.get((key, when))
            if first is not None:
                errors.append(RowError(line, "timestamp", f"duplicate of line {first} for {key}"))
                continue
            seen[(key, when)] = line
            unit = QUANTITIES[meter.quantity]
            readings.append(Reading(meter, when, stored, unit, "imported", line))
        else:
            start, end = times["period_start"], times["period_end"]
            clash = next((ln for s, e, ln in periods.get(key, []) if start < e and s < end), None)
            if clash is not None:
                errors.append(
                    RowError(line, "period_start", f"overlaps the period on line {clash}")
                )
                continue
            periods.setdefault(key, []).append((start, end, line))
            for when, part in prorate_by_day(start, end, stored, timezone):
                readings.append(Reading(meter, when, part, "kWh", "prorated", line))
    # Interval and billing data for the same meter and instant would overwrite each other.
    if not errors:
        stamps: dict[tuple[str, datetime], int] = {}
        for r in readings:
            k = (str(r.meter), r.time)
            if k in stamps and stamps[k] != r.line:
                errors.append(
                    RowError(r.line, "timestamp", f"collides with line {stamps[k]} for {k[0]}")
                )
            stamps.setdefault(k, r.line)
    if errors:
        return ParsedCsv(rows, (), tuple(errors))
    return ParsedCsv(rows, tuple(readings), ())
