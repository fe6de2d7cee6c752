"""Adapter throughput against the simulator at scale, with the bare protocol loop as ceiling.

    uv run python bench/adapter_throughput.py [--copies 14] [--seconds 10] [--protocols bacnet]

Prints, in one run: the decode cost of a precompiled struct against pymodbus' generic
decoder (50 float32), the bare read rate of a plain client loop over the same devices, and
the adapter's end-to-end points/s (confirmed by count in InfluxDB when an influxd build is
available, otherwise counted at the writer), with CPU seconds per 1,000 points, and the
adapter's rate and CPU per point with readings only counted (InfluxDB then takes no share
of the two cores); last, the CPU per point of this process, the simulator and influxd in the
bare and the end-to-end runs, the share of the bare rate that bare + influxd CPU leaves
possible, and the adapter's own CPU per point (readings counted) against the bare client's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from adapter.fake_bacnet import free_udp_port
from adapter.simulator_fixture import running_simulator
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from polis.adapter.bacnet.client import BacnetClient, BacnetError
from polis.adapter.bacnet.discovery import discover_device
from polis.adapter.config import ClockConfig, parse_config
from polis.adapter.manifest import config_from_manifest
from polis.adapter.modbus.plan import plan_reads
from polis.adapter.runtime import tune_garbage_collection
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue.modbus_profiles import RegisterSpec
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary


def decode_ratio() -> tuple[float, float]:
    specs = [
        RegisterSpec.model_validate(
            {
                "name": f"r{i}",
                "address": 2 * i,
                "register_type": "input",
                "data_type": "float32",
                "unit": "W",
                "quantity": "active_power",
            }
        )
        for i in range(50)
    ]
    (block,) = plan_reads([(s.name, s) for s in specs])
    regs = list(struct.unpack(">100H", struct.pack(">50f", *range(50))))
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        block.decode(regs)
    ours = (time.perf_counter() - t) / n
    conv = AsyncModbusTcpClient.convert_from_registers
    dt = AsyncModbusTcpClient.DATATYPE.FLOAT32
    t = time.perf_counter()
    for _ in range(n // 10):
        [conv(regs[i : i + 2], dt) for i in range(0, 100, 2)]
    generic = (time.perf_counter() - t) / (n // 10)
    return ours, generic


class CountingWriter:
    def __init__(self) -> None:
        self.count = 0

    def write_lines(self, lines: Any, bucket: str | None = None) -> None:
        self.count += len(lines)


async def bare_modbus(site: Any, seconds: float) -> tuple[float, int]:
    """Plain pymodbus loop: same coalesced blocks, one task per device, no decode/normalise."""
    devices = [d for b in site.buildings for d in b.devices if d.protocol == "modbus"]
    clients: dict[tuple[str, int], tuple[AsyncModbusTcpClient, asyncio.Lock]] = {}
    for d in devices:
        if (d.host, d.port) not in clients:
            # the adapter's client settings: no retries, the device's timeout
            c = AsyncModbusTcpClient(d.host, port=d.port, timeout=d.timeout_s, retries=0)
            await c.connect()
            clients[(d.host, d.port)] = (c, asyncio.Lock())
    points = 0
    stop = time.perf_counter() + seconds

    async def loop(d: Any) -> None:
        nonlocal points
        blocks = plan_reads([(p.id, s) for p, s in d.resolved_points()], max_gap=d.max_gap)
        client, lock = clients[(d.host, d.port)]
        while time.perf_counter() < stop:
            for b in blocks:
                async with lock:
                    read = (
                        client.read_input_registers
                        if b.register_type.value == "input"
                        else client.read_holding_registers
                    )
                    try:
                        reply = await read(b.address, count=b.count, device_id=d.unit_id)
                    except ModbusException:
                        continue  # a timeout: nothing read, nothing counted
                if not reply.isError():
                    points += len(b.values)

    t = time.perf_counter()
    await asyncio.gather(*(loop(d) for d in devices))
    elapsed = time.perf_counter() - t
    for c, _ in clients.values():
        c.close()
    return points / elapsed, points


async def bare_bacnet(site: Any, seconds: float) -> tuple[float, int]:
    devices = [d for b in site.buildings for d in b.devices if d.protocol == "bacnet"]
    client = BacnetClient(f"127.0.0.1:{free_udp_port()}")
    client.start()
    points = 0
    stop = time.perf_counter() + seconds

    async def loop(d: Any) -> None:
        nonlocal points
        reqs: dict[str, list[str]] = {}
        for p in d.points:
            reqs.setdefault(p.object, []).append(p.property)
        items = list(reqs.items())
        while time.perf_counter() < stop:
            try:
                step = d.max_properties_per_request
                for i in range(0, len(items), step):
                    await client.read_multiple(d.address, items[i : i + step], 2.0)
            except BacnetError:
                continue  # an overloaded device: count nothing for this round
            points += len(d.points)

    t = time.perf_counter()
    await asyncio.gather(*(loop(d) for d in devices))
    elapsed = time.perf_counter() - t
    client.close()
    return points / elapsed, points


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by another process; 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def simulator_pid(manifest: Path) -> int | None:
    """The simulator process started for ``manifest`` (its command line names it)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(manifest).encode() in cmdline:
            return int(entry.name)
    return None


