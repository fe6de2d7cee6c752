"""Short human explanations of a load's planned slots, in the building's local time."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from polis.optimizer.baseline import load_baseline
from polis.optimizer.domain import Battery, Building, Load, LoadKind, ThermalMode, ThermalZone
from polis.optimizer.runs import runs_of

_VERBS = {
    LoadKind.HVAC: "heats",
    LoadKind.WATER_HEATER: "heats water",
    LoadKind.EV_CHARGER: "charges",
    LoadKind.BATTERY: "charges",
    LoadKind.PUMP: "runs",
    LoadKind.DEFERRABLE: "runs",
}


def intervals(power: Sequence[float], positive: bool = True) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of slots where power is > 0 (or < 0)."""
    return runs_of(p > 1e-6 if positive else p < -1e-6 for p in power)


def weighted_price(power: Sequence[float], prices: Sequence[float]) -> float | None:
    energy = sum(max(p, 0.0) for p in power)
    if energy <= 1e-9:
        return None
    return sum(max(p, 0.0) * c for p, c in zip(power, prices, strict=True)) / energy


def explain_load(load: Load, power: Sequence[float], building: Building) -> str:
    horizon = building.horizon
    prices = building.tariff.import_eur_per_kwh
    tz = ZoneInfo(building.timezone)

    def clock(t: int) -> str:
        return horizon.slot_start(t).astimezone(tz).strftime("%H:%M")

    verb = _VERBS[load.kind]
    if isinstance(load, ThermalZone) and load.mode is ThermalMode.COOL:
        verb = "cools"
    runs = intervals(power)
    if not runs and not isinstance(load, Battery):
        return "stays off: nothing is needed in this horizon"
    parts = []
    longest = sorted(runs, key=lambda r: (r[0] - r[1], r[0]))[:2]
    for a, b in sorted(longest):
        avg = sum(prices[a:b]) / (b - a)
        parts.append(f"{clock(a)}–{clock(b)} at {avg:.2f} €/kWh")
    text = f"{verb} {' and '.join(parts)}" if parts else "does not charge"
    if len(runs) > 2:
        text += f" (and {len(runs) - 2} shorter periods)"
    if isinstance(load, Battery):
        out = intervals(power, positive=False)
        if out:
            a, b = max(out, key=lambda r: r[1] - r[0])
            avg = sum(prices[a:b]) / (b - a)
            text += f"; discharges {clock(a)}–{clock(b)} at {avg:.2f} €/kWh"
        return text
    planned = weighted_price(power, prices)
    own = weighted_price(load_baseline(load, horizon.slots, horizon.dt_h).power_kw, prices)
    peak = max(prices)
    if planned is not None and own is not None and planned < own - 1e-4:
        text += f", average {planned:.2f} €/kWh instead of {own:.2f} on its own schedule"
    elif planned is not None and peak > planned + 1e-4:
        text += f", avoiding the {peak:.2f} €/kWh peak"
    if isinstance(load, ThermalZone):
        first = runs[0][0] if runs else None
        rises = [t for t in range(1, horizon.slots) if load.comfort_lo[t] > load.comfort_lo[t - 1]]
        if first is not None and rises and load.mode is ThermalMode.HEAT and first < rises[0]:
            text = "pre-" + text + f" before comfort starts at {clock(rises[0])}"
    return text
