"""An OCPP charger as a Polis driver: the latest reported values, and its charging limit.

Chargers push their values (status, meter values, transactions); a scrape returns the latest
the charger reported, all ``None`` (readings of quality ``missing``) while it is not
connected. Writing ``charging-limit`` sets the Polis charging profile, valid until the
command expires, and reads the composite schedule back; relinquishing clears the profile.
When a charger boots on a new connection, a limit still in force is set again and any Polis
profile left from before (a crash, a lost link) is cleared otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from polis.adapter.driver import CommandState, DriverError, ScanGroup
from polis.adapter.ocpp.central import CentralSystem
from polis.adapter.ocpp.state import ChargerLink, LimitRequest
from polis.common.catalogue.devices import CHARGING_LIMIT_POINT, OcppDeviceConfig, OcppLimitProfile
from polis.common.clock import Clock
from polis.common.logging import get_logger

log = get_logger("polis.adapter.ocpp.driver")


class OcppDriver:
    protocol = "ocpp"

    def __init__(self, config: OcppDeviceConfig, central: CentralSystem, clock: Clock) -> None:
        self.device_id = config.id
        self.config = config
        self._identity = config.charge_point_identity
        self._central = central
        self._clock = clock
        keys = tuple(p.id for p in config.all_points())
        self._groups = [ScanGroup(0, config.poll_interval_s, keys)]
        self._limit: LimitRequest | None = None  # the limit Polis has in force
        central.on_boot(self._identity, self._after_boot)

    def groups(self) -> Sequence[ScanGroup]:
        return self._groups

    async def scrape(self, group: ScanGroup) -> dict[str, float | None]:
        # no DriverError while the charger is away: there is nothing to retry or back off
        # from, it reconnects by itself and its readings are marked missing meanwhile
        values = self._central.state(self._identity).values()
        return {key: values.get(key) for key in group.point_keys}

    def _link(self, key: str) -> ChargerLink:
        if key != CHARGING_LIMIT_POINT or self.config.charging_limit is None:
            raise DriverError(f"{self.device_id}/{key} is not a command point")
        link = self._central.link(self._identity)
        if link is None:
            raise DriverError(f"{self.device_id}: charger {self._identity} is not connected")
        return link

    def _request(self, value: float, until: datetime) -> LimitRequest:
        return LimitRequest(
            total_kw=value,
            start=self._clock.now(),
            until=until,
            per_connector=self.config.limit_profile is OcppLimitProfile.TX_DEFAULT,
            connectors=self.config.connectors,
        )

    async def write_until(self, key: str, value: float, priority: int, until: datetime) -> None:
        link = self._link(key)
        request = self._request(value, until)
        if not await link.set_limit(request):
            raise DriverError(f"{self.device_id}: the charger refused the charging profile")
        self._limit = request

    async def write(self, key: str, value: float, priority: int) -> None:
        limits = self.config.charging_limit
        duration = limits.default_duration_s if limits else 3600.0
        await self.write_until(
            key, value, priority, self._clock.now() + timedelta(seconds=duration)
        )

    async def read_command(self, key: str) -> CommandState:
        link = self._link(key)
        limit = await link.composite_limit_kw()
        state = self._central.state(self._identity)
        state.limit_kw = limit
        if limit is None:
            raise DriverError(f"{self.device_id}: the charger reports no composite schedule")
        return CommandState(limit)

    async def relinquish(self, key: str, priority: int) -> None:
        self._limit = None
        # a charger out of reach drops the profile itself when its validity ends
        await self._link(key).clear_limit()

    async def _after_boot(self) -> None:
        link = self._central.link(self._identity)
        if link is None or self.config.charging_limit is None:
            return
        limit = self._limit
        if limit is not None and limit.until > self._clock.now():
            again = self._request(limit.total_kw, limit.until)
            if await link.set_limit(again):
                log.info("charging limit set again", device=self.device_id, kw=limit.total_kw)
        else:
            await link.clear_limit()
        self._central.state(self._identity).limit_kw = await link.composite_limit_kw()

    async def close(self) -> None:
        return None
