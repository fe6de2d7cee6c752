"""A poll's readings by column: one loop normalises them, one format per line encodes them,
and each gives what the point-by-point path gives (values, quality flags, state, text)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse

from adapter.catalogues import one_bacnet_point
from polis.adapter.driver import PolledValues, ScanGroup
from polis.adapter.modbus.client import _HoldingRegisters, _InputRegisters, tcp_bus
from polis.adapter.model import PointLayout, Quality, Reading, ReadingBatch
from polis.adapter.normalise import NS, GroupNormaliser, PointNormaliser, QualityRules
from polis.adapter.poller import LatestReadings
from polis.adapter.sink import ReadingEncoder
from polis.common.catalogue.points import PointKind
from polis.common.catalogue.units import Quantity

pytestmark = pytest.mark.unit


@dataclass
class Reference:
    """The point-by-point rules as they read before polls were normalised in one loop."""

    scale: float
    offset: float
    rules: QualityRules
    last: float | None = None
    changed_ns: int = 0

    def step(self, raw: float | None, t: int) -> tuple[float, Quality]:
        value = math.nan if raw is None else raw * self.scale + self.offset
        if value != value or value in (math.inf, -math.inf):
            return (self.last if self.last is not None else 0.0), Quality.MISSING
        rules, last, quality = self.rules, self.last, Quality.GOOD
        if (rules.minimum is not None and value < rules.minimum) or (
            rules.maximum is not None and value > rules.maximum
        ):
            quality = Quality.OUT_OF_RANGE
        elif (
            rules.kind is PointKind.CUMULATIVE
            and last is not None
            and value < last - abs(last) * rules.counter_tolerance
        ):
            quality = Quality.RESET
        if last is None or value != last:
            self.changed_ns = t
        elif (
            quality is Quality.GOOD
            and rules.stale_after_s is not None
            and t - self.changed_ns > rules.stale_after_s * NS
        ):
            quality = Quality.STALE
        if quality is not Quality.OUT_OF_RANGE:
            self.last = value
        return value, quality


POINTS = [
    ("power", "W", Quantity.ACTIVE_POWER, QualityRules(PointKind.INSTANTANEOUS, -5.0, 5.0, 2.5)),
    ("energy", "Wh", Quantity.ACTIVE_ENERGY, QualityRules(PointKind.CUMULATIVE)),
    (
        "meter",
        "kWh",
        Quantity.ACTIVE_ENERGY,
        QualityRules(PointKind.CUMULATIVE, None, 9.0, 1.0, 0.1),
    ),
    ("air", "degF", Quantity.TEMPERATURE, QualityRules(PointKind.INSTANTANEOUS, None, None, 0.5)),
]

raw_values = st.one_of(
    st.none(),
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 7.5, 5000.0, math.nan, math.inf, -math.inf, 1e308]),
    st.floats(-1e4, 1e4),
)
# most polls have every value read and finite (the group's fast path), some do not
polls_of_four = st.one_of(
    st.lists(st.floats(-1e4, 1e4) | st.sampled_from([2.0, 7.5]), min_size=4, max_size=4),
    st.lists(raw_values, min_size=4, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    polls=st.lists(
        st.tuples(st.integers(0, 3 * NS), polls_of_four, st.sampled_from([None, 0, 3])),
        min_size=1,
        max_size=30,
    )
)
def test_a_group_flags_as_point_by_point(
    polls: list[tuple[int, list[float | None], int | None]],
) -> None:
    normalisers = [PointNormaliser(pid, unit, q, rules) for pid, unit, q, rules in POINTS]
    references = [
        Reference(n.conv.scale, n.conv.offset, rules)
        for n, (*_, rules) in zip(normalisers, POINTS, strict=True)
    ]
    group = GroupNormaliser(normalisers)
    t = 0
    for step, raws, alone in polls:
        t += step
        if alone is not None:  # a change notification between polls, on the same state
            raw = raws[alone]
            raw = 1.0 if raw is None else raw
            reading = normalisers[alone].normalise(raw, t)
            value, quality = references[alone].step(raw, t)
            assert (repr(reading.value), reading.quality) == (repr(value), quality)
            continue
        values, qualities, flagged = group.normalise(raws, t)
        expected = [ref.step(raw, t) for ref, raw in zip(references, raws, strict=True)]
        assert [repr(v) for v in values] == [repr(v) for v, _ in expected]
        assert qualities == [q for _, q in expected]
        assert sorted(flagged) == sorted(q for q in qualities if q is not Quality.GOOD)
        assert [n.last_value for n in normalisers] == [ref.last for ref in references]


def test_a_single_reading_and_a_poll_share_the_point_state() -> None:
    n = PointNormaliser("p", "Wh", Quantity.ACTIVE_ENERGY, QualityRules(PointKind.CUMULATIVE))
    assert n.normalise(10_000.0, 1).quality is Quality.GOOD
    group = GroupNormaliser([n])  # takes the state the point had alone
    _, qualities, _ = group.normalise([500.0], 2)
    assert qualities == [Quality.RESET]
    assert n.normalise(600.0, 3) == Reading("p", 0.6, "kWh", Quality.GOOD, 3)
    assert n.missing(4) == Reading("p", 0.6, "kWh", Quality.MISSING, 4)


def test_an_infinite_staleness_limit_is_never_reached() -> None:
    n = PointNormaliser(
        "t",
        "degC",
        Quantity.TEMPERATURE,
        QualityRules(PointKind.INSTANTANEOUS, None, None, math.inf),
    )
    assert n.normalise(20.0, 0).quality is Quality.GOOD
    assert n.normalise(20.0, 10**18).quality is Quality.GOOD


def batch() -> ReadingBatch:
    layout = PointLayout(("a/b/c/t1", "a/b/c/t2", "a/b/c/p"), ("degC", "degC", "kW"))
    return ReadingBatch(
        layout, [21.5, 0.1, -3.0], [Quality.GOOD, Quality.STALE, Quality.MISSING], 7
    )


def test_a_batch_is_a_sequence_of_readings() -> None:
    b = batch()
    assert len(b) == 3
    assert list(b) == [
        Reading("a/b/c/t1", 21.5, "degC", Quality.GOOD, 7),
        Reading("a/b/c/t2", 0.1, "degC", Quality.STALE, 7),
        Reading("a/b/c/p", -3.0, "kW", Quality.MISSING, 7),
    ]
    assert b[-1] == b.reading("a/b/c/p")
    assert b[1:] == list(b)[1:]
    with pytest.raises(ValueError, match="one value and one quality"):
        ReadingBatch(b.layout, [1.0], [Quality.GOOD], 0)


def test_latest_readings_keep_the_newer_of_a_poll_and_a_change() -> None:
    latest = LatestReadings()
    b = batch()
    latest.update(b)
    assert latest.get("a/b/c/t1") == b[0]
    change = Reading("a/b/c/t1", 22.0, "degC", Quality.GOOD, 8)
    latest.update([change])
    assert latest.get("a/b/c/t1") == change
    assert latest.get("a/b/c/t2") == b[1]
    later = ReadingBatch(b.layout, [23.0, 0.2, 1.0], [Quality.GOOD] * 3, 9)
    latest.update(later)
    assert latest.get("a/b/c/t1") == later[0]
    assert latest.get("unknown") is None


def test_a_poll_encodes_as_its_readings_one_by_one() -> None:
    refs = [
        one_bacnet_point(
            {"id": pid, "object": f"analog-input,{i}", "quantity": "temperature", "unit": "degC"}
        )
        for i, pid in enumerate(("t1", "t2"))
    ]
    encoder = ReadingEncoder(refs, {ref.point_id: "degC" for ref in refs})
    layout = PointLayout(tuple(ref.point_id for ref in refs), ("degC", "degC"))
    for qualities in ([Quality.GOOD, Quality.GOOD], [Quality.GOOD, Quality.OUT_OF_RANGE]):
        polled = ReadingBatch(layout, [21.5, 1e-7], qualities, 1_700_000_000_000_000_000)
        assert encoder.encode_many(polled) == [encoder.encode(r) for r in list(polled)]
    assert encoder.encode_many(polled)[1].endswith(
        ",quantity=temperature,unit=degC value=1e-07 1700000000000000000"
    )


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.integers(0, 0xFFFF), max_size=125), odd=st.booleans())
def test_register_replies_decode_as_pymodbus_decodes_them(words: list[int], odd: bool) -> None:
    # an odd byte count leaves its last byte out, in both
    frame = struct.pack(f">B{len(words)}H", 2 * len(words) + odd, *words) + b"\xab" * odd
    ours, theirs = _HoldingRegisters(), ReadHoldingRegistersResponse()
    ours.decode(frame)
    theirs.decode(frame)
    assert ours.registers == theirs.registers == words
    assert ours.payload == struct.pack(f">{len(words)}H", *words)


def test_a_reply_shorter_than_its_byte_count_is_an_error() -> None:
    with pytest.raises(ModbusIOException, match="byte_count 4"):
        _InputRegisters().decode(b"\x04\x00\x01")


async def test_rtu_over_tcp_buses_decode_register_replies_with_the_lean_responses() -> None:
    bus = tcp_bus("127.0.0.1", 1502, 1.0, rtu_framing=True)
    assert isinstance(bus._client, ModbusBaseClient)
    decoder = bus._client.ctx.framer.decoder
    for function_code, lean in ((3, _HoldingRegisters), (4, _InputRegisters)):
        reply = decoder.decode(bytes([function_code, 4, 0, 7, 0xFF, 0xFE]))
        assert type(reply) is lean
        assert reply.registers == [7, 0xFFFE]
    bus.close()


def test_polled_values_are_a_mapping_in_the_group_order() -> None:
    group = ScanGroup(0, 1.0, ("a", "b", "c"))
    polled = PolledValues(group, [1.0, None, 3.0])
    assert list(polled) == ["a", "b", "c"]
    assert dict(polled) == {"a": 1.0, "b": None, "c": 3.0}
    assert (polled["c"], polled.get("x"), len(polled)) == (3.0, None, 3)
    with pytest.raises(ValueError, match="1 values for 3 points"):
        PolledValues(group, [1.0])
