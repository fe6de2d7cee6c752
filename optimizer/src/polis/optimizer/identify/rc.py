"""The 1R1C grey-box zone model: simulation on measured inputs and its least-squares fit.

``C dT/dt = (T_out − T)/R + Q``,
``Q = COP(T_out)·P_heat − EER·P_cool + g_u + (g_o − g_u)·occ + A·I``,
with the inputs held over each step, discretises exactly to

    T[k+1] = a·T[k] + (1 − a)·(T_out[k] + R·Q[k]),   a = exp(−Δt / (R·C)).

The fit minimises the *simulation* error: windows of up to 24 h of valid data, each started
from its measured temperature and run on measured inputs only, which is how the optimizer
uses the model. A one-step (equation-error) regression gives the starting point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from polis.optimizer.identify.cop import CopLine
from polis.optimizer.identify.series import FloatArray, ZoneSeries

# Parameter vector: tau (h), R (K/kW), occupied and unoccupied gains (kW), aperture (m2), EER
NAMES = ("tau_h", "r_k_per_kw", "gains_occupied_kw", "gains_unoccupied_kw", "aperture_m2", "eer")
LOWER = np.array([0.5, 0.01, 0.0, 0.0, 0.0, 1.0])
UPPER = np.array([2000.0, 100.0, 500.0, 500.0, 1000.0, 12.0])
DEFAULT_EER = 3.0  # where the zone never cooled; it then multiplies zero power
MIN_WINDOW_STEPS = 4
FIT_HORIZON_HOURS = 24.0


@dataclass(frozen=True)
class ZoneModel:
    r_k_per_kw: float
    c_kwh_per_k: float
    gains_occupied_kw: float
    gains_unoccupied_kw: float
    aperture_m2: float
    cop: CopLine
    eer: float = DEFAULT_EER

    @property
    def tau_h(self) -> float:
        return self.r_k_per_kw * self.c_kwh_per_k

    def heat_kw(self, series: ZoneSeries, lo: int = 0, hi: int | None = None) -> FloatArray:
        """Heat into the zone over each step: heat pump, gains and sun."""
        span = slice(lo, hi)
        q = self.cop.at(series.outdoor_c[span]) * series.power_kw[span]
        return q + self.other_heat_kw(series, lo, hi)

    def other_heat_kw(self, series: ZoneSeries, lo: int = 0, hi: int | None = None) -> FloatArray:
        span = slice(lo, hi)
        q = np.full(len(series.outdoor_c[span]), self.gains_unoccupied_kw)
        if series.occupancy is not None:
            q = q + (self.gains_occupied_kw - self.gains_unoccupied_kw) * series.occupancy[span]
        if series.irradiance_w_m2 is not None:
            q = q + self.aperture_m2 * series.irradiance_w_m2[span] / 1000.0
        if series.cooling_power_kw is not None:
            q = q - self.eer * series.cooling_power_kw[span]
        return q

    def decay(self, step_hours: float) -> float:
        return float(np.exp(-step_hours / self.tau_h))

    def simulate(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
        return simulate(self, series, lo, steps)

    def required_power_kw(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
        """The heat pump power that makes the model follow the measured temperatures.

        Not clipped at zero per step: sensor noise then cancels over a day instead of
        adding up (a 0.1 K noise made a clipped day's energy 90 % too high)."""
        a = self.decay(series.step_hours)
        t = series.temperature_c[lo : lo + steps + 1]
        out = series.outdoor_c[lo : lo + steps]
        other = self.other_heat_kw(series, lo, lo + steps)
        heat = (t[1:] - a * t[:-1]) / ((1.0 - a) * self.r_k_per_kw) - out / self.r_k_per_kw
        power: FloatArray = (heat - other) / self.cop.at(out)
        return power


def windows(valid: NDArray[np.bool_], length: int) -> list[tuple[int, int]]:
    """``(start, steps)`` of consecutive valid steps, cut into pieces of at most ``length``.

    A window of ``steps`` steps needs the temperature at its end too, so it stops one step
    before the next gap.
    """
    out: list[tuple[int, int]] = []
    n = len(valid)
    k = 0
    while k < n:
        if not valid[k]:
            k += 1
            continue
        end = k
        while end < n and valid[end]:
            end += 1
        run = end - k - 1  # steps with a measured end temperature
        for start in range(k, k + run, length):
            steps = min(length, k + run - start)
            if steps >= MIN_WINDOW_STEPS:
                out.append((start, steps))
        k = end
    return out


@dataclass(frozen=True)
class Stacked:
    """Windows laid out as rows, padded with NaN, for a vectorised simulation."""

    t0: FloatArray  # (w,) measured start temperatures
    outdoor: FloatArray  # (w, L)
    power: FloatArray
    cooling: FloatArray
    occupancy: FloatArray
    irradiance_kw_m2: FloatArray
    measured: FloatArray  # (w, L): temperature at the end of each step
    mask: NDArray[np.bool_]


def stack(series: ZoneSeries, spans: list[tuple[int, int]]) -> Stacked:
    length = max((s for _, s in spans), default=0)
    shape = (len(spans), length)

    def rows(values: FloatArray | None, offset: int = 0, fill: float = 0.0) -> FloatArray:
        out = np.full(shape, fill)
        if values is not None:
            for i, (start, steps) in enumerate(spans):
                out[i, :steps] = values[start + offset : start + offset + steps]
        return out

    mask = np.zeros(shape, dtype=bool)
    for i, (_, steps) in enumerate(spans):
        mask[i, :steps] = True
    irradiance = rows(series.irradiance_w_m2) / 1000.0
    return Stacked(
        t0=np.array([series.temperature_c[s] for s, _ in spans]),
        outdoor=rows(series.outdoor_c),
        power=rows(series.power_kw),
        cooling=rows(series.cooling_power_kw),
        occupancy=rows(series.occupancy),
        irradiance_kw_m2=irradiance,
        measured=rows(series.temperature_c, offset=1, fill=np.nan),
        mask=mask,
    )


def simulate_stacked(x: FloatArray, cop: CopLine, data: Stacked, step_hours: float) -> FloatArray:
    """Temperatures at the end of each step of each window, from parameters ``x``."""
    tau, r, g_occ, g_unocc, aperture, eer = x
    a = np.exp(-step_hours / tau)
    heat = cop.at(data.outdoor) * data.power + g_unocc + (g_occ - g_unocc) * data.occupancy
    heat = heat + aperture * data.irradiance_kw_m2 - eer * data.cooling
    drive = (1.0 - a) * (data.outdoor + r * heat)
    out: FloatArray = np.empty(drive.shape)
    t = data.t0.copy()
    for k in range(drive.shape[1]):
        t = a * t + drive[:, k]
        out[:, k] = t
    return out


def model_of(x: FloatArray, cop: CopLine) -> ZoneModel:
    tau, r, g_occ, g_unocc, aperture, eer = (float(v) for v in x)
    return ZoneModel(r, tau / r, g_occ, g_unocc, aperture, cop, eer)


def vector_of(model: ZoneModel) -> FloatArray:
    return np.array(
        [
            model.tau_h,
            model.r_k_per_kw,
            model.gains_occupied_kw,
            model.gains_unoccupied_kw,
            model.aperture_m2,
            model.eer,
        ]
    )


def free_parameters(series: ZoneSeries) -> NDArray[np.bool_]:
    """Occupied gains need an occupancy series, the aperture an irradiance series, the EER
    some cooling."""
    cools = series.cooling_power_kw is not None and bool(np.nansum(series.cooling_power_kw) > 0)
    return np.array(
        [
            True,
            True,
            series.occupancy is not None,
            True,
            series.irradiance_w_m2 is not None,
            cools,
        ]
    )


def one_step_start(series: ZoneSeries, cop: CopLine) -> FloatArray:
    """Equation-error regression of T[k+1] − T_out[k] on the discrete model's regressors."""
    ok = series.valid_steps()[:-1] & np.isfinite(series.temperature_c[1:])
    t, out = series.temperature_c[:-1][ok], series.outdoor_c[:-1][ok]
    hp = (cop.at(series.outdoor_c) * series.power_kw)[:-1][ok]
    occ = series.occupancy[:-1][ok] if series.occupancy is not None else np.zeros_like(t)
    sun = (
        series.irradiance_w_m2[:-1][ok] / 1000.0
        if series.irradiance_w_m2 is not None
        else np.zeros_like(t)
    )
    cool = (
        series.cooling_power_kw[:-1][ok]
        if series.cooling_power_kw is not None
        else np.zeros_like(t)
    )
    x0 = np.array([24.0, 1.0, 0.0, 0.0, 0.0, DEFAULT_EER])
    if len(t) < 10 or not np.any(hp > 0):
        return x0
    columns = np.column_stack([t - out, hp, occ, 1.0 - occ, sun, -cool])
    y = series.temperature_c[1:][ok] - out
    coef, *_ = np.linalg.lstsq(columns, y, rcond=None)
    a, b_hp = float(coef[0]), float(coef[1])
    if not (0.0 < a < 1.0) or b_hp <= 0.0:
        return x0
    r = b_hp / (1.0 - a)
    x = np.array([-series.step_hours / np.log(a), r, *(coef[2:] / b_hp)])
    if not np.any(cool > 0):
        x[5] = DEFAULT_EER
    start: FloatArray = np.clip(x, LOWER * 1.01 + 1e-6, UPPER * 0.99)
    return start


@dataclass(frozen=True)
class Fit:
    model: ZoneModel
    standard_errors: dict[str, float]  # of the fitted parameters and of C (delta method)
    at_bound: tuple[str, ...]
    rmse_k: float  # simulation error over the training windows
    windows: int
    steps: int


def fit_1r1c(series: ZoneSeries, cop: CopLine) -> Fit | None:
    """The least-squares simulation-error fit, or None without enough valid windows."""
    length = round(FIT_HORIZON_HOURS / series.step_hours)
    spans = windows(series.valid_steps(), length)
    if not spans:
        return None
    data = stack(series, spans)
    free = free_parameters(series)
    full = one_step_start(series, cop)
    full[~free] = np.where(np.arange(len(NAMES)) == len(NAMES) - 1, DEFAULT_EER, 0.0)[~free]

    def residuals(theta: FloatArray) -> FloatArray:
        x = full.copy()
        x[free] = theta
        sim = simulate_stacked(x, cop, data, series.step_hours)
        return (sim - data.measured)[data.mask]

    lower, upper = LOWER[free], UPPER[free]
    result = least_squares(
        residuals,
        np.clip(full[free], lower, upper),
        bounds=(lower, upper),
        x_scale="jac",
        method="trf",
    )
    x = full.copy()
    x[free] = result.x
    errors = _standard_errors(result.jac, result.fun, x, free)
    names = [n for n, f in zip(NAMES, free, strict=True) if f]
    at_bound = tuple(
        name
        for name, value, lo, hi in zip(names, result.x, lower, upper, strict=True)
        if (value <= lo * 1.001 + 1e-9 and lo > 0) or value >= hi * 0.999
    )
    rmse = float(np.sqrt(np.mean(result.fun**2)))
    return Fit(model_of(x, cop), errors, at_bound, rmse, len(spans), int(data.mask.sum()))


def _standard_errors(
    jac: FloatArray, fun: FloatArray, x: FloatArray, free: NDArray[np.bool_]
) -> dict[str, float]:
    """From the Jacobian at the optimum: cov = s²·(JᵀJ)⁻¹. Simulation residuals are
    autocorrelated, so these are lower bounds on the true uncertainty; they serve to spot
    parameters the data do not determine (a huge relative error), not as confidence limits."""
    dof = max(1, len(fun) - int(free.sum()))
    s2 = float(fun @ fun) / dof
    cov = s2 * np.linalg.pinv(jac.T @ jac)
    names = [n for n, f in zip(NAMES, free, strict=True) if f]
    errors = {n: float(np.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(names)}
    # C = tau / R: first-order propagation through the (tau, R) block.
    tau, r = x[0], x[1]
    grad = np.array([1.0 / r, -tau / r**2])
    var_c = float(grad @ cov[:2, :2] @ grad)
    errors["c_kwh_per_k"] = float(np.sqrt(max(var_c, 0.0)))
    return errors


def simulate(model: ZoneModel, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
    """Temperatures at the end of steps ``lo .. lo+steps−1``, from the measured ``T[lo]``."""
    spans = [(lo, steps)]
    data = stack(series, spans)
    simulated: FloatArray = simulate_stacked(vector_of(model), model.cop, data, series.step_hours)
    row: FloatArray = simulated[0]
    return row
