"""Fault tests: InfluxDB unreachable, adapter killed with SIGKILL (loopback, bounded)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from adapter.fake_bacnet import free_udp_port
from adapter.simulator_fixture import RecordingWriter, running_simulator
from polis.adapter.buffer import DurableBuffer
from polis.adapter.config import ClockConfig, iter_points, parse_config
from polis.adapter.journal import PendingJournal
from polis.adapter.manifest import config_from_manifest
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.sink import ReadingEncoder, ReadingSink
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLL_S = 0.5
# Largest spacing accepted between two stored readings of one point: polls slip on a loaded
# machine, but a lost flush (seconds) or an outage (a minute) is far beyond this.
MAX_GAP_S = 4.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_simulator(tmp_path_factory.mktemp("sim")) as manifest:
        yield manifest


def write_sites(
    manifest: dict[str, Any], state: Path, path: Path, **adapter: Any
) -> dict[str, Any]:
    """The catalogue at ``path``; the adapter's runtime settings beside it, for its env."""
    data = asyncio.run(config_from_manifest(manifest))  # Modbus meters only
    for building in data["buildings"]:
        building["devices"] = [d for d in building["devices"] if d["protocol"] == "modbus"]
        for device in building["devices"]:
            device["poll_interval_s"] = POLL_S
    settings = {
        "state_dir": str(state),
        "grpc_port": 0,
        "metrics_port": 0,
        "flush_interval_s": 0.2,
        "bacnet_address": f"127.0.0.1:{free_udp_port()}",
        **adapter,
    }
    path.write_text(yaml.safe_dump(data))
    _settings_file(path).write_text(json.dumps(settings))
    return data


def _settings_file(catalogue: Path) -> Path:
    return catalogue.with_name(catalogue.stem + ".adapter.json")


