"""BACnet/IP transport: one controller per building with bacpypes3 (the only module that
imports bacpypes3).

Core objects of a building controller (instance numbers are stable; the list is
:func:`polis.simulator.bacnet_points.core_object_specs`):

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
from typing import Any

from bacpypes3.apdu import ComplexAckPDU, ReadPropertyMultipleRequest
from bacpypes3.app import Application
from bacpypes3.basetypes import EngineeringUnits, PriorityValue
from bacpypes3.errors import PropertyError
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
from polis.simulator.bacnet_points import (
    DHW_ENABLE,
    EV_ENABLE,
    HVAC_ENABLE,
    HVAC_POWER,
    MANUAL_ABOVE,
    OUTDOOR_TEMPERATURE,
    POOL_PUMP_ENABLE,
    TANK_TEMPERATURE,
    ObjectSpec,
    controller_object_specs,
    object_specs,
    object_values,
    zone_setpoint_name,
    zone_temperature_name,
)
from polis.simulator.config import Building
from polis.simulator.faults import MANUAL_PRIORITY
from polis.simulator.model import BuildingReading
from polis.simulator.plant import Commands

VENDOR_ID = 999  # "reserved for testing" style id used by bacpypes3 samples
# the largest unsegmented APDU over BACnet/IP: room for ~90 present values per
# ReadPropertyMultiple answer
MAX_APDU = 1476


class CommandableAnalogValue(Commandable, AnalogValueObject):  # type: ignore[misc]
    """Analog value with a priority array and COV reporting; an injected fault may make it
    refuse writes (``_refusing``), as a controller whose point is locked out."""

    _refusing = False

    async def write_property(
        self, attr: int | str, value: Any, index: int | None = None, priority: int | None = None
    ) -> None:
        if self._refusing:
            raise PropertyError("writeAccessDenied")
        await super().write_property(attr, value, index, priority)


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


# enable object -> the Commands field it switches
ENABLE_FIELDS = {
    HVAC_ENABLE: "hvac_enabled",
    DHW_ENABLE: "dhw_enabled",
    POOL_PUMP_ENABLE: "pool_pump_enabled",
    EV_ENABLE: "ev_enabled",
}


@dataclass
class _Enable:
    obj: CommandableBinaryValue
    field: str


class BuildingController:
    """A building's BACnet device, its objects, and the bridge to the model.

    The objects are those of :func:`controller_object_specs`, the list the simulator's
    catalogue is drafted from, so both always agree on names and instances.
    """

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
        self.objects = {s.name: _bacnet_object(s) for s in controller_object_specs(building)}
        self.outdoor = self.objects[OUTDOOR_TEMPERATURE]
        self.hvac_power = self.objects[HVAC_POWER]
        self.tank = self.objects.get(TANK_TEMPERATURE)
        self.zone_temperatures = {
            z.id: self.objects[zone_temperature_name(z.id)] for z in building.zones
        }
        self.zone_setpoints = {z.id: self.objects[zone_setpoint_name(z.id)] for z in building.zones}
        self.enables = [
            _Enable(self.objects[name], field)
            for name, field in ENABLE_FIELDS.items()
            if name in self.objects
        ]
        self.monitoring = {s.name: self.objects[s.name] for s in object_specs(building)}
        # zone -> the value an injected forgotten override holds at priority 8
        self.held: dict[str, float] = {}
        # object name -> the value a broken sensor reads (an injected fault)
        self.broken: dict[str, float] = {}
        device.maxApduLengthAccepted = MAX_APDU
        self.app = ControllerApplication.from_object_list(
            [device, network_port, *self.objects.values()]
        )

    @property
    def point_count(self) -> int:
        return len(self.objects)

    def publish(self, reading: BuildingReading, schedule_setpoints: dict[str, float]) -> None:
        """Copy the model's latest values into the objects (COV fires on change); a broken
        sensor's object shows its fault's value instead."""
        broken = self.broken
        _set_if_changed(self.outdoor, round(broken.get(OUTDOOR_TEMPERATURE, reading.outdoor_c), 2))
        _set_if_changed(self.hvac_power, round(broken.get(HVAC_POWER, reading.hvac_power_kw), 3))
        if self.tank is not None and reading.tank_temperature_c is not None:
            tank = broken.get(TANK_TEMPERATURE, reading.tank_temperature_c)
            _set_if_changed(self.tank, round(tank, 2))
        for zone_id, obj in self.zone_temperatures.items():
            sensed = reading.sensed_temperature_c(zone_id)
            _set_if_changed(obj, round(broken.get(zone_temperature_name(zone_id), sensed), 2))
        for zone_id, sp in self.zone_setpoints.items():
            default = round(schedule_setpoints[zone_id], 2)
            if sp.relinquishDefault != default:
                sp.relinquishDefault = default
                sp.recalculating()
        hvac_enabled = _is_active(self.enables[0].obj.presentValue)
        manual = frozenset(
            zone_id
            for zone_id, sp in self.zone_setpoints.items()
            if _command_priority(sp) in MANUAL_ABOVE
        )
        values = object_values(self.building, reading, hvac_enabled, manual)
        for name, value in values.items():
            obj = self.monitoring[name]
            if isinstance(value, bool):
                state = "active" if value else "inactive"
                if str(obj.presentValue) != state:
                    obj.presentValue = state
            else:
                _set_if_changed(obj, round(broken.get(name, value), 2))

    def hold(self, zone_id: str, value: float | None) -> None:
        """An operator's manual command at priority 8 (``None``: relinquished), as a forgotten
        override leaves one; the controller's own priorities stay as they are."""
        if self.held.get(zone_id) == value:
            return
        sp = self.zone_setpoints[zone_id]
        slot = MANUAL_PRIORITY - 1
        if value is None:
            self.held.pop(zone_id, None)
            sp.priorityArray[slot] = PriorityValue(null=())
        else:
            self.held[zone_id] = value
            sp.priorityArray[slot] = PriorityValue(real=value)

    def refuse_writes(self, zones: set[str]) -> None:
        """The setpoints of ``zones`` refuse WriteProperty (write-access-denied)."""
        for zone_id, sp in self.zone_setpoints.items():
            sp._refusing = zone_id in zones

    def commands(self) -> Commands:
        """What the priority arrays currently command (None = follow the schedule)."""
        setpoints: dict[str, float | None] = {}
        for zone_id, sp in self.zone_setpoints.items():
            commanded = (
                sp.currentCommandPriority is not None and sp.currentCommandPriority.null is None
            )
            setpoints[zone_id] = float(sp.presentValue) if commanded else None
        flags: dict[str, Any] = {e.field: _is_active(e.obj.presentValue) for e in self.enables}
        return Commands(heating_setpoints_c=setpoints, **flags)

    def close(self) -> None:
        self.app.close()


