"""The depot's EV chargers as OCPP charge points (1.6J or 2.0.1) of a central system.

Each charge point connects to ``<url>/<identity>`` (reconnecting while it is away), boots,
reports every connector's status, its transactions (a car plugging in and leaving) and meter
values from the physics (:class:`~polis.simulator.model.ChargerReading`), and obeys the
charging profiles it is sent: ChargePointMaxProfile (2.0.1: ChargingStationMaxProfile) limits
its total, TxDefaultProfile each connector, within their validity. The physics reads the
limit in force from :meth:`SimulatedChargePoint.limit_at` at every tick; without a profile a
charger charges at its own limit again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from ocpp.routing import on as _on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.simulator.config import Building, OcppVersion
from polis.simulator.model import ChargerReading
from polis.simulator.plant import EvLimit

log = get_logger("polis.simulator.ocpp")

F = TypeVar("F", bound=Callable[..., Any])
MAX_PROFILE = "max"
TX_DEFAULT = "tx_default"
_PURPOSES = {
    "ChargePointMaxProfile": MAX_PROFILE,
    "ChargingStationMaxProfile": MAX_PROFILE,
    "TxDefaultProfile": TX_DEFAULT,
}


def on(action: str) -> Callable[[F], F]:
    return cast(Callable[[F], F], _on(action))


def charge_point_id(building: Building, index: int) -> str:
    """The identity (and catalogue device id) of a building's ``index``-th charge point."""
    return f"{building.id}-cp{index + 1}"


