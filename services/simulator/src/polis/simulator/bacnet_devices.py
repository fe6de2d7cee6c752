"""BACnet/IP transport: one controller per building with bacpypes3 (the only module that
imports bacpypes3).

Object layout of a building controller (instance numbers are stable):

==================  ========================================  ======================  =====
object              name                                      units                   COV
==================  ========================================  ======================  =====
analog-input,1      outdoor-air-temperature                   degrees-celsius         yes
analog-input,2      hvac-electric-power                       kilowatts               yes
analog-input,3      dhw-tank-temperature (if a tank)          degrees-celsius         yes
analog-input,10+i   zone-<zone>-temperature                   degrees-celsius         yes
analog-value,10+i   zone-<zone>-heating-setpoint (commandable) degrees-celsius        yes
binary-value,1      hvac-enable (commandable)                                         yes
binary-value,2      dhw-heater-enable (commandable, if a tank)                        yes
binary-value,3      pool-pump-enable (commandable, if a pool)                         yes
binary-value,4      ev-charging-enable (commandable, if chargers)                     yes
==================  ========================================  ======================  =====

Besides these, every controller exposes the monitoring objects of
:mod:`polis.simulator.bacnet_points` (humidity, CO2, heat-pump outputs and COP, supply and
return water, occupancy, fan status, meters, PV, battery...), 40-80 objects in all.

Setpoints carry a 16-level priority array whose relinquish default follows the building's
own schedule, so relinquishing every priority hands control back to the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from bacpypes3.apdu import ComplexAckPDU, ReadPropertyMultipleRequest
from bacpypes3.app import Application
from bacpypes3.basetypes import EngineeringUnits
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryInputObject, BinaryValueObject
from bacpypes3.local.cmd import Commandable
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject

from polis.simulator.bacnet_encoding import (
    ANALOG_TYPES,
    BINARY_TYPES,
    PRESENT_VALUE,
    present_value_result,
    read_property_multiple_ack,
)
from polis.simulator.bacnet_points import ObjectSpec, object_specs, object_values
from polis.simulator.config import Building
from polis.simulator.model import BuildingReading
from polis.simulator.plant import Commands

VENDOR_ID = 999  # "reserved for testing" style id used by bacpypes3 samples
ZONE_BASE = 10
# the largest unsegmented APDU over BACnet/IP: room for ~90 present values per
# ReadPropertyMultiple answer
MAX_APDU = 1476


class CommandableAnalogValue(Commandable, AnalogValueObject):  # type: ignore[misc]
    """Analog value with a priority array and COV reporting."""


class CommandableBinaryValue(Commandable, BinaryValueObject):  # type: ignore[misc]
    """Binary value with a priority array and COV reporting."""


class ControllerApplication(Application):  # type: ignore[misc]
    """bacpypes3's application with a direct encoder for present-value-only
    ReadPropertyMultiple requests (see :mod:`polis.simulator.bacnet_encoding`); any other
    request, and any reference to an unknown object, takes bacpypes3's own path."""

    async def do_ReadPropertyMultipleRequest(self, apdu: ReadPropertyMultipleRequest) -> None:
        results = self._present_values(apdu)
        if results is None:
            await super().do_ReadPropertyMultipleRequest(apdu)
            return
        ack = ComplexAckPDU(context=apdu)
        ack.put_data(read_property_multiple_ack(results))
        await self.response(ack)

    def _present_values(self, apdu: ReadPropertyMultipleRequest) -> list[bytes] | None:
        results = []
        for spec in apdu.listOfReadAccessSpecs:
            refs = spec.listOfPropertyReferences
            obj = self.get_object_id(spec.objectIdentifier)
            if (
                obj is None
                or len(refs) != 1
                or refs[0].propertyIdentifier != PRESENT_VALUE
                or refs[0].propertyArrayIndex is not None
            ):
                return None
            kind, instance = spec.objectIdentifier
            kind = str(kind)
            value: float | bool
            if kind in ANALOG_TYPES:
                value = float(obj.presentValue)
                number = ANALOG_TYPES[kind]
            elif kind in BINARY_TYPES:
                value = _is_active(obj.presentValue)
                number = BINARY_TYPES[kind]
            else:
                return None
            results.append(present_value_result(number, int(instance), value))
        return results


