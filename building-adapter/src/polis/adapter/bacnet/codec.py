"""BACnet encoding of present-value ReadPropertyMultiple polls (pure; ASHRAE 135 clause 20.2).

Polling asks the same devices for the same present values over and over. bacpypes3 builds
and walks a tree of constructed-data objects for every request and every result element,
which costs far more than the bytes themselves; for this one hot path the adapter encodes the
request once per object list and decodes the ACK's tags directly. bacpypes3 still carries
every transaction (invoke ids, retries, segmentation); anything this module does not
understand raises :class:`CodecError` and the caller falls back to bacpypes3.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

PRESENT_VALUE = 85
READ_PROPERTY_MULTIPLE = 14

OBJECT_TYPES: dict[str, int] = {
    "analog-input": 0,
    "analog-output": 1,
    "analog-value": 2,
    "binary-input": 3,
    "binary-output": 4,
    "binary-value": 5,
    "device": 8,
    "loop": 12,
    "multi-state-input": 13,
    "multi-state-output": 14,
    "multi-state-value": 19,
    "accumulator": 23,
    "pulse-converter": 24,
    "integer-value": 45,
    "large-analog-value": 46,
    "positive-integer-value": 48,
}

_REAL = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")


class CodecError(ValueError):
    """Bytes or a request outside what this codec handles."""


@dataclass(frozen=True, slots=True)
class PropertyError:
    """A per-property error of a ReadPropertyMultiple-ACK (class and code numbers)."""

    error_class: int
    error_code: int


def _object_id(objid: str) -> int:
    kind, _, instance = objid.partition(",")
    number = OBJECT_TYPES.get(kind)
    if number is None:
        raise CodecError(f"object type {kind!r} is not handled here")
    value = int(instance)
    if not 0 <= value < 1 << 22:
        raise CodecError(f"instance {value} out of range")
    return (number << 22) | value


def encode_present_value_request(objids: Sequence[str]) -> bytes:
    """Service data of a ReadPropertyMultiple-Request for the present value of each object:
    objectIdentifier [0], then listOfPropertyReferences [1] { propertyIdentifier [0] }."""
    out = bytearray()
    for objid in objids:
        out += b"\x0c" + _object_id(objid).to_bytes(4, "big")
        out += b"\x1e\x09\x55\x1f"
    return bytes(out)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def tag(self) -> tuple[int, bool, int, int]:
        """(tag number, context?, kind, length/value) with kind 0 = data, 6 = open, 7 = close."""
        data = self.data
        if self.pos >= len(data):
            raise CodecError("truncated tag")
        first = data[self.pos]
        self.pos += 1
        number = first >> 4
        if number == 15:
            number = data[self.pos]
            self.pos += 1
        context = bool(first & 0x08)
        lvt = first & 0x07
        if context and lvt in (6, 7):
            return number, True, lvt, 0
        if lvt == 5:
            lvt = data[self.pos]
            self.pos += 1
            if lvt == 254:
                lvt = int.from_bytes(data[self.pos : self.pos + 2], "big")
                self.pos += 2
            elif lvt == 255:
                lvt = int.from_bytes(data[self.pos : self.pos + 4], "big")
                self.pos += 4
        return number, context, 0, lvt

    def take(self, length: int) -> bytes:
        end = self.pos + length
        if end > len(self.data):
            raise CodecError("truncated value")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unsigned(self, length: int) -> int:
        return int.from_bytes(self.take(length), "big")


def _application_value(reader: _Reader) -> float | int | bool | str | None:
    number, context, kind, length = reader.tag()
    if context or kind:
        raise CodecError("expected an application-tagged value")
    if number == 0:
        return None
    if number == 1:
        return bool(length)  # Boolean: the value is in the length bits
    if number in (2, 9):  # Unsigned, Enumerated
        return reader.unsigned(length)
    if number == 3:
        return int.from_bytes(reader.take(length), "big", signed=True)
    if number == 4:
        return float(_REAL.unpack(reader.take(4))[0])
    if number == 5:
        return float(_DOUBLE.unpack(reader.take(8))[0])
    if number == 7:
        raw = reader.take(length)
        if not raw or raw[0] != 0:
            raise CodecError("only UTF-8 character strings are handled")
        return raw[1:].decode("utf-8")
    raise CodecError(f"application tag {number} is not handled")


def decode_read_property_multiple_ack(
    data: bytes,
) -> list[tuple[int, int, int, float | int | bool | str | PropertyError | None]]:
    """``(object type, instance, property, value or PropertyError)`` per result element,
    for results holding one primitive value each."""
    reader = _Reader(data)
    out: list[tuple[int, int, int, float | int | bool | str | PropertyError | None]] = []
    while reader.pos < len(data):
        number, context, kind, length = reader.tag()
        if not (context and number == 0 and kind == 0 and length == 4):
            raise CodecError("expected objectIdentifier [0]")
        oid = reader.unsigned(4)
        obj_type, instance = oid >> 22, oid & 0x3FFFFF
        if reader.tag()[:3] != (1, True, 6):
            raise CodecError("expected listOfResults [1]")
        while True:
            number, context, kind, length = reader.tag()
            if (number, context, kind) == (1, True, 7):
                break
            if not (context and number == 2 and kind == 0):
                raise CodecError("expected propertyIdentifier [2]")
            prop = reader.unsigned(length)
            number, context, kind, length = reader.tag()
            if context and number == 3 and kind == 0:
                raise CodecError("array indexes are not handled")
            value: float | int | bool | str | PropertyError | None
            if (number, context, kind) == (4, True, 6):
                value = _application_value(reader)
                if reader.tag()[:3] != (4, True, 7):
                    raise CodecError("expected one value in propertyValue [4]")
            elif (number, context, kind) == (5, True, 6):
                cls = _application_value(reader)
                code = _application_value(reader)
                if reader.tag()[:3] != (5, True, 7) or not (
                    isinstance(cls, int) and isinstance(code, int)
                ):
                    raise CodecError("malformed propertyAccessError [5]")
                value = PropertyError(cls, code)
            else:
                raise CodecError("expected propertyValue [4] or propertyAccessError [5]")
            out.append((obj_type, instance, prop, value))
    return out
