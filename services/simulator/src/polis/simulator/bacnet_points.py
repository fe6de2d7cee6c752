"""The monitoring objects of a simulated building controller and their values (pure).

A real controller of a town hall exposes dozens of objects per zone and plant: temperatures,
humidity, CO2, valve outputs, fan and heat-pump status, supply and return water, meters. This
module lists them for a building (stable object instances and names) and derives their
values from the model's reading. Values the model does not simulate explicitly are derived
from what it does simulate, with simple physics:

- outdoor dew point: a spread below the air temperature that widens in warm, dry weather;
  relative humidity from the Magnus formula;
- indoor humidity: the outdoor vapour pressure plus the occupants' moisture (up to 400 Pa);
- CO2: 420 ppm outdoors plus up to 650 ppm at full occupancy (steady state with ventilation);
- heat-pump outputs: the zone's proportional controller (the same law as the physics) applied
  to the present zone temperature and setpoint, i.e. what the heat pump runs at next, as
  injected faults change it (a stuck valve, a tripped compressor);
- supply/return water: from the room towards the design supply temperature with the output,
  a 5 K spread at full output;
- pool water: 2 K below the pool hall air.

:func:`controller_object_specs` lists every object of a controller: the core objects the
adapter and the optimizer rely on (:func:`core_object_specs`: temperatures, HVAC power, the
commandable zone heating setpoints and enables) and then these monitoring objects
(:func:`object_specs`). The controller serves exactly this list, and the simulator's
catalogue drafts its points from it.

Instance layout:

=======================  ==============================================================
analog-input 1-3         outdoor air, HVAC electric power, hot-water tank (if a tank)
analog-input 10+i        zone i air temperature
analog-value 10+i        zone i heating setpoint (commandable)
binary-value 1-4         HVAC, hot water, pool pump, EV charging enables (commandable)
analog-input 20-31       weather, occupancy, plant totals (``PLANT``)
analog-input 32-39       hot water, pool, EV, PV, battery (when the building has them)
analog-input 40-59       per meter role j: power 40+2j, import energy 41+2j
analog-input 60-69       per meter role j: export energy 60+j
analog-input 100(i+1)+k  per zone i (``ZONE_INPUTS``)
analog-value 100(i+1)+k  per zone i: cooling setpoint, effective heating setpoint
binary-input 20-23       plant status; 100(i+1)+k per zone i
=======================  ==============================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from polis.simulator.config import Building, MeterRole, Zone
from polis.simulator.model import BuildingReading, ZonePlant

ObjectType = Literal["analog-input", "analog-value", "binary-input", "binary-value"]

OUTDOOR_CO2_PPM = 420.0
OCCUPIED_CO2_RISE_PPM = 650.0
OCCUPANT_VAPOUR_PA = 400.0
FLOW_RETURN_SPREAD_K = 5.0
POOL_BELOW_HALL_K = 2.0
M2_PER_OCCUPANT = 10.0
OCCUPIED_ABOVE = 0.05  # occupancy fraction above which a zone counts as occupied


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    type: ObjectType
    instance: int
    name: str
    description: str
    units: str = "noUnits"  # bacpypes3 EngineeringUnits spelling
    cov_increment: float = 0.1
    commandable: bool = False  # a priority array: the only objects Polis may write

    @property
    def object_id(self) -> str:
        """``type,instance`` as BACnet discovery reports it."""
        return f"{self.type},{self.instance}"


# names of the core objects
OUTDOOR_TEMPERATURE = "outdoor-air-temperature"
HVAC_POWER = "hvac-electric-power"
TANK_TEMPERATURE = "dhw-tank-temperature"
HVAC_ENABLE = "hvac-enable"
DHW_ENABLE = "dhw-heater-enable"
POOL_PUMP_ENABLE = "pool-pump-enable"
EV_ENABLE = "ev-charging-enable"
ZONE_CORE_BASE = 10


def zone_temperature_name(zone_id: str) -> str:
    return f"zone-{zone_id}-temperature"


def zone_setpoint_name(zone_id: str) -> str:
    return f"zone-{zone_id}-heating-setpoint"


# (offset, name suffix, description, units, cov increment) per zone
ZONE_INPUTS: tuple[tuple[int, str, str, str, float], ...] = (
    (1, "relative-humidity", "zone relative humidity", "percentRelativeHumidity", 1.0),
    (2, "co2", "zone CO2 concentration", "partsPerMillion", 10.0),
    (3, "heating-output", "heat pump heating output (valve)", "percent", 1.0),
    (4, "cooling-output", "heat pump cooling output (valve)", "percent", 1.0),
    (5, "heat-pump-thermal-power", "heat pump thermal output", "kilowatts", 0.5),
    (6, "heat-pump-electric-power", "heat pump electric input", "kilowatts", 0.2),
    (7, "heat-pump-cop", "heat pump coefficient of performance", "noUnits", 0.05),
    (8, "supply-water-temperature", "heating/cooling supply water", "degreesCelsius", 0.2),
    (9, "return-water-temperature", "heating/cooling return water", "degreesCelsius", 0.2),
    (10, "occupancy-level", "occupancy as a share of full occupancy", "percent", 1.0),
    (11, "occupant-count", "estimated occupants", "noUnits", 1.0),
    (12, "heating-capacity", "heat pump heating capacity available", "kilowatts", 0.5),
    (13, "dew-point", "zone air dew point", "degreesCelsius", 0.2),
)
ZONE_VALUES: tuple[tuple[int, str, str, str, float], ...] = (
    (1, "cooling-setpoint", "cooling setpoint (heating + cooling offset)", "degreesCelsius", 0.1),
    (2, "effective-setpoint", "heating setpoint in force", "degreesCelsius", 0.1),
)
ZONE_BINARY: tuple[tuple[int, str, str], ...] = (
    (1, "occupancy-status", "zone occupied"),
    (2, "fan-status", "ventilation fan running"),
    (3, "heat-pump-status", "heat pump running"),
    (4, "manual-override", "setpoint held by a manual command (priority 1-8)"),
)
# priorities of a manual command: life safety (1-2), critical equipment (5), the operator (8)
MANUAL_ABOVE = range(1, 9)
PLANT: tuple[tuple[int, str, str, str, float], ...] = (
    (20, "outdoor-air-humidity", "Outdoor air relative humidity", "percentRelativeHumidity", 1),
    (21, "outdoor-dew-point", "Outdoor air dew point", "degreesCelsius", 0.2),
    (22, "global-irradiance", "Global horizontal irradiance", "wattsPerSquareMeter", 10.0),
    (23, "building-occupancy", "Building occupancy (share of full)", "percent", 1.0),
    (24, "hvac-thermal-power", "Heat pumps' thermal output, all zones", "kilowatts", 0.5),
    (25, "heat-pump-cop", "Heat pumps' COP (output-weighted)", "noUnits", 0.05),
    (
        26,
        "heating-supply-temperature",
        "Heating supply water (warmest zone)",
        "degreesCelsius",
        0.2,
    ),
    (27, "heating-return-temperature", "Heating return water (mixed)", "degreesCelsius", 0.2),
    (28, "lighting-electric-power", "Lighting electric power", "kilowatts", 0.2),
    (29, "plug-load-electric-power", "Plug loads electric power", "kilowatts", 0.2),
    (30, "building-electric-demand", "All loads before PV and battery", "kilowatts", 0.5),
    (31, "grid-power", "Grid exchange at the main meter (import positive)", "kilowatts", 0.5),
)
HOT_WATER = ((32, "dhw-heater-power", "Hot water heater electric power", "kilowatts", 0.5),)
POOL = (
    (33, "pool-water-temperature", "Pool water temperature", "degreesCelsius", 0.1),
    (34, "pool-pump-power", "Pool circulation pump power", "kilowatts", 0.2),
)
EV = (
    (35, "ev-charging-power", "EV chargers' total power", "kilowatts", 0.5),
    (36, "ev-cars-connected", "EV chargers with a car plugged in", "noUnits", 1.0),
)
PV = ((37, "pv-power", "PV generation", "kilowatts", 0.5),)
BATTERY = (
    (38, "battery-state-of-charge", "Battery state of charge", "percent", 1.0),
    (39, "battery-power", "Battery power (charging positive)", "kilowatts", 0.5),
)
PLANT_BINARY = (
    (20, "dhw-heater-status", "Hot water heater on"),
    (21, "pool-pump-status", "Pool circulation pump running"),
    (22, "heat-pump-running", "Any heat pump running"),
    (23, "building-occupied", "Building occupied"),
)
METER_POWER_BASE = 40
METER_EXPORT_BASE = 60


def zone_base(index: int) -> int:
    return 100 * (index + 1)


def core_object_specs(building: Building) -> list[ObjectSpec]:
    """The objects control relies on, in the order the controller serves them."""
    specs = [
        ObjectSpec(
            "analog-input", 1, OUTDOOR_TEMPERATURE, "Outdoor air temperature", "degreesCelsius", 0.2
        ),
        ObjectSpec(
            "analog-input", 2, HVAC_POWER, "HVAC electric power (heat pumps)", "kilowatts", 0.5
        ),
    ]
    if building.hot_water:
        specs.append(
            ObjectSpec(
                "analog-input",
                3,
                TANK_TEMPERATURE,
                "Domestic hot water tank temperature",
                "degreesCelsius",
                0.5,
            )
        )
    for i, zone in enumerate(building.zones):
        specs += [
            ObjectSpec(
                "analog-input",
                ZONE_CORE_BASE + i,
                zone_temperature_name(zone.id),
                f"{zone.name}: zone air temperature",
                "degreesCelsius",
                0.1,
            ),
            ObjectSpec(
                "analog-value",
                ZONE_CORE_BASE + i,
                zone_setpoint_name(zone.id),
                f"{zone.name}: heating setpoint; relinquish default follows the building schedule",
                "degreesCelsius",
                0.1,
                commandable=True,
            ),
        ]
    enables = (
        (1, HVAC_ENABLE, "HVAC (heat pumps) enable", True),
        (2, DHW_ENABLE, "Hot water heater enable", building.hot_water is not None),
        (3, POOL_PUMP_ENABLE, "Pool circulation pump enable", building.pool is not None),
        (4, EV_ENABLE, "EV charging enable", building.ev_chargers is not None),
    )
    specs += [
        ObjectSpec("binary-value", number, name, description, commandable=True)
        for number, name, description, present in enables
        if present
    ]
    return specs


def controller_object_specs(building: Building) -> list[ObjectSpec]:
    """Every object of ``building``'s controller (besides its device and network port)."""
    return core_object_specs(building) + object_specs(building)


