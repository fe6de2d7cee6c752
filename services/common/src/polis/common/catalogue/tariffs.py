"""Tariffs: time-of-use energy prices, feed-in, demand charge, CO2 intensity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polis.common.catalogue.ids import ID_PATTERN
from polis.common.catalogue.periods import Period

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class PricePeriod(Period):
    price_eur_per_kwh: NonNegative


class TariffConfig(BaseModel):
    """One tariff; where periods overlap, the last matching period sets the price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    default_price_eur_per_kwh: NonNegative
    periods: tuple[PricePeriod, ...] = ()
    feed_in_eur_per_kwh: float = 0.0
    co2_kg_per_kwh: NonNegative | tuple[NonNegative, ...] = 0.4
    demand_charge_eur_per_kw: NonNegative = 0.0
    contracted_peak_kw: Positive | None = None
    fixed_eur_per_day: NonNegative = 0.0

    @model_validator(mode="after")
    def _co2_hourly(self) -> TariffConfig:
        if isinstance(self.co2_kg_per_kwh, tuple) and len(self.co2_kg_per_kwh) != 24:
            raise ValueError("co2_kg_per_kwh must be one value or 24 hourly values")
        return self

    def price_at(self, local: datetime) -> float:
        """The import price at a local time."""
        price = self.default_price_eur_per_kwh
        for period in self.periods:  # the last matching period wins
            if period.contains(local):
                price = period.price_eur_per_kwh
        return price

    def co2_at(self, local: datetime) -> float:
        c = self.co2_kg_per_kwh
        return c[local.hour] if isinstance(c, tuple) else c
