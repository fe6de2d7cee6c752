from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polis.adapter.modbus.plan import encode_value, plan_reads
from polis.common.catalogue.modbus_profiles import DataType, RegisterSpec, load_profile

pytestmark = pytest.mark.unit


def spec(address: int, data_type: str = "float32", **kw: object) -> RegisterSpec:
    return RegisterSpec.model_validate(
        {
            "name": f"r{address}",
            "address": address,
            "register_type": "input",
            "data_type": data_type,
            "unit": "W",
            "quantity": "active_power",
            **kw,
        }
    )


def test_registers_within_the_gap_share_one_read() -> None:
    items = [(s.name, s) for s in (spec(0), spec(2), spec(10))]
    blocks = plan_reads(items, max_gap=6)
    assert [(b.address, b.count) for b in blocks] == [(0, 12)]
    blocks = plan_reads(items, max_gap=5)
    assert [(b.address, b.count) for b in blocks] == [(0, 4), (10, 2)]


def test_reads_never_exceed_125_registers() -> None:
    items = [(f"r{a}", spec(a)) for a in range(0, 300, 2)]
    blocks = plan_reads(items, max_gap=0)
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.values) for b in blocks) == 150
    assert [b.address for b in blocks] == [0, 124, 248]


def test_input_and_holding_registers_are_never_mixed() -> None:
    a = spec(0)
    b = spec(2, register_type="holding")
    blocks = plan_reads([("a", a), ("b", b)])
    assert sorted((blk.register_type.value, blk.address) for blk in blocks) == [
        ("holding", 2),
        ("input", 0),
    ]


def test_decode_mixed_types_word_orders_and_scales() -> None:
    items = [
        ("f", spec(0)),
        ("i", spec(4, "int32", word_order="little", scale=0.1)),
        ("u", spec(6, "uint16", scale=0.01)),
        ("d", spec(8, "float64")),
    ]
    (block,) = plan_reads(items, max_gap=4)
    f_words = list(struct.unpack(">2H", struct.pack(">f", 1234.5)))
    i_words = list(struct.unpack(">2H", struct.pack(">i", -123456)))[::-1]  # low word first
    d_words = list(struct.unpack(">4H", struct.pack(">d", 98765.4321)))
    registers = [*f_words, 0, 0, *i_words, 4321, 0, *d_words]
    values = dict(zip([v.key for v in block.values], block.decode(registers), strict=True))
    assert values["f"] == 1234.5
    assert values["i"] == pytest.approx(-12345.6)
    assert values["u"] == pytest.approx(43.21)
    assert values["d"] == 98765.4321


def test_decode_refuses_short_replies() -> None:
    (block,) = plan_reads([("f", spec(0))])
    with pytest.raises(ValueError, match="expected 2 registers"):
        block.decode([1])


@given(
    st.sampled_from(list(DataType)),
    st.sampled_from(["big", "little"]),
    st.integers(min_value=-30000, max_value=30000),
)
def test_encode_then_decode_round_trips(data_type: DataType, order: str, value: int) -> None:
    if data_type.value.startswith("uint"):
        value = abs(value)
    s = spec(0, data_type.value, word_order=order)
    (block,) = plan_reads([("x", s)])
    assert block.decode(encode_value(s, float(value)))[0] == value


def test_profiles_match_the_published_maps() -> None:
    sdm = load_profile("eastron_sdm630")
    assert (sdm.register("total_power").address, sdm.register("total_power").unit) == (0x34, "W")
    assert sdm.register("import_energy").address == 0x48
    assert sdm.register("total_energy").address == 0x156
    assert {r.data_type for r in sdm.registers} == {DataType.FLOAT32}
    em24 = load_profile("carlo_gavazzi_em24")
    w_sys = em24.register("total_power")
    assert (w_sys.address, w_sys.scale, w_sys.word_order) == (0x28, 0.1, "little")
    assert em24.register("import_energy").address == 0x34
    assert len(load_profile("schneider_iem3255").registers) > 5
    assert len(load_profile("abb_b23").registers) > 5
