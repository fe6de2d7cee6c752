"""InfluxStore against the real InfluxDB 2.x server (fixtures in tests/conftest.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from polis.common.influx import Aggregate, InfluxError, InfluxStore, Row, Sample, to_ns
from polis.common.influxd import PINNED_VERSION, InfluxServer

pytestmark = [pytest.mark.integration, pytest.mark.influx]

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _series(points: int, meters: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"meter-{m}": rng.normal(50.0, 10.0, points // meters).round(3) for m in range(meters)}


def _samples(series: dict[str, np.ndarray], step: timedelta) -> list[Sample]:
    step_ns = int(step.total_seconds() * 1e9)
    base = to_ns(T0)
    return [
        Sample(
            "reading",
            {"building": "town-hall", "point": point, "quantity": "active_power", "unit": "kW"},
            {"value": float(value)},
            base + i * step_ns,
        )
        for point, values in series.items()
        for i, value in enumerate(values)
    ]


def test_hundred_thousand_points_round_trip_exactly(influx_store: InfluxStore) -> None:
    series = _series(100_000, 4)
    step = timedelta(minutes=1)
    written = influx_store.write(_samples(series, step))
    assert written == 100_000

    stop = T0 + step * 25_000
    assert influx_store.count(T0, stop, {"building": "town-hall"}) == 100_000

    rows = influx_store.query_range(T0, stop, {"point": "meter-2"})
    assert len(rows) == 25_000
    assert [r.value for r in rows] == series["meter-2"].tolist()
    assert rows[0].time == T0
    assert rows[-1].time == T0 + step * 24_999
    assert {r.tags["point"] for r in rows} == {"meter-2"}


def test_window_aggregates_match_numpy(influx_store: InfluxStore) -> None:
    series = _series(4 * 1_440, 4, seed=11)  # one day of minute data per meter
    influx_store.write(_samples(series, timedelta(minutes=1)))
    stop = T0 + timedelta(days=1)
    for fn, reduce in (
        (Aggregate.MEAN, np.mean),
        (Aggregate.MAX, np.max),
        (Aggregate.SUM, np.sum),
        (Aggregate.COUNT, len),
    ):
        rows = influx_store.query_window(
            T0, stop, {"point": ["meter-0", "meter-3"]}, timedelta(minutes=15), fn
        )
        by_point: dict[str, list[float]] = {}
        for row in rows:
            by_point.setdefault(row.tags["point"], []).append(row.value)
        assert sorted(by_point) == ["meter-0", "meter-3"]
        for point, values in by_point.items():
            expected = [float(reduce(block)) for block in series[point].reshape(96, 15)]
            assert values == pytest.approx(expected, rel=1e-12), (fn, point)


def test_window_rows_start_at_window_start(influx_store: InfluxStore) -> None:
    influx_store.write(_samples({"m": np.arange(60.0)}, timedelta(minutes=1)))
    rows = influx_store.query_window(
        T0, T0 + timedelta(hours=1), {"point": "m"}, timedelta(minutes=30), Aggregate.FIRST
    )
    assert [(r.time, r.value) for r in rows] == [(T0, 0.0), (T0 + timedelta(minutes=30), 30.0)]


def test_last_value_per_point(influx_store: InfluxStore) -> None:
    series = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([7.5, 8.5])}
    influx_store.write(_samples(series, timedelta(minutes=5)))
    rows = influx_store.last({"building": "town-hall"}, now=T0 + timedelta(hours=1))
    assert {r.tags["point"]: (r.value, r.time) for r in rows} == {
        "a": (3.0, T0 + timedelta(minutes=10)),
        "b": (8.5, T0 + timedelta(minutes=5)),
    }


def test_pagination_walks_the_range_once(influx_store: InfluxStore) -> None:
    influx_store.write(_samples({"p": np.arange(100.0)}, timedelta(minutes=1)))
    stop = T0 + timedelta(hours=2)
    pages = [
        influx_store.query_range(T0, stop, {"point": "p"}, limit=30, offset=offset)
        for offset in range(0, 120, 30)
    ]
    assert [len(page) for page in pages] == [30, 30, 30, 10]
    assert [r.value for page in pages for r in page] == list(np.arange(100.0))


def test_tag_values_are_parameters_not_query_text(influx_store: InfluxStore) -> None:
    hostile = 'x" or r._measurement != "'
    odd = 'a\\b "c" ${d}'
    influx_store.write(_samples({"p": np.arange(3.0), odd: np.arange(2.0)}, timedelta(minutes=1)))
    assert influx_store.count(T0, T0 + timedelta(hours=1), {"point": hostile}) == 0
    assert influx_store.count(T0, T0 + timedelta(hours=1), {"point": odd}) == 2
    with pytest.raises(ValueError, match="unknown tag key"):
        influx_store.query_range(T0, T0 + timedelta(hours=1), {'point"] or true //': "x"})


def test_unreachable_server_raises_influx_error() -> None:
    store = InfluxStore("http://127.0.0.1:9", "token", "polis", "raw", timeout_ms=500)
    with pytest.raises(InfluxError, match="failed"):
        store.write([Sample("reading", {"point": "p"}, {"value": 1.0}, to_ns(T0))])
    assert store.ping() is False


def test_downsampling_task_writes_15_minute_view(influx_store: InfluxStore) -> None:
    # The task aggregates the last two windows relative to now; write data there.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=now.minute % 15) - timedelta(minutes=15)
    samples = [
        Sample(
            "reading",
            {"point": "p", "quantity": "active_power"},
            {"value": float(i)},
            to_ns(start + timedelta(minutes=i)),
        )
        for i in range(15)
    ]
    influx_store.write(samples)
    names = influx_store.ensure_downsampling()
    assert names == [
        f"polis-downsample-{influx_store.bucket}-15m",
        f"polis-downsample-{influx_store.bucket}-1h",
    ]
    assert influx_store.ensure_downsampling() == names  # idempotent
    influx_store.run_task_now(names[0])
    target = f"{influx_store.bucket}_15m"
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    rows: list[Row] = []
    while datetime.now(UTC) < deadline and not rows:
        time.sleep(0.5)
        rows = influx_store.query_range(
            start - timedelta(hours=1), now + timedelta(hours=1), {"point": "p"}, bucket=target
        )
    assert rows, "the 15-minute view stayed empty"
    assert rows[0].value == pytest.approx(7.0)  # mean of 0..14


def test_server_is_the_pinned_build(influx_server: InfluxServer) -> None:
    assert influx_server.version().startswith(f"InfluxDB {PINNED_VERSION.lstrip('v')} ")