def start_adapter(
    sites: Path, influx_url: str, token: str = "t", extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    settings = json.loads(_settings_file(sites).read_text())
    env = {
        **os.environ,
        **{f"POLIS_ADAPTER_{k.upper()}": str(v) for k, v in settings.items()},
        **(extra_env or {}),
        "POLIS_INFLUX_URL": influx_url,
        "POLIS_INFLUX_TOKEN": token,
        "POLIS_INFLUX_TIMEOUT_MS": "1000",
        "POLIS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "polis.adapter", "run", "--catalogue", str(sites)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def buffered_lines(path: Path) -> list[str]:
    buf = DurableBuffer(path, max_readings=10**9)
    try:
        return [line for batch in buf.oldest(10**6) for line in batch.lines]
    finally:
        buf.close()


def journaled_lines(state: Path) -> list[str]:
    """Readings a (killed) adapter journaled but had not yet flushed, oldest first."""
    lines: list[str] = []
    for path in sorted((state / "journal").glob("pending-*.log")):
        lines.extend(line for line in path.read_text().split("\n") if line)
    return lines


def wait_until_buffered(path: Path, at_least: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "adapter exited"
        if path.exists() and len(buffered_lines(path)) >= at_least:
            return
        time.sleep(0.5)
    raise AssertionError("adapter did not buffer readings")


def test_sigkill_loses_no_buffered_reading(simulator: dict[str, Any], tmp_path: Path) -> None:
    sites, state = tmp_path / "catalogue.yaml", tmp_path / "state"
    write_sites(simulator, state, sites)
    proc = start_adapter(sites, f"http://127.0.0.1:{closed_port()}")
    try:
        wait_until_buffered(state / "buffer.sqlite", 500, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    durable = buffered_lines(state / "buffer.sqlite")
    journaled = journaled_lines(state)
    assert len(durable) >= 500

    # what a restarted adapter does: journal into the buffer, then replay it, in order,
    # before anything new
    writer = RecordingWriter()
    buf = DurableBuffer(state / "buffer.sqlite", max_readings=10**9)
    journal = PendingJournal(state / "journal")
    sink = ReadingSink(ReadingEncoder([], {}), writer, buf, AdapterMetrics(), journal=journal)
    assert asyncio.run(sink.flush())
    journal.close()
    buf.close()
    assert writer.lines == durable + journaled
    assert buffered_lines(state / "buffer.sqlite") == []
    assert journaled_lines(state) == []


def stored_times(
    store: Any, municipality: str, start: datetime, stop: datetime
) -> dict[tuple[str, str], list[int]]:
    """Stored reading instants (µs) per (device, point), sorted."""
    rows = store.query_range(
        start, stop, {"municipality": municipality}, group_by=("point", "device")
    )
    out: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        out.setdefault((r.tags["device"], r.tags["point"]), []).append(
            int(r.time.timestamp() * 1e6)
        )
    return {key: sorted(times) for key, times in out.items()}


def configured_points(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(ref.device, ref.point_id) for ref in iter_points(parse_config(data, "catalogue.yaml"))}


def largest_gap_s(times: list[int], start_us: int, stop_us: int) -> float:
    inside = [t for t in times if start_us <= t <= stop_us]
    if len(inside) < 2:
        return float("inf")
    return max(b - a for a, b in itertools.pairwise(inside)) / 1e6


def scrape(port: int, metric: str, default: float | None = None) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.ConnectError:
        if default is None:
            raise
        return default  # not serving yet
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(metric + "{") or line.startswith(metric + " ")
    )


def virtual_now(manifest: dict[str, Any]) -> datetime:
    clock = manifest.get("clock")
    if clock is None:
        return datetime.now(UTC)
    return ClockConfig.model_validate(clock).build().now()


def wait_for(condition: Any, what: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"adapter exited while waiting for {what}"
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def stop_gracefully(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.influx
@pytest.mark.timeout(240)
def test_sigkill_mid_run_with_real_influx_loses_no_reading(
    simulator: dict[str, Any], tmp_path: Path, influx_store: Any, influx_server: Any
) -> None:
    """Readings polled since the last flush survive a SIGKILL (the journal), none are lost.

    Flushes are made rare on purpose (30 s, huge batches): everything the first process
    polled is still in memory when it is killed, so only the journal can save it.
    """
    sites, state = tmp_path / "catalogue.yaml", tmp_path / "state"
    data = write_sites(simulator, state, sites, flush_interval_s=30.0, batch_size=1_000_000)
    env = {"POLIS_INFLUX_BUCKET": influx_store.bucket}
    t0 = virtual_now(simulator)
    proc = start_adapter(sites, influx_server.url, influx_server.token, env)
    try:
        wait_for(lambda: len(journaled_lines(state)) >= 2000, "journaled readings", proc, 60)
        killed_at = virtual_now(simulator)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()  # the test failed before its kill: never leave an adapter behind
        proc.wait(timeout=30)
    assert len(journaled_lines(state)) >= 2000
    assert buffered_lines(state / "buffer.sqlite") == []  # nothing was flushed yet

    old_segments = sorted((state / "journal").glob("pending-*.log"))
    write_sites(simulator, state, sites, flush_interval_s=0.5)  # the restart flushes normally
    proc = start_adapter(sites, influx_server.url, influx_server.token, env)
    try:
        wait_for(
            lambda: (
                not any(path.exists() for path in old_segments)
                and not buffered_lines(state / "buffer.sqlite")
            ),
            "the journal to be recovered and replayed",
            proc,
            90,
        )
        time.sleep(2 * POLL_S)
    finally:
        stop_gracefully(proc)

    stored = stored_times(
        influx_store, data["municipality"], t0 - timedelta(seconds=5), virtual_now(simulator)
    )
    assert set(stored) == configured_points(data)
    first_us = int(t0.timestamp() * 1e6)
    kill_us = int(killed_at.timestamp() * 1e6)
    for key, times in stored.items():
        before = [t for t in times if t <= kill_us]
        # polled right up to the kill, and no hole in between
        assert before, key
        assert kill_us - before[-1] <= MAX_GAP_S * 1e6, key
        assert largest_gap_s(times, first_us, kill_us) <= MAX_GAP_S, key


@pytest.mark.influx
@pytest.mark.timeout(420)
def test_influx_stopped_for_a_minute_under_load_loses_no_reading(
    simulator: dict[str, Any], tmp_path: Path
) -> None:
    """A real influxd is stopped for 60 s while the adapter polls, then started again."""
    binary = find_binary()
    if binary is None:  # the session fixture has already failed (CI) or skipped on this
        pytest.fail("influxd not built: run `make influxd`")
    server = InfluxServer(binary=binary, data_dir=tmp_path / "influxdb").start()
    store = InfluxStore(server.url, server.token, server.org, server.bucket)
    metrics_port = closed_port()
    sites, state = tmp_path / "catalogue.yaml", tmp_path / "state"
    data = write_sites(simulator, state, sites, metrics_port=metrics_port, flush_interval_s=0.5)
    t0 = virtual_now(simulator)
    proc = start_adapter(sites, server.url, server.token)
    try:
        wait_for(
            lambda: scrape(metrics_port, "polis_adapter_points_written_total", default=0) > 0,
            "first writes",
            proc,
            60,
        )
        server.stop()
        down_at = virtual_now(simulator)
        time.sleep(60)
        depth = scrape(metrics_port, "polis_adapter_buffer_depth")
        assert depth > 1000  # the minute of readings is waiting on disk
        server.start()
        up_at = virtual_now(simulator)
        wait_for(
            lambda: scrape(metrics_port, "polis_adapter_buffer_depth") == 0,
            "the buffer to drain",
            proc,
            120,
        )
        time.sleep(2 * POLL_S)
        produced = scrape(metrics_port, "polis_adapter_points_read_total")
        stop_gracefully(proc)

        stored = stored_times(
            store, data["municipality"], t0 - timedelta(seconds=5), virtual_now(simulator)
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        store.close()
        server.stop()

    assert set(stored) == configured_points(data)
    assert sum(len(times) for times in stored.values()) >= produced
    down_us, up_us = int(down_at.timestamp() * 1e6), int(up_at.timestamp() * 1e6)
    for key, times in stored.items():
        during = [t for t in times if down_us <= t <= up_us]
        assert len(during) >= 60 / POLL_S / 2, key  # the outage minute is there
        assert largest_gap_s(times, times[0], times[-1]) <= MAX_GAP_S, key
