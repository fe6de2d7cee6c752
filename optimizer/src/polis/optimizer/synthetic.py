"""Seeded synthetic buildings and neighbourhoods for benchmarks, tests and demos."""

from __future__ import annotations

import math
import os
import random
from datetime import UTC, datetime

from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Horizon,
    Load,
    LoadKind,
    Neighbourhood,
    SlotTariff,
    ThermalMode,
    ThermalZone,
    WaterTank,
    cop_series,
)

LEVELS_OFF = bool(os.environ.get("LEVELS_OFF"))
DEFAULT_START = datetime(2025, 1, 15, 0, 0, tzinfo=UTC)


def tou_prices(horizon: Horizon) -> tuple[float, ...]:
    """A three-band time-of-use tariff (UTC hours of a Greek winter day)."""
    out = []
    for t in range(horizon.slots):
        hour = horizon.slot_start(t).hour
        if 5 <= hour < 9 or 15 <= hour < 19:
            out.append(0.24)
        elif 0 <= hour < 5:
            out.append(0.11)
        else:
            out.append(0.17)
    return tuple(out)


def winter_outdoor(horizon: Horizon, mean: float = 6.0, swing: float = 4.0) -> tuple[float, ...]:
    return tuple(
        mean + swing * math.sin(2 * math.pi * (horizon.slot_start(t).hour + 9) / 24)
        for t in range(horizon.slots)
    )


def random_building(
    rng: random.Random, index: int, horizon: Horizon, loads: int = 10, neighbourhood: str = ""
) -> Building:
    n = horizon.slots
    dt = horizon.dt_h
    per_day = round(24 / dt)
    outdoor = winter_outdoor(horizon, mean=rng.uniform(3, 9))
    occupied = tuple(7 <= (t % per_day) * dt < 17 for t in range(n))
    kinds = ["zone", "zone", "tank", "ev", "battery", "pump", "pump", "deferrable"]
    made: list[Load] = []
    for k in range(loads):
        kind = kinds[k % len(kinds)] if k < len(kinds) else rng.choice(["pump", "deferrable", "ev"])
        lid = f"{kind}{k}"
        if kind == "zone":
            lo = tuple(21.0 if occ else 16.0 for occ in occupied)
            zone_max = rng.choice([4.0, 6.0, 8.0])
            made.append(
                ThermalZone(
                    id=lid,
                    mode=ThermalMode.HEAT,
                    r_k_per_kw=rng.uniform(1.5, 3.0),
                    c_kwh_per_k=rng.uniform(4.0, 10.0),
                    initial_temp_c=rng.uniform(17.0, 19.0),
                    max_kw=zone_max,
                    cop=cop_series(outdoor, ThermalMode.HEAT),
                    outdoor_c=outdoor,
                    gains_kw=tuple(1.0 if occ else 0.2 for occ in occupied),
                    comfort_lo=lo,
                    comfort_hi=tuple(24.0 for _ in range(n)),
                    baseline_setpoint=lo,
                    levels_kw=None if k % 2 == 0 else (zone_max / 2, zone_max),
                    comfort_penalty_eur_per_kh=2.0,
                )
            )
        elif kind == "tank":
            draw = tuple(
                (0.6 if (t % per_day) * dt in (7.0, 7.25, 12.0, 16.0) else 0.02) for t in range(n)
            )
            made.append(
                WaterTank(
                    id=lid,
                    min_kwh=2.0,
                    max_kwh=12.0,
                    initial_kwh=rng.uniform(5.0, 10.0),
                    heater_kw=3.0,
                    draw_kwh=draw,
                    loss_kw=0.05,
                )
            )
        elif kind == "ev":
            arrival = rng.randrange(28, 40)
            departure = min(n, arrival + rng.randrange(24, 40))
            made.append(
                EVSession(
                    id=lid,
                    arrival=arrival,
                    departure=departure,
                    energy_kwh=rng.uniform(8.0, 20.0),
                    max_kw=rng.choice([7.4, 11.0]),
                    min_kw=1.4,
                )
            )
        elif kind == "battery":
            made.append(
                Battery(
                    id=lid,
                    capacity_kwh=20.0,
                    initial_kwh=10.0,
                    max_charge_kw=5.0,
                    max_discharge_kw=5.0,
                    min_kwh=2.0,
                )
            )
        else:
            earliest = rng.randrange(0, n // 2)
            latest = min(n, earliest + rng.randrange(24, n // 2 + 24))
            run = rng.randrange(4, 12)
            made.append(
                DeferrableLoad(
                    id=lid,
                    power_kw=round(rng.uniform(0.8, 3.0), 2),
                    earliest=earliest,
                    latest=latest,
                    run_slots=min(run, latest - earliest),
                    min_run_slots=min(4, run),
                    min_off_slots=2,
                    max_starts=2,
                    baseline_start=earliest,
                    kind=LoadKind.PUMP if kind == "pump" else LoadKind.DEFERRABLE,
                )
            )
    base = tuple(
        rng.uniform(3.0, 6.0) * (1.6 if occupied[t] else 1.0) + rng.uniform(-0.3, 0.3)
        for t in range(n)
    )
    peak_pv = rng.uniform(0.0, 15.0)
    pv = tuple(
        max(0.0, peak_pv * math.sin(math.pi * ((t % per_day) * dt - 6.0) / 10.0)) for t in range(n)
    )
    prices = tou_prices(horizon)
    tariff = SlotTariff(
        import_eur_per_kwh=prices,
        feed_in_eur_per_kwh=tuple(0.05 for _ in range(n)),
        co2_kg_per_kwh=tuple(0.35 + 0.1 * (p > 0.2) for p in prices),
        demand_charge_eur_per_kw=0.3,
        fixed_eur=1.5,
    )
    return Building(
        id=f"b{index:03d}",
        horizon=horizon,
        tariff=tariff,
        base_load_kw=base,
        pv_kw=pv,
        loads=tuple(made),
        neighbourhood=neighbourhood,
    )


def random_neighbourhood(
    seed: int,
    buildings: int = 50,
    loads: int = 10,
    slots: int = 96,
    transformer_fraction: float | None = 0.9,
) -> Neighbourhood:
    """Buildings behind one transformer sized at a fraction of their summed baseline peak."""
    from polis.optimizer.baseline import building_baseline

    rng = random.Random(seed)
    horizon = Horizon(start=DEFAULT_START, slots=slots)
    members = tuple(
        random_building(rng, i, horizon, loads, neighbourhood="n1") for i in range(buildings)
    )
    limit = None
    if transformer_fraction is not None:
        flows = [building_baseline(b).grid_kw for b in members]
        peak = max(sum(f[t] for f in flows) for t in range(slots))
        limit = round(peak * transformer_fraction, 1)
    return Neighbourhood(id="n1", buildings=members, transformer_kw=limit)
