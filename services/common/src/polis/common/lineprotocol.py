"""InfluxDB line protocol encoding.

influxdb-client's Point builds the same text, at several times the cost per point; the adapter
writes tens of thousands of readings per second, so readings are encoded here directly.
tests/common/test_lineprotocol.py checks the output against the library's own encoder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": r"\\"})

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Sample:
    """One row for InfluxDB: a measurement, bounded tags, typed fields, a UTC instant."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch for a timezone-aware instant."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    # aware instants subtract by their UTC offsets: no conversion to UTC needed first
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _field(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"field value {value} cannot be stored in InfluxDB")
        return repr(value)
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def encode(sample: Sample) -> str:
    """One line of line protocol; tags sorted by key as InfluxDB prefers; empty tags omitted."""
    if not sample.fields:
        raise ValueError(f"sample of {sample.measurement!r} has no fields")
    parts = [sample.measurement.translate(_MEASUREMENT_ESCAPES)]
    for key in sorted(sample.tags):
        value = sample.tags[key]
        if value:
            parts.append(f",{key.translate(_KEY_ESCAPES)}={value.translate(_KEY_ESCAPES)}")
    fields = ",".join(
        f"{key.translate(_KEY_ESCAPES)}={_field(value)}"
        for key, value in sorted(sample.fields.items())
    )
    return f"{''.join(parts)} {fields} {sample.time_ns}"
