"""Modbus device driver: profile registers -> planned block reads -> raw values."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from polis.adapter.driver import (
    CommandState,
    DeviceRefused,
    DriverError,
    PartialScrape,
    PolledValues,
    ScanGroup,
)
from polis.adapter.modbus.client import ModbusBus, ModbusError, ModbusExceptionReply
from polis.adapter.modbus.plan import ReadBlock, encode_value, plan_reads
from polis.common.catalogue.devices import ModbusDeviceConfig
from polis.common.catalogue.modbus_profiles import RegisterSpec
from polis.common.logging import get_logger

log = get_logger(__name__)


class ModbusDriver:
    protocol = "modbus"

    def __init__(
        self,
        config: ModbusDeviceConfig,
        endpoint: ModbusBus,
        *,
        backoff_base_s: float = 0.05,
    ) -> None:
        self.device_id = config.id
        self.config = config
        self._endpoint = endpoint
        self._backoff_base_s = backoff_base_s
        self._specs: dict[str, RegisterSpec] = {}
        by_interval: dict[float, list[tuple[str, RegisterSpec]]] = {}
        for point, spec in config.resolved_points():
            self._specs[point.id] = spec
            interval = point.poll_interval_s or config.poll_interval_s
            by_interval.setdefault(interval, []).append((point.id, spec))
        self._plans: list[list[ReadBlock]] = [
            plan_reads(items, max_gap=config.max_gap) for _, items in sorted(by_interval.items())
        ]
        # a group's keys in the order its blocks read them: a poll's values, block after
        # block, are then in the group's order
        self._groups = [
            ScanGroup(i, interval, tuple(key for block in plan for key in block.keys))
            for i, (interval, plan) in enumerate(zip(sorted(by_interval), self._plans, strict=True))
        ]
        self._restore: dict[str, float] = {}

    def groups(self) -> Sequence[ScanGroup]:
        return self._groups

    async def _read_block(self, block: ReadBlock) -> bytes:
        attempt = 0
        while True:
            try:
                return await self._endpoint.read_bytes(
                    block.register_type,
                    block.address,
                    block.count,
                    self.config.unit_id,
                    self.config.timeout_s,
                )
            except ModbusExceptionReply:
                # the device answered, or its gateway after waiting for it: retrying will not
                # change their minds
                raise
            except ModbusError:
                if attempt >= self.config.retries:
                    raise
                await asyncio.sleep(self._backoff_base_s * 2**attempt)
                attempt += 1

    async def scrape(self, group: ScanGroup) -> PolledValues:
        """Read every block of the group. An exception reply spoils only its block; a device
        that does not answer, or that its gateway cannot reach (0x0A, 0x0B), spoils the rest
        of the round: it would keep its bus waiting again."""
        in_order: list[float | None] = []
        errors: list[str] = []
        silent = False
        reason = "exception"
        for block in self._plans[group.index]:
            values: Sequence[float | None]
            if silent:
                values = [None] * len(block.values)
            else:
                try:
                    values = block.decode_bytes(await self._read_block(block))
                except ModbusExceptionReply as error:
                    errors.append(f"block {block.address}+{block.count}: {error}")
                    values = [None] * len(block.values)
                    if error.unreachable:
                        silent, reason = True, "gateway"
                except ModbusError as error:
                    errors.append(str(error))
                    silent, reason = True, "timeout"
                    values = [None] * len(block.values)
            in_order += values
        polled = PolledValues(group, in_order)
        if errors:
            raise PartialScrape(polled, "; ".join(errors), timeout=silent, reason=reason)
        return polled

    def _writable(self, key: str) -> RegisterSpec:
        spec = self._specs.get(key)
        if spec is None or not spec.writable:
            raise DriverError(f"{self.device_id}/{key} is not a writable register")
        return spec

    async def write(self, key: str, value: float, priority: int) -> None:
        spec = self._writable(key)
        if key not in self._restore:
            self._restore[key] = (await self.read_command(key)).present_value
        try:
            await self._endpoint.write(
                spec.address, encode_value(spec, value), self.config.unit_id, self.config.timeout_s
            )
        except ModbusExceptionReply as error:
            if error.unreachable:  # a gateway answering for a unit it cannot reach
                raise DriverError(f"{self.device_id}/{key}: {error}") from error
            raise DeviceRefused(f"{self.device_id}/{key}: write refused: {error}") from error
        except ModbusError as error:
            raise DriverError(f"{self.device_id}/{key}: {error}") from error

    async def read_command(self, key: str) -> CommandState:
        spec = self._writable(key)
        block = plan_reads([(key, spec)])[0]
        try:
            payload = await self._read_block(block)
        except ModbusError as error:
            raise DriverError(f"{self.device_id}/{key}: {error}") from error
        return CommandState(block.decode_bytes(payload)[0])

    async def relinquish(self, key: str, priority: int) -> None:
        spec = self._writable(key)
        point = next((p for p in self.config.points or () if p.id == key), None)
        configured = point.write.restore_value if point and point.write else None
        restore = configured if configured is not None else self._restore.get(key)
        if restore is None:
            return  # never written by the adapter: nothing to give back
        try:
            await self._endpoint.write(
                spec.address,
                encode_value(spec, restore),
                self.config.unit_id,
                self.config.timeout_s,
            )
        except ModbusError as error:
            raise DriverError(f"{self.device_id}/{key}: {error}") from error
        self._restore.pop(key, None)

    async def close(self) -> None:
        self._endpoint.close()
