"""What the adapter knows of each charger, and the translations into Polis points (pure).

The protocol handlers (``v16``, ``v201``) call a :class:`ChargerRecorder` with what a charger
reports; the driver reads the latest values from its :class:`ChargerState`. Id tags never
leave this module in the clear: a session keeps a keyed pseudonym (:func:`pseudonym`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from polis.common.catalogue.devices import CHARGING_LIMIT_POINT, connector_point_id

# Connector status as a number for InfluxDB: OCPP 1.6 statuses, 2.0.1 connector statuses and
# charging states on one scale (docs/adapter.md, OCPP chargers)
STATUS_CODES: dict[str, int] = {
    "Available": 0,
    "Preparing": 1,
    "Occupied": 1,
    "EVConnected": 1,
    "Idle": 1,
    "Charging": 2,
    "SuspendedEVSE": 3,
    "SuspendedEV": 4,
    "Finishing": 5,
    "Reserved": 6,
    "Unavailable": 7,
    "Faulted": 8,
}
# the one charging profile Polis sets on a charger, found again by its id to clear it; stack
# level 1 leaves higher levels to a site's own load management, which then wins
PROFILE_ID = 7301
STACK_LEVEL = 1
ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
_ENERGY_UNITS = {"Wh": 1e-3, "kWh": 1.0}
_POWER_UNITS = {"W": 1e-3, "kW": 1.0}


def ocpp_time(instant: datetime) -> str:
    """An OCPP date-time: UTC with a ``Z``."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def pseudonym(key: bytes, id_tag: str) -> str:
    """A stable pseudonym of an id tag (case-insensitive in OCPP): HMAC-SHA256, 16 hex."""
    digest = hmac.new(key, id_tag.upper().encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:16]


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value of a meter value, in the unit the charger gave."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None


def kilo(sample: Sample) -> float | None:
    """The sample in kWh or kW; ``None`` for a measurand or unit Polis does not store."""
    table = _ENERGY_UNITS if sample.measurand == ENERGY_REGISTER else _POWER_UNITS
    if sample.measurand not in (ENERGY_REGISTER, POWER) or sample.unit not in table:
        return None
    return sample.value * table[sample.unit]


@dataclass(slots=True)
class Session:
    transaction_id: str
    id_tag: str  # the pseudonym
    started_at: datetime
    meter_start_kwh: float | None


@dataclass(slots=True)
class ConnectorState:
    energy_kwh: float | None = None
    power_kw: float | None = None
    status: int | None = None
    session: Session | None = None

    def session_energy_kwh(self) -> float | None:
        if self.session is None:
            return 0.0
        start = self.session.meter_start_kwh
        if start is None or self.energy_kwh is None:
            return None
        return max(0.0, self.energy_kwh - start)

    def apply(self, samples: Iterable[Sample]) -> None:
        """Totals only: per-phase values and values measured at the EV are left out."""
        for sample in samples:
            if sample.phase is not None or sample.location not in (None, "Outlet"):
                continue
            value = kilo(sample)
            if value is None:
                continue
            if sample.measurand == ENERGY_REGISTER:
                self.energy_kwh = value
            else:
                self.power_kw = value


@dataclass
class ChargerState:
    identity: str
    connectors: dict[int, ConnectorState]
    connected: bool = False
    booted: bool = False
    vendor: str = ""
    model: str = ""
    limit_kw: float | None = None  # the limit in force as last read back

    @classmethod
    def with_connectors(cls, identity: str, count: int) -> ChargerState:
        return cls(identity, {n: ConnectorState() for n in range(1, count + 1)})

    def values(self) -> dict[str, float | None]:
        """Point key -> latest value; ``None`` for everything while the charger is away."""
        out: dict[str, float | None] = {}
        for n, c in self.connectors.items():
            out[connector_point_id(n, "energy")] = c.energy_kwh
            out[connector_point_id(n, "power")] = c.power_kw
            out[connector_point_id(n, "session-energy")] = c.session_energy_kwh()
            out[connector_point_id(n, "status")] = None if c.status is None else float(c.status)
        out[CHARGING_LIMIT_POINT] = self.limit_kw
        if not self.connected:
            return dict.fromkeys(out)
        return out