def wait_until_quiet(pid: int | None, name: str, limit_s: float = 60.0) -> None:
    """Wait until ``pid`` has used under 10 % of a core for 1.5 s: what a stopped run left
    the simulator to finish (BACnet transactions of a client that went away) would
    otherwise run during the next measurement."""
    if pid is None:
        return
    started = time.perf_counter()
    quiet = 0
    while quiet < 3 and time.perf_counter() - started < limit_s:
        before = process_cpu(pid)
        time.sleep(0.5)
        quiet = quiet + 1 if process_cpu(pid) - before < 0.05 else 0
    waited = time.perf_counter() - started
    if waited > 2.0:
        print(f"waited {waited:.0f} s for the {name} to finish earlier requests", flush=True)


async def end_to_end(
    site: Any,
    seconds: float,
    writer: Any,
    influxd_pid: int | None = None,
    simulator: int | None = None,
) -> tuple[float, float, int, int, float, float]:
    """(points/s written in the window, adapter CPU s per 1,000 points, written in the
    window, written in all (warm-up and final flush included), influxd and simulator CPU s
    per 1,000 points)."""
    adapter = Adapter(site=site, writer=writer, clock=site.clock.build())
    await adapter.start(serve=False)
    await asyncio.sleep(1.0)  # warm-up: connections, first rounds
    await adapter.sink.flush()
    written0 = adapter.metrics.points_written._value.get()
    cpu0, t0 = time.process_time(), time.perf_counter()
    influx0, sim0 = process_cpu(influxd_pid), process_cpu(simulator)
    await asyncio.sleep(seconds)
    await adapter.sink.flush()
    written = adapter.metrics.points_written._value.get() - written0
    cpu, elapsed = time.process_time() - cpu0, time.perf_counter() - t0
    influx = process_cpu(influxd_pid) - influx0
    sim = process_cpu(simulator) - sim0
    await adapter.stop()
    total = adapter.metrics.points_written._value.get()
    per_k = 1000 / max(written, 1)
    return written / elapsed, cpu * per_k, int(written), int(total), influx * per_k, sim * per_k


