"""Small hand-made instances for the optimizer tests."""

from __future__ import annotations

from datetime import UTC, datetime

from polis.optimizer.domain import Building, Horizon, Load, SlotTariff

START = datetime(2025, 1, 15, tzinfo=UTC)


def building(
    prices: list[float],
    loads: tuple[Load, ...],
    base: float | list[float] = 1.0,
    pv: float | list[float] = 0.0,
    demand_charge: float = 0.0,
    contracted_peak: float | None = None,
    feed_in: float = 0.0,
) -> Building:
    n = len(prices)
    base_s = tuple(base) if isinstance(base, list) else (base,) * n
    pv_s = tuple(pv) if isinstance(pv, list) else (pv,) * n
    return Building(
        id="school",
        horizon=Horizon(start=START, slots=n),
        tariff=SlotTariff(
            import_eur_per_kwh=tuple(prices),
            feed_in_eur_per_kwh=(feed_in,) * n,
            co2_kg_per_kwh=(0.4,) * n,
            demand_charge_eur_per_kw=demand_charge,
            contracted_peak_kw=contracted_peak,
        ),
        base_load_kw=base_s,
        pv_kw=pv_s,
        loads=loads,
    )
