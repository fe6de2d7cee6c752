"""`make demo`: the whole of Polis as local processes, closing the loop on a virtual municipality.

1. builds or reuses influxd and starts InfluxDB on loopback;
2. exports a baseline year of the simulated municipality's history and imports it (M&V baseline);
3. starts the simulator (BACnet/IP + Modbus TCP), the building adapter, the optimizer (apply
   mode), the savings service and the gateway, all on one accelerated virtual clock;
4. runs the reporting period (7 simulated days by default) with a progress bar;
5. prints the measured savings per building and in total (kWh, €, CO2, uncertainty), the
   dashboard URL and a demo API key, and keeps serving until interrupted (`--exit-when-done`
   stops instead).

Everything lives under --run-dir (default .run/demo), which each run starts afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from polis.common.grpc_server import check_health
from polis.common.influxd import InfluxServer, build, find_binary, free_port
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout

ROOT = Path(__file__).resolve().parents[1]
REPORTING_START = datetime(2026, 1, 12, tzinfo=UTC)  # a Monday in a Thessalian winter


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


@dataclass
class Stack:
    """The child processes of the demo; stopped in reverse order, gracefully first."""

    run_dir: Path
    env: dict[str, str]
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(
        self, name: str, args: Sequence[str], extra_env: dict[str, str] | None = None
    ) -> None:
        log = (self.run_dir / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, *args],
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.run_dir,
            start_new_session=True,
        )
        self.processes.append((name, process))

    def check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                log = self.run_dir / "logs" / f"{name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, process in reversed(self.processes):
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()


def run(args: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def wait_for(what: str, ready: Any, stack: Stack, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        if ready():
            return
        time.sleep(0.3)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def grpc_ready(port: int) -> bool:
    return asyncio.run(check_health(f"127.0.0.1:{port}", deadline_s=1.0))


def http_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def progress(clock_start: datetime, origin: float, speed: float, days: float, stack: Stack) -> None:
    end = clock_start + timedelta(days=days)
    width = 40
    tty = sys.stdout.isatty()
    shown = -1
    while True:
        stack.check_alive()
        virtual = clock_start + timedelta(seconds=(time.time() - origin) * speed)
        done = min(max((virtual - clock_start) / (end - clock_start), 0.0), 1.0)
        bar = "#" * int(done * width)
        line = (
            f"[demo] reporting period [{bar:<{width}}] {done * days:4.1f}/{days:g} days "
            f"({virtual:%a %d %b %H:%M} virtual)"
        )
        if tty:
            sys.stdout.write("\r" + line)
        elif int(done * 10) != shown:  # a log gets a line per tenth, not a carriage-return blur
            shown = int(done * 10)
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if done >= 1.0:
            if tty:
                sys.stdout.write("\n")
            return
        time.sleep(1.0)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def simulator_base_port() -> int:
    """A base port whose range the simulator's fixed layout can take, TCP and UDP alike.

    Below Linux's ephemeral range (from 32768), where the other free ports come from.
    """
    layout = endpoint_layout(load_config())
    count = max(len(layout.modbus), len(layout.bacnet))
    for base in range(20_000, 32_000 - count, count):
        ports = range(base, base + count)
        if all(_bindable(socket.SOCK_STREAM, p) and _bindable(socket.SOCK_DGRAM, p) for p in ports):
            return base
    raise RuntimeError("no free port range for the simulator")


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for building in report.get("buildings", []):
        total = next((p for p in building.get("periods", []) if p["period"] == "total"), None)
        stats = building.get("statistics", {})
        if total is None or not stats.get("accepted", False):
            rows.append((building["building"], None, stats.get("reason", "no result")))
            continue
        rows.append((building["building"], total, building.get("model", "")))
    print()
    print(
        f"{'building':<16}{'baseline kWh':>14}{'actual kWh':>12}{'avoided kWh':>13}"
        f"{'± kWh (90%)':>13}{'avoided €':>11}{'CO2 kg':>9}{'savings':>9}"
    )
    for name, total, note in rows:
        if total is None:
            print(f"{name:<16}  baseline rejected: {note}")
            continue
        print(
            f"{name:<16}{total['baseline_kwh']:>14.0f}{total['actual_kwh']:>12.0f}"
            f"{total['avoided_kwh']:>13.0f}{total['uncertainty_90_kwh']:>13.0f}"
            f"{total['avoided_eur']:>11.2f}{total['avoided_co2_kg']:>9.0f}"
            f"{100 * total['fractional_savings']:>8.1f}%"
        )
    total = next((p for p in report.get("total", []) if p["period"] == "total"), None)
    if total:
        print(
            f"{'TOTAL':<16}{total['baseline_kwh']:>14.0f}{total['actual_kwh']:>12.0f}"
            f"{total['avoided_kwh']:>13.0f}{total['uncertainty_90_kwh']:>13.0f}"
            f"{total['avoided_eur']:>11.2f}{total['avoided_co2_kg']:>9.0f}"
            f"{100 * total['fractional_savings']:>8.1f}%"
        )
    print(f"\nmethod: {report.get('method', '')}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=7.0, help="simulated reporting days")
    parser.add_argument("--minutes", type=float, default=7.0, help="wall minutes for the period")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run" / "demo")
    parser.add_argument("--gateway-port", type=int, default=8080)
    parser.add_argument("--mode", choices=["apply", "dry_run"], default="apply")
    parser.add_argument("--exit-when-done", action="store_true")
    args = parser.parse_args(argv)

    run_dir: Path = args.run_dir.resolve()
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "logs").mkdir(parents=True)
    started = time.monotonic()

    say("InfluxDB: building or reusing influxd")
    binary = find_binary() or build()
    influx = InfluxServer(binary, run_dir / "influxdb", free_port())
    influx.start()
    say(f"InfluxDB {influx.version().split()[1]} healthy at {influx.url}")

    speed = args.days * 86_400 / (args.minutes * 60)
    baseline_start = REPORTING_START - timedelta(days=365)
    ports = {name: free_port() for name in ("adapter", "optimizer", "savings", "ocpp")}
    admin_key = run(
        ["-m", "polis.gateway", "create-key", "--role", "admin", "--print-only"],
        dict(os.environ),
        run_dir,
    ).strip()
    catalogue = run_dir / "catalogue.yaml"
    env = {
        **os.environ,
        "POLIS_INFLUX_URL": influx.url,
        "POLIS_INFLUX_TOKEN": influx.token,
        "POLIS_INFLUX_ORG": influx.org,
        "POLIS_INFLUX_BUCKET": influx.bucket,
        "POLIS_LOG_FORMAT": "json",
        # the simulator's catalogue: devices, loads, meters, calendars and the tariff that
        # both the optimizer and savings price with
        "POLIS_CATALOGUE": str(catalogue),
        "POLIS_SAVINGS_GRPC_PORT": str(ports["savings"]),
        "POLIS_OPTIMIZER_PORT": str(ports["optimizer"]),
        "POLIS_OPTIMIZER_MODE": args.mode,
        # Hourly re-plans with a short solve keep up with a clock running ~1,400x real time.
        "POLIS_OPTIMIZER_REPLAN_MINUTES": "60",
        "POLIS_OPTIMIZER_TIME_LIMIT_S": "2",
        "POLIS_OPTIMIZER_COMMAND_SLOTS": "8",
        "POLIS_ADAPTER_TARGET": f"127.0.0.1:{ports['adapter']}",
        "POLIS_ADAPTER_ADDRESS": f"127.0.0.1:{ports['adapter']}",
        "POLIS_OPTIMIZER_ADDRESS": f"127.0.0.1:{ports['optimizer']}",
        "POLIS_SAVINGS_ADDRESS": f"127.0.0.1:{ports['savings']}",
        "POLIS_GATEWAY_PORT": str(args.gateway_port),
        "POLIS_GATEWAY_DATABASE_URL": f"sqlite:///{run_dir / 'gateway.db'}",
        "POLIS_BOOTSTRAP_ADMIN_KEY": admin_key,
        # Alarms: about one round per wall second at this clock's speed, and the energy rules'
        # expectations from the baseline year imported below (docs/alarms.md).
        "POLIS_GATEWAY_ALARM_INTERVAL_S": f"{max(60.0, speed):.0f}",
        "POLIS_GATEWAY_ALARM_BASELINE_START": baseline_start.isoformat(),
        "POLIS_GATEWAY_ALARM_BASELINE_END": REPORTING_START.isoformat(),
    }
    stack = Stack(run_dir, env)
    try:
        say(
            f"baseline: exporting {baseline_start:%Y-%m-%d} → {REPORTING_START:%Y-%m-%d} "
            "from the simulator's model"
        )
        history = run_dir / "history.csv"
        run(
            [
                "-m",
                "polis.simulator",
                "export",
                "--start",
                f"{baseline_start:%Y-%m-%d}",
                "--end",
                f"{REPORTING_START:%Y-%m-%d}",
                "--out",
                str(history),
                "--interval",
                "1h",
            ],
            env,
            run_dir,
        )
        # The import tags the history with each building's place, so the catalogue is needed
        # before the simulator serves: the fixed port layout makes it the document the
        # simulator writes again once it listens.
        base_port = simulator_base_port()
        catalogue_args = ["--base-port", str(base_port), "--modbus-poll-s", "1"]
        catalogue_args += ["--bacnet-poll-s", "1"]
        catalogue.write_text(
            run(["-m", "polis.simulator", "catalogue", *catalogue_args], env, run_dir)
        )
        say("baseline: importing it into InfluxDB through the savings service")
        print(
            run(
                ["-m", "polis.savings", "import", str(history), "--source", "simulator history"],
                env,
                run_dir,
            ).strip()
        )

        origin = datetime.now(UTC) + timedelta(seconds=20)
        clock_env = {
            "POLIS_CLOCK_ORIGIN": origin.isoformat(),
            "POLIS_CLOCK_START": REPORTING_START.isoformat(),
            "POLIS_CLOCK_SPEED": f"{speed:.3f}",
        }
        stack.env.update(clock_env)
        say(f"virtual clock: {REPORTING_START:%Y-%m-%d} at {speed:.0f}× from {origin:%H:%M:%S} UTC")

        catalogue.unlink()  # written again by the simulator when every endpoint listens
        # the depot's chargers connect to the adapter's OCPP central system, retrying until it
        # listens; plain ws on loopback (security profile 0)
        ocpp = ["--ocpp-url", f"ws://127.0.0.1:{ports['ocpp']}"]
        stack.start(
            "simulator",
            ["-m", "polis.simulator", "--catalogue", str(catalogue), *catalogue_args, *ocpp],
        )
        wait_for("simulator", catalogue.exists, stack)
        say("simulator: BACnet/IP controllers, Modbus TCP meters and OCPP chargers up")

        stack.start(
            "adapter",
            ["-m", "polis.adapter", "run", "--catalogue", str(catalogue)],
            {
                "POLIS_ADAPTER_GRPC_PORT": str(ports["adapter"]),
                "POLIS_ADAPTER_METRICS_PORT": "0",
                "POLIS_ADAPTER_STATE_DIR": str(run_dir / "adapter"),
                "POLIS_ADAPTER_BACNET_ADDRESS": f"127.0.0.1:{free_udp_port()}",
                "POLIS_ADAPTER_OCPP_PORT": str(ports["ocpp"]),
                "POLIS_ADAPTER_OCPP_SECURITY_PROFILE": "0",
            },
        )
        stack.start("optimizer", ["-m", "polis.optimizer"])
        stack.start("savings", ["-m", "polis.savings", "serve"])
        stack.start("gateway", ["-m", "polis.gateway"])
        for name in ("adapter", "optimizer", "savings"):
            wait_for(name, lambda n=name: grpc_ready(ports[n]), stack)
            say(f"{name}: healthy on 127.0.0.1:{ports[name]}")
        base = f"http://127.0.0.1:{args.gateway_port}"
        wait_for("gateway", lambda: http_ready(f"{base}/healthz"), stack)
        say(f"gateway: healthy at {base}")

        progress(REPORTING_START, origin.timestamp(), speed, args.days, stack)
        reporting_end = REPORTING_START + timedelta(days=args.days)
        time.sleep(max(3600 / speed * 1.5, 1.0))  # let the last hour's readings land
        say("savings: fitting the baseline and measuring the reporting period")
        response = httpx.get(
            f"{base}/api/v1/savings/report",
            params={
                "scope": "municipality",
                "id": "larissa",
                "baseline_start": baseline_start.isoformat(),
                "baseline_end": REPORTING_START.isoformat(),
                "reporting_start": REPORTING_START.isoformat(),
                "reporting_end": reporting_end.isoformat(),
            },
            headers={"X-API-Key": admin_key},
            timeout=300,
        )
        response.raise_for_status()
        print_report(response.json())
        say(f"finished in {(time.monotonic() - started) / 60:.1f} min")
        say(f"dashboard: {base}/dashboard/   API: {base}/api/v1   spec: {base}/openapi.json")
        say(f"demo API key (admin): {admin_key}")
        if args.exit_when_done:
            return 0
        say("serving; press Ctrl-C to stop")
        while True:
            stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        return 0
    finally:
        say("stopping")
        stack.stop()
        influx.stop()


if __name__ == "__main__":
    raise SystemExit(main())
