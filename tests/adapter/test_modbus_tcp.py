"""The adapter's own Modbus TCP client, against a fake transport: frames as the Modbus
Application Protocol and its TCP mapping lay them out, replies matched by transaction id,
exception replies, timeouts, lost connections and malformed frames."""

from __future__ import annotations

import asyncio
import struct

import pytest
from pymodbus.exceptions import ConnectionException, ModbusIOException

from polis.adapter.modbus.client import ModbusBus, ModbusExceptionReply, TcpClient, _TcpLink
from polis.common.catalogue.modbus_profiles import RegisterType

pytestmark = pytest.mark.unit


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def connected(timeout_s: float = 1.0) -> tuple[TcpClient, _TcpLink, FakeTransport]:
    client = TcpClient("meter", 502, timeout_s)
    link, transport = _TcpLink(), FakeTransport()
    link.connection_made(transport)
    client._link = link
    return client, link, transport


def reply(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


async def test_a_read_is_framed_and_its_reply_found_by_transaction_id() -> None:
    client, link, transport = connected()
    pending = asyncio.ensure_future(client.read_input_registers(0x10, count=2, device_id=7))
    await asyncio.sleep(0)
    assert transport.sent == [bytes.fromhex("0001 0000 0006 07 04 0010 0002")]
    frame = reply(1, 7, bytes.fromhex("04 04 0102 FFFE"))
    link.data_received(reply(9, 7, b"\x04\x00"))  # an answer nobody waits for: dropped
    link.data_received(frame[:5])  # a reply in pieces
    link.data_received(frame[5:])
    answer = await pending
    assert not answer.isError()
    assert answer.payload == bytes.fromhex("0102FFFE")
    assert answer.registers == [0x0102, 0xFFFE]


async def test_replies_in_one_chunk_go_to_their_requests() -> None:
    client, link, _ = connected()
    first = asyncio.ensure_future(client.read_holding_registers(0, count=1, device_id=1))
    second = asyncio.ensure_future(client.read_holding_registers(5, count=1, device_id=2))
    await asyncio.sleep(0)
    link.data_received(reply(2, 2, b"\x03\x02\x00\x02") + reply(1, 1, b"\x03\x02\x00\x01"))
    assert (await first).registers == [1]
    assert (await second).registers == [2]


async def test_an_exception_reply_carries_its_code() -> None:
    client, link, _ = connected()
    pending = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=1))
    await asyncio.sleep(0)
    # a length of 2 that leaves out the exception code, as some devices send it
    link.data_received(struct.pack(">HHHB", 1, 0, 2, 1) + b"\x84\x0b")
    answer = await pending
    assert answer.isError()
    assert answer.exception_code == 0x0B


async def test_the_bus_turns_exception_replies_and_wrong_units_into_errors() -> None:
    client, link, _ = connected()
    bus = ModbusBus("meter:502", client)
    refused = asyncio.ensure_future(bus.read(RegisterType.INPUT, 0, 1, 3))
    await asyncio.sleep(0)
    link.data_received(reply(1, 3, b"\x84\x02"))
    with pytest.raises(ModbusExceptionReply) as info:
        await refused
    assert info.value.code == 2
    stranger = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=3))
    await asyncio.sleep(0)
    link.data_received(reply(2, 4, b"\x04\x02\x00\x01"))
    with pytest.raises(ModbusIOException, match="device id=3 but received 4"):
        await stranger


async def test_a_reply_with_transaction_id_0_answers_the_request_waiting() -> None:
    client, link, _ = connected()
    pending = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=1))
    await asyncio.sleep(0)
    link.data_received(reply(0, 1, b"\x04\x02\x00\x2a"))
    assert (await pending).registers == [42]


async def test_a_short_or_wrong_reply_is_an_error() -> None:
    client, link, _ = connected()
    short = asyncio.ensure_future(client.read_input_registers(0, count=2, device_id=1))
    await asyncio.sleep(0)
    link.data_received(reply(1, 1, b"\x04\x04\x00\x01"))
    with pytest.raises(ModbusIOException, match="byte_count 4"):
        await short
    wrong = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=1))
    await asyncio.sleep(0)
    link.data_received(reply(2, 1, b"\x03\x02\x00\x01"))
    with pytest.raises(ModbusIOException, match="function 3 in the reply to function 4"):
        await wrong


async def test_no_reply_times_out_and_a_late_one_is_dropped() -> None:
    client, link, _ = connected(timeout_s=0.01)
    with pytest.raises(ModbusIOException, match=r"no response within 0\.01 s"):
        await client.read_input_registers(0, count=1, device_id=1)
    link.data_received(reply(1, 1, b"\x04\x02\x00\x01"))  # too late: nobody waits
    assert link._pending == {}


async def test_a_lost_connection_fails_the_request_waiting() -> None:
    client, link, _ = connected()
    pending = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=1))
    await asyncio.sleep(0)
    link.connection_lost(ConnectionResetError("reset by peer"))
    with pytest.raises(ConnectionException, match="reset by peer"):
        await pending
    assert not client.connected
    with pytest.raises(ConnectionException, match="not connected"):
        await client.read_input_registers(0, count=1, device_id=1)


async def test_a_frame_that_is_not_modbus_tcp_closes_the_connection() -> None:
    client, link, transport = connected()
    pending = asyncio.ensure_future(client.read_input_registers(0, count=1, device_id=1))
    await asyncio.sleep(0)
    link.data_received(struct.pack(">HHHB", 1, 1, 4, 1) + b"\x04\x02\x00\x01")
    with pytest.raises(ModbusIOException, match="bad MBAP header"):
        await pending
    assert transport.closed
    assert not client.connected


async def test_a_write_is_framed_as_function_16() -> None:
    client, link, transport = connected()
    pending = asyncio.ensure_future(client.write_registers(0x20, [1, 0xABCD], device_id=5))
    await asyncio.sleep(0)
    assert transport.sent == [bytes.fromhex("0001 0000 000B 05 10 0020 0002 04 0001 ABCD")]
    link.data_received(reply(1, 5, bytes.fromhex("10 0020 0002")))
    assert not (await pending).isError()
