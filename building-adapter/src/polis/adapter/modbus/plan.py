"""Read planning and decoding for Modbus (pure).

Registers of one type are coalesced into blocks of at most 125 registers (the protocol limit
for function codes 3 and 4) when the gap between them is at most ``max_gap`` registers. Each
block gets one precompiled :class:`struct.Struct` that decodes every value in a single call.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from polis.common.catalogue.modbus_profiles import DATA_TYPES, RegisterSpec, RegisterType

MAX_REGISTERS_PER_READ = 125


@dataclass(frozen=True, slots=True)
class PlannedValue:
    """One value inside a block: where it is and how to turn raw into engineering units."""

    key: str
    offset: int
    spec: RegisterSpec


@dataclass(frozen=True)
class ReadBlock:
    register_type: RegisterType
    address: int
    count: int
    values: tuple[PlannedValue, ...]
    decoder: struct.Struct
    scales: tuple[float, ...]
    packer: struct.Struct  # the block's registers as big-endian words
    word_gather: Callable[[Sequence[int]], tuple[int, ...]] | None  # None: no word swaps
    unscaled: bool  # every scale is 1
    keys: tuple[str, ...]  # the values' keys, in ``values`` order

    def decode(self, registers: Sequence[int]) -> list[float]:
        """Decode the block's registers into scaled values, in ``values`` order."""
        if len(registers) != self.count:
            raise ValueError(f"expected {self.count} registers, got {len(registers)}")
        return self.decode_bytes(self.packer.pack(*registers))

    def decode_bytes(self, payload: bytes) -> list[float]:
        """Decode the block's registers as they came (big-endian words) into scaled
        values, in ``values`` order: one unpack for the whole block."""
        if len(payload) != 2 * self.count:
            raise ValueError(f"expected {self.count} registers, got {len(payload) / 2:g}")
        if self.word_gather:
            # little-word-first values have their words put high word first by one
            # C-level gather
            payload = self.packer.pack(*self.word_gather(self.packer.unpack(payload)))
        raw = self.decoder.unpack(payload)
        if self.unscaled:
            return list(raw)
        return list(map(operator.mul, raw, self.scales))  # one value per scale, by the format


def _block(register_type: RegisterType, items: list[tuple[str, RegisterSpec]]) -> ReadBlock:
    start = items[0][1].address
    fmt = [">"]
    cursor = start
    planned: list[PlannedValue] = []
    swaps: list[tuple[int, int]] = []
    for key, spec in items:
        code, width = DATA_TYPES[spec.data_type]
        if spec.address > cursor:
            fmt.append(f"{(spec.address - cursor) * 2}x")
        fmt.append(code)
        offset = spec.address - start
        planned.append(PlannedValue(key, offset, spec))
        if spec.word_order == "little" and width > 1:
            swaps.append((offset, width))
        cursor = spec.address + width
    count = cursor - start
    order = list(range(count))
    for first, width in swaps:
        order[first : first + width] = order[first : first + width][::-1]
    scales = tuple(spec.scale for _, spec in items)
    return ReadBlock(
        register_type=register_type,
        address=start,
        count=count,
        values=tuple(planned),
        decoder=struct.Struct("".join(fmt)),
        scales=scales,
        packer=struct.Struct(f">{count}H"),
        word_gather=operator.itemgetter(*order) if swaps and count > 1 else None,
        unscaled=all(scale == 1.0 for scale in scales),
        keys=tuple(key for key, _ in items),
    )


def plan_reads(
    registers: Sequence[tuple[str, RegisterSpec]],
    max_gap: int = 16,
    max_count: int = MAX_REGISTERS_PER_READ,
) -> list[ReadBlock]:
    """Group ``(key, spec)`` pairs into as few reads as the gap and size limits allow."""
    if not 1 <= max_count <= MAX_REGISTERS_PER_READ:
        raise ValueError(f"max_count must be 1..{MAX_REGISTERS_PER_READ}, got {max_count}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    blocks: list[ReadBlock] = []
    for register_type in RegisterType:
        items = sorted(
            (item for item in registers if item[1].register_type is register_type),
            key=lambda item: item[1].address,
        )
        current: list[tuple[str, RegisterSpec]] = []
        end = 0
        for key, spec in items:
            if current:
                overlaps = spec.address < end
                gap = spec.address - end
                too_long = spec.address + spec.width - current[0][1].address > max_count
                if overlaps:
                    raise ValueError(f"register {key!r} overlaps the previous register")
                if gap > max_gap or too_long:
                    blocks.append(_block(register_type, current))
                    current = []
            current.append((key, spec))
            end = spec.address + spec.width
        if current:
            blocks.append(_block(register_type, current))
    return blocks


def encode_value(spec: RegisterSpec, value: float) -> list[int]:
    """Encode an engineering value into registers for a write (inverse of decode)."""
    code, width = DATA_TYPES[spec.data_type]
    raw: float | int = value / spec.scale
    if code not in "fd":
        raw = round(raw)
    try:
        words = list(struct.unpack(f">{width}H", struct.pack(f">{code}", raw)))
    except struct.error as error:
        raise ValueError(f"{value} does not fit {spec.data_type.value}: {error}") from None
    if spec.word_order == "little":
        words.reverse()
    return words
