"""The savings service values energy at the tariff and CO2 intensity the optimizer plans with."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from polis.savings.settings import SavingsSettings
from polis.simulator.optimizer_config import CO2_KG_PER_KWH, price_at, savings_rates

ATHENS = ZoneInfo("Europe/Athens")


def test_savings_settings_price_every_local_hour_like_the_optimizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in savings_rates().items():
        monkeypatch.setenv(name, value)
    options = SavingsSettings().measurement_options()
    # a winter and a summer day (both UTC offsets), every hour, every day of a week
    for day in (datetime(2026, 1, 12, tzinfo=ATHENS), datetime(2026, 7, 13, tzinfo=ATHENS)):
        hours = [day + timedelta(hours=h) for h in range(7 * 24)]
        seconds = np.array([int(h.timestamp()) for h in hours], dtype=np.int64)
        prices = options.tariff.at(seconds, "Europe/Athens")
        co2 = options.emission_factor.at(seconds, "Europe/Athens")
        assert prices.tolist() == [price_at(h.hour) for h in hours]
        assert co2.tolist() == [CO2_KG_PER_KWH[h.hour] for h in hours]
