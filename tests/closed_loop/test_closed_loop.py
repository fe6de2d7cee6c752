"""One simulated winter day in closed loop on the simulator's own catalogue (its true models).

The loop itself is :func:`closed_loop.day.closed_loop_day`. The reference is the same day,
weather and seed with the buildings on their own schedules (pure ``Simulation``, no
commands), from the same warmed-up state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from closed_loop.day import closed_loop_day
from closed_loop.scenario import as_is_day, day_figures, warmed_up
from polis.common.catalogue import Catalogue, parse_catalogue
from polis.common.influx import InfluxStore
from polis.optimizer.actuals import state_points
from polis.simulator.catalogue import catalogue
from polis.simulator.config import load_config
from polis.simulator.site import Site

pytestmark = [pytest.mark.integration, pytest.mark.influx]

# Wednesday 14 January 2026, local midnight (Europe/Athens is UTC+2 in winter)
DAY_START = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)


def simulator_catalogue(site: Site) -> Catalogue:
    """What the simulator emits for the endpoints it serves: polls short for the fast clock."""
    document = catalogue(site.config, site.served(), modbus_poll_s=1.0, bacnet_poll_s=0.2)
    return parse_catalogue(document, "closed-loop catalogue", complete=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_closed_loop_day_costs_less_and_keeps_comfort(
    influx_store: InfluxStore, tmp_path: Path
) -> None:
    sim_config = load_config()
    warm = warmed_up(sim_config, DAY_START)
    reference = day_figures(sim_config, as_is_day(warm, DAY_START), DAY_START)
    state = tmp_path / "adapter"
    run = await closed_loop_day(
        sim_config, warm, DAY_START, simulator_catalogue, influx_store, state
    )
    closed, opt_config = run.figures, run.config

    print(
        f"\nclosed loop vs as-is, the local day after {DAY_START.isoformat()} "
        f"(wall {run.wall_s:.0f} s)"
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
    print(
        f"  commands accepted {run.accepted}, states measured {run.measured}, "
        f"released {run.relinquished}"
    )

    # the day ran: the recorder saw the whole day of the closed loop
    assert closed.import_kwh > 0.5 * reference.import_kwh
    assert closed.cost_eur < reference.cost_eur
    # ... and not by leaving the depot's cars uncharged
    assert closed.ev_kwh >= 0.9 * reference.ev_kwh
    for zone, kh in closed.comfort_kh.items():
        assert kh < 1.0, f"{zone}: {kh:.2f} Kh below the comfort band"
    # every re-plan started from measured states, not from configuration
    assert run.measured >= 96 * len(state_points(opt_config)) * 0.9

    # the commands really went through the adapter at the automation priority ...
    audit = run.audit
    writes = [r for r in audit if r["action"] == "write"]
    points = {p for loads in opt_config.command_points().values() for p in loads.values()}
    assert {w["point_id"] for w in writes} == points
    assert all(w["priority"] == 13 for w in writes)
    assert sum(w["status"] == "applied" for w in writes) >= 0.95 * len(writes)
    assert any(sp is not None for sps in run.commanded_midday.values() for sp in sps.values())
    # ... and were relinquished at the end: the controllers follow their own schedules
    assert run.relinquished == len(points)
    final = {
        r["point_id"]
        for r in audit
        if r["action"] == "relinquish" and r["reason"] == "optimizer stopped"
    }
    assert final == points
    assert run.profiles_left == []  # the chargers charge at their own limit again
    for commands in run.released.values():
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
