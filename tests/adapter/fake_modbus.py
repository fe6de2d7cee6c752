"""A small Modbus TCP server for tests: register maps per unit id, exception and silence modes.

It implements function codes 3, 4, 6 and 16 from the Modbus Application Protocol
specification directly on asyncio streams, so tests control every reply byte by byte.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field


@dataclass
class FakeUnit:
    input: dict[int, int] = field(default_factory=dict)
    holding: dict[int, int] = field(default_factory=dict)
    exception_code: int | None = None  # reply to every read with this exception
    silent: bool = False  # never reply

    def set_words(self, table: str, address: int, words: list[int]) -> None:
        target = self.input if table == "input" else self.holding
        for i, w in enumerate(words):
            target[address + i] = w


class FakeModbusServer:
    def __init__(self) -> None:
        self.units: dict[int, FakeUnit] = {}
        self.requests = 0
        self.request_seen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _pid, length, unit_id = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                self.request_seen.set()
                reply = self._reply(unit_id, pdu)
                if reply is None:
                    continue
                writer.write(struct.pack(">HHHB", tid, 0, len(reply) + 1, unit_id) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, unit_id: int, pdu: bytes) -> bytes | None:
        fc = pdu[0]
        unit = self.units.get(unit_id)
        if unit is None:
            return bytes([fc | 0x80, 0x0B])  # gateway target failed to respond
        if unit.silent:
            return None
        if fc in (3, 4):
            if unit.exception_code is not None:
                return bytes([fc | 0x80, unit.exception_code])
            address, count = struct.unpack(">HH", pdu[1:5])
            table = unit.input if fc == 4 else unit.holding
            if any(a not in table for a in range(address, address + count)):
                return bytes([fc | 0x80, 0x02])  # illegal data address
            words = [table[a] for a in range(address, address + count)]
            return bytes([fc, 2 * count]) + struct.pack(f">{count}H", *words)
        if fc == 6:
            address, value = struct.unpack(">HH", pdu[1:5])
            unit.holding[address] = value
            return pdu[:5]
        if fc == 16:
            address, count, _n = struct.unpack(">HHB", pdu[1:6])
            written = struct.unpack(f">{count}H", pdu[6 : 6 + 2 * count])
            for i, w in enumerate(written):
                unit.holding[address + i] = w
            return pdu[:5]
        return bytes([fc | 0x80, 0x01])


def float32_words(value: float, word_order: str = "big") -> list[int]:
    words = list(struct.unpack(">2H", struct.pack(">f", value)))
    return words if word_order == "big" else words[::-1]


def int32_words(value: int, word_order: str = "big") -> list[int]:
    words = list(struct.unpack(">2H", struct.pack(">i", value)))
    return words if word_order == "big" else words[::-1]
