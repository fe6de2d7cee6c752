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


_REQUIRED_COLUMNS = ("meter_id", "value", "unit")
_INTERVAL_COLUMNS = ("timestamp",)
_BILLING_COLUMNS = ("period_start", "period_end")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which time columns the header has: interval data, billing data or both."""

    interval: bool
    billing: bool

    @classmethod
    def of(cls, header: list[str]) -> _Layout:
        return cls(
            interval="timestamp" in header,
            billing="period_start" in header and "period_end" in header,
        )

    def time_columns(self, timestamp: str) -> tuple[str, ...]:
        """The columns that time a row; with both layouts, a row with a timestamp is interval."""
        if self.interval and (bool(timestamp) or not self.billing):
            return _INTERVAL_COLUMNS
        return _BILLING_COLUMNS


def _header_errors(header: list[str]) -> list[RowError]:
    errors: list[RowError] = []
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        errors.append(RowError(1, "header", f"missing column(s) {', '.join(missing)}"))
    layout = _Layout.of(header)
    if not layout.interval and not layout.billing:
        errors.append(
            RowError(1, "header", "needs a timestamp column or period_start and period_end")
        )
    return errors


class _RowFields:
    """One data row's fields, each parsed on its own; every problem is kept in field order."""

    def __init__(self, row: dict[str, str | None], line: int) -> None:
        self.row = row
        self.line = line
        self.errors: list[RowError] = []

    def text(self, name: str) -> str:
        return (self.row.get(name) or "").strip()

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(RowError(self.line, field, reason))

    def meter(self) -> MeterId | None:
        try:
            return parse_meter_id(self.text("meter_id"))
        except ValueError as error:
            self.fail("meter_id", str(error))
            return None

    def number(self) -> float | None:
        try:
            number = float(self.text("value"))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.fail("value", f"{self.text('value')!r} is not a finite number")
            return None
        return number

    def times(self, names: tuple[str, ...]) -> dict[str, datetime]:
        times: dict[str, datetime] = {}
        for name in names:
            try:
                times[name] = parse_timestamp(self.text(name))
            except ValueError as error:
                self.fail(name, str(error))
        return times

    def check_period(self, times: dict[str, datetime], meter: MeterId | None) -> None:
        if "period_end" not in times or "period_start" not in times:
            return
        if times["period_end"] <= times["period_start"]:
            self.fail("period_end", "must be after period_start")
        elif meter is not None and meter.quantity != ENERGY:
            self.fail("meter_id", "billing periods are for energy meters only")

    def stored(self, meter: MeterId | None, number: float | None) -> float | None:
        """The value in the stored unit; a conversion error names the unit or the value."""
        if meter is None or number is None:
            return None
        try:
            return convert(meter.quantity, number, self.text("unit"))
        except ValueError as error:
            reason = str(error)
            self.fail("unit" if reason.startswith("unit") else "value", reason)
            return None


@dataclass(frozen=True, slots=True)
class _Row:
    """A data row that passed every field check."""

    meter: MeterId
    value: float  # in the stored unit
    times: dict[str, datetime]  # "timestamp", or "period_start" and "period_end"
    line: int


def _parse_row(fields: _RowFields, layout: _Layout) -> _Row | None:
    """The row's values, or None with its problems left in ``fields.errors``."""
    meter = fields.meter()
    number = fields.number()
    times = fields.times(layout.time_columns(fields.text("timestamp")))
    fields.check_period(times, meter)
    value = fields.stored(meter, number)
    if fields.errors or meter is None or value is None:
        return None
    return _Row(meter, value, times, fields.line)


class _Batch:
    """Readings of the rows so far, with the checks that span rows: duplicates and overlaps."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.readings: list[Reading] = []
        self.errors: list[RowError] = []
        self.seen: dict[tuple[str, datetime], int] = {}
        self.periods: dict[str, list[tuple[datetime, datetime, int]]] = {}

    def add(self, row: dict[str, str | None], line: int, layout: _Layout) -> None:
        fields = _RowFields(row, line)
        parsed = _parse_row(fields, layout)
        if parsed is None:
            self.errors.extend(fields.errors)
        elif "timestamp" in parsed.times:
            self._add_interval(parsed, parsed.times["timestamp"])
        else:
            self._add_billing(parsed, parsed.times["period_start"], parsed.times["period_end"])

    def _add_interval(self, row: _Row, when: datetime) -> None:
        key = str(row.meter)
        first = self.seen.get((key, when))
        if first is not None:
            self.errors.append(
                RowError(row.line, "timestamp", f"duplicate of line {first} for {key}")
            )
            return
        self.seen[(key, when)] = row.line
        unit = QUANTITIES[row.meter.quantity]
        self.readings.append(Reading(row.meter, when, row.value, unit, "imported", row.line))

    def _add_billing(self, row: _Row, start: datetime, end: datetime) -> None:
        key = str(row.meter)
        earlier = self.periods.get(key, [])
        clash = next((ln for s, e, ln in earlier if start < e and s < end), None)
        if clash is not None:
            self.errors.append(
                RowError(row.line, "period_start", f"overlaps the period on line {clash}")
            )
            return
        self.periods.setdefault(key, []).append((start, end, row.line))
        for when, part in prorate_by_day(start, end, row.value, self.timezone):
            self.readings.append(Reading(row.meter, when, part, "kWh", "prorated", row.line))


def _collisions(readings: list[Reading]) -> list[RowError]:
    """Interval and billing data for the same meter and instant would overwrite each other."""
    errors: list[RowError] = []
    stamps: dict[tuple[str, datetime], int] = {}
    for r in readings:
        k = (str(r.meter), r.time)
        if k in stamps and stamps[k] != r.line:
            errors.append(
                RowError(r.line, "timestamp", f"collides with line {stamps[k]} for {k[0]}")
            )
        stamps.setdefault(k, r.line)
    return errors


def parse_csv(text: str, timezone: str = "Europe/Athens") -> ParsedCsv:
    """Parse and validate every row; readings are returned only when no row has an error."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    header_errors = _header_errors(header)
    if header_errors:
        return ParsedCsv(0, (), tuple(header_errors))
    reader.fieldnames = header
    layout = _Layout.of(header)
    batch = _Batch(timezone)
    rows = 0
    for row in reader:
        rows += 1
        batch.add(row, reader.line_num, layout)
    # Collisions are only meaningful once every row is valid on its own.
    errors = batch.errors or _collisions(batch.readings)
    if errors:
        return ParsedCsv(rows, (), tuple(errors))
    return ParsedCsv(rows, tuple(batch.readings), ())
