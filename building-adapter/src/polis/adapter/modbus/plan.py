"""Read planning and decoding for Modbus (pure).

Registers of one type are coalesced into blocks of at most 125 registers (the protocol limit
for function codes 3 and 4) when the gap between them is at most ``max_gap`` registers. Each
block gets one precompiled :class:`struct.Struct` that decodes every value in a single call.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from polis.adapter.modbus.profile import DATA_TYPES, RegisterSpec, RegisterType

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
    little_word_indexes: tuple[tuple[int, int], ...]

    def decode(self, registers: Sequence[int]) -> list[float]:
        """Decode the block's registers into scaled values, in ``values`` order."""
        if len(registers) != self.count:
            raise ValueError(f"expected {self.count} registers, got {len(registers)}")
        regs = registers
        if self.little_word_indexes:
            # reverse the word order of little-word-first values before the struct call
            regs = list(registers)
            for start, width in self.little_word_indexes:
                regs[start : start + width] = regs[start : start + width][::-1]
        raw = self.decoder.unpack(struct.pack(f">{self.count}H", *regs))
        return [r * s for r, s in zip(raw, self.scales, strict=True)]


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
    return ReadBlock(
        register_type=register_type,
        address=start,
        count=cursor - start,
        values=tuple(planned),
        decoder=struct.Struct("".join(fmt)),
        scales=tuple(spec.scale for _, spec in items),
        little_word_indexes=tuple(swaps),
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
