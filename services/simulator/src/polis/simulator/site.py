"""The running virtual municipality: the model, its endpoints, and the loop that joins them.

Each tick the site reads what the BACnet priority arrays command, steps the physics up to the
shared clock's virtual now, and publishes the new readings into the Modbus register images
and the BACnet objects. Commands written during a tick therefore act from the next step.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.simulator.bacnet_devices import BuildingController
from polis.simulator.config import MunicipalityConfig
from polis.simulator.electrical import meter_quantities
from polis.simulator.endpoints import (
    SERIAL_LINE,
    ControllerSpec,
    Endpoints,
    MeterSpec,
    ModbusEndpointSpec,
    ModbusTransport,
    device_id,
    endpoint_layout,
)
from polis.simulator.faults import (
    BrokenSensor,
    CommandsRefused,
    DeadMeter,
    Fault,
    FaultError,
    ForgottenOverride,
    active,
    parse_faults,
)
from polis.simulator.modbus_server import MeterImage, ModbusEndpoint, ModbusSerialEndpoint
from polis.simulator.model import Simulation
from polis.simulator.ocpp_chargers import OcppLink, SimulatedChargePoint, charge_points
from polis.simulator.plant import Commands
from polis.simulator.registers import encode, register_map
from polis.simulator.schedules import evaluate, local_calendar
from polis.simulator.serial_line import NullModem

log = get_logger("polis.simulator.site")


def free_udp_port(host: str, port: int = 0) -> int:
    """``port`` if it is free (OSError if not), or any free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as error:
            raise OSError(f"BACnet/IP {host}:{port}: {error.strerror}") from error
        return int(sock.getsockname()[1])


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _manifest_meter(meter: MeterSpec, endpoint: ModbusEndpointSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "device": meter.device,
        "role": meter.role.value,
        "host": endpoint.host,
        "port": endpoint.port,
        "unit_id": meter.unit_id,
        "profile": meter.profile.value,
    }
    if endpoint.transport != "tcp":
        entry["transport"] = endpoint.transport
    if endpoint.serial_port is not None:
        entry["serial"] = {"port": endpoint.serial_port, **asdict(SERIAL_LINE)}
    return entry