def object_specs(building: Building) -> list[ObjectSpec]:
    """The monitoring objects of ``building``'s controller, in a stable order."""
    specs: list[ObjectSpec] = []

    def analog(rows: tuple[tuple[int, str, str, str, float], ...]) -> None:
        specs.extend(ObjectSpec("analog-input", i, n, d, u, c) for i, n, d, u, c in rows)

    analog(PLANT)
    if building.hot_water:
        analog(HOT_WATER)
    if building.pool:
        analog(POOL)
    if building.ev_chargers:
        analog(EV)
    if building.pv:
        analog(PV)
    if building.battery:
        analog(BATTERY)
    for j, meter in enumerate(building.meters):
        role = meter.role.value
        specs += [
            ObjectSpec(
                "analog-input",
                METER_POWER_BASE + 2 * j,
                f"meter-{role}-power",
                f"{role} meter active power",
                "kilowatts",
                0.5,
            ),
            ObjectSpec(
                "analog-input",
                METER_POWER_BASE + 2 * j + 1,
                f"meter-{role}-energy-import",
                f"{role} meter import energy",
                "kilowattHours",
                1.0,
            ),
            ObjectSpec(
                "analog-input",
                METER_EXPORT_BASE + j,
                f"meter-{role}-energy-export",
                f"{role} meter export energy",
                "kilowattHours",
                1.0,
            ),
        ]
    absent = {"dhw-heater-status": not building.hot_water, "pool-pump-status": not building.pool}
    specs += [
        ObjectSpec("binary-input", number, name, description)
        for number, name, description in PLANT_BINARY
        if not absent.get(name, False)
    ]
    for zi, zone in enumerate(building.zones):
        base = zone_base(zi)
        prefix = f"zone-{zone.id}"
        for k, suffix, description, units, cov in ZONE_INPUTS:
            specs.append(
                ObjectSpec(
                    "analog-input",
                    base + k,
                    f"{prefix}-{suffix}",
                    f"{zone.name}: {description}",
                    units,
                    cov,
                )
            )
        for k, suffix, description, units, cov in ZONE_VALUES:
            specs.append(
                ObjectSpec(
                    "analog-value",
                    base + k,
                    f"{prefix}-{suffix}",
                    f"{zone.name}: {description}",
                    units,
                    cov,
                )
            )
        for k, suffix, description in ZONE_BINARY:
            specs.append(
                ObjectSpec(
                    "binary-input", base + k, f"{prefix}-{suffix}", f"{zone.name}: {description}"
                )
            )
    return specs