async def build_site(
    manifest: dict[str, Any], protocol: str, state: Path, interval: float, limit: int
) -> Any:
    if protocol == "bacnet":
        client = BacnetClient(f"127.0.0.1:{free_udp_port()}")
        client.start()

        async def discover(address: str, instance: int) -> dict[str, Any]:
            return await discover_device(client, address, instance)

        data = await config_from_manifest(manifest, discover)
        client.close()
    else:
        data = await config_from_manifest(manifest, None)
    taken = 0
    for b in data["buildings"]:
        b["devices"] = [d for d in b["devices"] if d["protocol"] == protocol][: limit - taken]
        taken += len(b["devices"])
        for d in b["devices"]:
            d["poll_interval_s"] = interval
            d["timeout_s"] = 2.0
    settings = AdapterSettings(
        state_dir=state,
        batch_size=5000,
        flush_interval_s=0.5,
        bacnet_address=f"127.0.0.1:{free_udp_port()}",
    )
    return parse_config(data, "bench", settings, ClockConfig.model_validate(manifest["clock"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=14)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--modbus-devices", type=int, default=200)
    parser.add_argument("--bacnet-devices", type=int, default=50)
    parser.add_argument(
        "--bacnet-interval", type=float, default=0.05, help="BACnet poll interval (s)"
    )
    parser.add_argument(
        "--protocols", nargs="+", choices=("modbus", "bacnet"), default=["modbus", "bacnet"]
    )
    args = parser.parse_args()
    # every loop, bare or not, runs under the adapter process's settings
    tune_garbage_collection()

    ours, generic = decode_ratio()
    print(
        f"decode 50 float32: struct {ours * 1e6:.1f} us, pymodbus generic {generic * 1e6:.1f} us"
        f" -> {generic / ours:.0f}x"
    )

    with (
        tempfile.TemporaryDirectory() as tmp,
        running_simulator(Path(tmp), "--copies", str(args.copies)) as manifest,
    ):
        binary = find_binary()
        server = None
        if binary is not None:
            server = InfluxServer(binary=binary, data_dir=Path(tmp) / "influx")
            server.start()
        try:
            run_all(args, manifest, Path(tmp), server)
        finally:
            if server is not None:
                server.stop()


@dataclass(frozen=True)
class Budget:
    """CPU seconds per 1,000 points of one measurement, by process."""

    client: float  # the bare loop or the adapter (this process)
    simulator: float
    influxd: float = 0.0

    @property
    def total(self) -> float:
        return self.client + self.simulator + self.influxd


def print_budgets(budgets: dict[str, tuple[float, Budget, Budget]]) -> None:
    """Where the two cores went, and what that allows: a loop that cost no more per point
    than the bare client and also fed InfluxDB would need bare + influxd CPU per point."""
    print("\nCPU s per 1,000 points, same run (client or adapter + simulator + influxd):")
    for protocol, (bare_rate, bare, e2e) in budgets.items():
        cores = bare.total * bare_rate / 1000
        # the bare loop kept `cores` busy; with influxd's share added per point, the same
        # cores carry this fraction of its rate at most
        bound = bare.total / (bare.total + e2e.influxd) * 2.0 / max(cores, 1e-9)
        print(
            f"  {protocol:7} bare loop {bare.client:.4f} + {bare.simulator:.4f} = "
            f"{bare.total:.4f} ({cores:.2f} cores busy); end to end {e2e.client:.4f} + "
            f"{e2e.simulator:.4f} + {e2e.influxd:.4f} = {e2e.total:.4f}"
        )
        print(
            f"  {'':7} an adapter costing no more than the bare client, plus influxd: at "
            f"most {bound:.0%} of the bare loop on these cores"
        )


TARGETS = {"modbus": 20_000.0, "bacnet": 2_500.0}  # points/s end to end, 2 cores
# the adapter's own CPU per point (readings counted, not written) against the bare client's
TARGET_OWN_COST = {"modbus": 1.5}


def print_own_cost(counted: dict[str, tuple[float, float]]) -> None:
    """This process's CPU per point, bare client against the adapter with readings only
    counted: what the adapter itself adds, without InfluxDB's HTTP writes."""
    print("\nOwn CPU s per 1,000 points, same run (bare client / adapter, readings counted):")
    for protocol, (bare, adapter) in counted.items():
        ratio = adapter / bare if bare else float("inf")
        target = TARGET_OWN_COST.get(protocol)
        verdict = f" {'met' if ratio <= target else 'missed'} (<= {target}x)" if target else ""
        print(f"  {protocol:7} {bare:.4f} / {adapter:.4f} -> {ratio:.2f}x{verdict}")


def run_all(args: Any, manifest: dict[str, Any], tmp: Path, server: Any) -> None:
    rows = []
    budgets: dict[str, tuple[float, Budget, Budget]] = {}
    counted: dict[str, tuple[float, float]] = {}
    simulator = simulator_pid(tmp / "manifest.yaml")
    for protocol in args.protocols:
        interval = 0.001 if protocol == "modbus" else args.bacnet_interval
        limit = args.modbus_devices if protocol == "modbus" else args.bacnet_devices
        site = asyncio.run(build_site(manifest, protocol, tmp / protocol, interval, limit))
        n_dev = sum(len(b.devices) for b in site.buildings)
        n_pts = sum(
            len(d.resolved_points()) if d.protocol == "modbus" else len(d.points)
            for b in site.buildings
            for d in b.devices
        )
        bare_loop = bare_modbus if protocol == "modbus" else bare_bacnet
        wait_until_quiet(simulator, "simulator")
        cpu0, sim0 = time.process_time(), process_cpu(simulator)
        bare, bare_points = asyncio.run(bare_loop(site, args.seconds))
        per_k = 1000 / max(bare_points, 1)
        bare_cpu = Budget(
            (time.process_time() - cpu0) * per_k, (process_cpu(simulator) - sim0) * per_k
        )
        # the adapter alone (readings counted, not written): what InfluxDB's share of the
        # same two cores costs the end-to-end figure
        wait_until_quiet(simulator, "simulator")
        alone, alone_cpu, *_, alone_sim = asyncio.run(
            end_to_end(site, args.seconds, CountingWriter(), simulator=simulator)
        )
        counted[protocol] = (bare_cpu.client, alone_cpu)
        store = None
        writer: Any = CountingWriter()
        if server is not None:
            store = InfluxStore(server.url, server.token, server.org, f"bench_{protocol}")
            store.ensure_bucket(store.bucket)
            writer = store
        pid = server.process.pid if server is not None and server.process else None
        wait_until_quiet(simulator, "simulator")
        rate, cpu_per_k, written, total, influx_per_k, sim_per_k = asyncio.run(
            end_to_end(site, args.seconds, writer, pid, simulator)
        )
        budgets[protocol] = (bare, bare_cpu, Budget(cpu_per_k, sim_per_k, influx_per_k))
        confirmed = "writer count (no influxd)"
        if store is not None:
            now = datetime.now(UTC)
            stored = store.count(now - timedelta(days=3650), now + timedelta(days=3650), {})
            confirmed = f"{stored:,} of {total:,} " + ("ok" if stored == total else "MISMATCH")
            store.close()
        rows.append(
            (protocol, n_dev, n_pts, bare, rate, cpu_per_k, influx_per_k, written, confirmed)
        )
        print(
            f"{protocol}: adapter without InfluxDB {alone:,.0f} points/s "
            f"({alone / bare:.0%} of the bare loop), CPU s per 1,000 points: adapter "
            f"{alone_cpu:.4f} (simulator {alone_sim:.4f}), bare client {bare_cpu.client:.4f}",
            flush=True,
        )
        print(f"{protocol} done", flush=True)
    print_table(rows, args)
    print_budgets(budgets)
    print_own_cost(counted)


def print_table(rows: list[tuple[Any, ...]], args: Any) -> None:
    devices = sum(r[1] for r in rows)
    points = sum(r[2] for r in rows)
    print(
        f"\nscale: {devices} devices, {points:,} configured points, one simulator process "
        f"(--copies {args.copies}), {args.seconds:.0f} s per measurement"
    )
    header = (
        f"{'protocol':8} {'devices':>7} {'points':>7} {'bare pts/s':>11} {'adapter pts/s':>13}"
        f" {'ratio':>6} {'CPU s/1k':>9} {'influxd':>8} {'written':>9}  {'InfluxDB rows (all)':24}"
        " target"
    )
    print(header)
    print("-" * len(header))
    # CPU s/1k: the adapter process; influxd: the InfluxDB server, same window
    for protocol, n_dev, n_pts, bare, rate, cpu_per_k, influx_per_k, written, confirmed in rows:
        ratio = rate / bare if bare else 0.0
        met = rate >= TARGETS[protocol]
        print(
            f"{protocol:8} {n_dev:>7} {n_pts:>7,} {bare:>11,.0f} {rate:>13,.0f} {ratio:>6.0%}"
            f" {cpu_per_k:>9.3f} {influx_per_k:>8.3f} {written:>9,}  {confirmed:24} "
            f"{'met' if met else 'missed'} (>= {TARGETS[protocol]:,.0f}/s)"
        )


if __name__ == "__main__":
    main()