def ocpp_time(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


# -- charging profiles (pure) -------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    purpose: str  # MAX_PROFILE or TX_DEFAULT
    stack_level: int
    limit_w: float
    valid_from: datetime | None
    valid_to: datetime | None
    start: datetime | None
    duration_s: float | None

    def active(self, now: datetime) -> bool:
        if self.valid_from is not None and now < self.valid_from:
            return False
        if self.valid_to is not None and now >= self.valid_to:
            return False
        if self.start is not None and now < self.start:
            return False
        if self.start is not None and self.duration_s is not None:
            return (now - self.start).total_seconds() < self.duration_s
        return True


def profile_from(payload: dict[str, Any], schedule: dict[str, Any], phases_v: float) -> Profile:
    """A profile from a SetChargingProfile's (snake-case) profile and its schedule."""
    periods = sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"])
    limit = float(periods[0]["limit"])
    if schedule.get("charging_rate_unit") == "A":
        limit *= phases_v * (periods[0].get("number_phases") or 3)
    return Profile(
        purpose=_PURPOSES[payload["charging_profile_purpose"]],
        stack_level=int(payload["stack_level"]),
        limit_w=limit,
        valid_from=_parse(payload.get("valid_from")),
        valid_to=_parse(payload.get("valid_to")),
        start=_parse(schedule.get("start_schedule")),
        duration_s=schedule.get("duration"),
    )


@dataclass
class ProfileStore:
    """The charging profiles a charge point holds, by id."""

    profiles: dict[int, Profile] = field(default_factory=dict)

    def limit_at(self, now: datetime) -> EvLimit:
        def top(purpose: str) -> float | None:
            active = [p for p in self.profiles.values() if p.purpose == purpose and p.active(now)]
            return max(active, key=lambda p: p.stack_level).limit_w if active else None

        return EvLimit(station_w=top(MAX_PROFILE), connector_w=top(TX_DEFAULT))

    def clear(self, profile_id: int | None, purpose: str | None) -> bool:
        gone = [
            k
            for k, p in self.profiles.items()
            if (profile_id is None or k == profile_id) and (purpose is None or p.purpose == purpose)
        ]
        for k in gone:
            del self.profiles[k]
        return bool(gone)


def connector_status(reading: ChargerReading) -> str:
    """The OCPP 1.6 status of a charger (2.0.1 maps it to a connector status and state)."""
    if reading.faulted:
        return "Faulted"
    if reading.session < 0:
        return "Available"
    if reading.remaining_kwh <= 0.0:
        return "SuspendedEV"
    return "Charging" if reading.power_kw > 0.0 else "SuspendedEVSE"


def id_tag(building: Building, charger: int, session: int) -> str:
    """The fleet card of the car charging on a charger (stable per charger and day)."""
    return f"CARD{zlib.crc32(f'{building.id}/{charger}/{session}'.encode()) % 10**8:08d}"


@dataclass(frozen=True)
class OcppLink:
    """Where and how the charge points reach the central system."""

    url: str  # ws://host:port or wss://host:port[/path]; the identity is appended
    # identity -> password, HTTP basic auth (security profiles 1 and 2)
    passwords: Mapping[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None  # trust for wss
    meter_interval_s: float = 1.0  # wall seconds between meter values


# -- the protocol sides -----------------------------------------------------------------
def composite_w(point: SimulatedChargePoint, connector: int) -> float:
    """The limit in force now (GetCompositeSchedule): the whole charge point for connector
    0, one connector otherwise."""
    limit = point.store.limit_at(point.clock.now())
    total = point.hardware_w
    if limit.station_w is not None:
        total = min(total, limit.station_w)
    if limit.connector_w is not None:
        total = min(total, limit.connector_w * point.connectors)
    return total if connector == 0 else min(total, point.hardware_w / point.connectors)


# the library logs every message at INFO; the simulator keeps to its own summaries
_WIRE = logging.getLogger("polis.simulator.ocpp.wire")
_WIRE.setLevel(logging.ERROR)
# 2.0.1 charging states of the 1.6 statuses a connector goes through
_CHARGING_STATE = {
    "Preparing": "EVConnected",
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
}


class Side16(ChargePoint16):  # type: ignore[misc]
    def __init__(self, identity: str, connection: Any, point: SimulatedChargePoint) -> None:
        super().__init__(identity, connection, response_timeout=10, logger=_WIRE)
        self.point = point

    async def boot(self) -> int:
        reply = await self.call(
            call16.BootNotification(
                charge_point_model="Polis depot AC", charge_point_vendor="Polis"
            )
        )
        return int(reply.interval)

    async def heartbeat(self) -> None:
        await self.call(call16.Heartbeat())

    async def status(self, connector: int, status: str, at: datetime) -> None:
        await self.call(
            call16.StatusNotification(
                connector_id=connector,
                error_code="InternalError" if status == "Faulted" else "NoError",
                status=status,
                timestamp=ocpp_time(at),
            )
        )

    async def started(self, connector: int, tag: str, energy_wh: float, at: datetime) -> str:
        reply = await self.call(
            call16.StartTransaction(
                connector_id=connector,
                id_tag=tag,
                meter_start=round(energy_wh),
                timestamp=ocpp_time(at),
            )
        )
        return str(reply.transaction_id)

    async def stopped(
        self, connector: int, transaction: str, energy_wh: float, at: datetime
    ) -> None:
        await self.call(
            call16.StopTransaction(
                meter_stop=round(energy_wh),
                timestamp=ocpp_time(at),
                transaction_id=int(transaction),
                reason="EVDisconnected",
            )
        )

    async def meter(
        self,
        connector: int,
        transaction: str | None,
        energy_wh: float,
        power_w: float,
        at: datetime,
    ) -> None:
        values = [
            {
                "timestamp": ocpp_time(at),
                "sampled_value": [
                    {
                        "value": f"{energy_wh:.0f}",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {"value": f"{power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ]
        tx = int(transaction) if transaction is not None else None
        await self.call(
            call16.MeterValues(connector_id=connector, meter_value=values, transaction_id=tx)
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        profile = profile_from(
            cs_charging_profiles, cs_charging_profiles["charging_schedule"], 230.0
        )
        if connector_id != 0 and profile.purpose == MAX_PROFILE:
            return result16.SetChargingProfile(status="Rejected")
        self.point.store.profiles[int(cs_charging_profiles["charging_profile_id"])] = profile
        return result16.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self, id: int | None = None, charging_profile_purpose: str | None = None, **_: Any
    ) -> Any:
        purpose = _PURPOSES.get(charging_profile_purpose or "")
        cleared = self.point.store.clear(id, purpose)
        return result16.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, connector_id: int, duration: int, **_: Any) -> Any:
        now = self.point.clock.now()
        limit = composite_w(self.point, connector_id)
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=ocpp_time(now),
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit, 1)}],
            },
        )


class Side201(ChargePoint201):  # type: ignore[misc]
    def __init__(self, identity: str, connection: Any, point: SimulatedChargePoint) -> None:
        super().__init__(identity, connection, response_timeout=10, logger=_WIRE)
        self.point = point
        self.transactions: dict[int, str] = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    async def boot(self) -> int:
        reply = await self.call(
            call201.BootNotification(
                charging_station={"model": "Polis depot AC", "vendor_name": "Polis"},
                reason="PowerUp",
            )
        )
        return int(reply.interval)

    async def heartbeat(self) -> None:
        await self.call(call201.Heartbeat())

    async def status(self, connector: int, status: str, at: datetime) -> None:
        occupied = status if status in ("Available", "Faulted") else "Occupied"
        await self.call(
            call201.StatusNotification(
                timestamp=ocpp_time(at),
                connector_status=occupied,
                evse_id=connector,
                connector_id=1,
            )
        )
        transaction = self.transactions.get(connector)
        if transaction is not None and status in _CHARGING_STATE:
            state = _CHARGING_STATE[status]
            await self._event("Updated", "ChargingStateChanged", connector, transaction, at, state)

    async def _event(
        self,
        kind: str,
        trigger: str,
        connector: int,
        transaction: str,
        at: datetime,
        state: str | None = None,
        meter: list[dict[str, Any]] | None = None,
        tag: str | None = None,
    ) -> None:
        info: dict[str, Any] = {"transaction_id": transaction}
        if state is not None:
            info["charging_state"] = state
        if kind == "Ended":
            info["stopped_reason"] = "EVDisconnected"
        await self.call(
            call201.TransactionEvent(
                event_type=kind,
                timestamp=ocpp_time(at),
                trigger_reason=trigger,
                seq_no=self._next(),
                transaction_info=info,
                meter_value=meter,
                evse={"id": connector, "connector_id": 1} if kind == "Started" else None,
                id_token={"id_token": tag, "type": "ISO14443"} if tag else None,
            )
        )

    @staticmethod
    def _values(energy_wh: float, power_w: float | None, at: datetime) -> list[dict[str, Any]]:
        sampled: list[dict[str, Any]] = [
            {
                "value": round(energy_wh, 1),
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "Wh"},
            }
        ]
        if power_w is not None:
            sampled.append(
                {
                    "value": round(power_w, 1),
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "W"},
                }
            )
        return [{"timestamp": ocpp_time(at), "sampled_value": sampled}]

    async def started(self, connector: int, tag: str, energy_wh: float, at: datetime) -> str:
        transaction = f"{self.id}-{connector}-{int(at.timestamp())}"
        self.transactions[connector] = transaction
        meter = self._values(energy_wh, None, at)
        await self._event(
            "Started", "CablePluggedIn", connector, transaction, at, "EVConnected", meter, tag
        )
        return transaction

    async def stopped(
        self, connector: int, transaction: str, energy_wh: float, at: datetime
    ) -> None:
        self.transactions.pop(connector, None)
        meter = self._values(energy_wh, 0.0, at)
        await self._event("Ended", "EVDeparted", connector, transaction, at, "Idle", meter)

    async def meter(
        self,
        connector: int,
        transaction: str | None,
        energy_wh: float,
        power_w: float,
        at: datetime,
    ) -> None:
        values = self._values(energy_wh, power_w, at)
        if transaction is None:
            await self.call(call201.MeterValues(evse_id=connector, meter_value=values))
        else:
            await self._event(
                "Updated", "MeterValuePeriodic", connector, transaction, at, meter=values
            )

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        profile = profile_from(charging_profile, charging_profile["charging_schedule"][0], 230.0)
        if evse_id != 0 and profile.purpose == MAX_PROFILE:
            return result201.SetChargingProfile(status="Rejected")
        self.point.store.profiles[int(charging_profile["id"])] = profile
        return result201.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        purpose = _PURPOSES.get(
            (charging_profile_criteria or {}).get("charging_profile_purpose", "")
        )
        cleared = self.point.store.clear(charging_profile_id, purpose)
        return result201.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, duration: int, evse_id: int, **_: Any) -> Any:
        now = self.point.clock.now()
        limit = composite_w(self.point, evse_id)
        schedule = dt201.CompositeScheduleType(
            evse_id=evse_id,
            duration=duration,
            schedule_start=ocpp_time(now),
            charging_rate_unit="W",
            charging_schedule_period=[
                dt201.ChargingSchedulePeriodType(start_period=0, limit=round(limit, 1))
            ],
        )
        return result201.GetCompositeSchedule(status="Accepted", schedule=schedule)


