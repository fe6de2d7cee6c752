"""Which points each rule looks at, found once from the catalogue (pure).

Per building: its zones (``hvac`` loads) with their air temperature, heat-pump outputs, power
and status points, comfort periods and heating limit; its devices with their points' poll
intervals; its main meter's power point and the energy counters of the savings service's
boundary (main, generation, excluded and storage meters); its OCPP connectors; its outdoor
temperature. A zone's points are the catalogue's own references first (``temperature_point``),
then the names BACnet drafting gives (``zone-<zone>-temperature``, ``outdoor-air-temperature``,
…) and Brick classes, as the optimizer's commissioning mapping finds them. Rule parameters
are resolved per subject here too (``polis.common.catalogue.alarms.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from polis.alarms.occupancy import Occupancy
from polis.common.catalogue import Building, Catalogue
from polis.common.catalogue.alarms import (
    AfterHoursParams,
    AlarmsConfig,
    BaselineParams,
    ChargerParams,
    ComfortParams,
    FallbackParams,
    FlatlineParams,
    HeatingLimitParams,
    OverrideLongParams,
    PeakParams,
    QualityParams,
    RefusedParams,
    ShortCyclingParams,
    SimultaneousParams,
    StaleParams,
    resolve,
)
from polis.common.catalogue.devices import DeviceConfig, OcppDeviceConfig, connector_point_id
from polis.common.catalogue.ids import point_id, resolve_point_ref
from polis.common.catalogue.loads import ComfortPeriod, ZoneConfig
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity

OUTDOOR_NAMES = ("outdoor-air-temperature", "outside-air-temperature")
OUTDOOR_BRICK = "Outside_Air_Temperature_Sensor"
ZONE_TEMPERATURE_BRICK = ("Zone_Air_Temperature_Sensor", "Air_Temperature_Sensor")


@dataclass(frozen=True, slots=True)
class PointBinding:
    point_id: str
    ref: str  # device/point, the subject of point-level alarms
    poll_interval_s: float
    stale: StaleParams
    quality: QualityParams


@dataclass(frozen=True, slots=True)
class DeviceBinding:
    building: str
    device: str
    poll_interval_s: float
    points: tuple[PointBinding, ...]
    stale: StaleParams
    quality: QualityParams


@dataclass(frozen=True, slots=True)
class ZoneParams:
    too_cold: ComfortParams
    too_hot: ComfortParams
    simultaneous: SimultaneousParams
    heating_limit: HeatingLimitParams
    short_cycling: ShortCyclingParams
    flatlined: FlatlineParams  # of the zone's temperature point


@dataclass(frozen=True, slots=True)
class ZoneBinding:
    building: str
    zone: str
    temperature: str | None
    heating_output: str | None  # % of full output
    cooling_output: str | None
    power: str | None  # heat-pump electric power, kW
    status: str | None  # heat pump running, 0/1
    outdoor: str | None
    setpoint: str | None  # the heating setpoint commanded (the zone's command point)
    manual_override: str | None  # 1 while the controller holds the setpoint at priority 1-8
    max_kw: float
    bands: tuple[ComfortPeriod, ...]
    occupancy: Occupancy
    cooling_offset_k: float | None
    heating_limit_c: float | None
    params: ZoneParams

    @property
    def ref(self) -> str:
        return self.zone


@dataclass(frozen=True, slots=True)
class Counter:
    """An energy counter of the savings boundary and its sign in the building's consumption."""

    point_id: str
    sign: float


@dataclass(frozen=True, slots=True)
class BuildingParams:
    above_baseline: BaselineParams
    after_hours: AfterHoursParams
    peak: PeakParams
    fallback: FallbackParams
    outdoor_flatlined: FlatlineParams


@dataclass(frozen=True, slots=True)
class ControlParams:
    """Parameters of the control rules for a subject (the gateway's facts name it)."""

    override_long: OverrideLongParams
    refused: RefusedParams


@dataclass(frozen=True, slots=True)
class Connector:
    point_id: str
    ref: str  # device/point
    params: ChargerParams


