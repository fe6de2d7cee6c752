"""One simulated winter day in closed loop: simulator <-> adapter <-> optimizer (apply mode).

The simulator (``Site``: real BACnet/IP and Modbus TCP on loopback), the building adapter
(in-process, writing to a real InfluxDB) and the optimizer's rolling horizon share one
accelerated virtual clock; the adapter and the optimizer read their views of the catalogue
the simulator emits for the endpoints it serves. Every 15 virtual minutes the optimizer reads
the measured states through the adapter, re-plans each neighbourhood and writes the current
slot's setpoints and enables through the adapter at its automation priority, and the depot's
charging limits through the adapter's OCPP central system, to which the simulated chargers
connect. The loop runs
in lockstep: at each slot boundary the clock is held, the physics is caught up to the
boundary, the adapter reads every state point afresh, and only then does the optimizer plan
and write, so neither a slow re-plan nor a slow BACnet write changes what the buildings
experience.

The reference is the same day, weather and seed with the buildings on their own schedules
(pure ``Simulation``, no commands), from the same warmed-up state.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from closed_loop.scenario import (
    SLOT,
    PausableClock,
    Recorder,
    SimulatorWeather,
    adapter_settings,
    as_is_day,
    day_figures,
    free_port,
    record,
    warmed_up,
)
from polis.adapter.config import SiteConfig
from polis.adapter.service import Adapter
from polis.common.catalogue import Catalogue, parse_catalogue
from polis.common.influx import InfluxStore
from polis.optimizer.actuals import ActualsFeed, state_points
from polis.optimizer.commands import AdapterClient
from polis.optimizer.config import optimizer_view
from polis.optimizer.instances import InstanceFactory
from polis.optimizer.plan_store import InfluxPlanSink
from polis.optimizer.planner import Mode, Planner
from polis.optimizer.rolling import RollingHorizon
from polis.optimizer.solve import SolverParams
from polis.simulator.catalogue import catalogue
from polis.simulator.config import load_config
from polis.simulator.ocpp_chargers import OcppLink
from polis.simulator.site import Site

pytestmark = [pytest.mark.integration, pytest.mark.influx]

# Wednesday 14 January 2026, local midnight (Europe/Athens is UTC+2 in winter)
DAY_START = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)
SPEED = 1800.0  # 15 virtual minutes = 0.5 s of wall time while the clock runs
HORIZON_SLOTS = 64  # 16 h: overnight pre-heating sees the morning's comfort band
COMMAND_SLOTS = 8  # writes outlive the wall time a re-plan holds the clock
PLAN_LIMIT_S = 2.0  # the clock is held while planning; a plan within 1 % stops sooner
SETTLE_TIMEOUT_S = 30.0  # wall time the held clock waits for fresh readings at most


async def _settle(site: Site, adapter: Adapter, points: list[str]) -> None:
    """Lockstep at a held slot boundary: the physics at the clock's now, readings after it.

    ``site.tick`` simulates up to the held instant with the commands in force until then,
    however far the site's own ticking lagged. Then every state point must have been read
    twice more: a poller reads a group in sequence, so the second of those rounds started
    after the tick and the optimizer plans from the state at the boundary.
    """
    site.tick()
    seen = {p: adapter.latest.get(p) for p in points}
    rounds = dict.fromkeys(points, 0)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while min(rounds.values(), default=2) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        for point in points:
            latest = adapter.latest.get(point)
            if latest is not seen[point]:
                seen[point] = latest
                rounds[point] += 1


def _catalogue(site: Site) -> Catalogue:
    """What the simulator emits for the endpoints it serves: polls short for the fast clock."""
    document = catalogue(site.config, site.served(), modbus_poll_s=1.0, bacnet_poll_s=0.2)
    return parse_catalogue(document, "closed-loop catalogue", complete=True)


async def _start_adapter(
    cat: Catalogue, store: InfluxStore, clock: PausableClock, state: Path, ocpp_port: int
) -> Adapter:
    settings = adapter_settings(state, ocpp_port)
    adapter = Adapter(site=SiteConfig(cat, settings), writer=store, clock=clock)
    await adapter.start()
    return adapter


async def _chargers_booted(site: Site, adapter: Adapter) -> None:
    """The depot's charge points have connected to the adapter and booted."""
    central = adapter.ocpp
    assert central is not None
    points = [p for ps in site.charge_points.values() for p in ps]
    deadline = time.monotonic() + 20.0
    while not all(central.state(p.identity).booted for p in points):
        assert time.monotonic() < deadline, "the chargers did not boot"
        await asyncio.sleep(0.05)


