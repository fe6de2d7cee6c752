"""The running virtual municipality: the model, its endpoints, and the loop that joins them.

Each tick the site reads what the BACnet priority arrays command, steps the physics up to the
shared clock's virtual now, and publishes the new readings into the Modbus register images
and the BACnet objects. Commands written during a tick therefore act from the next step.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from polis.common.clock import Clock
from polis.simulator.bacnet_devices import BuildingController
from polis.simulator.config import Building, MeterRole, ModbusProfile, MunicipalityConfig
from polis.simulator.electrical import meter_quantities
from polis.simulator.modbus_server import MeterImage, ModbusEndpoint
from polis.simulator.model import Simulation
from polis.simulator.registers import encode, register_map
from polis.simulator.schedules import evaluate, local_calendar


@dataclass(frozen=True)
class MeterSpec:
    device: str
    building: str
    role: MeterRole
    profile: ModbusProfile
    unit_id: int


def device_id(building: Building, role: MeterRole) -> str:
    return f"{building.id}-{role.value}"


def bacnet_device_name(building: Building) -> str:
    return f"{building.id}-bms"


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


class Site:
    def __init__(self, config: MunicipalityConfig, clock: Clock, host: str = "127.0.0.1") -> None:
        self.config = config
        self.clock = clock
        self.host = host
        start = clock.now()
        # start one step early so the first published values are a simulated step, not zeros
        self.simulation = Simulation(
            config, datetime.fromtimestamp(start.timestamp() - config.step_seconds, tz=start.tzinfo)
        )
        self.meters: dict[str, tuple[MeterSpec, MeterImage]] = {}
        self.endpoints: list[ModbusEndpoint] = []
        self._endpoint_of: dict[str, ModbusEndpoint] = {}
        self.controllers: dict[str, BuildingController] = {}
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Open every endpoint and publish the first readings."""
        for building in self.config.buildings:
            groups: list[list[MeterSpec]] = []
            specs = [
                MeterSpec(device_id(building, m.role), building.id, m.role, m.profile, unit)
                for unit, m in enumerate(building.meters, start=1)
            ]
            if building.modbus_gateway:
                groups.append(specs)
            else:
                groups += [[MeterSpec(s.device, s.building, s.role, s.profile, 1)] for s in specs]
            for group in groups:
                units = {}
                for spec in group:
                    image = MeterImage(register_map(spec.profile))
                    self.meters[spec.device] = (spec, image)
                    units[spec.unit_id] = image
                endpoint = ModbusEndpoint(self.host, 0, units)
                await endpoint.start()
                self.endpoints.append(endpoint)
                for spec in group:
                    self._endpoint_of[spec.device] = endpoint
            controller = BuildingController(
                building, bacnet_device_name(building), self.host, free_udp_port(self.host)
            )
            self.controllers[building.id] = controller
        self.tick()

    def tick(self) -> int:
        """Catch the physics up with the clock's virtual now. Returns the steps simulated."""
        return self.step(self.simulation.steps_until(self.clock.now()))

    def step(self, steps: int) -> int:
        """Apply the commanded values, simulate ``steps`` steps, publish the readings."""
        commands = {bid: c.commands() for bid, c in self.controllers.items()}
        for _ in self.simulation.advance(steps, commands):
            pass
        self.publish()
        return steps

    def publish(self) -> None:
        now = self.simulation.time
        calendar = local_calendar(np.array([now.timestamp()]), self.config.climate.timezone)
        for building in self.config.buildings:
            reading = self.simulation.readings[building.id]
            for meter in building.meters:
                spec, image = self.meters[device_id(building, meter.role)]
                values = meter_quantities(spec.role, reading.meters[spec.role], now.timestamp())
                image.words = encode(image.regmap, values)
            controller = self.controllers.get(building.id)
            if controller is not None:
                schedule = float(evaluate(building.heating_setpoint, calendar)[0])
                controller.publish(
                    reading, {z.id: schedule + z.setpoint_offset_k for z in building.zones}
                )

    async def run(self) -> None:
        """Tick at each virtual step boundary until ``stop`` is called."""
        step = self.config.step_seconds
        while not self._stopping.is_set():
            next_step = self.simulation.time.timestamp() + step
            delay = max(self.clock.wall_seconds(next_step - self.clock.now().timestamp()), 0.0)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=max(delay, 0.05))
            except TimeoutError:
                self.tick()

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.stop()
        for controller in self.controllers.values():
            controller.close()

    def point_counts(self) -> tuple[int, int]:
        """(Modbus register points, BACnet points) served."""
        modbus = sum(len(image.regmap.registers) for _, image in self.meters.values())
        bacnet = sum(c.point_count for c in self.controllers.values())
        return modbus, bacnet

    def manifest(self) -> dict[str, Any]:
        """The endpoint manifest shared with the building adapter."""
        buildings = []
        for building in self.config.buildings:
            modbus = []
            for meter in building.meters:
                spec, _ = self.meters[device_id(building, meter.role)]
                modbus.append(
                    {
                        "device": spec.device,
                        "role": spec.role.value,
                        "host": self.host,
                        "port": self._endpoint_of[spec.device].port,
                        "unit_id": spec.unit_id,
                        "profile": spec.profile.value,
                    }
                )
            controller = self.controllers[building.id]
            buildings.append(
                {
                    "id": building.id,
                    "neighbourhood": building.neighbourhood,
                    "name": building.name,
                    "modbus": modbus,
                    "bacnet": [
                        {
                            "device": controller.device_name,
                            "device_instance": controller.instance,
                            "address": controller.address,
                        }
                    ],
                }
            )
        return {
            "municipality": self.config.municipality,
            "clock": {
                "origin": _iso(self.clock.origin),
                "start": _iso(self.clock.start),
                "speed": self.clock.speed,
            },
            "neighbourhoods": [
                {
                    "id": n.id,
                    "buildings": [b.id for b in self.config.buildings if b.neighbourhood == n.id],
                }
                for n in self.config.neighbourhoods
            ],
            "buildings": buildings,
        }
