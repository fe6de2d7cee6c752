"""Injected faults: what breaks, where, and during which window of simulated time (pure).

A fault names its ``kind``, the ``building``, a ``target`` within it (a zone, a meter role, a
charger, a load channel) and a window ``from``/``until`` in simulated time (either end open).
It is active at an instant ``t`` when ``from <= t < until``, so a test on an accelerated
clock injects it and removes it deterministically. Faults act on the physics or on what the
field devices answer, never on Polis' side, so the adapter reads them over real BACnet,
Modbus and OCPP:

==========================  =========  ===================================================
kind                        target     effect
==========================  =========  ===================================================
``stuck_sensor``            zone       the zone temperature object holds the value it had
                                       when the window began
``broken_sensor``           analog     the controller's analog input ``target`` (an object
                            input      name) reads ``value`` (-40), as an open circuit does
``dead_meter``              meter role the meter's Modbus unit stops answering (0x0B on
                                       TCP, silence on a serial line)
``reduced_capacity``        zone       the heat pump delivers ``factor`` of its heat (and
                                       cold) at its full electric power (a refrigerant leak)
``heating_and_cooling``     zone       the cooling valve is stuck open at ``fraction``
                                       while heating goes on
``stuck_heating``           zone       the heating valve is stuck open at ``fraction``,
                                       heating whatever the temperature
``short_cycling``           zone       the compressor trips off for half of every
                                       ``period_minutes`` and restarts at full output
``forgotten_override``      zone       the heating setpoint held at ``value`` at manual
                                       priority 8
``commands_refused``        zone       writes to the heating setpoint are refused
``load_left_on``            lighting,  ``power_kw`` more on that channel, or without it
                            plug       the channel at its full load (lights left on)
``charger_faulted``         cp/n       the charger reports ``Faulted`` and delivers nothing
==========================  =========  ===================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

if TYPE_CHECKING:
    from polis.simulator.config import Building


class FaultKind(StrEnum):
    STUCK_SENSOR = "stuck_sensor"
    BROKEN_SENSOR = "broken_sensor"
    DEAD_METER = "dead_meter"
    REDUCED_CAPACITY = "reduced_capacity"
    HEATING_AND_COOLING = "heating_and_cooling"
    STUCK_HEATING = "stuck_heating"
    SHORT_CYCLING = "short_cycling"
    FORGOTTEN_OVERRIDE = "forgotten_override"
    COMMANDS_REFUSED = "commands_refused"
    LOAD_LEFT_ON = "load_left_on"
    CHARGER_FAULTED = "charger_faulted"


ZONE_KINDS = frozenset(
    {
        FaultKind.STUCK_SENSOR,
        FaultKind.REDUCED_CAPACITY,
        FaultKind.HEATING_AND_COOLING,
        FaultKind.STUCK_HEATING,
        FaultKind.SHORT_CYCLING,
        FaultKind.FORGOTTEN_OVERRIDE,
        FaultKind.COMMANDS_REFUSED,
    }
)
# the manual operator's BACnet priority, which outranks Polis' automation (13 by default)
MANUAL_PRIORITY = 8


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    building: str = Field(min_length=1)
    target: str = Field(min_length=1)
    from_: AwareDatetime | None = Field(default=None, alias="from")
    until: AwareDatetime | None = None

    def active(self, epoch: float) -> bool:
        """In force at ``epoch`` (seconds): ``from <= t < until``."""
        if self.from_ is not None and epoch < self.from_.timestamp():
            return False
        return self.until is None or epoch < self.until.timestamp()

    def window(self) -> tuple[float, float]:
        """(from, until) in epoch seconds, infinite where open."""
        start = -float("inf") if self.from_ is None else self.from_.timestamp()
        end = float("inf") if self.until is None else self.until.timestamp()
        return start, end

    def describe(self) -> str:
        return f"{self.kind} {self.building}/{self.target}"  # type: ignore[attr-defined]


class StuckSensor(_Fault):
    kind: Literal[FaultKind.STUCK_SENSOR]


class BrokenSensor(_Fault):
    kind: Literal[FaultKind.BROKEN_SENSOR]
    value: float = Field(default=-40.0, description="what the broken sensor reads")


class DeadMeter(_Fault):
    kind: Literal[FaultKind.DEAD_METER]


class ReducedCapacity(_Fault):
    kind: Literal[FaultKind.REDUCED_CAPACITY]
    factor: float = Field(default=0.25, gt=0, lt=1, description="share of the heat delivered")


class HeatingAndCooling(_Fault):
    kind: Literal[FaultKind.HEATING_AND_COOLING]
    fraction: float = Field(default=0.5, gt=0, le=1, description="cooling valve opening")


class StuckHeating(_Fault):
    kind: Literal[FaultKind.STUCK_HEATING]
    fraction: float = Field(default=1.0, gt=0, le=1, description="heating valve opening")


class ShortCycling(_Fault):
    kind: Literal[FaultKind.SHORT_CYCLING]
    period_minutes: float = Field(default=6.0, ge=2, le=120, description="one start per period")


class ForgottenOverride(_Fault):
    kind: Literal[FaultKind.FORGOTTEN_OVERRIDE]
    value: float = Field(default=24.0, ge=5, le=35, description="the setpoint held, °C")


class CommandsRefused(_Fault):
    kind: Literal[FaultKind.COMMANDS_REFUSED]


class LoadLeftOn(_Fault):
    kind: Literal[FaultKind.LOAD_LEFT_ON]
    target: Literal["lighting", "plug"]
    power_kw: float | None = Field(default=None, gt=0, description="default: the full load")


class ChargerFaulted(_Fault):
    kind: Literal[FaultKind.CHARGER_FAULTED]
    target: str = Field(pattern=r"^[a-z0-9-]+/[0-9]+$", description="<charge point>/<connector>")


Fault = Annotated[
    StuckSensor
    | BrokenSensor
    | DeadMeter
    | ReducedCapacity
    | HeatingAndCooling
    | StuckHeating
    | ShortCycling
    | ForgottenOverride
    | CommandsRefused
    | LoadLeftOn
    | ChargerFaulted,
    Field(discriminator="kind"),
]
FAULT: TypeAdapter[Fault] = TypeAdapter(Fault)


class FaultError(ValueError):
    """A fault that cannot be injected; the message names the field."""


def _describe(error: ValidationError, where: str) -> str:
    lines = []
    for item in error.errors():
        # the kind the discriminator chose is not a field: leave it out of the path
        loc = [str(p) for p in item["loc"][1:]]
        lines.append(f"{'.'.join([where, *loc])}: {item['msg']}")
    return "; ".join(lines)


def parse_fault(data: Any, where: str = "fault") -> Fault:
    """One fault from parsed YAML/JSON, FaultError naming each bad field under ``where``."""
    if not isinstance(data, dict):
        raise FaultError(f"{where}: expected a mapping with kind, building, target")
    kind = data.get("kind")
    if kind not in set(FaultKind):
        known = ", ".join(k.value for k in FaultKind)
        raise FaultError(f"{where}.kind: unknown fault kind {kind!r} (known: {known})")
    try:
        return FAULT.validate_python(data)
    except ValidationError as error:
        raise FaultError(_describe(error, where)) from None


def parse_faults(data: Any, where: str = "faults") -> list[Fault]:
    """A list of faults from parsed YAML/JSON (``None``: none)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise FaultError(f"{where}: expected a list of faults")
    return [parse_fault(item, f"{where}.{n}") for n, item in enumerate(data)]


