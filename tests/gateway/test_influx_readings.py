"""Readings through the real InfluxStore on a real influxd (skipped locally without a build)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer
from polis.gateway.influx_readings import InfluxReadings

from .conftest import SAMPLES, STEP, T0, create_keys, power_value, reading_samples
from .fakes import PeerServers
from .server import Running, own_gateway

pytestmark = [pytest.mark.influx, pytest.mark.integration]
API = "/api/v1"


@pytest.fixture
def influx_gateway(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    peers: PeerServers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Running, dict[str, str]]]:
    influx_store.write(reading_samples())
    store = InfluxReadings(influx_store, influx_server.token)
    with own_gateway(tmp_path_factory, "influx", peers.addresses, store) as gw:
        yield gw, create_keys(gw)


def test_window_means_and_last_values_from_influxdb(
    influx_gateway: tuple[Running, dict[str, str]],
) -> None:
    gw, keys = influx_gateway
    params = {
        "start": T0.isoformat(),
        "end": (T0 + SAMPLES * STEP).isoformat(),
        "point": "town-hall/main-meter/power",
    }
    with gw.client(keys["admin"]) as c:
        windowed = c.get(f"{API}/readings", params={**params, "window": "1h"}).json()
        raw = c.get(f"{API}/readings", params={**params, "limit": 10}).json()
        last = c.get(f"{API}/readings/last", params={"building": "town-hall"}).json()
    expected = [sum(power_value(0, i) for i in range(h * 12, h * 12 + 12)) / 12 for h in range(3)]
    assert [item["value"] for item in windowed["items"]] == pytest.approx(expected)
    assert [item["value"] for item in raw["items"]] == [power_value(0, i) for i in range(10)]
    assert raw["next_cursor"] is not None
    by_point = {v["point"]: v["value"] for v in last}
    assert by_point["town-hall/main-meter/power"] == power_value(0, SAMPLES - 1)


def test_raw_pages_follow_the_time_then_point_order(
    influx_gateway: tuple[Running, dict[str, str]],
) -> None:
    """Two points share every timestamp, so pages often end between the two rows of one
    instant: the cursor must resume at the second, neither repeating nor skipping a row."""
    gw, keys = influx_gateway
    ids = ["town-hall/main-meter/power", "school-1/main-meter/power"]
    params = {"start": T0.isoformat(), "end": (T0 + SAMPLES * STEP).isoformat(), "point": ids}
    seen: list[tuple[str, str, float]] = []
    cursor = None
    with gw.client(keys["admin"]) as c:
        for _ in range(30):
            paging = {"limit": 5, "cursor": cursor} if cursor else {"limit": 5}
            page = c.get(f"{API}/readings", params={**params, **paging}).json()
            seen += [(i["time"], i["point"], i["value"]) for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        csv_text = c.get(f"{API}/readings", params={**params, "format": "csv"}).text
    expected = sorted(
        (
            (T0 + i * STEP).isoformat().replace("+00:00", "Z"),
            point,
            power_value(b, i),
        )
        for b, point in ((1, ids[1]), (0, ids[0]))
        for i in range(SAMPLES)
    )
    assert seen == expected
    lines = csv_text.splitlines()
    assert lines[0] == "point,time,value"
    assert [(t, p, float(v)) for p, t, v in (line.split(",") for line in lines[1:])] == expected