def saturation_vapour_pa(temperature_c: float) -> float:
    """Magnus formula over water (WMO constants)."""
    return 611.2 * math.exp(17.62 * temperature_c / (243.12 + temperature_c))


def dew_point_c(vapour_pa: float) -> float:
    x = math.log(max(vapour_pa, 1.0) / 611.2)
    return 243.12 * x / (17.62 - x)


def outdoor_dew_point_c(outdoor_c: float) -> float:
    """Dew point spread of 3 K in cold damp air widening by 0.4 K per K above 0 °C."""
    return outdoor_c - (3.0 + 0.4 * max(outdoor_c, 0.0))


def controller_outputs(
    temperature_c: float,
    setpoint_c: float,
    band_k: float,
    cooling_offset_k: float,
    enabled: bool,
) -> tuple[float, float]:
    """(heating, cooling) output fractions of the zone's proportional controller."""
    if not enabled:
        return 0.0, 0.0
    half = band_k / 2.0
    heat = (setpoint_c + half - temperature_c) / band_k
    if heat > 0.0:
        return min(heat, 1.0), 0.0
    cool = (temperature_c - (setpoint_c + cooling_offset_k - half)) / band_k
    return 0.0, min(max(cool, 0.0), 1.0)


def _zone_outputs(
    building: Building,
    zone: Zone,
    temperature: float,
    setpoint: float,
    plant: ZonePlant,
    hvac_enabled: bool,
) -> tuple[float, float]:
    """What the zone's heat pump runs at next: its controller's law, nothing to cool with
    where it has no cooling, as injected faults change it."""
    heat, cool = controller_outputs(
        temperature,
        setpoint,
        zone.heat_pump.proportional_band_k,
        building.cooling_offset_k,
        hvac_enabled,
    )
    if zone.heat_pump.cooling_capacity_kw <= 0:
        cool = 0.0
    return plant.faults.outputs(heat, cool) if hvac_enabled else (heat, cool)