@dataclass(frozen=True, slots=True)
class BuildingBinding:
    id: str
    timezone: ZoneInfo
    occupancy: Occupancy  # the building calendar's hours and closures
    devices: tuple[DeviceBinding, ...]
    zones: tuple[ZoneBinding, ...]
    outdoor: str | None
    main_power: str | None
    counters: tuple[Counter, ...]
    contracted_peak_kw: float | None
    connectors: tuple[Connector, ...]  # OCPP connector status points
    commands: dict[str, ControlParams]  # command point id -> its control rules' parameters
    params: BuildingParams

    def point_ids(self) -> list[str]:
        return [p.point_id for d in self.devices for p in d.points]


def _poll_interval(device: DeviceConfig) -> float:
    return float(device.poll_interval_s)


def _device_binding(
    alarms: AlarmsConfig, building: Building, device: DeviceConfig, municipality: str
) -> DeviceBinding:
    interval = _poll_interval(device)
    points = []
    for p in device.all_points():
        ref = f"{device.id}/{p.id}"
        scope = {"device": device.id, "point": ref}
        points.append(
            PointBinding(
                point_id(municipality, building.id, device.id, p.id),
                ref,
                float(p.poll_interval_s or interval),
                resolve(alarms, "communication.stale", StaleParams, building.id, **scope),
                resolve(alarms, "communication.quality", QualityParams, building.id, **scope),
            )
        )
    scope = {"device": device.id}
    return DeviceBinding(
        building.id,
        device.id,
        interval,
        tuple(points),
        resolve(alarms, "communication.stale", StaleParams, building.id, **scope),
        resolve(alarms, "communication.quality", QualityParams, building.id, **scope),
    )


class _Names:
    """A building's points by name, quantity and Brick class."""

    def __init__(self, municipality: str, building: Building) -> None:
        self.municipality = municipality
        self.building = building
        self.by_name: dict[str, str] = {}  # point id (last part) -> full id, first wins
        self.brick: dict[str, list[str]] = {}
        for device in building.devices:
            for p in device.all_points():
                full = point_id(municipality, building.id, device.id, p.id)
                self.by_name.setdefault(p.id, full)
                if p.brick_class:
                    self.brick.setdefault(p.brick_class, []).append(full)

    def named(self, *names: str) -> str | None:
        return next((self.by_name[n] for n in names if n in self.by_name), None)

    def zone_point(self, zone: str, suffix: str) -> str | None:
        return self.named(f"zone-{zone}-{suffix}", f"{zone}-{suffix}")

    def outdoor(self) -> str | None:
        found = self.named(*OUTDOOR_NAMES)
        bricked = self.brick.get(OUTDOOR_BRICK, [])
        return found or (bricked[0] if bricked else None)

    def full(self, ref: str) -> str:
        return resolve_point_ref(ref, self.municipality, self.building.id)


def _zone_temperature(names: _Names, zone: ZoneConfig, single: bool) -> str | None:
    if zone.temperature_point is not None:
        return names.full(zone.temperature_point)
    own = names.zone_point(zone.id, "temperature") or names.zone_point(zone.id, "air-temperature")
    if own is not None or not single:
        return own
    candidates = [p for c in ZONE_TEMPERATURE_BRICK for p in names.brick.get(c, [])]
    return candidates[0] if candidates else None


def _zone_params(
    alarms: AlarmsConfig, building: str, zone: str, temperature: str | None
) -> ZoneParams:
    point_scope: dict[str, str | None] = {}
    if temperature is not None:
        _, _, device, point = temperature.split("/")
        point_scope = {"device": device, "point": f"{device}/{point}"}
    return ZoneParams(
        too_cold=resolve(alarms, "comfort.too_cold", ComfortParams, building, zone=zone),
        too_hot=resolve(alarms, "comfort.too_hot", ComfortParams, building, zone=zone),
        simultaneous=resolve(
            alarms, "hvac.simultaneous_heat_cool", SimultaneousParams, building, zone=zone
        ),
        heating_limit=resolve(
            alarms, "hvac.heating_above_limit", HeatingLimitParams, building, zone=zone
        ),
        short_cycling=resolve(
            alarms, "hvac.short_cycling", ShortCyclingParams, building, zone=zone
        ),
        flatlined=resolve(
            alarms, "sensor.flatlined", FlatlineParams, building, zone=zone, **point_scope
        ),
    )


