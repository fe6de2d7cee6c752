"""OCPP 2.0.1: the CSMS side of one charging station (an EVSE is a Polis connector)."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201 import datatypes as dt
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileStatusEnumType,
    ChargingRateUnitEnumType,
    GenericStatusEnumType,
    RegistrationStatusEnumType,
)

from polis.adapter.ocpp.state import (
    ENERGY_REGISTER,
    PROFILE_ID,
    STACK_LEVEL,
    ChargerRecorder,
    LimitRequest,
    Sample,
    kilo,
    ocpp_time,
    parse_time,
)
from polis.adapter.ocpp.wire import WIRE, after, ask, first_period_kw, on, sample
from polis.common.clock import Clock

SUBPROTOCOL = "ocpp2.0.1"
_ACCEPTED = dt.IdTokenInfoType(status=AuthorizationStatusEnumType.accepted)


def samples_of(meter_value: list[dict[str, Any]] | None) -> list[Sample]:
    out = []
    for value in meter_value or []:
        for raw in value.get("sampled_value", []):
            unit = raw.get("unit_of_measure") or {}
            number = float(raw["value"]) * 10.0 ** int(unit.get("multiplier", 0))
            out.append(sample(raw.get("measurand"), number, unit.get("unit"), raw))
    return out


def register_kwh(samples: list[Sample]) -> float | None:
    for s in samples:
        if s.measurand == ENERGY_REGISTER and s.phase is None:
            return kilo(s)
    return None


class ChargerV201(ChargePoint):  # type: ignore[misc]
    def __init__(
        self,
        identity: str,
        connection: Any,
        recorder: ChargerRecorder,
        clock: Clock,
        heartbeat_s: int,
        response_timeout_s: float,
    ) -> None:
        super().__init__(identity, connection, response_timeout=response_timeout_s, logger=WIRE)
        self.recorder = recorder
        self.clock = clock
        self.heartbeat_s = heartbeat_s

    def _now(self) -> str:
        return ocpp_time(self.clock.now())

    @on(Action.boot_notification)
    def on_boot_notification(self, charging_station: dict[str, Any], **_: Any) -> Any:
        self._vendor_model = (charging_station.get("vendor_name", ""), charging_station["model"])
        return call_result.BootNotification(
            current_time=self._now(),
            interval=self.heartbeat_s,
            status=RegistrationStatusEnumType.accepted,
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self.recorder.booted(*self._vendor_model)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=self._now())

    @on(Action.status_notification)
    def on_status_notification(self, evse_id: int, connector_status: str, **_: Any) -> Any:
        connector = self.recorder.state.connectors.get(evse_id)
        # while a transaction runs its charging state says more than "Occupied"
        if not (connector_status == "Occupied" and connector and connector.session):
            self.recorder.status(evse_id, connector_status)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        self.recorder.samples(evse_id, samples_of(meter_value))
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return call_result.Authorize(id_token_info=_ACCEPTED)

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        transaction = str(transaction_info["transaction_id"])
        samples = samples_of(meter_value)
        at = parse_time(timestamp)
        connector = evse["id"] if evse else self.recorder.connector_of(transaction)
        if event_type == "Started" and connector is not None:
            tag = id_token.get("id_token") if id_token else None
            self.recorder.session_started(connector, transaction, tag, register_kwh(samples), at)
        if connector is not None:
            self.recorder.samples(connector, samples)
            if state := transaction_info.get("charging_state"):
                self.recorder.status(connector, state)
        if event_type == "Ended":
            reason = transaction_info.get("stopped_reason") or trigger_reason
            self.recorder.session_ended(transaction, register_kwh(samples), at, reason)
        if id_token is not None:
            return call_result.TransactionEvent(id_token_info=_ACCEPTED)
        return call_result.TransactionEvent()

    async def set_limit(self, request: LimitRequest) -> bool:
        purpose = (
            ChargingProfilePurposeEnumType.tx_default_profile
            if request.per_connector
            else ChargingProfilePurposeEnumType.charging_station_max_profile
        )
        profile = dt.ChargingProfileType(
            id=PROFILE_ID,
            stack_level=STACK_LEVEL,
            charging_profile_purpose=purpose,
            charging_profile_kind=ChargingProfileKindEnumType.absolute,
            charging_schedule=[
                dt.ChargingScheduleType(
                    id=PROFILE_ID,
                    charging_rate_unit=ChargingRateUnitEnumType.watts,
                    charging_schedule_period=[
                        dt.ChargingSchedulePeriodType(start_period=0, limit=request.limit_w)
                    ],
                    start_schedule=ocpp_time(request.start),
                    duration=request.duration_s,
                )
            ],
            valid_from=ocpp_time(request.start),
            valid_to=ocpp_time(request.until),
        )
        reply = await ask(self, call.SetChargingProfile(evse_id=0, charging_profile=profile))
        return bool(reply.status == ChargingProfileStatusEnumType.accepted)

    async def clear_limit(self) -> bool:
        await ask(self, call.ClearChargingProfile(charging_profile_id=PROFILE_ID))
        return True  # Unknown: no such profile left, which is what was asked

    async def composite_limit_kw(self) -> float | None:
        reply = await ask(
            self,
            call.GetCompositeSchedule(
                duration=60, evse_id=0, charging_rate_unit=ChargingRateUnitEnumType.watts
            ),
        )
        if reply.status != GenericStatusEnumType.accepted:
            return None
        return first_period_kw(reply.schedule)