def object_values(
    building: Building,
    reading: BuildingReading,
    hvac_enabled: bool,
    manual: frozenset[str] = frozenset(),
) -> dict[str, float | bool]:
    """Present values by object name (binary objects as booleans); ``manual``: the zones
    whose heating setpoint a manual command (priority 1-8) holds."""
    plant = reading.plant
    if plant is None:
        return {}
    out: dict[str, float | bool] = {}
    dew_out = outdoor_dew_point_c(reading.outdoor_c)
    vapour_out = saturation_vapour_pa(dew_out)
    occupancy = plant.occupancy
    occupied = occupancy > OCCUPIED_ABOVE
    out["outdoor-air-humidity"] = 100.0 * vapour_out / saturation_vapour_pa(reading.outdoor_c)
    out["outdoor-dew-point"] = dew_out
    out["global-irradiance"] = plant.ghi_w_m2
    out["building-occupancy"] = 100.0 * occupancy
    thermal_total = 0.0
    electric_total = 0.0
    supplies: list[float] = []
    returns: list[tuple[float, float]] = []
    any_running = False
    for zone in building.zones:
        prefix = f"zone-{zone.id}"
        temperature = reading.zone_temperatures_c[zone.id]
        setpoint = reading.zone_setpoints_c[zone.id]
        if setpoint != setpoint:  # no step simulated yet
            setpoint = temperature
        zp = plant.zones[zone.id]
        heat, cool = _zone_outputs(building, zone, temperature, setpoint, zp, hvac_enabled)
        thermal = heat * zp.heating_capacity_kw + cool * zp.cooling_capacity_kw
        electric = heat * zp.heating_capacity_kw / zp.cop + cool * zp.cooling_capacity_kw / zp.eer
        output = max(heat, cool)
        design = zone.heat_pump.supply_temperature_c if heat > 0 else 7.0
        supply = temperature + output * (design - temperature)
        spread = FLOW_RETURN_SPREAD_K * output * (1.0 if heat > 0 else -1.0)
        vapour_in = vapour_out + OCCUPANT_VAPOUR_PA * occupancy
        rh = min(100.0 * vapour_in / saturation_vapour_pa(temperature), 100.0)
        out[f"{prefix}-relative-humidity"] = rh
        out[f"{prefix}-co2"] = OUTDOOR_CO2_PPM + OCCUPIED_CO2_RISE_PPM * occupancy
        out[f"{prefix}-heating-output"] = 100.0 * heat
        out[f"{prefix}-cooling-output"] = 100.0 * cool
        out[f"{prefix}-heat-pump-thermal-power"] = thermal
        out[f"{prefix}-heat-pump-electric-power"] = electric
        out[f"{prefix}-heat-pump-cop"] = zp.cop if cool == 0.0 else zp.eer
        out[f"{prefix}-supply-water-temperature"] = supply
        out[f"{prefix}-return-water-temperature"] = supply - spread
        out[f"{prefix}-occupancy-level"] = 100.0 * occupancy
        out[f"{prefix}-occupant-count"] = float(
            round(occupancy * zone.floor_area_m2 / M2_PER_OCCUPANT)
        )
        out[f"{prefix}-heating-capacity"] = zp.heating_capacity_kw
        out[f"{prefix}-dew-point"] = dew_point_c(min(vapour_in, saturation_vapour_pa(temperature)))
        out[f"{prefix}-cooling-setpoint"] = setpoint + building.cooling_offset_k
        out[f"{prefix}-effective-setpoint"] = setpoint
        out[f"{prefix}-occupancy-status"] = occupied
        out[f"{prefix}-fan-status"] = occupied or output > 0.0
        out[f"{prefix}-heat-pump-status"] = output > 0.0
        out[f"{prefix}-manual-override"] = zone.id in manual
        thermal_total += thermal
        electric_total += electric
        any_running = any_running or output > 0.0
        if heat > 0.0:
            supplies.append(supply)
            returns.append((supply - spread, thermal))
    room = sum(reading.zone_temperatures_c.values()) / len(reading.zone_temperatures_c)
    out["hvac-thermal-power"] = thermal_total
    out["heat-pump-cop"] = thermal_total / electric_total if electric_total > 0 else 0.0
    out["heating-supply-temperature"] = max(supplies, default=room)
    weight = sum(w for _, w in returns)
    out["heating-return-temperature"] = (
        sum(t * w for t, w in returns) / weight if weight > 0 else room
    )
    out["lighting-electric-power"] = plant.lighting_kw
    out["plug-load-electric-power"] = plant.plug_kw
    demand = (
        reading.hvac_power_kw
        + plant.lighting_kw
        + plant.plug_kw
        + plant.dhw_kw
        + plant.pool_kw
        + plant.ev_kw
    )
    out["building-electric-demand"] = demand
    out["grid-power"] = reading.meters[MeterRole.MAIN].power_w / 1000.0
    out["heat-pump-running"] = any_running
    out["building-occupied"] = occupied
    if building.hot_water:
        out["dhw-heater-power"] = plant.dhw_kw
        out["dhw-heater-status"] = plant.heater_on
    if building.pool:
        hall = _pool_hall_temperature(building, reading)
        out["pool-water-temperature"] = hall - POOL_BELOW_HALL_K
        out["pool-pump-power"] = plant.pool_kw
        out["pool-pump-status"] = plant.pool_kw > 0.0
    if building.ev_chargers:
        out["ev-charging-power"] = plant.ev_kw
        out["ev-cars-connected"] = float(plant.ev_connected)
    if building.pv:
        out["pv-power"] = plant.pv_kw
    if building.battery and plant.battery_soc is not None:
        out["battery-state-of-charge"] = 100.0 * plant.battery_soc
        out["battery-power"] = plant.battery_kw
    for meter in building.meters:
        m = reading.meters[meter.role]
        role = meter.role.value
        out[f"meter-{role}-power"] = m.power_w / 1000.0
        out[f"meter-{role}-energy-import"] = m.import_kwh
        out[f"meter-{role}-energy-export"] = m.export_kwh
    return out


def _pool_hall_temperature(building: Building, reading: BuildingReading) -> float:
    """The warmest zone houses the pool (the pool hall runs above the others)."""
    return max(reading.zone_temperatures_c[z.id] for z in building.zones)
