"""The adapter's meter profiles read what the simulated meters serve, register for register."""

from __future__ import annotations

import pytest

from polis.adapter.modbus.plan import plan_reads
from polis.common.catalogue.modbus_profiles import load_profile
from polis.simulator.config import ModbusProfile
from polis.simulator.registers import register_map

pytestmark = pytest.mark.unit

# names the adapter kept from before the maps were extended -> the simulator's names
ALIASES = {
    "total_power": "power_total",
    "total_reactive_power": "reactive_power_total",
    "total_power_factor": "power_factor_total",
    "import_energy": "energy_import",
    "export_energy": "energy_export",
    "total_energy": "energy_total",
    "import_energy_l1": "energy_import_l1",
    "import_energy_l2": "energy_import_l2",
    "import_energy_l3": "energy_import_l3",
}
# what the simulator serves without a quantity in polis.points.v1 (not read by the adapter)
NO_QUANTITY_UNITS = {"VA", "kvarh", "deg"}


@pytest.mark.parametrize("profile", ["eastron_sdm630", "carlo_gavazzi_em24"])
def test_profile_registers_equal_the_simulated_map(profile: str) -> None:
    adapter = load_profile(profile)
    simulated = register_map(ModbusProfile(profile))
    by_address = {r.address: r for r in simulated.registers}
    for spec in adapter.registers:
        served = by_address.get(spec.address)
        assert served is not None, f"{profile}: nothing served at {spec.address:#06x}"
        assert ALIASES.get(spec.name, spec.name) == served.name
        assert spec.data_type.value == served.type
        assert spec.scale == pytest.approx(served.scale)
        assert spec.word_order == simulated.word_order
    read = {spec.address for spec in adapter.registers}
    skipped = [r for r in simulated.registers if r.address not in read]
    # everything served is read, except what the point contract cannot name
    assert all(r.unit in NO_QUANTITY_UNITS or r.name == "phase_sequence" for r in skipped)


@pytest.mark.parametrize("profile", ["eastron_sdm630", "carlo_gavazzi_em24"])
def test_whole_profile_reads_in_few_blocks_of_at_most_125_registers(profile: str) -> None:
    adapter = load_profile(profile)
    blocks = plan_reads([(s.name, s) for s in adapter.registers], max_gap=16)
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.values) for b in blocks) == len(adapter.registers)
    assert len(blocks) <= 3
