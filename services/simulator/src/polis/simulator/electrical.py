"""Electrical quantities of a three-phase meter derived from its simulated power (pure).

The model simulates active power and energy; voltages, currents, power factor and frequency
are derived plausibly (balanced phases, a slow deterministic voltage swing) so that a meter's
registers are internally consistent: P = Σ V·I·PF per phase.
"""

from __future__ import annotations

import math

from polis.simulator.config import MeterRole
from polis.simulator.model import MeterReading

NOMINAL_V = 230.0
FREQUENCY_HZ = 50.0
_PF = {MeterRole.PV: 1.0, MeterRole.EV: 0.99, MeterRole.LIGHTING: 0.95}
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
    }
    for i in range(3):
        values[f"voltage_l{i + 1}"] = voltages[i]
        values[f"current_l{i + 1}"] = currents[i]
        values[f"power_l{i + 1}"] = phase_power
        values[f"power_factor_l{i + 1}"] = pf
    return values