@dataclass
class _Enable:
    obj: CommandableBinaryValue
    field: str


class BuildingController:
    """A building's BACnet device, its objects, and the bridge to the model."""

    def __init__(self, building: Building, device_name: str, host: str, port: int) -> None:
        self.building = building
        self.device_name = device_name
        self.address = f"{host}:{port}"
        self.instance = building.bacnet_device_instance
        device = DeviceObject(
            objectIdentifier=("device", self.instance),
            objectName=device_name,
            description=f"Polis simulated building controller: {building.name}",
            vendorIdentifier=VENDOR_ID,
            vendorName="Polis simulator",
            modelName="polis-sim-bms",
        )
        network_port = NetworkPortObject(
            self.address,
            objectIdentifier=("network-port", 1),
            objectName="network-port-1",
        )
        self.outdoor = self._analog_input(
            1, "outdoor-air-temperature", "Outdoor air temperature", "degreesCelsius", 0.2
        )
        self.hvac_power = self._analog_input(
            2, "hvac-electric-power", "HVAC electric power (heat pumps)", "kilowatts", 0.5
        )
        self.tank: AnalogInputObject | None = None
        objects: list[object] = [device, network_port, self.outdoor, self.hvac_power]
        if building.hot_water:
            self.tank = self._analog_input(
                3,
                "dhw-tank-temperature",
                "Domestic hot water tank temperature",
                "degreesCelsius",
                0.5,
            )
            objects.append(self.tank)
        self.zone_temperatures: dict[str, AnalogInputObject] = {}
        self.zone_setpoints: dict[str, CommandableAnalogValue] = {}
        for i, zone in enumerate(building.zones):
            temp = self._analog_input(
                ZONE_BASE + i,
                f"zone-{zone.id}-temperature",
                f"{zone.name}: zone air temperature",
                "degreesCelsius",
                0.1,
            )
            setpoint = CommandableAnalogValue(
                objectIdentifier=("analog-value", ZONE_BASE + i),
                objectName=f"zone-{zone.id}-heating-setpoint",
                description=(
                    f"{zone.name}: heating setpoint; relinquish default follows the "
                    "building schedule"
                ),
                presentValue=20.0,
                units=EngineeringUnits.degreesCelsius,
                covIncrement=0.1,
                statusFlags=[0, 0, 0, 0],
                eventState="normal",
                outOfService=False,
                minPresValue=5.0,
                maxPresValue=35.0,
            )
            self.zone_temperatures[zone.id] = temp
            self.zone_setpoints[zone.id] = setpoint
            objects += [temp, setpoint]
        self.enables: list[_Enable] = [
            _Enable(
                self._binary_value(1, "hvac-enable", "HVAC (heat pumps) enable"), "hvac_enabled"
            )
        ]
        if building.hot_water:
            self.enables.append(
                _Enable(
                    self._binary_value(2, "dhw-heater-enable", "Hot water heater enable"),
                    "dhw_enabled",
                )
            )
        if building.pool:
            self.enables.append(
                _Enable(
                    self._binary_value(3, "pool-pump-enable", "Pool circulation pump enable"),
                    "pool_pump_enabled",
                )
            )
        if building.ev_chargers:
            self.enables.append(
                _Enable(
                    self._binary_value(4, "ev-charging-enable", "EV charging enable"),
                    "ev_enabled",
                )
            )
        objects += [e.obj for e in self.enables]
        self.monitoring: dict[str, AnalogInputObject | AnalogValueObject | BinaryInputObject] = {
            spec.name: _monitoring_object(spec) for spec in object_specs(building)
        }
        objects += list(self.monitoring.values())
        device.maxApduLengthAccepted = MAX_APDU
        self.app = ControllerApplication.from_object_list(objects)

    @staticmethod
    def _analog_input(
        instance: int, name: str, description: str, units: str, cov_increment: float
    ) -> AnalogInputObject:
        return AnalogInputObject(
            objectIdentifier=("analog-input", instance),
            objectName=name,
            description=description,
            presentValue=0.0,
            units=EngineeringUnits(units),
            covIncrement=cov_increment,
            statusFlags=[0, 0, 0, 0],
            eventState="normal",
            outOfService=False,
        )

    @staticmethod
    def _binary_value(instance: int, name: str, description: str) -> CommandableBinaryValue:
        return CommandableBinaryValue(
            objectIdentifier=("binary-value", instance),
            objectName=name,
            description=description,
            presentValue="active",
            relinquishDefault="active",
            statusFlags=[0, 0, 0, 0],
            eventState="normal",
            outOfService=False,
            activeText="enabled",
            inactiveText="disabled",
        )

    @property
    def point_count(self) -> int:
        return (
            2
            + (1 if self.tank else 0)
            + len(self.zone_temperatures)
            + len(self.zone_setpoints)
            + len(self.enables)
            + len(self.monitoring)
        )

    def publish(self, reading: BuildingReading, schedule_setpoints: dict[str, float]) -> None:
        """Copy the model's latest values into the objects (COV fires on change)."""
        _set_if_changed(self.outdoor, round(reading.outdoor_c, 2))
        _set_if_changed(self.hvac_power, round(reading.hvac_power_kw, 3))
        if self.tank is not None and reading.tank_temperature_c is not None:
            _set_if_changed(self.tank, round(reading.tank_temperature_c, 2))
        for zone_id, obj in self.zone_temperatures.items():
            _set_if_changed(obj, round(reading.zone_temperatures_c[zone_id], 2))
        for zone_id, sp in self.zone_setpoints.items():
            default = round(schedule_setpoints[zone_id], 2)
            if sp.relinquishDefault != default:
                sp.relinquishDefault = default
                sp.recalculating()
        hvac_enabled = _is_active(self.enables[0].obj.presentValue)
        for name, value in object_values(self.building, reading, hvac_enabled).items():
            obj = self.monitoring[name]
            if isinstance(value, bool):
                state = "active" if value else "inactive"
                if str(obj.presentValue) != state:
                    obj.presentValue = state
            else:
                _set_if_changed(obj, round(value, 2))

    def commands(self) -> Commands:
        """What the priority arrays currently command (None = follow the schedule)."""
        setpoints: dict[str, float | None] = {}
        for zone_id, sp in self.zone_setpoints.items():
            commanded = (
                sp.currentCommandPriority is not None and sp.currentCommandPriority.null is None
            )
            setpoints[zone_id] = float(sp.presentValue) if commanded else None
        flags = {e.field: _is_active(e.obj.presentValue) for e in self.enables}
        return Commands(heating_setpoints_c=setpoints, **flags)

    def close(self) -> None:
        self.app.close()


def _monitoring_object(
    spec: ObjectSpec,
) -> AnalogInputObject | AnalogValueObject | BinaryInputObject:
    common = {
        "objectIdentifier": (spec.type, spec.instance),
        "objectName": spec.name,
        "description": spec.description,
        "statusFlags": [0, 0, 0, 0],
        "eventState": "normal",
        "outOfService": False,
    }
    if spec.type == "binary-input":
        return BinaryInputObject(
            **common,
            presentValue="inactive",
            polarity="normal",
            activeText="on",
            inactiveText="off",
        )
    cls = AnalogInputObject if spec.type == "analog-input" else AnalogValueObject
    return cls(
        **common,
        presentValue=0.0,
        units=EngineeringUnits(spec.units),
        covIncrement=spec.cov_increment,
    )


def _is_active(value: object) -> bool:
    return str(value) in ("active", "BinaryPV.active", "1")


def _set_if_changed(obj: AnalogInputObject | AnalogValueObject, value: float) -> None:
    if obj.presentValue != value:
        obj.presentValue = value
