"""Polis' present-value codec against bacpypes3's own encoder and decoder."""

from __future__ import annotations

import pytest
from bacpypes3.apdu import APCISequence, ConfirmedRequestPDU, ReadPropertyMultipleACK
from bacpypes3.basetypes import (
    ErrorType,
    ReadAccessResult,
    ReadAccessResultElement,
    ReadAccessResultElementChoice,
)
from bacpypes3.constructeddata import Any
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import CharacterString, Enumerated, Real

from polis.adapter.bacnet.codec import (
    CodecError,
    PropertyError,
    decode_read_property_multiple_ack,
    encode_present_value_request,
)

pytestmark = pytest.mark.unit


def test_request_decodes_with_bacpypes3() -> None:
    body = encode_present_value_request(["analog-input,1", "binary-value,4194302", "device,7"])
    pdu = ConfirmedRequestPDU(14, 1, destination=Address("127.0.0.1:47808"))
    pdu.put_data(body)
    request = APCISequence.decode(pdu)
    specs = [
        (str(s.objectIdentifier[0]), int(s.objectIdentifier[1]), str(p.propertyIdentifier))
        for s in request.listOfReadAccessSpecs
        for p in s.listOfPropertyReferences
    ]
    assert specs == [
        ("analog-input", 1, "present-value"),
        ("binary-value", 4194302, "present-value"),
        ("device", 7, "present-value"),
    ]


def test_unknown_object_type_is_left_to_bacpypes3() -> None:
    with pytest.raises(CodecError):
        encode_present_value_request(["trend-log-multiple,1"])


def _element(prop: str, value: object) -> ReadAccessResultElement:
    if isinstance(value, ErrorType):
        choice = ReadAccessResultElementChoice(propertyAccessError=value)
    else:
        choice = ReadAccessResultElementChoice(propertyValue=Any(value))
    return ReadAccessResultElement(propertyIdentifier=prop, readResult=choice)


def test_ack_encoded_by_bacpypes3_decodes_to_the_same_values() -> None:
    ack = ReadPropertyMultipleACK(
        listOfReadAccessResults=[
            ReadAccessResult(
                objectIdentifier="analog-input,12",
                listOfResults=[_element("present-value", Real(21.5))],
            ),
            ReadAccessResult(
                objectIdentifier="binary-value,3",
                listOfResults=[_element("present-value", Enumerated(1))],
            ),
            ReadAccessResult(
                objectIdentifier="analog-value,1000",
                listOfResults=[
                    _element(
                        "present-value",
                        ErrorType(errorClass="object", errorCode="unknown-object"),
                    ),
                    _element("object-name", CharacterString("zone-offices-temperature")),
                ],
            ),
        ],
        destination=Address("127.0.0.1:47808"),
    )
    ack.apduInvokeID = 1
    data = bytes(ack.encode().pduData)
    assert decode_read_property_multiple_ack(data) == [
        (0, 12, 85, 21.5),
        (5, 3, 85, 1),
        (2, 1000, 85, PropertyError(1, 31)),  # object / unknown-object
        (2, 1000, 77, "zone-offices-temperature"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\x0c\x00\x00\x00",  # truncated object identifier
        b"\x0c\x00\x00\x00\x01\x1e\x29\x55\x4e\x85\x01\x00\x4f\x1f",  # bit string: not handled
        b"\x1c\x00\x00\x00\x01",  # wrong context tag
    ],
)
def test_malformed_or_unhandled_ack_raises(data: bytes) -> None:
    with pytest.raises(CodecError):
        decode_read_property_multiple_ack(data)
