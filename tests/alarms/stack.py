"""The whole alarm path on one accelerated Polis clock.

- the simulator (``Site``: real BACnet/IP, Modbus TCP and OCPP on loopback), warmed up two
  simulated days, with the scenario's faults in its configuration;
- the building adapter (in process, its own event loop's tasks) writing to a real InfluxDB
  bucket; the simulated chargers connect to its OCPP central system;
- the real gateway (``python -m polis.gateway``, a process of its own) on a SQLite file,
  reading the catalogue the simulator emits (with the scenario's ``alarms:`` section and
  edits), InfluxDB and the adapter; its leader evaluates the alarms every ``interval_s`` of
  the shared clock;
- a webhook receiver subscribed to ``alarm.raised`` and ``alarm.cleared``, checking each
  delivery's HMAC signature;
- where a scenario asks for them, the savings service (``python -m polis.savings serve``) on a
  year of history exported from the simulator's model and imported as ``make demo`` does (the
  energy rules' baselines), and the optimizer (``python -m polis.optimizer``, dry run).

The clock is held while the simulator warms up and the adapter first polls every device,
then runs; the gateway process gets it as every service does, as an origin, a start and a
speed (``POLIS_CLOCK_*``: the instant it was let go, the virtual instant it was held at, the
speed), so all of them read the same virtual time. The clock reaches ``scenario.start`` a
fixed lead of wall seconds after it is let go, by when the gateway is up: faults are placed
after it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml
from closed_loop.scenario import PausableClock, adapter_settings

from polis.adapter.config import SiteConfig
from polis.adapter.service import Adapter
from polis.common.catalogue import Catalogue, parse_catalogue
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer
from polis.gateway.domain.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from polis.gateway.security import keys
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.export import INTERVALS, write_history
from polis.simulator.faults import check_faults, parse_faults
from polis.simulator.model import Simulation
from polis.simulator.ocpp_chargers import OcppLink
from polis.simulator.site import Site

API = "/api/v1"
EVENTS = ("alarm.raised", "alarm.cleared")
# wall seconds from letting the clock go to ``start``: the gateway process starts meanwhile
GATEWAY_LEAD_S = 30.0
# wall seconds between polls of a device; virtual minutes = wall × speed / 60. The rules
# judge 5-minute windows and want a reading in each: at speed 300 a poll of 0.5 s is 2.5 min.
POLL_S = 0.5
POLLED_TIMEOUT_S = 20.0
JWT_SECRET = "alarm-stack-secret-0123456789abcdef0123456789abcdef"
GATEWAY_READY_S = 60.0


@dataclass(frozen=True)
class Scenario:
    """One run of the stack: when, how fast, which faults, which alarm configuration."""

    name: str
    start: datetime  # the virtual instant the stack is up by
    speed: float  # virtual seconds per wall second
    faults: tuple[dict[str, Any], ...] = ()  # simulator faults, as in its YAML
    alarms: dict[str, Any] = field(default_factory=dict)  # the catalogue's ``alarms:``
    # edits of the catalogue document before it is checked (ranges, COV, limits)
    edit: Callable[[dict[str, Any]], None] | None = None
    interval_s: float = 300.0  # alarm evaluation period, virtual seconds
    warm_up: timedelta = timedelta(days=2)
    # > 0: the savings service runs, its baseline the history of these days before the start
    baseline_days: int = 0
    # set: the optimizer runs (dry run), reading the catalogue as this edits it
    optimizer_edit: Callable[[dict[str, Any]], None] | None = None

    poll_s: float = POLL_S  # every device's poll interval, wall seconds
    # the default municipality's buildings the scenario keeps (all by default): fewer
    # controllers to poll lets a faster clock keep a reading every 2.5 virtual minutes
    buildings: tuple[str, ...] = ()

    def config(self) -> MunicipalityConfig:
        config = load_config()
        kept = [b for b in config.buildings if not self.buildings or b.id in self.buildings]
        hoods = [n for n in config.neighbourhoods if any(b.neighbourhood == n.id for b in kept)]
        faults = parse_faults(list(self.faults))
        check_faults(faults, kept)
        return config.model_copy(
            update={"buildings": kept, "neighbourhoods": hoods, "faults": faults}
        )


class Hooks:
    """The webhook receiver on loopback: every delivery's event and data, in arrival order,
    each checked against its HMAC signature with the subscription's secret."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.forged: list[str] = []  # deliveries whose signature did not verify
        self.secret = ""
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hooks.receive(self.headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alarms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def receive(self, headers: Message, body: bytes) -> None:
        signed = verify(
            self.secret,
            int(headers.get(TIMESTAMP_HEADER, "0")),
            body,
            headers.get(SIGNATURE_HEADER, ""),
            now=time.time(),
        )
        with self.lock:
            self.received.append(json.loads(body))
            if not signed:
                self.forged.append(body.decode(errors="replace"))

    def events(self) -> list[dict[str, Any]]:
        """The deliveries so far, every one signed by the gateway (AssertionError if not)."""
        with self.lock:
            assert not self.forged, f"deliveries not signed with the secret: {self.forged}"
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Optimizer:
    """``python -m polis.optimizer`` in dry-run mode, on a port that stays its own across
    restarts (the gateway asks it for each building's current plan)."""

    env: dict[str, str]
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, catalogue: Path) -> None:
        env = {**self.env, "POLIS_CATALOGUE": str(catalogue)}
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "polis.optimizer", env=env, stdout=out, stderr=out
            )
        await _listening(self.port, self.process, self.log)

    async def stop(self) -> None:
        if self.process is not None:
            await _stop(self.process)
            self.process = None

    async def restart(self, catalogue: Path) -> None:
        await self.stop()
        await self.start(catalogue)