class SessionSink(Protocol):
    def record(self, action: str, **fields: Any) -> str: ...


@dataclass
class ChargerRecorder:
    """Turns what one charger reports into its state and its session records."""

    state: ChargerState
    sessions: SessionSink
    id_tag_key: bytes
    on_boot: Callable[[], None] = field(default=lambda: None)

    def booted(self, vendor: str, model: str) -> None:
        self.state.booted = True
        self.state.vendor, self.state.model = vendor, model
        self.on_boot()

    def status(self, connector: int, status: str) -> None:
        target = self.state.connectors.get(connector)  # 0 is the charger itself
        if target is not None and status in STATUS_CODES:
            target.status = STATUS_CODES[status]

    def samples(self, connector: int, samples: Iterable[Sample]) -> None:
        target = self.state.connectors.get(connector)
        if target is not None:
            target.apply(samples)

    def session_started(
        self,
        connector: int,
        transaction_id: str,
        id_tag: str | None,
        meter_start_kwh: float | None,
        at: datetime,
    ) -> None:
        target = self.state.connectors.get(connector)
        if target is None:
            return
        tag = pseudonym(self.id_tag_key, id_tag) if id_tag else ""
        target.session = Session(transaction_id, tag, at, meter_start_kwh)
        if meter_start_kwh is not None:
            target.energy_kwh = meter_start_kwh
        self.sessions.record(
            "session_started",
            charger=self.state.identity,
            connector=connector,
            transaction_id=transaction_id,
            id_tag=tag,
            at=at.isoformat(),
            meter_start_kwh=meter_start_kwh,
        )

    def session_ended(
        self, transaction_id: str, meter_stop_kwh: float | None, at: datetime, reason: str
    ) -> None:
        for n, target in self.state.connectors.items():
            session = target.session
            if session is None or session.transaction_id != transaction_id:
                continue
            if meter_stop_kwh is not None:
                target.energy_kwh = meter_stop_kwh
            energy = target.session_energy_kwh()
            target.session = None
            target.power_kw = 0.0
            self.sessions.record(
                "session_ended",
                charger=self.state.identity,
                connector=n,
                transaction_id=transaction_id,
                id_tag=session.id_tag,
                started_at=session.started_at.isoformat(),
                at=at.isoformat(),
                energy_kwh=energy,
                reason=reason,
            )
            return

    def connector_of(self, transaction_id: str) -> int | None:
        for n, target in self.state.connectors.items():
            if target.session is not None and target.session.transaction_id == transaction_id:
                return n
        return None


@dataclass(frozen=True, slots=True)
class LimitRequest:
    """A charging limit for a charger: ``total_kw`` from ``start`` until ``until``."""

    total_kw: float
    start: datetime
    until: datetime
    per_connector: bool  # TxDefaultProfile: the total shared evenly over the connectors
    connectors: int

    @property
    def limit_w(self) -> float:
        share = self.total_kw / self.connectors if self.per_connector else self.total_kw
        return round(share * 1000.0, 1)

    @property
    def duration_s(self) -> int:
        return max(1, round((self.until - self.start).total_seconds()))


class ChargerLink(Protocol):
    """What the central system asks of a connected charger (per protocol version)."""

    async def set_limit(self, request: LimitRequest) -> bool:
        """True when the charger accepted the profile."""
        ...

    async def clear_limit(self) -> bool: ...

    async def composite_limit_kw(self) -> float | None:
        """The limit in force for the whole charger, kW (``None``: not reported)."""
        ...


def amps_to_kw(amps: float, phases: int | None) -> float:
    """A limit given in A as kW, at 230 V per phase (three phases unless the charger says)."""
    return amps * 230.0 * (phases or 3) / 1000.0