def parse_fault_option(text: str) -> Fault:
    """One fault from the CLI's ``kind=K,building=B,target=T[,from=ISO][,until=ISO][,p=v]``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise FaultError(f"--fault {text!r}: expected key=value pairs separated by commas")
        fields[key.strip()] = value.strip()
    return parse_fault(fields, "--fault")


def connector_of(building: Building, target: str) -> int:
    """The index of the building's charger at ``<charge point>/<connector>``."""
    from polis.simulator.ocpp_chargers import charge_point_id

    ev = building.ev_chargers
    if ev is None or not ev.charge_points:
        raise FaultError(f"target: {building.id} has no OCPP chargers")
    identity, _, number = target.partition("/")
    owner = ev.charge_point_of()
    for index in range(len(ev.charge_points)):
        if charge_point_id(building, index) != identity:
            continue
        chargers = [c for c, o in enumerate(owner) if o == index]
        n = int(number)
        if not 1 <= n <= len(chargers):
            raise FaultError(f"target: {identity} has connectors 1..{len(chargers)}, not {n}")
        return chargers[n - 1]
    names = [charge_point_id(building, i) for i in range(len(ev.charge_points))]
    raise FaultError(f"target: {building.id} has no charge point {identity!r} (has {names})")


def check_fault(fault: Fault, building: Building) -> None:
    """FaultError unless ``fault`` names something ``building`` has."""
    if fault.from_ is not None and fault.until is not None and fault.until <= fault.from_:
        raise FaultError("until: must be after from")
    zones = {z.id: z for z in building.zones}
    if fault.kind in ZONE_KINDS and fault.target not in zones:
        raise FaultError(f"target: {building.id} has no zone {fault.target!r} (has {list(zones)})")
    cooling = zones[fault.target].heat_pump.cooling_capacity_kw if fault.kind in ZONE_KINDS else 0
    if isinstance(fault, HeatingAndCooling) and cooling == 0:
        raise FaultError(f"target: zone {fault.target!r} of {building.id} has no cooling")
    if isinstance(fault, DeadMeter):
        roles = [m.role.value for m in building.meters]
        if fault.target not in roles:
            raise FaultError(f"target: {building.id} has no {fault.target!r} meter (has {roles})")
    if isinstance(fault, ChargerFaulted):
        connector_of(building, fault.target)
    if isinstance(fault, BrokenSensor):
        from polis.simulator.bacnet_points import controller_object_specs

        inputs = [s.name for s in controller_object_specs(building) if s.type == "analog-input"]
        if fault.target not in inputs:
            raise FaultError(
                f"target: {building.id}'s controller has no analog input {fault.target!r}"
            )


def check_faults(faults: Sequence[Fault], buildings: Iterable[Building]) -> None:
    """FaultError naming the fault (``faults.N``) and field of the first that does not fit."""
    by_id = {b.id: b for b in buildings}
    for n, fault in enumerate(faults):
        building = by_id.get(fault.building)
        try:
            if building is None:
                raise FaultError(f"building: no building {fault.building!r}")
            check_fault(fault, building)
        except FaultError as error:
            raise FaultError(f"faults.{n}.{error}") from None


def active(faults: Iterable[Fault], epoch: float) -> list[Fault]:
    return [f for f in faults if f.active(epoch)]


def of_building(faults: Iterable[Fault], building: str) -> list[Fault]:
    return [f for f in faults if f.building == building]