@dataclass
class Stack:
    scenario: Scenario
    clock: PausableClock
    site: Site
    adapter: Adapter
    catalogue: Catalogue
    gateway: Gateway
    hooks: Hooks
    http: httpx.AsyncClient
    optimizer: Optimizer | None = None
    catalogue_path: Path | None = None  # the catalogue every service but an edited one reads

    async def until(self, virtual: datetime) -> None:
        """Wait for the shared clock to reach ``virtual``."""
        await self.clock.sleep_until(virtual)

    async def alarms(self, state: str = "any") -> list[dict[str, Any]]:
        """Every alarm the API lists (``state``: open, cleared or any), oldest first."""
        out: list[dict[str, Any]] = []
        before: int | None = None
        while True:
            params: dict[str, Any] = {"state": state, "limit": 1000}
            if before is not None:
                params["before_id"] = before
            response = await self.http.get(f"{API}/alarms", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            out += page
            if len(page) < 1000:
                return sorted(out, key=lambda a: a["id"])
            before = page[-1]["id"]

    async def alarm(self, alarm_id: int) -> dict[str, Any]:
        response = await self.http.get(f"{API}/alarms/{alarm_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _closed_port() -> str:
    """An address nothing listens on: a peer the scenario does not run."""
    return f"127.0.0.1:{_free_port()}"


def _catalogue(scenario: Scenario, site: Site) -> dict[str, Any]:
    document = catalogue(
        site.config, site.served(), modbus_poll_s=scenario.poll_s, bacnet_poll_s=scenario.poll_s
    )
    if scenario.alarms:
        document["alarms"] = scenario.alarms
    if scenario.edit is not None:
        scenario.edit(document)
    return document


def _warm(site: Site, warm_up: timedelta) -> None:
    """The site's model replaced by one that ran ``warm_up`` on its own schedules (with the
    faults in force then) up to the same instant."""
    now = site.simulation.time
    warm = Simulation(site.config, now - warm_up)
    warm.advance_to(now)
    site.simulation = warm


async def _polled(adapter: Adapter, cat: Catalogue) -> None:
    """Every device has answered the adapter once: the alarms are evaluated on a system that
    runs, not on one still starting (at speed 300 a second of start-up is five minutes)."""
    devices: dict[tuple[str, str], list[str]] = {}
    for ref in cat.points():
        devices.setdefault((ref.building, ref.device), []).append(ref.point_id)
    deadline = time.monotonic() + POLLED_TIMEOUT_S
    while True:
        silent = [
            f"{b}/{d}"
            for (b, d), points in devices.items()
            if not any(
                (r := adapter.latest.get(p)) is not None and r.quality.value != "missing"
                for p in points
            )
        ]
        if not silent:
            return
        assert time.monotonic() < deadline, f"not polled in {POLLED_TIMEOUT_S} s: {silent}"
        await asyncio.sleep(0.1)


@dataclass
class Gateway:
    """``python -m polis.gateway`` in a process of its own (its alarm rounds and the API do not
    share this process's interpreter with the simulator and the adapter)."""

    base_url: str
    admin_key: str
    process: asyncio.subprocess.Process
    log: Path

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, **kw)


def _clock_env(clock: PausableClock) -> dict[str, str]:
    """The plain clock equal to the held one once it runs: it started at the release."""
    origin = datetime.fromtimestamp(clock.wall_for(clock.start), UTC)
    return {
        "POLIS_CLOCK_ORIGIN": origin.isoformat(),
        "POLIS_CLOCK_START": clock.start.isoformat(),
        "POLIS_CLOCK_SPEED": repr(clock.speed),
    }


@asynccontextmanager
async def _optimizer(
    env: dict[str, str], clock: PausableClock, adapter: str, catalogue: Path, tmp: Path
) -> AsyncIterator[Optimizer]:
    port = _free_port()
    optimizer = Optimizer(
        {
            **env,
            **_clock_env(clock),
            "POLIS_OPTIMIZER_HOST": "127.0.0.1",
            "POLIS_OPTIMIZER_PORT": str(port),
            "POLIS_OPTIMIZER_MODE": "dry_run",
            "POLIS_OPTIMIZER_REPLAN_MINUTES": "30",
            "POLIS_OPTIMIZER_TIME_LIMIT_S": "2",
            "POLIS_OPTIMIZER_COMMAND_SLOTS": "8",
            "POLIS_OPTIMIZER_NUM_WORKERS": "1",
            "POLIS_ADAPTER_TARGET": adapter,
            "POLIS_OPTIMIZER_COMMISSIONING_DIR": str(tmp / "commissioning"),
        },
        port,
        tmp / "optimizer.log",
    )
    await optimizer.start(catalogue)
    try:
        yield optimizer
    finally:
        await optimizer.stop()


def _gateway_env(
    env: dict[str, str],
    clock: PausableClock,
    addresses: dict[str, str],
    interval_s: float,
    port: int,
    admin: str,
    tmp: Path,
    baseline: tuple[datetime, datetime] | None,
) -> dict[str, str]:
    out = {
        **env,
        "POLIS_GATEWAY_HOST": "127.0.0.1",
        "POLIS_GATEWAY_PORT": str(port),
        "POLIS_GATEWAY_DATABASE_URL": f"sqlite:///{tmp / 'gateway.db'}",
        "POLIS_JWT_SECRET": JWT_SECRET,
        "POLIS_BOOTSTRAP_ADMIN_KEY": admin,
        "POLIS_ADAPTER_ADDRESS": addresses["adapter"],
        "POLIS_OPTIMIZER_ADDRESS": addresses["optimizer"],
        "POLIS_SAVINGS_ADDRESS": addresses["savings"],
        "POLIS_GRPC_DEADLINE_S": "5",
        "POLIS_REPORT_DEADLINE_S": "120",
        **_clock_env(clock),
        "POLIS_GATEWAY_ALARM_INTERVAL_S": repr(interval_s),
        "POLIS_RATE_LIMIT_PER_S": "1000",
        "POLIS_RATE_LIMIT_BURST": "1000",
        "POLIS_WEBHOOK_POLL_S": "0.2",
        "POLIS_WEBHOOK_BACKOFF_S": "0.2",
        "POLIS_LEADER_LEASE_S": "5",
    }
    if baseline is not None:
        out["POLIS_GATEWAY_ALARM_BASELINE_START"] = baseline[0].isoformat()
        out["POLIS_GATEWAY_ALARM_BASELINE_END"] = baseline[1].isoformat()
    return out


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@asynccontextmanager
async def _gateway(env: dict[str, str], port: int, admin: str, log: Path) -> AsyncIterator[Gateway]:
    """The gateway process, ready; waited for without blocking this event loop, where the
    simulator and the adapter run."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "polis.gateway", env=env, stdout=out, stderr=out
        )
    gw = Gateway(f"http://127.0.0.1:{port}", admin, process, log)
    try:
        deadline = time.monotonic() + GATEWAY_READY_S
        async with httpx.AsyncClient(timeout=2) as probe:
            while True:
                assert process.returncode is None, _tail(log)
                try:
                    if (await probe.get(f"{gw.base_url}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"gateway not ready:\n{_tail(log)}"
                await asyncio.sleep(0.1)
        yield gw
    finally:
        await _stop(process)


def subscribe(gw: Gateway, hooks: Hooks) -> None:
    with gw.client(gw.admin_key, timeout=20) as c:
        response = c.post(f"{API}/webhooks", json={"url": hooks.url, "events": list(EVENTS)})
        assert response.status_code == 201, response.text
        hooks.secret = response.json()["secret"]


async def _process(name: str, args: list[str], env: dict[str, str], log: Path) -> int:
    """Run ``python -m <args>`` to its end; its exit code (its output in ``log``)."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", *args, env=env, stdout=out, stderr=out
        )
    code = await process.wait()
    assert code == 0, f"{name} failed ({code}):\n{_tail(log)}"
    return code


