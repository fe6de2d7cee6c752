"""`make demo`: the whole of Polis as local processes, closing the loop on a virtual municipality.

1. builds or reuses influxd and starts InfluxDB on loopback;
2. exports a baseline year of the simulated municipality's history and imports it (M&V baseline);
3. **learns the buildings** (unless ``--models truth``): the simulator, serving only what a
   facility manager has of a building (devices, points, meters, nameplate data; no R, C or
   COP), and the building adapter run the three weeks before the reporting period at a high
   clock speed, the buildings on their own schedules, while the adapter writes their history
   to InfluxDB; then ``python -m polis.optimizer commission`` learns every zone, hot-water
   tank and base load from that history and writes the learned catalogue;
4. runs the reporting period (7 simulated days by default, with a progress bar) on the
   simulator (BACnet/IP + Modbus TCP), the building adapter and the optimizer (apply mode),
   all on one accelerated virtual clock: by default (``--models both``) first with the
   optimizer configured from the simulator's own models (the reference), then from the
   learned catalogue only, which run keeps serving with the savings service and the gateway;
   ``--models learned`` or ``--models truth`` runs only that one;
5. prints the period's cost per building and comfort per zone (as-is, and per run), the
   measured savings per building and in total (kWh, €, CO2, uncertainty), the dashboard URL
   and a demo API key, and keeps serving until interrupted (`--exit-when-done` stops instead).

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
from zoneinfo import ZoneInfo

import httpx
from demo_week import PeriodFigures, as_is_figures, measured_figures, print_figures

from polis.common.catalogue import load_catalogue
from polis.common.catalogue.loads import TankConfig, ZoneConfig
from polis.common.grpc_server import check_health
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, build, find_binary, free_port
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout

ROOT = Path(__file__).resolve().parents[1]
# a Monday in a Thessalian winter; the three weeks before it are school term (the school's
# Christmas closure ends on 7 January), so the learning phase sees every building in use
REPORTING_START = datetime(2026, 2, 2, tzinfo=UTC)
LEARN_POLL_S = 0.1  # wall seconds between the adapter's polls while it learns
TIMEZONE = "Europe/Athens"  # the simulated municipality's
HISTORY_BUCKET = "history"  # what the adapter writes while the demo learns


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


def progress(
    clock_start: datetime,
    origin: float,
    speed: float,
    days: float,
    stack: Stack,
    label: str = "reporting period",
) -> None:
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
            f"[demo] {label} [{bar:<{width}}] {done * days:4.1f}/{days:g} days "
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


@dataclass
class Demo:
    """What every phase of the demo shares: the run directory, InfluxDB, the environment,
    the simulator's fixed ports and the stacks started so far (stopped at the end)."""

    run_dir: Path
    influx: InfluxServer
    env: dict[str, str]
    base_port: int
    stacks: list[Stack] = field(default_factory=list)

    def stack(self, extra_env: dict[str, str]) -> Stack:
        stack = Stack(self.run_dir, {**self.env, **extra_env})
        self.stacks.append(stack)
        return stack

    def catalogue_args(self, poll_s: float) -> list[str]:
        polls = ["--modbus-poll-s", f"{poll_s:g}", "--bacnet-poll-s", f"{poll_s:g}"]
        return ["--base-port", str(self.base_port), *polls]

    def clock(self, start: datetime, speed: float, lead_s: float = 20.0) -> dict[str, str]:
        origin = datetime.now(UTC) + timedelta(seconds=lead_s)
        return {
            "POLIS_CLOCK_ORIGIN": origin.isoformat(),
            "POLIS_CLOCK_START": start.isoformat(),
            "POLIS_CLOCK_SPEED": f"{speed:.3f}",
        }

    def adapter_env(self, grpc_port: int, ocpp_port: int, state: str) -> dict[str, str]:
        return {
            "POLIS_ADAPTER_GRPC_PORT": str(grpc_port),
            "POLIS_ADAPTER_METRICS_PORT": "0",
            "POLIS_ADAPTER_STATE_DIR": str(self.run_dir / state),
            "POLIS_ADAPTER_BACNET_ADDRESS": f"127.0.0.1:{free_udp_port()}",
            "POLIS_ADAPTER_OCPP_PORT": str(ocpp_port),
            "POLIS_ADAPTER_OCPP_SECURITY_PROFILE": "0",
        }


def learning_span(days: float) -> tuple[datetime, datetime]:
    """Whole local days ending on the Wednesday before the reporting period's Monday, so that
    the three days commissioning holds out are weekdays: on a school's weekend its heat
    pumps barely run, and a day's energy error over so little energy is a ratio of small
    numbers (the classrooms' CV came out at 39 % with Friday to Sunday held out)."""
    local = REPORTING_START.astimezone(ZoneInfo(TIMEZONE)).date()
    end = datetime.combine(local - timedelta(days=4), datetime.min.time(), ZoneInfo(TIMEZONE))
    return end - timedelta(days=days), end


