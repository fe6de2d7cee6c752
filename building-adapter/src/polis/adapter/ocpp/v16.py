"""OCPP 1.6J: the central system's side of one charge point."""

from __future__ import annotations

import itertools
import time
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16 import datatypes as dt
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    GetCompositeScheduleStatus,
    RegistrationStatus,
)

from polis.adapter.ocpp.state import (
    PROFILE_ID,
    STACK_LEVEL,
    ChargerRecorder,
    LimitRequest,
    ocpp_time,
    parse_time,
)
from polis.adapter.ocpp.wire import WIRE, after, ask, first_period_kw, on, sample
from polis.common.clock import Clock

SUBPROTOCOL = "ocpp1.6"
# 1.6 transaction ids are integers the central system hands out: unique across restarts
# as long as fewer than one transaction per second is started on average
_transaction_ids = itertools.count(int(time.time()) % 1_000_000_000)
_ACCEPTED = dt.IdTagInfo(status=AuthorizationStatus.accepted)


class ChargerV16(ChargePoint):  # type: ignore[misc]
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
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **_: Any
    ) -> Any:
        self._vendor_model = (charge_point_vendor, charge_point_model)
        return call_result.BootNotification(
            current_time=self._now(), interval=self.heartbeat_s, status=RegistrationStatus.accepted
        )

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        # after the answer is sent: the charger may only be called once it is accepted
        self.recorder.booted(*self._vendor_model)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=self._now())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, status: str, **_: Any) -> Any:
        self.recorder.status(connector_id, status)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> Any:
        for value in meter_value:
            samples = []
            for raw in value.get("sampled_value", []):
                try:
                    number = float(raw["value"])
                except (KeyError, ValueError):
                    continue
                samples.append(sample(raw.get("measurand"), number, raw.get("unit"), raw))
            self.recorder.samples(connector_id, samples)
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> Any:
        # Polis meters and limits; who may charge is the charger's (or its operator's) rule
        return call_result.Authorize(id_tag_info=_ACCEPTED)

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        transaction = next(_transaction_ids)
        self.recorder.session_started(
            connector_id, str(transaction), id_tag, meter_start / 1000.0, parse_time(timestamp)
        )
        return call_result.StartTransaction(transaction_id=transaction, id_tag_info=_ACCEPTED)

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        **_: Any,
    ) -> Any:
        self.recorder.session_ended(
            str(transaction_id), meter_stop / 1000.0, parse_time(timestamp), reason or "Local"
        )
        return call_result.StopTransaction(id_tag_info=_ACCEPTED)

    async def set_limit(self, request: LimitRequest) -> bool:
        purpose = (
            ChargingProfilePurposeType.tx_default_profile
            if request.per_connector
            else ChargingProfilePurposeType.charge_point_max_profile
        )
        profile = dt.ChargingProfile(
            charging_profile_id=PROFILE_ID,
            stack_level=STACK_LEVEL,
            charging_profile_purpose=purpose,
            charging_profile_kind=ChargingProfileKindType.absolute,
            charging_schedule=dt.ChargingSchedule(
                charging_rate_unit=ChargingRateUnitType.watts,
                charging_schedule_period=[
                    dt.ChargingSchedulePeriod(start_period=0, limit=request.limit_w)
                ],
                duration=request.duration_s,
                start_schedule=ocpp_time(request.start),
            ),
            valid_from=ocpp_time(request.start),
            valid_to=ocpp_time(request.until),
        )
        reply = await ask(
            self, call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile)
        )
        return bool(reply.status == ChargingProfileStatus.accepted)

    async def clear_limit(self) -> bool:
        await ask(self, call.ClearChargingProfile(id=PROFILE_ID))
        return True  # Unknown: no such profile left, which is what was asked

    async def composite_limit_kw(self) -> float | None:
        reply = await ask(
            self,
            call.GetCompositeSchedule(
                connector_id=0, duration=60, charging_rate_unit=ChargingRateUnitType.watts
            ),
        )
        if reply.status != GetCompositeScheduleStatus.accepted:
            return None
        return first_period_kw(reply.charging_schedule)