def _audit(state: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_closed_loop_day_costs_less_and_keeps_comfort(
    influx_store: InfluxStore, tmp_path: Path
) -> None:
    wall_start = time.monotonic()
    sim_config = load_config()
    warm = warmed_up(sim_config, DAY_START)
    reference = day_figures(sim_config, as_is_day(warm, DAY_START), DAY_START)

    clock = PausableClock(datetime.now(UTC), DAY_START, SPEED)  # starts held
    ocpp_port = free_port(socket.SOCK_STREAM)
    site = Site(
        sim_config, clock, ocpp=OcppLink(f"ws://127.0.0.1:{ocpp_port}", meter_interval_s=0.5)
    )
    site.simulation = copy.deepcopy(warm)
    recorder = Recorder()
    record(site.simulation, recorder)
    await site.start()
    site_task = asyncio.create_task(site.run())
    state = tmp_path / "adapter"
    cat = _catalogue(site)
    adapter = await _start_adapter(cat, influx_store, clock, state, ocpp_port)
    target = f"127.0.0.1:{adapter.grpc_port}"

    opt_config = optimizer_view(cat)
    feed = ActualsFeed(state_points(opt_config), target, max_age=timedelta(minutes=30))
    factory = InstanceFactory(opt_config, SimulatorWeather(sim_config), actuals=feed)
    planner = Planner(factory, SolverParams(time_limit_s=PLAN_LIMIT_S, num_workers=1))
    for b in opt_config.buildings:
        planner.set_mode(b.id, Mode.APPLY)
    client = AdapterClient(target, deadline_s=5.0)
    rolling = RollingHorizon(
        planner,
        factory.scopes(),
        clock,
        opt_config.command_points(),
        InfluxPlanSink(influx_store),
        client,
        horizon_slots=HORIZON_SLOTS,
        actuals=feed,
        on_off=opt_config.on_off_loads(),
        command_slots=COMMAND_SLOTS,
    )
    state_ids = [p.point_id for p in state_points(opt_config)]
    accepted = measured = 0
    commanded_midday: dict[str, dict[str, float | None]] = {}
    try:
        await _chargers_booted(site, adapter)
        await asyncio.sleep(1.0)  # first polls land while the clock is held
        for k in range(96):
            slot_start = DAY_START + k * SLOT
            await clock.sleep_until(slot_start)
            clock.pause()
            try:
                await _settle(site, adapter, state_ids)
                accepted += await rolling.step(slot_start)
                measured += feed.measured
            finally:
                clock.resume()
            if k == 40:  # 10:00 local: what the controllers' priority arrays command now
                commanded_midday = {
                    bid: c.commands().heating_setpoints_c for bid, c in site.controllers.items()
                }
        await clock.sleep_until(DAY_START + timedelta(days=1, minutes=2))
        clock.pause()
        relinquished = await rolling.relinquish()
        released = {bid: c.commands() for bid, c in site.controllers.items()}
        profiles_left = [
            p.identity for ps in site.charge_points.values() for p in ps if p.store.profiles
        ]
    finally:
        await client.close()
        await feed.close()
        await adapter.stop()
        site.stop()
        await site_task
        await site.close()
    closed = day_figures(sim_config, recorder, DAY_START)

    wall = time.monotonic() - wall_start
    print(
        f"\nclosed loop vs as-is, the local day after {DAY_START.isoformat()} (wall {wall:.0f} s)"
    )
    saved = 100 * (1 - closed.cost_eur / reference.cost_eur)
    print(f"  cost    {reference.cost_eur:8.2f} EUR -> {closed.cost_eur:8.2f} EUR ({saved:.1f} %)")
    for building, cost in closed.cost_by_building.items():
        before = reference.cost_by_building[building]
        print(f"  cost of {building:18s} {before:8.2f} EUR -> {cost:8.2f} EUR")
    print(f"  import  {reference.import_kwh:8.1f} kWh -> {closed.import_kwh:8.1f} kWh")
    print(f"  EV      {reference.ev_kwh:8.1f} kWh -> {closed.ev_kwh:8.1f} kWh charged")
    print(f"  export  {reference.export_kwh:8.1f} kWh -> {closed.export_kwh:8.1f} kWh")
    for zone, kh in closed.comfort_kh.items():
        print(f"  below comfort {zone:26s} {reference.comfort_kh[zone]:5.2f} Kh -> {kh:5.2f} Kh")
    print(f"  commands accepted {accepted}, states measured {measured}, released {relinquished}")

    # the day ran: the recorder saw the whole day of the closed loop
    assert closed.import_kwh > 0.5 * reference.import_kwh
    assert closed.cost_eur < reference.cost_eur
    # ... and not by leaving the depot's cars uncharged
    assert closed.ev_kwh >= 0.9 * reference.ev_kwh
    for zone, kh in closed.comfort_kh.items():
        assert kh < 1.0, f"{zone}: {kh:.2f} Kh below the comfort band"
    # every re-plan started from measured states, not from configuration
    assert measured >= 96 * len(state_points(opt_config)) * 0.9

    # the commands really went through the adapter at the automation priority ...
    audit = _audit(state)
    writes = [r for r in audit if r["action"] == "write"]
    points = {p for loads in opt_config.command_points().values() for p in loads.values()}
    assert {w["point_id"] for w in writes} == points
    assert all(w["priority"] == 13 for w in writes)
    assert sum(w["status"] == "applied" for w in writes) >= 0.95 * len(writes)
    assert any(sp is not None for sps in commanded_midday.values() for sp in sps.values())
    # ... and were relinquished at the end: the controllers follow their own schedules
    assert relinquished == len(points)
    final = {
        r["point_id"]
        for r in audit
        if r["action"] == "relinquish" and r["reason"] == "optimizer stopped"
    }
    assert final == points
    assert profiles_left == []  # the chargers charge at their own limit again
    for commands in released.values():
        assert all(sp is None for sp in commands.heating_setpoints_c.values())
        assert commands.dhw_enabled
        assert commands.pool_pump_enabled
    # the adapter wrote the readings to InfluxDB, the optimizer its plans
    assert (
        influx_store.count(
            DAY_START, DAY_START + timedelta(days=1, hours=1), {"quantity": "temperature"}
        )
        > 0
    )
    assert (
        influx_store.count(
            DAY_START, DAY_START + timedelta(days=3), {}, measurement="plan", field="power_kw"
        )
        > 0
    )
