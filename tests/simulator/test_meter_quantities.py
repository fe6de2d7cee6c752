"""Electrical quantities of the simulated meters are physically consistent (pure)."""

from __future__ import annotations

import math

import pytest

from polis.simulator.config import MeterRole, ModbusProfile
from polis.simulator.electrical import meter_quantities
from polis.simulator.model import MeterReading
from polis.simulator.registers import register_map

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("power_w", [45_000.0, -12_000.0])
def test_three_phase_identities_hold(power_w: float) -> None:
    v = meter_quantities(MeterRole.MAIN, MeterReading(power_w, 1_000.0, 20.0), 12_345.0)
    pf = v["power_factor_total"]
    assert 0.8 < pf < 1.0
    for n in (1, 2, 3):
        p, s, q = v[f"power_l{n}"], v[f"apparent_power_l{n}"], v[f"reactive_power_l{n}"]
        assert s == pytest.approx(v[f"voltage_l{n}"] * v[f"current_l{n}"])
        assert p * p + q * q == pytest.approx(s * s)
        assert abs(p) == pytest.approx(s * pf)
        assert math.cos(math.radians(v[f"phase_angle_l{n}"])) == pytest.approx(pf)
    assert sum(v[f"power_l{n}"] for n in (1, 2, 3)) == pytest.approx(power_w)
    # phasors 120° apart: |Va - Vb|² = Va² + Vb² + Va·Vb, close to √3 × 230 V
    va, vb = v["voltage_l1"], v["voltage_l2"]
    assert v["voltage_l1_l2"] == pytest.approx(math.sqrt(va * va + vb * vb + va * vb))
    assert 392.0 < v["voltage_ll_average"] < 405.0  # √3 × (230 ± 3.4 V)
    # nearly balanced currents: the neutral carries a small fraction of a phase current
    assert 0.0 <= v["current_neutral"] < 0.01 * v["current_l1"]
    # reactive energy at a constant power factor, per-phase import a third of the total
    tan_phi = math.sqrt(1 - pf * pf) / pf
    assert v["reactive_energy_import"] == pytest.approx(1_000.0 * tan_phi)
    assert v["reactive_energy_export"] == pytest.approx(20.0 * tan_phi)
    assert 3 * v["energy_import_l1"] == pytest.approx(1_000.0)


def test_neutral_current_of_equal_phase_currents_is_zero() -> None:
    v = meter_quantities(MeterRole.PV, MeterReading(-30_000.0, 0.0, 500.0), 0.0)
    # at epoch 0 the voltages differ by the fixed per-phase offsets only; with pf 1 the
    # currents differ by well under 1 %, so the phasor sum is a small remainder
    assert v["current_neutral"] < 0.01 * v["current_l1"]


@pytest.mark.parametrize("profile", list(ModbusProfile))
def test_every_served_register_has_a_value(profile: ModbusProfile) -> None:
    values = meter_quantities(MeterRole.HVAC, MeterReading(10_000.0, 5.0, 0.0), 0.0)
    missing = [r.name for r in register_map(profile).registers if r.name not in values]
    assert missing == []
