"""One simulated winter day in closed loop: simulator <-> adapter <-> optimizer (apply mode).

The simulator (``Site``: real BACnet/IP and Modbus TCP on loopback), the building adapter
(in-process, writing to a real InfluxDB) and the optimizer's rolling horizon share one
accelerated virtual clock; the adapter and the optimizer read their views of one catalogue
(the simulator's own, or one commissioning learned). Every 15 virtual minutes the optimizer
reads the measured states through the adapter, re-plans each neighbourhood and writes the
current slot's setpoints and enables through the adapter at its automation priority, and the
depot's charging limits through the adapter's OCPP central system, to which the simulated
chargers connect. The loop runs in lockstep: at each slot boundary the clock is held, the
physics is caught up to the boundary, the adapter polls every state point twice more (the
second poll began after the physics moved), and only then does the optimizer plan and write,
so neither a slow re-plan nor a slow BACnet write changes what the buildings experience.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from closed_loop.history import PollCounter
from closed_loop.scenario import (
    SLOT,
    DayFigures,
    PausableClock,
    Recorder,
    SimulatorWeather,
    adapter_settings,
    day_figures,
    free_port,
    record,
)
from polis.adapter.config import SiteConfig
from polis.adapter.service import Adapter
from polis.common.catalogue import Catalogue
from polis.common.influx import InfluxStore
from polis.optimizer.actuals import ActualsFeed, state_points
from polis.optimizer.commands import AdapterClient
from polis.optimizer.config import OptimizerConfig, optimizer_view
from polis.optimizer.instances import InstanceFactory
from polis.optimizer.plan_store import InfluxPlanSink
from polis.optimizer.planner import Mode, Planner
from polis.optimizer.rolling import RollingHorizon
from polis.optimizer.solve import SolverParams
from polis.simulator.config import MunicipalityConfig
from polis.simulator.model import Simulation
from polis.simulator.ocpp_chargers import OcppLink
from polis.simulator.plant import Commands
from polis.simulator.site import Site

SPEED = 1800.0  # 15 virtual minutes = 0.5 s of wall time while the clock runs
HORIZON_SLOTS = 64  # 16 h: overnight pre-heating sees the morning's comfort band
COMMAND_SLOTS = 8  # writes outlive the wall time a re-plan holds the clock
PLAN_LIMIT_S = 2.0  # the clock is held while planning; a plan within 1 % stops sooner
MIDDAY_SLOT = 40  # 10:00 local


@dataclass
class DayRun:
    """What one closed-loop day did, for the tests to judge."""

    figures: DayFigures
    config: OptimizerConfig
    state_dir: Path
    accepted: int  # commands the adapter applied
    measured: int  # states the re-plans started from that were measured
    relinquished: int
    commanded_midday: dict[str, dict[str, float | None]]
    released: dict[str, Commands]
    profiles_left: list[str]
    wall_s: float
    audit: list[dict[str, Any]] = field(default_factory=list)


def read_audit(state: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]


async def _chargers_booted(site: Site, adapter: Adapter) -> None:
    """The depot's charge points have connected to the adapter and booted."""
    central = adapter.ocpp
    assert central is not None
    points = [p for ps in site.charge_points.values() for p in ps]
    deadline = time.monotonic() + 20.0
    while not all(central.state(p.identity).booted for p in points):
        assert time.monotonic() < deadline, "the chargers did not boot"
        await asyncio.sleep(0.05)


def _rolling(
    config: OptimizerConfig,
    sim_config: MunicipalityConfig,
    clock: PausableClock,
    store: InfluxStore,
    target: str,
) -> tuple[RollingHorizon, ActualsFeed, AdapterClient]:
    feed = ActualsFeed(state_points(config), target, max_age=timedelta(minutes=30))
    factory = InstanceFactory(config, SimulatorWeather(sim_config), actuals=feed)
    planner = Planner(factory, SolverParams(time_limit_s=PLAN_LIMIT_S, num_workers=1))
    for b in config.buildings:
        planner.set_mode(b.id, Mode.APPLY)
    client = AdapterClient(target, deadline_s=5.0)
    rolling = RollingHorizon(
        planner,
        factory.scopes(),
        clock,
        config.command_points(),
        InfluxPlanSink(store),
        client,
        horizon_slots=HORIZON_SLOTS,
        actuals=feed,
        on_off=config.on_off_loads(),
        command_slots=COMMAND_SLOTS,
    )
    return rolling, feed, client