def _zone_binding(
    cat: Catalogue, names: _Names, building: Building, zone: ZoneConfig, calendar: Occupancy
) -> ZoneBinding:
    single = sum(isinstance(load, ZoneConfig) for load in building.loads) == 1
    temperature = _zone_temperature(names, zone, single)
    power = names.zone_point(zone.id, "heat-pump-electric-power")
    if power is None and single:
        power = names.named("hvac-electric-power")
    occupancy = (
        Occupancy(tuple(zone.occupied), calendar.closures, calendar.timezone)
        if zone.occupied
        else calendar
    )
    return ZoneBinding(
        building=building.id,
        zone=zone.id,
        temperature=temperature,
        heating_output=names.zone_point(zone.id, "heating-output"),
        cooling_output=names.zone_point(zone.id, "cooling-output"),
        power=power,
        status=names.zone_point(zone.id, "heat-pump-status"),
        outdoor=names.outdoor(),
        setpoint=(
            names.full(zone.command_point)
            if zone.command_point is not None
            else names.zone_point(zone.id, "heating-setpoint")
        ),
        manual_override=names.zone_point(zone.id, "manual-override"),
        max_kw=zone.max_kw,
        bands=tuple(zone.occupied),
        occupancy=occupancy,
        cooling_offset_k=zone.controller.cooling_offset_k,
        heating_limit_c=zone.heating_limit_c,
        params=_zone_params(cat.alarms, building.id, zone.id, temperature),
    )


def _meter_points(device: DeviceConfig | None) -> tuple[list[str], list[str]]:
    """(power points, energy counters) of a meter device, best first: ``total-power`` then
    any active power in kW; ``import-energy`` then any cumulative active energy."""
    if device is None:
        return [], []
    power = [
        p.id
        for p in device.all_points()
        if p.quantity is Quantity.ACTIVE_POWER and p.kind is PointKind.INSTANTANEOUS
    ]
    power.sort(key=lambda name: (name != "total-power", "total" not in name))
    energy = [
        p.id
        for p in device.all_points()
        if p.quantity is Quantity.ACTIVE_ENERGY and p.kind is PointKind.CUMULATIVE
    ]
    energy.sort(key=lambda name: name != "import-energy")
    return power, energy


def _device(building: Building, device_id: str | None) -> DeviceConfig | None:
    return next((d for d in building.devices if d.id == device_id), None)


def _net_counters(
    municipality: str, building: Building, device_id: str, sign: float
) -> list[Counter]:
    """Import (and minus export, where the meter has one) of one meter, times ``sign``."""
    device = _device(building, device_id)
    _, energy = _meter_points(device)
    if device is None or not energy:
        return []
    full = [point_id(municipality, building.id, device.id, name) for name in energy]
    out = [Counter(full[0], sign)]
    if "export-energy" in energy and energy[0] == "import-energy":
        out.append(Counter(point_id(municipality, building.id, device.id, "export-energy"), -sign))
    return out


def _counters(municipality: str, building: Building) -> tuple[Counter, ...]:
    """The savings service's boundary: the main meter's net energy, plus generation behind
    it, less excluded sub-meters and storage (charging positive)."""
    meters = building.meters
    if meters is None:
        return ()
    out = _net_counters(municipality, building, meters.main, 1.0)
    if meters.generation is not None:
        out += _net_counters(municipality, building, meters.generation, -1.0)
    for device in (*meters.excluded, *meters.storage):
        out += _net_counters(municipality, building, device, -1.0)
    return tuple(out)


def _main_power(municipality: str, building: Building) -> str | None:
    device = _device(building, building.meters.main if building.meters else None)
    power, _ = _meter_points(device)
    if device is None or not power:
        return None
    return point_id(municipality, building.id, device.id, power[0])


