"""BACnet encoding of ReadPropertyMultiple present-value answers (pure, ASHRAE 135 clause 20.2).

A simulated controller answers many ReadPropertyMultiple requests per second for thousands
of objects. Building bacpypes3's constructed-data objects for every result element costs
about a millisecond per value; this module writes the same bytes directly for the common
case — present values of analog and binary objects — so one simulator process can serve
dozens of controllers at field-bus rates. Everything else goes through bacpypes3.

ReadAccessResult ::= SEQUENCE {
    objectIdentifier [0] BACnetObjectIdentifier,
    listOfResults    [1] SEQUENCE OF { propertyIdentifier [2], propertyValue [4] ABSTRACT }
}
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

PRESENT_VALUE = 85
# object type numbers (clause 21, BACnetObjectType)
ANALOG_TYPES = {"analog-input": 0, "analog-output": 1, "analog-value": 2}
BINARY_TYPES = {"binary-input": 3, "binary-output": 4, "binary-value": 5}

_OBJECT_ID = struct.Struct(">BI")  # context tag 0, length 4
_REAL = struct.Struct(">Bf")  # application tag 4 (Real), length 4
_OPEN_RESULTS = b"\x1e"  # opening tag [1]
_CLOSE_RESULTS = b"\x1f"
_PRESENT_VALUE_REF = bytes((0x29, PRESENT_VALUE))  # context tag [2], length 1
_OPEN_VALUE = b"\x4e"  # opening tag [4]
_CLOSE_VALUE = b"\x4f"
_ENUM_INACTIVE = b"\x91\x00"  # application tag 9 (Enumerated), length 1
_ENUM_ACTIVE = b"\x91\x01"


def object_identifier(type_number: int, instance: int) -> int:
    return (type_number << 22) | instance


def present_value_result(type_number: int, instance: int, value: float | bool) -> bytes:
    """One ReadAccessResult carrying the present value (Real, or Enumerated for binary)."""
    if isinstance(value, bool):
        encoded = _ENUM_ACTIVE if value else _ENUM_INACTIVE
    else:
        encoded = _REAL.pack(0x44, value)
    return b"".join(
        (
            _OBJECT_ID.pack(0x0C, object_identifier(type_number, instance)),
            _OPEN_RESULTS,
            _PRESENT_VALUE_REF,
            _OPEN_VALUE,
            encoded,
            _CLOSE_VALUE,
            _CLOSE_RESULTS,
        )
    )


def read_property_multiple_ack(results: Iterable[bytes]) -> bytes:
    """The service data of a ReadPropertyMultiple-ACK: the results back to back."""
    return b"".join(results)
