"""Bill figures of a grid-exchange series under a resolved tariff (pure arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence

from polis.optimizer.domain import Building, Figures, Plan, SlotTariff, ThermalZone


def figures(grid_kw: Sequence[float], tariff: SlotTariff, dt_h: float) -> Figures:
    """Energy imported, bill, peak import and CO2 of a net grid series (import > 0).

    The bill is import at the energy price, minus export at the feed-in price, plus the
    demand charge on the peak above what the billing period has already reached, plus the
    fixed charges.
    """
    energy = cost = co2 = 0.0
    peak = 0.0
    for t, p in enumerate(grid_kw):
        imported = max(p, 0.0) * dt_h
        exported = max(-p, 0.0) * dt_h
        energy += imported
        cost += imported * tariff.import_eur_per_kwh[t] - exported * tariff.feed_in_eur_per_kwh[t]
        co2 += imported * tariff.co2_kg_per_kwh[t]
        peak = max(peak, p)
    cost += tariff.demand_charge_eur_per_kw * max(0.0, peak - tariff.peak_already_kw)
    cost += tariff.fixed_eur
    return Figures(energy_kwh=energy, cost_eur=cost, peak_kw=peak, co2_kg=co2)


def combine(parts: Sequence[Figures]) -> Figures:
    """Sum of several buildings' figures (peak: the largest individual peak)."""
    return Figures(
        energy_kwh=sum(f.energy_kwh for f in parts),
        cost_eur=sum(f.cost_eur for f in parts),
        peak_kw=max((f.peak_kw for f in parts), default=0.0),
        co2_kg=sum(f.co2_kg for f in parts),
    )


def comfort_deviation_kh(zone: ThermalZone, power_kw: Sequence[float], dt_h: float) -> float:
    """Degree-hours outside the comfort band when the zone follows ``power_kw``."""
    a = zone.decay(dt_h)
    temp = zone.initial_temp_c
    deviation = 0.0
    for t, p in enumerate(power_kw):
        heat = zone.sign * zone.cop[t] * p + zone.gains_kw[t]
        temp = a * temp + (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * heat)
        deviation += max(zone.comfort_lo[t] - temp, temp - zone.comfort_hi[t], 0.0) * dt_h
    return deviation


def plan_objective(building: Building, plan: Plan) -> float:
    """The optimizer's objective of a plan in EUR: weighted bill, CO2 and comfort penalties.

    Evaluated from the plan's power series in floating point, the same way for every plan
    (optimised, repaired or as-is), so that plans from different methods compare fairly.
    """
    weights, dt = building.weights, building.horizon.dt_h
    tariff = building.tariff
    figures = plan.planned
    co2 = sum(
        max(g, 0.0) * dt * (weights.co2_eur_per_kg * c)
        for g, c in zip(plan.grid_kw, tariff.co2_kg_per_kwh, strict=True)
    )
    comfort = 0.0
    for load in building.loads:
        if isinstance(load, ThermalZone):
            deviation = comfort_deviation_kh(load, plan.load(load.id).power_kw, dt)
            comfort += weights.comfort * load.comfort_penalty_eur_per_kh * deviation
    return weights.cost * figures.cost_eur + co2 + comfort