def _connectors(cat: Catalogue, building: Building) -> tuple[Connector, ...]:
    out = []
    for device in building.devices:
        if isinstance(device, OcppDeviceConfig):
            for n in range(1, device.connectors + 1):
                name = connector_point_id(n, "status")
                ref = f"{device.id}/{name}"
                out.append(
                    Connector(
                        point_id(cat.municipality, building.id, device.id, name),
                        ref,
                        charger_params(cat.alarms, building.id, ref),
                    )
                )
    return tuple(out)


def _commands(cat: Catalogue, building: Building) -> dict[str, ControlParams]:
    out = {}
    for device in building.devices:
        for p in device.all_points():
            if p.kind is PointKind.COMMAND:
                full = point_id(cat.municipality, building.id, device.id, p.id)
                out[full] = control_params(cat.alarms, building.id, f"{device.id}/{p.id}")
    return out


def _peak_kw(cat: Catalogue, building: Building) -> float | None:
    if building.contracted_peak_kw is not None:
        return building.contracted_peak_kw
    tariff = next((t for t in cat.tariffs if t.id == building.tariff), None)
    return tariff.contracted_peak_kw if tariff else None


def _building_params(cat: Catalogue, building: Building, outdoor: str | None) -> BuildingParams:
    alarms, bid = cat.alarms, building.id
    scope: dict[str, str | None] = {}
    if outdoor is not None:
        _, _, device, point = outdoor.split("/")
        scope = {"device": device, "point": f"{device}/{point}"}
    return BuildingParams(
        above_baseline=resolve(alarms, "energy.above_baseline", BaselineParams, bid),
        after_hours=resolve(alarms, "energy.after_hours", AfterHoursParams, bid),
        peak=resolve(alarms, "energy.peak_limit", PeakParams, bid),
        fallback=resolve(alarms, "control.fallback_plan", FallbackParams, bid),
        outdoor_flatlined=resolve(alarms, "sensor.flatlined", FlatlineParams, bid, **scope),
    )


def _calendar(cat: Catalogue, building: Building, timezone: ZoneInfo) -> Occupancy:
    calendar = next((c for c in cat.calendars if c.id == building.calendar), None)
    if calendar is None:
        return Occupancy((), (), timezone)
    return Occupancy(tuple(calendar.occupied), tuple(calendar.closures), timezone)


def building_binding(cat: Catalogue, building: Building) -> BuildingBinding:
    timezone = ZoneInfo(cat.timezone)
    names = _Names(cat.municipality, building)
    calendar = _calendar(cat, building, timezone)
    outdoor = names.outdoor()
    return BuildingBinding(
        id=building.id,
        timezone=timezone,
        occupancy=calendar,
        devices=tuple(
            _device_binding(cat.alarms, building, d, cat.municipality) for d in building.devices
        ),
        zones=tuple(
            _zone_binding(cat, names, building, load, calendar)
            for load in building.loads
            if isinstance(load, ZoneConfig)
        ),
        outdoor=outdoor,
        main_power=_main_power(cat.municipality, building),
        counters=_counters(cat.municipality, building),
        contracted_peak_kw=_peak_kw(cat, building),
        connectors=_connectors(cat, building),
        commands=_commands(cat, building),
        params=_building_params(cat, building, outdoor),
    )


def bind(cat: Catalogue) -> tuple[BuildingBinding, ...]:
    """Every building's bindings."""
    return tuple(building_binding(cat, b) for b in cat.buildings)


def control_params(alarms: AlarmsConfig, building: str, point: str | None) -> ControlParams:
    """The control rules' parameters for a point (``device/point``) of a building."""
    scope: dict[str, str | None] = {}
    if point is not None:
        scope = {"device": point.split("/")[0], "point": point}
    return ControlParams(
        resolve(alarms, "control.override_long", OverrideLongParams, building, **scope),
        resolve(alarms, "control.command_refused", RefusedParams, building, **scope),
    )


def charger_params(alarms: AlarmsConfig, building: str, ref: str) -> ChargerParams:
    return resolve(
        alarms, "ev.charger_faulted", ChargerParams, building, device=ref.split("/")[0], point=ref
    )
