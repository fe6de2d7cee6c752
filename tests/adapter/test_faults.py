"""Fault tests: InfluxDB unreachable, adapter killed with SIGKILL (loopback, bounded)."""

from __future__ import annotations

import asyncio
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

import pytest
import yaml

from adapter.fake_bacnet import free_udp_port
from adapter.simulator_fixture import RecordingWriter, parse_line, running_simulator
from polis.adapter.buffer import DurableBuffer
from polis.adapter.manifest import config_from_manifest
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.sink import ReadingEncoder, ReadingSink

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_simulator(tmp_path_factory.mktemp("sim")) as manifest:
        yield manifest


def write_sites(manifest: dict[str, Any], state: Path, path: Path) -> None:
    data = asyncio.run(config_from_manifest(manifest))  # Modbus meters only
    for building in data["buildings"]:
        building["devices"] = [d for d in building["devices"] if d["protocol"] == "modbus"]
        for device in building["devices"]:
            device["poll_interval_s"] = 0.5
    data["adapter"] = {
        "state_dir": str(state),
        "grpc_port": 0,
        "metrics_port": 0,
        "flush_interval_s": 0.2,
        "bacnet_address": f"127.0.0.1:{free_udp_port()}",
    }
    path.write_text(yaml.safe_dump(data))


def start_adapter(sites: Path, influx_url: str, token: str = "t") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLIS_INFLUX_URL": influx_url,
        "POLIS_INFLUX_TOKEN": token,
        "POLIS_INFLUX_TIMEOUT_MS": "1000",
        "POLIS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "polis.adapter", "--config", str(sites)],
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


def wait_until_buffered(path: Path, at_least: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "adapter exited"
        if path.exists() and len(buffered_lines(path)) >= at_least:
            return
        time.sleep(0.5)
    raise AssertionError("adapter did not buffer readings")


def test_sigkill_loses_no_buffered_reading(simulator: dict[str, Any], tmp_path: Path) -> None:
    sites, state = tmp_path / "sites.yaml", tmp_path / "state"
    write_sites(simulator, state, sites)
    proc = start_adapter(sites, f"http://127.0.0.1:{closed_port()}")
    try:
        wait_until_buffered(state / "buffer.sqlite", 500, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    durable = buffered_lines(state / "buffer.sqlite")
    assert len(durable) >= 500

    # what a restarted adapter does: replay the buffer, in order, before anything new
    writer = RecordingWriter()
    buf = DurableBuffer(state / "buffer.sqlite", max_readings=10**9)
    sink = ReadingSink(ReadingEncoder([], {}), writer, buf, AdapterMetrics())
    assert asyncio.run(sink.flush())
    buf.close()
    assert writer.lines == durable
    assert buffered_lines(state / "buffer.sqlite") == []


@pytest.mark.influx
def test_outage_then_recovery_and_sigkill_with_real_influx(
    simulator: dict[str, Any], tmp_path: Path, influx_store: Any, influx_server: Any
) -> None:
    sites, state = tmp_path / "sites.yaml", tmp_path / "state"
    write_sites(simulator, state, sites)
    proc = start_adapter(sites, f"http://127.0.0.1:{closed_port()}")
    try:
        wait_until_buffered(state / "buffer.sqlite", 500, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    durable = buffered_lines(state / "buffer.sqlite")
    keys = {
        (parse_line(line)[0]["point"], parse_line(line)[0]["device"], parse_line(line)[2])
        for line in durable
    }

    data = yaml.safe_load(sites.read_text())
    os.environ["POLIS_INFLUX_BUCKET"] = influx_store.bucket
    proc = start_adapter(sites, influx_server.url, influx_server.token)
    try:
        deadline = time.monotonic() + 60
        while buffered_lines(state / "buffer.sqlite") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert buffered_lines(state / "buffer.sqlite") == []
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        os.environ.pop("POLIS_INFLUX_BUCKET", None)
        if proc.poll() is None:
            proc.kill()
    times = sorted(t for _, _, t in keys)
    start = datetime.fromtimestamp(times[0] / 1e9, UTC) - timedelta(seconds=1)
    stop = datetime.fromtimestamp(times[-1] / 1e9, UTC) + timedelta(seconds=1)
    rows = influx_store.query_range(
        start, stop, {"municipality": data["municipality"]}, group_by=("point", "device")
    )
    stored = {
        (r.tags["point"], r.tags["device"], int(r.time.timestamp() * 1e6) * 1000) for r in rows
    }
    # InfluxDB returns microsecond instants here; compare at that resolution
    wanted = {(p, d, t // 1000 * 1000) for p, d, t in keys}
    assert wanted <= stored