class Site:
    """The simulated municipality served on ``host``: on the fixed port layout from
    ``base_port`` (see :func:`~polis.simulator.endpoints.endpoint_layout`), else on free
    ports; the meters behind a gateway by ``gateway_transport`` (``rtu``: each gateway's
    meters on a serial line of their own, a pseudo-terminal pair)."""

    def __init__(
        self,
        config: MunicipalityConfig,
        clock: Clock,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        gateway_transport: ModbusTransport = "tcp",
        ocpp: OcppLink | None = None,
        faults_file: Path | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.host = host
        self.layout = endpoint_layout(config, host, base_port, gateway_transport)
        start = clock.now()
        # start one step early so the first published values are a simulated step, not zeros
        self.simulation = Simulation(
            config, datetime.fromtimestamp(start.timestamp() - config.step_seconds, tz=start.tzinfo)
        )
        self.meters: dict[str, tuple[MeterSpec, MeterImage]] = {}
        self.endpoints: list[ModbusEndpoint | ModbusSerialEndpoint] = []
        self.lines: list[NullModem] = []
        self._served_modbus: list[ModbusEndpointSpec] = []
        self.controllers: dict[str, BuildingController] = {}
        self._controller_specs: list[ControllerSpec] = []
        self._stopping = asyncio.Event()
        # the depot's chargers as OCPP charge points of the central system at ``ocpp``
        self.ocpp = ocpp
        self.charge_points: dict[str, list[SimulatedChargePoint]] = {}
        self._ocpp_tasks: list[asyncio.Task[None]] = []
        # injected faults: the configuration's, and those of a file re-read when it changes
        self.faults_file = faults_file
        self._faults_stamp: float | None = None
        self._reload_faults()

    def set_faults(self, faults: list[Fault]) -> None:
        """Replace the injected faults at run time (FaultError naming the bad one); they act
        from the next step and on what the devices answer from the next tick."""
        self.simulation.set_faults([*self.config.faults, *faults])

    def _reload_faults(self) -> None:
        """The faults file's faults, whenever the file changed (a file gone: none)."""
        path = self.faults_file
        if path is None:
            return
        try:
            stamp: float | None = path.stat().st_mtime
        except FileNotFoundError:
            stamp = None
        if stamp == self._faults_stamp:
            return
        self._faults_stamp = stamp
        try:
            data = yaml.safe_load(path.read_text("utf-8")) if stamp is not None else None
            faults = parse_faults(data, str(path))
            self.set_faults(faults)
        except (OSError, yaml.YAMLError, FaultError) as error:
            log.error("faults file refused; the faults in force stay", error=str(error))
            return
        log.info("faults in force", faults=[f.describe() for f in self.simulation.faults])

    async def start(self) -> None:
        """Open every endpoint of the layout and publish the first readings."""
        for spec in self.layout.modbus:
            units = {}
            for meter in spec.meters:
                image = MeterImage(register_map(meter.profile))
                self.meters[meter.device] = (meter, image)
                units[meter.unit_id] = image
            self._served_modbus.append(await self._serve_modbus(spec, units))
        # bacpypes3 binds in the background and only logs a failure: check every port first
        self._controller_specs = [
            replace(c, port=free_udp_port(c.host, c.port)) for c in self.layout.bacnet
        ]
        buildings = {b.id: b for b in self.config.buildings}
        for c in self._controller_specs:
            self.controllers[c.building] = BuildingController(
                buildings[c.building], c.device, c.host, c.port
            )
        if self.ocpp is not None:
            self._start_charge_points(self.ocpp)
        self.tick()

    async def _serve_modbus(
        self, spec: ModbusEndpointSpec, units: dict[int, MeterImage]
    ) -> ModbusEndpointSpec:
        """Serve one bus; its spec as served (the port listening, the line's far end)."""
        if spec.transport == "rtu":
            line = NullModem()
            line.start()
            self.lines.append(line)
            serial = ModbusSerialEndpoint(
                line.near,
                units,
                baudrate=SERIAL_LINE.baudrate,
                parity=SERIAL_LINE.parity,
                stopbits=SERIAL_LINE.stopbits,
            )
            await serial.start()
            self.endpoints.append(serial)
            return replace(spec, serial_port=line.far)
        endpoint = ModbusEndpoint(
            spec.host, spec.port, units, "rtu" if spec.transport == "rtu_over_tcp" else "socket"
        )
        await endpoint.start()
        self.endpoints.append(endpoint)
        return replace(spec, port=endpoint.port)

    def _start_charge_points(self, link: OcppLink) -> None:
        for building in self.config.buildings:
            points = charge_points(building, link, self.clock)
            if points:
                self.charge_points[building.id] = points
        self._ocpp_tasks = [
            asyncio.create_task(point.run(), name=f"ocpp:{point.identity}")
            for points in self.charge_points.values()
            for point in points
        ]

    def served(self) -> Endpoints:
        """The endpoints as they listen, every port known (once started)."""
        return Endpoints(modbus=tuple(self._served_modbus), bacnet=tuple(self._controller_specs))

    def tick(self) -> int:
        """Catch the physics up with the clock's virtual now. Returns the steps simulated."""
        self._reload_faults()
        return self.step(self.simulation.steps_until(self.clock.now()))

    def step(self, steps: int) -> int:
        """Apply the commanded values, simulate ``steps`` steps, publish the readings."""
        commands = {bid: c.commands() for bid, c in self.controllers.items()}
        # the charging profiles in force now, as the priority arrays' commands are
        now = self.clock.now()
        for bid, points in self.charge_points.items():
            limits = tuple(point.limit_at(now) for point in points)
            commands[bid] = replace(commands.get(bid, Commands()), ev_limits=limits)
        for _ in self.simulation.advance(steps, commands):
            pass
        self.publish()
        return steps

    def publish(self) -> None:
        now = self.simulation.time
        calendar = local_calendar(np.array([now.timestamp()]), self.config.climate.timezone)
        faults = active(self.simulation.faults, now.timestamp())
        dead = {(f.building, f.target) for f in faults if isinstance(f, DeadMeter)}
        for building in self.config.buildings:
            reading = self.simulation.readings[building.id]
            for meter in building.meters:
                spec, image = self.meters[device_id(building, meter.role)]
                values = meter_quantities(spec.role, reading.meters[spec.role], now.timestamp())
                image.words = encode(image.regmap, values)
                image.answering = (building.id, meter.role.value) not in dead
            for point in self.charge_points.get(building.id, ()):
                point.observe(reading.plant.chargers if reading.plant else (), now)
            controller = self.controllers.get(building.id)
            if controller is not None:
                _device_faults(controller, building.id, faults)
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
        for points in self.charge_points.values():
            for point in points:
                await point.stop()
        await asyncio.gather(*self._ocpp_tasks, return_exceptions=True)
        for endpoint in self.endpoints:
            await endpoint.stop()
        for line in self.lines:
            line.close()
        for controller in self.controllers.values():
            controller.close()

    def point_counts(self) -> tuple[int, int]:
        """(Modbus register points, BACnet points) served."""
        modbus = sum(len(image.regmap.registers) for _, image in self.meters.values())
        bacnet = sum(c.point_count for c in self.controllers.values())
        return modbus, bacnet

    def manifest(self) -> dict[str, Any]:
        """The endpoint manifest: where each building's devices listen, and the clock."""
        served = self.served()
        buildings = []
        for building in self.config.buildings:
            controller = served.controller_of(building.id)
            buildings.append(
                {
                    "id": building.id,
                    "neighbourhood": building.neighbourhood,
                    "name": building.name,
                    "modbus": [
                        _manifest_meter(meter, endpoint)
                        for meter, endpoint in served.meters_of(building.id)
                    ],
                    "bacnet": [
                        {
                            "device": controller.device,
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


def _device_faults(controller: BuildingController, building: str, faults: list[Fault]) -> None:
    """The controller's share of the faults in force: overrides held, writes refused."""
    held = {
        f.target: f.value
        for f in faults
        if isinstance(f, ForgottenOverride) and f.building == building
    }
    for zone_id in controller.zone_setpoints:
        controller.hold(zone_id, held.get(zone_id))
    controller.refuse_writes(
        {f.target for f in faults if isinstance(f, CommandsRefused) and f.building == building}
    )
    controller.broken = {
        f.target: f.value for f in faults if isinstance(f, BrokenSensor) and f.building == building
    }
