"""The savings service's view of the municipality catalogue.

Each building brings its place (neighbourhood, municipality), its occupancy calendar's
closures, its meters (the IPMVP Option C boundary: main, generation added back, sub-meters and
storage taken out) and its tariff as rate schedules for € and CO2.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from polis.common.catalogue import Catalogue
from polis.common.catalogue.loads import BatteryConfig
from polis.common.catalogue.tariffs import TariffConfig
from polis.savings.closures import BuildingCalendar, Closure
from polis.savings.pricing import DAY_MINUTES, RateSchedule, RateStep, TouPeriod
from polis.savings.sites import Site, SiteDirectory, SiteMeters

EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
MINUTE_STEP = 15  # tariff periods are resolved on quarter hours


def _segments(rate_at: list[float]) -> list[tuple[int, int, float]]:
    """Runs of equal rate as (start minute, end minute, rate)."""
    out = []
    position = 0
    for rate, run in groupby(rate_at):
        length = len(list(run))
        out.append((position * MINUTE_STEP, (position + length) * MINUTE_STEP, rate))
        position += length
    return out


def _periods_on(tariff: TariffConfig, days: dict[int, date]) -> tuple[TouPeriod, ...]:
    """Non-overlapping periods for the weekdays of ``days`` (one sample date each), where
    the tariff's own periods may overlap (the last matching one wins)."""
    by_segment: dict[tuple[int, int, float], set[int]] = {}
    for weekday, day in days.items():
        rates = [
            tariff.price_at(datetime.combine(day, time()) + timedelta(minutes=m))
            for m in range(0, DAY_MINUTES, MINUTE_STEP)
        ]
        for start, end, rate in _segments(rates):
            if rate != tariff.default_price_eur_per_kwh:
                by_segment.setdefault((start, end, rate), set()).add(weekday)
    return tuple(
        TouPeriod(frozenset(weekdays), start, end, rate)
        for (start, end, rate), weekdays in sorted(by_segment.items())
    )


def _boundaries(tariff: TariffConfig) -> list[date]:
    dates = set()
    for period in tariff.periods:
        if period.valid_from is not None:
            dates.add(period.valid_from)
        if period.valid_to is not None:
            dates.add(period.valid_to + timedelta(days=1))
    return sorted(dates)


def price_schedule(tariff: TariffConfig, timezone: str) -> RateSchedule:
    """The tariff's import price as a rate schedule, one step per change of its periods."""
    zone = ZoneInfo(timezone)
    starts: list[date | None] = [None, *_boundaries(tariff)]
    steps = []
    for i, first in enumerate(starts):
        following = starts[i + 1] if i + 1 < len(starts) else None
        anchor = first or (following - timedelta(days=7) if following else date(2000, 1, 3))
        days = {}
        for k in range(7):
            day = anchor + timedelta(days=k)
            if following is None or day < following:
                days[day.weekday()] = day
        valid_from = EPOCH if first is None else datetime.combine(first, time(), zone)
        steps.append(
            RateStep(valid_from, tariff.default_price_eur_per_kwh, _periods_on(tariff, days))
        )
    return RateSchedule(tuple(steps))


def co2_schedule(tariff: TariffConfig) -> RateSchedule:
    """The tariff's grid CO2 intensity: one value, or one per local hour."""
    c = tariff.co2_kg_per_kwh
    if not isinstance(c, tuple):
        return RateSchedule.flat(c)
    every_day = frozenset(range(7))
    periods = tuple(
        TouPeriod(every_day, 60 * h, 60 * (h + 1), c[h]) for h in range(1, 24) if c[h] != c[0]
    )
    return RateSchedule((RateStep(EPOCH, c[0], periods),))


def site_directory(catalogue: Catalogue) -> SiteDirectory:
    tariffs = {t.id: t for t in catalogue.tariffs}
    sites = {}
    for b in catalogue.buildings:
        calendar = catalogue.calendar(b.calendar) if b.calendar else None
        closures = (
            tuple(Closure(c.start, c.end, c.reason) for c in calendar.closures)
            if (calendar)
            else ()
        )
        tariff = tariffs.get(b.tariff) if b.tariff else None
        storage = bool(b.meters and b.meters.storage) or any(
            isinstance(load, BatteryConfig) for load in b.loads
        )
        sites[b.id] = Site(
            b.id,
            b.neighbourhood,
            catalogue.municipality,
            BuildingCalendar(closures),
            storage=storage,
            meters=SiteMeters(
                b.meters.main, b.meters.generation, b.meters.excluded, b.meters.storage
            )
            if b.meters
            else None,
            tariff=price_schedule(tariff, catalogue.timezone) if tariff else None,
            emission_factor=co2_schedule(tariff) if tariff else None,
        )
    return SiteDirectory(sites, default_municipality=catalogue.municipality)
