"""Electrical quantities of a three-phase meter derived from its simulated power (pure).

The model simulates active power and energy; voltages, currents, power factor and frequency
are derived plausibly (balanced phases, a slow deterministic voltage swing) so that a meter's
registers are internally consistent: P = Σ V·I·PF per phase, S = V·I, Q = √(S² − P²) per
phase, line-to-line voltages from the phasors 120° apart, the neutral current as the phasor
sum of the phase currents, reactive energy = active energy × tan φ at the role's constant
power factor, per-phase import energy a third of the total (balanced).
"""

from __future__ import annotations

import math

from polis.simulator.config import MeterRole
from polis.simulator.model import MeterReading

NOMINAL_V = 230.0
FREQUENCY_HZ = 50.0
_PF = {MeterRole.PV: 1.0, MeterRole.BATTERY: 1.0, MeterRole.EV: 0.99, MeterRole.LIGHTING: 0.95}
_DEFAULT_PF = 0.93


def meter_quantities(role: MeterRole, reading: MeterReading, epoch: float) -> dict[str, float]:
    """Values for every register name of the meter profiles."""
    pf = _PF.get(role, _DEFAULT_PF)
    swing = 2.5 * math.sin(2 * math.pi * epoch / 86_400.0)
    voltages = [NOMINAL_V + swing + d for d in (0.6, -0.4, 0.9)]
    power = reading.power_w
    phase_power = power / 3.0
    currents = [abs(phase_power) / (v * pf) for v in voltages]
    apparent = abs(power) / pf
    reactive = math.sqrt(max(apparent**2 - power**2, 0.0))
    angle = math.acos(pf)
    tan_phi = math.tan(angle)
    values = {
        "power_total": power,
        "apparent_power_total": apparent,
        "reactive_power_total": reactive,
        "power_factor_total": pf,
        "frequency": FREQUENCY_HZ,
        "energy_import": reading.import_kwh,
        "energy_export": reading.export_kwh,
        "energy_total": reading.import_kwh + reading.export_kwh,
        "voltage_ln_average": sum(voltages) / 3.0,
        "current_average": sum(currents) / 3.0,
        "current_sum": sum(currents),
        "phase_angle_total": math.degrees(angle),
        "reactive_energy_import": reading.import_kwh * tan_phi,
        "reactive_energy_export": reading.export_kwh * tan_phi,
        "reactive_energy_total": (reading.import_kwh + reading.export_kwh) * tan_phi,
        "power_demand": power,
        "current_neutral": _phasor_sum(currents),
        "phase_sequence": 0.0,  # L1-L2-L3
    }
    line = [_line_to_line(voltages[i], voltages[(i + 1) % 3]) for i in range(3)]
    values["voltage_ll_average"] = sum(line) / 3.0
    for i, name in enumerate(("l1_l2", "l2_l3", "l3_l1")):
        values[f"voltage_{name}"] = line[i]
    for i in range(3):
        n = i + 1
        values[f"voltage_l{n}"] = voltages[i]
        values[f"current_l{n}"] = currents[i]
        values[f"power_l{n}"] = phase_power
        values[f"power_factor_l{n}"] = pf
        values[f"phase_angle_l{n}"] = math.degrees(angle)
        values[f"apparent_power_l{n}"] = voltages[i] * currents[i]
        values[f"reactive_power_l{n}"] = abs(phase_power) * tan_phi
        values[f"energy_import_l{n}"] = reading.import_kwh / 3.0
    return values


def _line_to_line(a: float, b: float) -> float:
    """|V_a − V_b| for phasors 120° apart: √(a² + b² + ab)."""
    return math.sqrt(a * a + b * b + a * b)


def _phasor_sum(magnitudes: list[float]) -> float:
    """|Σ I_k ∠(−120° k)| of three phase currents."""
    re = sum(m * math.cos(-2 * math.pi * k / 3) for k, m in enumerate(magnitudes))
    im = sum(m * math.sin(-2 * math.pi * k / 3) for k, m in enumerate(magnitudes))
    return math.hypot(re, im)
