from datetime import UTC, datetime
from typing import Any, cast

import pytest
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from polis.common.lineprotocol import Sample, encode, to_ns

pytestmark = pytest.mark.unit


def test_to_ns_is_exact_at_microsecond_resolution() -> None:
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert to_ns(moment) == 1772368215_123456000


def test_to_ns_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_ns(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("tags", "fields"),
    [
        ({"building": "town-hall", "point": "main/energy"}, {"value": 1234.5}),
        ({"building": "town hall, annex", "device": "a=b"}, {"value": -0.25}),
        ({"building": "library"}, {"value": 3, "ok": True, "note": 'say "hi"\\'}),
    ],
)
def test_encoding_matches_influxdb_client(tags: dict[str, str], fields: dict[str, object]) -> None:
    time_ns = 1_700_000_000_123_456_789
    sample = Sample("reading", tags, fields, time_ns)  # type: ignore[arg-type]
    # influxdb-client's Point is unannotated; it is the reference encoder here.
    reference: Any = cast(Any, Point)("reading")
    for key, tag in tags.items():
        reference.tag(key, tag)
    for key, field in fields.items():
        reference.field(key, field)
    reference.time(time_ns, WritePrecision.NS)
    assert encode(sample) == reference.to_line_protocol()


def test_empty_tags_are_omitted_and_non_finite_values_refused() -> None:
    assert encode(Sample("m", {"a": "", "b": "x"}, {"v": 1.0}, 5)) == "m,b=x v=1.0 5"
    with pytest.raises(ValueError, match="cannot be stored"):
        encode(Sample("m", {}, {"v": float("nan")}, 5))