def learn(demo: Demo, days: float, minutes: float) -> Path:
    """The history weeks before the reporting period, then commissioning; the learned
    catalogue's path."""
    start, end = learning_span(days)
    speed = days * 86_400 / (minutes * 60)
    # what commissioning starts from: the simulator's catalogue without its physics, polled
    # as the reporting period's services will poll it
    nameplate = demo.run_dir / "nameplate-catalogue.yaml"
    nameplate.write_text(
        run(
            ["-m", "polis.simulator", "catalogue", "--nameplate-only", *demo.catalogue_args(1)],
            demo.env,
            demo.run_dir,
        )
    )
    served = demo.run_dir / "learning-catalogue.yaml"
    clock = demo.clock(start, speed, lead_s=10.0)
    # The history has a bucket of its own: the savings service's reports over the baseline
    # year filter the adapter's readings by a point name's suffix, which InfluxDB answers by
    # reading every series of the span, and three dense weeks slowed them past its timeout.
    InfluxStore(demo.influx.url, demo.influx.token, demo.influx.org, HISTORY_BUCKET).ensure_bucket(
        HISTORY_BUCKET
    )
    stack = demo.stack({**clock, "POLIS_INFLUX_BUCKET": HISTORY_BUCKET})
    last = end - timedelta(days=1)
    say(
        f"learning: {days:g} days of history, {start:%a %d %b} – {last:%a %d %b}, buildings on "
        f"their own schedules, at {speed:.0f}× (a poll every {LEARN_POLL_S * speed / 60:.0f} "
        "virtual min); the simulator serves no R, C or COP"
    )
    stack.start(
        "learning-simulator",
        [
            "-m",
            "polis.simulator",
            "--nameplate-only",
            "--catalogue",
            str(served),
            *demo.catalogue_args(LEARN_POLL_S),
        ],
    )
    wait_for("simulator", served.exists, stack)
    stack.start(
        "learning-adapter",
        ["-m", "polis.adapter", "run", "--catalogue", str(served)],
        demo.adapter_env(free_port(), free_port(), "learning-adapter"),
    )
    origin = datetime.fromisoformat(clock["POLIS_CLOCK_ORIGIN"]).timestamp()
    started = time.monotonic()
    progress(start, origin, speed, days, stack, "learning history")
    time.sleep(2.0)  # the last polls reach InfluxDB
    stack.stop()
    say(f"learning: history written in {(time.monotonic() - started) / 60:.1f} min")
    return commission(demo, nameplate, start, end)


# the lines of the commissioning output the console shows (the whole is in the log)
COMMISSION_SHOWN = (
    "== building",
    ": ACCEPTED",
    ": REJECTED",
    "reason:",
    "1R1C for",
    "written:",
    "base load:",
)


