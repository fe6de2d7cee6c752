"""The simulator's direct ReadPropertyMultiple-ACK encoding, decoded by bacpypes3."""

from __future__ import annotations

import pytest
from bacpypes3.apdu import APCISequence, ComplexAckPDU
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Enumerated, Real

from polis.simulator.bacnet_encoding import present_value_result, read_property_multiple_ack

pytestmark = pytest.mark.unit


def test_results_decode_with_bacpypes3() -> None:
    body = read_property_multiple_ack(
        [
            present_value_result(0, 1, 21.25),
            present_value_result(3, 4194302, True),
            present_value_result(5, 2, False),
        ]
    )
    pdu = ComplexAckPDU(14, 1, source=Address("127.0.0.1:47808"))
    pdu.put_data(body)
    ack = APCISequence.decode(pdu)
    rows = []
    for result in ack.listOfReadAccessResults:
        (element,) = result.listOfResults
        datatype = Real if str(result.objectIdentifier[0]) == "analog-input" else Enumerated
        value = element.readResult.propertyValue.cast_out(datatype)
        rows.append((str(result.objectIdentifier), str(element.propertyIdentifier), value))
    assert rows == [
        ("analog-input,1", "present-value", pytest.approx(21.25)),
        ("binary-input,4194302", "present-value", 1),
        ("binary-value,2", "present-value", 0),
    ]