def _bacnet_object(spec: ObjectSpec) -> Any:
    """The bacpypes3 object serving ``spec``."""
    common: dict[str, Any] = {
        "objectIdentifier": (spec.type, spec.instance),
        "objectName": spec.name,
        "description": spec.description,
        "statusFlags": [0, 0, 0, 0],
        "eventState": "normal",
        "outOfService": False,
    }
    if spec.type == "binary-value" and spec.commandable:
        return CommandableBinaryValue(
            **common,
            presentValue="active",
            relinquishDefault="active",
            activeText="enabled",
            inactiveText="disabled",
        )
    if spec.type == "binary-value":
        return BinaryValueObject(
            **common, presentValue="inactive", activeText="on", inactiveText="off"
        )
    if spec.type == "binary-input":
        return BinaryInputObject(
            **common,
            presentValue="inactive",
            polarity="normal",
            activeText="on",
            inactiveText="off",
        )
    analog = {**common, "units": EngineeringUnits(spec.units), "covIncrement": spec.cov_increment}
    if spec.commandable:
        # the relinquish default follows the building's schedule from the first publish
        return CommandableAnalogValue(
            **analog, presentValue=20.0, minPresValue=5.0, maxPresValue=35.0
        )
    cls = AnalogInputObject if spec.type == "analog-input" else AnalogValueObject
    return cls(**analog, presentValue=0.0)


def _command_priority(obj: Any) -> int:
    """The priority of the command in force, 0 when the relinquish default is."""
    current = obj.currentCommandPriority
    if current is None or current.null is not None:
        return 0
    return int(current.unsigned)


def _is_active(value: object) -> bool:
    return str(value) in ("active", "BinaryPV.active", "1")


def _set_if_changed(obj: AnalogInputObject | AnalogValueObject, value: float) -> None:
    if obj.presentValue != value:
        obj.presentValue = value
