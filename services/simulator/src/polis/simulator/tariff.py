"""The simulated municipality's tariff: Greek-style commercial time of use (pure).

Cheap nights, an expensive evening peak, a feed-in price and the grid's hourly CO2
intensity. The catalogue carries it as tariff ``gr-tou``; tests cost simulated days with
:func:`price_at` and :data:`FEED_IN_EUR`.
"""

from __future__ import annotations

from typing import Any

TARIFF_ID = "gr-tou"
# EUR/kWh, energy + network charges
NIGHT_EUR = 0.115  # 23:00-07:00
DAY_EUR = 0.185  # 07:00-17:00 and 21:00-23:00
PEAK_EUR = 0.265  # 17:00-21:00
FEED_IN_EUR = 0.06
# Hourly CO2 intensity of the Greek grid (kg/kWh): lower around the solar noon.
CO2_KG_PER_KWH = (
    0.44, 0.43, 0.42, 0.42, 0.42, 0.43, 0.45, 0.46, 0.42, 0.36, 0.30, 0.27,
    0.26, 0.27, 0.30, 0.35, 0.41, 0.47, 0.50, 0.50, 0.49, 0.47, 0.46, 0.45,
)  # fmt: skip


def price_at(local_hour: float) -> float:
    """The tariff's import price at a local time of day (hours, 0 <= h < 24)."""
    if 17.0 <= local_hour < 21.0:
        return PEAK_EUR
    if 7.0 <= local_hour < 23.0:
        return DAY_EUR
    return NIGHT_EUR


def tariff() -> dict[str, Any]:
    """The catalogue's tariff entry (where periods overlap, the later one wins)."""
    return {
        "id": TARIFF_ID,
        "default_price_eur_per_kwh": NIGHT_EUR,
        "periods": [
            {"start": "07:00", "end": "23:00", "price_eur_per_kwh": DAY_EUR},
            {"start": "17:00", "end": "21:00", "price_eur_per_kwh": PEAK_EUR},
        ],
        "feed_in_eur_per_kwh": FEED_IN_EUR,
        "co2_kg_per_kwh": list(CO2_KG_PER_KWH),
    }