async def _listening(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + GATEWAY_READY_S
    while True:
        assert process.returncode is None, _tail(log)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert time.monotonic() < deadline, f"not listening on {port}:\n{_tail(log)}"
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


@asynccontextmanager
async def _savings(
    scenario: Scenario, site: Site, env: dict[str, str], tmp: Path
) -> AsyncIterator[tuple[str, datetime, datetime]]:
    """The savings service (``python -m polis.savings serve``) on the history of the
    ``baseline_days`` before the held clock, exported from the simulator's model and
    imported as the demo does; its address and the baseline period."""
    end = site.simulation.time.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=scenario.baseline_days)
    history = tmp / "history.csv"

    def export() -> None:
        with history.open("w", encoding="utf-8", newline="") as out:
            write_history(out, site.config, start, end, INTERVALS["1h"])

    await asyncio.to_thread(export)
    await _process("savings import", ["polis.savings", "import", str(history)], env,
                   tmp / "savings-import.log")  # fmt: skip
    port = _free_port()
    log = tmp / "savings.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "polis.savings", "serve",
            env={**env, "POLIS_SAVINGS_GRPC_PORT": str(port)}, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        await _listening(port, process, log)
        yield f"127.0.0.1:{port}", start, end
    finally:
        await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


def _service_env(influx: InfluxServer, bucket: str, catalogue_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "POLIS_CATALOGUE": str(catalogue_path),
        "POLIS_INFLUX_URL": influx.url,
        "POLIS_INFLUX_TOKEN": influx.token,
        "POLIS_INFLUX_ORG": influx.org,
        "POLIS_INFLUX_BUCKET": bucket,
        "POLIS_LOG_FORMAT": "json",
        "POLIS_LOG_LEVEL": "INFO",
    }