async def closed_loop_day(
    sim_config: MunicipalityConfig,
    warm: Simulation,
    day_start: datetime,
    catalogue_of: Callable[[Site], Catalogue],
    store: InfluxStore,
    state: Path,
    base_port: int | None = None,
) -> DayRun:
    """The day from ``warm`` with the optimizer and the adapter on ``catalogue_of(site)``
    (the simulator's served endpoints are known once it listens); ``base_port``: the
    simulator on its fixed port layout, as a catalogue written for it expects."""
    wall_start = time.monotonic()
    clock = PausableClock(datetime.now(UTC), day_start, SPEED)  # starts held
    ocpp_port = free_port(socket.SOCK_STREAM)
    site = Site(
        sim_config,
        clock,
        base_port=base_port,
        ocpp=OcppLink(f"ws://127.0.0.1:{ocpp_port}", meter_interval_s=0.5),
    )
    site.simulation = copy.deepcopy(warm)
    recorder = Recorder()
    record(site.simulation, recorder)
    await site.start()
    site_task = asyncio.create_task(site.run())
    cat = catalogue_of(site)
    counter = PollCounter()
    adapter = Adapter(
        site=SiteConfig(cat, adapter_settings(state, ocpp_port)),
        writer=store,
        clock=clock,
        on_readings=counter,
    )
    await adapter.start()
    config = optimizer_view(cat)
    target = f"127.0.0.1:{adapter.grpc_port}"
    rolling, feed, client = _rolling(config, sim_config, clock, store, target)
    state_ids = [p.point_id for p in state_points(config)]
    accepted = measured = 0
    commanded_midday: dict[str, dict[str, float | None]] = {}
    try:
        await _chargers_booted(site, adapter)
        await asyncio.sleep(1.0)  # first polls land while the clock is held
        for k in range(96):
            slot_start = day_start + k * SLOT
            await clock.sleep_until(slot_start)
            clock.pause()
            try:
                site.tick()  # the physics at the held boundary, then fresh readings of it
                await counter.settle(state_ids)
                accepted += await rolling.step(slot_start)
                measured += feed.measured
            finally:
                clock.resume()
            if k == MIDDAY_SLOT:  # what the controllers' priority arrays command now
                commanded_midday = {
                    bid: c.commands().heating_setpoints_c for bid, c in site.controllers.items()
                }
        await clock.sleep_until(day_start + timedelta(days=1, minutes=2))
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
    return DayRun(
        day_figures(sim_config, recorder, day_start),
        config,
        state,
        accepted,
        measured,
        relinquished,
        commanded_midday,
        released,
        profiles_left,
        time.monotonic() - wall_start,
        read_audit(state),
    )


def print_comparison(
    title: str, reference: DayFigures, runs: dict[str, DayRun], reference_name: str = "as-is"
) -> None:
    """Cost per building and comfort per zone, the reference first, then each run."""
    names = [reference_name, *runs]
    figures = [reference, *(r.figures for r in runs.values())]
    print(f"\n{title}")
    print(f"  {'':28s}" + "".join(f"{n:>14s}" for n in names))
    print(f"  {'cost (EUR)':28s}" + "".join(f"{f.cost_eur:14.2f}" for f in figures))
    for building in reference.cost_by_building:
        row = "".join(f"{f.cost_by_building[building]:14.2f}" for f in figures)
        print(f"  {'  ' + building:28s}{row}")
    print(f"  {'import (kWh)':28s}" + "".join(f"{f.import_kwh:14.1f}" for f in figures))
    print(f"  {'EV charged (kWh)':28s}" + "".join(f"{f.ev_kwh:14.1f}" for f in figures))
    print("  below comfort (Kh)")
    for zone in reference.comfort_kh:
        print(f"  {'  ' + zone:28s}" + "".join(f"{f.comfort_kh[zone]:14.2f}" for f in figures))
    walls = "".join(f"{r.wall_s:13.0f}s" for r in runs.values())
    print(f"  {'wall':28s}{'':14s}{walls}")