def commission(demo: Demo, nameplate: Path, start: datetime, end: datetime) -> Path:
    """``python -m polis.optimizer commission`` over every building and the local days
    ``[start, end)``; its output in logs/commission.log, the verdicts on the console."""
    learned = demo.run_dir / "learned-catalogue.yaml"
    args = ["--since", start.date().isoformat(), "--until", end.date().isoformat()]
    args += ["--out", str(learned), "--report", str(demo.run_dir / "commissioning")]
    say("commissioning: learning every zone, hot-water tank and base load from that history")
    started = time.monotonic()
    log = demo.run_dir / "logs" / "commission.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "polis.optimizer", "commission", *args],
            env={
                **demo.env,
                "POLIS_CATALOGUE": str(nameplate),
                "POLIS_INFLUX_BUCKET": HISTORY_BUCKET,
                "PYTHONUNBUFFERED": "1",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=demo.run_dir,
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if any(shown in line for shown in COMMISSION_SHOWN):
                print(f"[demo]   {line.rstrip()}", flush=True)
        if process.wait() != 0:
            raise RuntimeError(f"commissioning failed; see {log}")
    say(
        f"commissioning: done in {(time.monotonic() - started) / 60:.1f} min, report in "
        f"{demo.run_dir / 'commissioning'}"
    )
    print_learned(learned)
    return learned


def print_learned(path: Path) -> None:
    """What the optimizer will plan with, as learned (the demo never reads the truth)."""
    cat = load_catalogue(path)
    print(
        f"\n{'learned':30s}{'model':>14s}{'tau h':>8s}{'R K/kW':>8s}{'C kWh/K':>9s}"
        f"{'COP@7':>7s}{'gain kW':>9s}{'max kW':>8s}{'band K':>8s}"
    )
    for building in cat.buildings:
        print(f"  {building.id} (base load {building.base_load_kw:.1f} kW)")
        for load in building.loads:
            if isinstance(load, ZoneConfig) and load.r_k_per_kw and load.c_kwh_per_k:
                print(
                    f"    {load.id:26s}{load.model.value:>14s}"
                    f"{load.r_k_per_kw * load.c_kwh_per_k:8.1f}{load.r_k_per_kw:8.3f}"
                    f"{load.c_kwh_per_k:9.1f}{load.cop_nominal:7.2f}"
                    f"{load.gains_occupied_kw:9.1f}{load.max_kw:8.1f}"
                    f"{load.controller.proportional_band_k:8.2f}"
                )
            elif isinstance(load, TankConfig):
                draw = sum(load.daily_draw_kwh) + 24 * load.loss_kw
                print(f"    {load.id:26s}{load.model.value:>14s}  draws {draw:.1f} kWh/day")
            elif isinstance(load, ZoneConfig):
                print(f"    {load.id:26s}{load.model.value:>14s}  (its own controller runs it)")
    print()


@dataclass
class Report:
    """One reporting run: its figures, and its stack while it serves."""

    name: str
    figures: PeriodFigures
    stack: Stack
    base_url: str | None = None


def report_period(
    demo: Demo, name: str, catalogue_path: Path | None, args: argparse.Namespace, final: bool
) -> Report:
    """The reporting period with the optimizer on ``catalogue_path`` (``None``: the
    simulator's own catalogue, its true models). The final run serves afterwards, with the
    savings service and the gateway; an earlier one is stopped once measured."""
    speed = args.days * 86_400 / (args.minutes * 60)
    ports = {n: free_port() for n in ("adapter", "optimizer", "savings", "ocpp")}
    bucket = demo.influx.bucket if final else name
    if not final:
        InfluxStore(demo.influx.url, demo.influx.token, demo.influx.org, bucket).ensure_bucket(
            bucket
        )
    simulator_catalogue = demo.run_dir / f"simulator-catalogue-{name}.yaml"
    catalogue = catalogue_path or simulator_catalogue
    clock = demo.clock(REPORTING_START, speed)
    env = {
        **clock,
        "POLIS_INFLUX_BUCKET": bucket,
        "POLIS_CATALOGUE": str(catalogue),
        "POLIS_SAVINGS_GRPC_PORT": str(ports["savings"]),
        "POLIS_OPTIMIZER_PORT": str(ports["optimizer"]),
        "POLIS_ADAPTER_TARGET": f"127.0.0.1:{ports['adapter']}",
        "POLIS_ADAPTER_ADDRESS": f"127.0.0.1:{ports['adapter']}",
        "POLIS_OPTIMIZER_ADDRESS": f"127.0.0.1:{ports['optimizer']}",
        "POLIS_SAVINGS_ADDRESS": f"127.0.0.1:{ports['savings']}",
    }
    stack = demo.stack(env)
    say(
        f"{name}: {REPORTING_START:%Y-%m-%d} at {speed:.0f}×, the optimizer on "
        f"{'the simulator’s own models' if catalogue_path is None else catalogue.name}"
    )
    # the depot's chargers connect to the adapter's OCPP central system, retrying until it
    # listens; plain ws on loopback (security profile 0). The simulator serves its fixed
    # layout, the one the catalogue names; with a catalogue of the services' own it writes
    # only what a facility manager has.
    simulator = ["-m", "polis.simulator", "--catalogue", str(simulator_catalogue)]
    simulator += [*demo.catalogue_args(1), "--ocpp-url", f"ws://127.0.0.1:{ports['ocpp']}"]
    if catalogue_path is not None:
        simulator.append("--nameplate-only")
    stack.start(f"{name}-simulator", simulator)
    wait_for("simulator", simulator_catalogue.exists, stack)
    stack.start(
        f"{name}-adapter",
        ["-m", "polis.adapter", "run", "--catalogue", str(catalogue)],
        demo.adapter_env(ports["adapter"], ports["ocpp"], f"{name}-adapter"),
    )
    stack.start(f"{name}-optimizer", ["-m", "polis.optimizer"])
    services = ["adapter", "optimizer"]
    base_url = None
    if final:
        stack.start("savings", ["-m", "polis.savings", "serve"])
        stack.start("gateway", ["-m", "polis.gateway"])
        services.append("savings")
    for service in services:
        wait_for(service, lambda n=service: grpc_ready(ports[n]), stack)
    if final:
        base_url = f"http://127.0.0.1:{args.gateway_port}"
        wait_for("gateway", lambda: http_ready(f"{base_url}/healthz"), stack)
    say(f"{name}: {', '.join(['simulator', *services])}{' and gateway' if final else ''} up")
    origin = datetime.fromisoformat(clock["POLIS_CLOCK_ORIGIN"]).timestamp()
    progress(REPORTING_START, origin, speed, args.days, stack, f"{name}: reporting period")
    time.sleep(max(3600 / speed * 1.5, 1.0))  # let the last hour's readings land
    with InfluxStore(demo.influx.url, demo.influx.token, demo.influx.org, bucket) as store:
        figures = measured_figures(load_catalogue(catalogue), store, REPORTING_START, args.days)
    if not final:
        stack.stop()
    return Report(name, figures, stack, base_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=7.0, help="simulated reporting days")
    parser.add_argument("--minutes", type=float, default=7.0, help="wall minutes for the period")
    parser.add_argument(
        "--models",
        choices=["both", "learned", "truth"],
        default="both",
        help="plan with models learned from the adapter's history, with the simulator's own, "
        "or run the period on both, the truth-configured run first, and print both (default)",
    )
    parser.add_argument("--learn-days", type=float, default=21.0, help="days of history")
    parser.add_argument(
        "--learn-minutes",
        type=float,
        default=8.0,
        help="wall minutes for the history (about 3,800× for 21 days: what the adapter and the "
        "simulator sustain with a reading every 6 virtual minutes, bench/history_rate.py)",
    )
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

    baseline_start = REPORTING_START - timedelta(days=365)
    admin_key = run(
        ["-m", "polis.gateway", "create-key", "--role", "admin", "--print-only"],
        dict(os.environ),
        run_dir,
    ).strip()
    env = {
        **os.environ,
        "POLIS_INFLUX_URL": influx.url,
        "POLIS_INFLUX_TOKEN": influx.token,
        "POLIS_INFLUX_ORG": influx.org,
        "POLIS_INFLUX_BUCKET": influx.bucket,
        "POLIS_LOG_FORMAT": "json",
        "POLIS_OPTIMIZER_MODE": args.mode,
        # Hourly re-plans with a short solve keep up with a clock running ~1,400x real time.
        "POLIS_OPTIMIZER_REPLAN_MINUTES": "60",
        "POLIS_OPTIMIZER_TIME_LIMIT_S": "2",
        "POLIS_OPTIMIZER_COMMAND_SLOTS": "8",
        "POLIS_GATEWAY_PORT": str(args.gateway_port),
        "POLIS_GATEWAY_DATABASE_URL": f"sqlite:///{run_dir / 'gateway.db'}",
        "POLIS_BOOTSTRAP_ADMIN_KEY": admin_key,
    }
    demo = Demo(run_dir, influx, env, simulator_base_port())
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
        # The import tags the history with each building's place (the catalogue of the
        # simulator's fixed port layout names them), the savings service prices with its
        # tariff.
        places = run_dir / "places-catalogue.yaml"
        places.write_text(
            run(
                ["-m", "polis.simulator", "catalogue", "--nameplate-only", *demo.catalogue_args(1)],
                env,
                run_dir,
            )
        )
        say("baseline: importing it into InfluxDB through the savings service")
        print(
            run(
                ["-m", "polis.savings", "import", str(history), "--source", "simulator history"],
                {**env, "POLIS_CATALOGUE": str(places)},
                run_dir,
            ).strip()
        )

        learned = None
        if args.models in ("learned", "both"):
            learned = learn(demo, args.learn_days, args.learn_minutes)
        names = ["truth", "learned"] if args.models == "both" else [args.models]
        reports = [
            report_period(
                demo, name, learned if name == "learned" else None, args, name == names[-1]
            )
            for name in names
        ]
        final = reports[-1]
        config = load_config()
        as_is = as_is_figures(config, load_catalogue(places), REPORTING_START, args.days)
        print_figures(
            f"the reporting period ({args.days:g} days from {REPORTING_START:%Y-%m-%d}), "
            "metered cost and comfort",
            {"as-is": as_is, **{r.name: r.figures for r in reports}},
        )
        if args.models == "both":
            ratio = reports[1].figures.cost_eur / reports[0].figures.cost_eur
            print(f"learned / truth cost: {ratio:.3f}")

        reporting_end = REPORTING_START + timedelta(days=args.days)
        say("savings: fitting the baseline and measuring the reporting period")
        base = final.base_url
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
            final.stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        return 0
    finally:
        say("stopping")
        for stack in reversed(demo.stacks):
            stack.stop()
        influx.stop()


if __name__ == "__main__":
    raise SystemExit(main())