@asynccontextmanager
async def _site(scenario: Scenario, clock: PausableClock, ocpp_port: int) -> AsyncIterator[Site]:
    site = Site(
        scenario.config(),
        clock,
        ocpp=OcppLink(f"ws://127.0.0.1:{ocpp_port}", meter_interval_s=0.5),
    )
    _warm(site, scenario.warm_up)
    await site.start()
    task = asyncio.create_task(site.run(), name="site")
    try:
        yield site
    finally:
        site.stop()
        await task
        await site.close()


@asynccontextmanager
async def _adapter(
    cat: Catalogue, store: InfluxStore, clock: PausableClock, tmp: Path, ocpp_port: int
) -> AsyncIterator[Adapter]:
    adapter = Adapter(
        site=SiteConfig(cat, adapter_settings(tmp / "adapter", ocpp_port)),
        writer=store,
        clock=clock,
    )
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


@asynccontextmanager
async def running_stack(
    scenario: Scenario, influx: InfluxServer, store: InfluxStore, tmp: Path
) -> AsyncIterator[Stack]:
    """The stack of ``scenario``, up and polled by the time the clock reaches its start."""
    logging.getLogger("pymodbus").setLevel(logging.WARNING)  # as the simulator's CLI does
    lead = timedelta(seconds=GATEWAY_LEAD_S * scenario.speed)
    clock = PausableClock(datetime.now(UTC), scenario.start - lead, scenario.speed)  # held
    ocpp_port = _free_port()
    async with AsyncExitStack() as stack:
        site = await stack.enter_async_context(_site(scenario, clock, ocpp_port))
        document = _catalogue(scenario, site)
        cat = parse_catalogue(document, f"{scenario.name} catalogue", complete=True)
        catalogue_path = tmp / "catalogue.yaml"
        catalogue_path.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
        env = _service_env(influx, store.bucket, catalogue_path)
        adapter = await stack.enter_async_context(_adapter(cat, store, clock, tmp, ocpp_port))
        await _polled(adapter, cat)
        addresses = {
            "adapter": f"127.0.0.1:{adapter.grpc_port}",
            "optimizer": _closed_port(),
            "savings": _closed_port(),
        }
        baseline: tuple[datetime, datetime] | None = None
        if scenario.baseline_days:
            address, *period = await stack.enter_async_context(_savings(scenario, site, env, tmp))
            addresses["savings"], baseline = address, (period[0], period[1])
        clock.resume()
        released = time.monotonic()
        optimizer: Optimizer | None = None
        if scenario.optimizer_edit is not None:
            edited = copy.deepcopy(document)
            scenario.optimizer_edit(edited)
            parse_catalogue(edited, f"{scenario.name} optimizer catalogue", complete=True)
            optimizer_catalogue = tmp / "catalogue-optimizer.yaml"
            optimizer_catalogue.write_text(yaml.safe_dump(edited, sort_keys=False), "utf-8")
            optimizer = await stack.enter_async_context(
                _optimizer(env, clock, addresses["adapter"], optimizer_catalogue, tmp)
            )
            addresses["optimizer"] = optimizer.address
        hooks = Hooks()
        stack.callback(hooks.close)
        port, admin = _free_port(), keys.generate_key().plaintext
        gateway_env = _gateway_env(
            env, clock, addresses, scenario.interval_s, port, admin, tmp, baseline
        )
        gw = await stack.enter_async_context(
            _gateway(gateway_env, port, admin, tmp / "gateway.log")
        )
        await asyncio.to_thread(subscribe, gw, hooks)
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=gw.base_url, headers={"X-API-Key": admin}, timeout=30)
        )
        up = time.monotonic() - released
        assert clock.now() < scenario.start, (
            f"the gateway took {up:.0f} s to start, more than {GATEWAY_LEAD_S} s"
        )
        yield Stack(scenario, clock, site, adapter, cat, gw, hooks, http, optimizer, catalogue_path)
