"""Bill figures of a grid-exchange series under a resolved tariff (pure arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence

from polis.optimizer.domain import Figures, SlotTariff


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