# -- one charge point -------------------------------------------------------------------
@dataclass
class _Reported:
    status: str | None = None
    session: int = -1
    transaction: str | None = None


class SimulatedChargePoint:
    """One charge point serving ``chargers`` (indices of the building's chargers)."""

    def __init__(
        self,
        building: Building,
        index: int,
        chargers: list[int],
        version: OcppVersion,
        link: OcppLink,
        clock: Clock,
    ) -> None:
        ev = building.ev_chargers
        assert ev is not None
        self.building = building
        self.identity = charge_point_id(building, index)
        self.chargers = chargers
        self.connectors = len(chargers)
        self.hardware_w = ev.power_kw * 1000.0 * self.connectors
        self.version = version
        self.link = link
        self.clock = clock
        self.store = ProfileStore()
        self.booted = asyncio.Event()
        self.last_error: str | None = None
        self._readings: tuple[ChargerReading, ...] = ()
        self._at: datetime | None = None
        self._reported = {n: _Reported() for n in range(1, self.connectors + 1)}
        self._changed = asyncio.Event()
        self._stopping = False
        self._connection: ClientConnection | None = None

    def limit_at(self, now: datetime) -> EvLimit:
        return self.store.limit_at(now)

    def observe(self, chargers: tuple[ChargerReading, ...], at: datetime) -> None:
        """The physics after a tick: this charge point's chargers."""
        if chargers:
            self._readings = tuple(chargers[c] for c in self.chargers)
            self._at = at
            self._changed.set()

    def _headers(self) -> dict[str, str]:
        password = self.link.passwords.get(self.identity)
        if password is None:
            return {}
        token = base64.b64encode(f"{self.identity}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        """Connect, and connect again whenever the link is lost, until :meth:`stop`."""
        protocol = Subprotocol("ocpp1.6" if self.version is OcppVersion.V16 else "ocpp2.0.1")
        delay = 0.1
        while not self._stopping:
            try:
                async with connect(
                    f"{self.link.url.rstrip('/')}/{self.identity}",
                    subprotocols=[protocol],
                    additional_headers=self._headers(),
                    ssl=self.link.tls,
                    proxy=None,
                    open_timeout=5,
                    compression=None,
                ) as connection:
                    self._connection = connection
                    delay = 0.1
                    await self._session(connection)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as error:
                self.last_error = f"{type(error).__name__}: {error}"
            finally:
                self._connection = None
                self.booted.clear()
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _session(self, connection: ClientConnection) -> None:
        side: Any = (Side16 if self.version is OcppVersion.V16 else Side201)(
            self.identity, connection, self
        )
        listener = asyncio.create_task(side.start())
        try:
            heartbeat = await side.boot()
            self.booted.set()
            log.info("OCPP charge point booted", charge_point=self.identity)
            for reported in self._reported.values():
                reported.status = None  # tell the new connection everything again
            await self._report(side, heartbeat)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await listener

    async def _report(self, side: Any, heartbeat_s: int) -> None:
        loop = asyncio.get_running_loop()
        beat = loop.time() + heartbeat_s
        meter_at = 0.0
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=0.05)
            self._changed.clear()
            if loop.time() >= beat:
                await side.heartbeat()
                beat = loop.time() + heartbeat_s
            if not self._readings or self._at is None:
                continue
            await self._transactions(side)
            if loop.time() >= meter_at:
                meter_at = loop.time() + self.link.meter_interval_s
                for n, reading in enumerate(self._readings, start=1):
                    transaction = self._reported[n].transaction
                    await side.meter(
                        n, transaction, reading.energy_kwh * 1000, reading.power_kw * 1000, self._at
                    )

    async def _transactions(self, side: Any) -> None:
        """Sessions that began or ended, and statuses that changed, since the last report."""
        at = self._at
        assert at is not None
        for n, reading in enumerate(self._readings, start=1):
            reported = self._reported[n]
            if reading.session != reported.session:
                if reported.transaction is not None:
                    await side.stopped(n, reported.transaction, reading.energy_kwh * 1000, at)
                    reported.transaction = None
                    await side.status(n, "Finishing", at)
                reported.session = reading.session
                if reading.session >= 0:
                    await side.status(n, "Preparing", at)
                    tag = id_tag(self.building, self.chargers[n - 1], reading.session)
                    reported.transaction = await side.started(n, tag, reading.energy_kwh * 1000, at)
            status = connector_status(reading)
            if status != reported.status:
                await side.status(n, status, at)
                reported.status = status

    async def stop(self) -> None:
        self._stopping = True
        self._changed.set()
        if self._connection is not None:
            await self._connection.close()


def charge_points(building: Building, link: OcppLink, clock: Clock) -> list[SimulatedChargePoint]:
    """The building's OCPP charge points (none without chargers served over OCPP)."""
    ev = building.ev_chargers
    if ev is None:
        return []
    owner = ev.charge_point_of()
    return [
        SimulatedChargePoint(
            building,
            index,
            [c for c, o in enumerate(owner) if o == index],
            cp.version,
            link,
            clock,
        )
        for index, cp in enumerate(ev.charge_points)
    ]


def read_passwords(path: Path) -> dict[str, str]:
    """``identity:password`` lines (``#`` comments and blank lines skipped)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        identity, sep, password = line.strip().partition(":")
        if sep and not identity.startswith("#"):
            out[identity] = password
    return out


def link_from(
    url: str | None,
    passwords_file: Path | None = None,
    ca_file: Path | None = None,
    meter_interval_s: float = 1.0,
) -> OcppLink | None:
    """The chargers' link to a central system as configured (``None`` without a URL)."""
    if not url:
        return None
    tls = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    passwords = read_passwords(passwords_file) if passwords_file else {}
    return OcppLink(url, passwords, tls, meter_interval_s)
