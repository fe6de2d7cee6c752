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

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.signal import lfilter

from polis.optimizer.identify.cop import CopLine
from polis.optimizer.identify.series import FloatArray, ZoneSeries
from polis.optimizer.identify.series import windows as windows  # where it was defined before

# Parameter vector: tau (h), R (K/kW), occupied and unoccupied gains (kW), aperture (m2), EER
NAMES = ("tau_h", "r_k_per_kw", "gains_occupied_kw", "gains_unoccupied_kw", "aperture_m2", "eer")
LOWER = np.array([0.5, 0.01, 0.0, 0.0, 0.0, 1.0])
UPPER = np.array([2000.0, 100.0, 500.0, 500.0, 1000.0, 12.0])
DEFAULT_EER = 3.0  # where the zone never cooled; it then multiplies zero power
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
    measured = rows(series.temperature_c, offset=1, fill=np.nan)
    return Stacked(
        t0=np.array([series.temperature_c[s] for s, _ in spans]),
        outdoor=rows(series.outdoor_c),
        power=rows(series.power_kw),
        cooling=rows(series.cooling_power_kw),
        occupancy=rows(series.occupancy),
        irradiance_kw_m2=irradiance,
        measured=measured,
        mask=mask & np.isfinite(measured),  # a window runs through missing temperatures
    )


def simulate_stacked(x: FloatArray, cop: CopLine, data: Stacked, step_hours: float) -> FloatArray:
    """Temperatures at the end of each step of each window, from parameters ``x``."""
    tau, r, g_occ, g_unocc, aperture, eer = x
    a = np.exp(-step_hours / tau)
    heat = cop.at(data.outdoor) * data.power + g_unocc + (g_occ - g_unocc) * data.occupancy
    heat = heat + aperture * data.irradiance_kw_m2 - eer * data.cooling
    drive = (1.0 - a) * (data.outdoor + r * heat)
    return recurse(a, drive, data.t0)


def recurse(a: float, drive: FloatArray, start: FloatArray) -> FloatArray:
    """``t[k+1] = a·t[k] + drive[k]`` along each row from ``t[0] = start``: the values
    after each step. A first-order filter in C (``lfilter``), all rows at once."""
    if drive.shape[1] == 0:
        return np.empty(drive.shape)
    out, _ = lfilter([1.0], [1.0, -a], drive, axis=1, zi=(a * start)[:, None])
    result: FloatArray = out
    return result


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
    """The least-squares simulation-error fit, or None without enough valid windows.

    Each window's start temperature is estimated with the parameters, as a measurement
    like the others: the measured start is one more residual, not a fixed value (see
    ``windows_started``). A noisy start the simulation must begin from otherwise decays
    along the window as if it were the zone's own response, and the fit shortens τ to
    forget it sooner: 0.3 K of sensor noise took 45 % off a 26 h time constant."""
    spans = series.fit_windows(round(FIT_HORIZON_HOURS / series.step_hours))
    if not spans:
        return None
    data = stack(series, spans)
    free = free_parameters(series)
    full = one_step_start(series, cop)
    full[~free] = np.where(np.arange(len(NAMES)) == len(NAMES) - 1, DEFAULT_EER, 0.0)[~free]
    measured = np.where(data.mask, data.measured, 0.0)

    def residuals(theta: FloatArray) -> FloatArray:
        x = full.copy()
        x[free] = theta
        sim, starts = windows_started(x, cop, data, measured, series.step_hours)
        return np.concatenate([(sim - data.measured)[data.mask], starts - data.t0])

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
    # the window of each residual: the steps' in mask order, then each start's
    clusters = np.concatenate([np.nonzero(data.mask)[0], np.arange(len(spans))])
    errors = _standard_errors(result.jac, result.fun, x, free, clusters)
    names = [n for n, f in zip(NAMES, free, strict=True) if f]
    at_bound = tuple(
        name
        for name, value, lo, hi in zip(names, result.x, lower, upper, strict=True)
        if (value <= lo * 1.001 + 1e-9 and lo > 0) or value >= hi * 0.999
    )
    steps = int(data.mask.sum())
    rmse = float(np.sqrt(np.mean(result.fun[:steps] ** 2)))
    return Fit(model_of(x, cop), errors, at_bound, rmse, len(spans), steps)


def windows_started(
    x: FloatArray, cop: CopLine, data: Stacked, measured: FloatArray, step_hours: float
) -> tuple[FloatArray, FloatArray]:
    """Each window simulated from the start temperature that fits it best, and those starts.

    The simulation is linear in its start: ``T[k] = forced[k] + a^(k+1)·T0``. The start
    minimising the squared error over the window's measured temperatures *and* its measured
    start (equal weights: the same sensor) is closed-form, so it is solved for at each
    evaluation instead of being one more parameter per window (variable projection)."""
    a = float(np.exp(-step_hours / x[0]))
    forced = simulate_stacked(x, cop, replace(data, t0=np.zeros(len(data.t0))), step_hours)
    decay = a ** np.arange(1, forced.shape[1] + 1)
    weights = np.where(data.mask, decay, 0.0)
    numerator = data.t0 + np.sum(weights * (measured - np.where(data.mask, forced, 0.0)), axis=1)
    starts = numerator / (1.0 + np.sum(weights**2, axis=1))
    simulated: FloatArray = forced + starts[:, None] * decay
    return simulated, starts


def _standard_errors(
    jac: FloatArray,
    fun: FloatArray,
    x: FloatArray,
    free: NDArray[np.bool_],
    clusters: NDArray[np.intp],
) -> dict[str, float]:
    """Cluster-robust (sandwich) standard errors with each window as a cluster, and C's
    by the delta method through τ and R.

    A simulation's residuals are correlated along its window (a wrong start or a missed
    gain shows for hours), so the textbook ``s²·(JᵀJ)⁻¹`` counts every step as news: its
    τ error was 4–11 times smaller than this one on the simulator's zones. Windows start
    from their own measurements and are close to independent: the sandwich
    ``B·(Σ_w g_w g_wᵀ)·B``, ``B = (JᵀJ)⁻¹`` and ``g_w`` the window's summed score
    ``J_wᵀ r_w``, counts each window once. It tells a zone whose data pin τ down from one
    whose data do not (a constant setpoint read by a coarse sensor), and grows where the
    model misses an input. Bias from the model's own simplifications it does not show."""
    cov = sandwich_covariance(jac, fun, clusters)
    names = [n for n, f in zip(NAMES, free, strict=True) if f]
    errors = {n: float(np.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(names)}
    tau, r = x[0], x[1]
    grad = np.array([1.0 / r, -tau / r**2])
    var_c = float(grad @ cov[:2, :2] @ grad)
    errors["c_kwh_per_k"] = float(np.sqrt(max(var_c, 0.0)))
    return errors


def sandwich_covariance(jac: FloatArray, fun: FloatArray, clusters: NDArray[np.intp]) -> FloatArray:
    """The parameters' covariance, cluster-robust (see ``_standard_errors``); the textbook
    ``s²·(JᵀJ)⁻¹`` where there are fewer than two clusters."""
    bread = np.asarray(np.linalg.pinv(jac.T @ jac), dtype=np.float64)
    groups = int(clusters.max()) + 1 if len(clusters) else 0
    if groups < 2:
        dof = max(1, len(fun) - jac.shape[1])
        textbook: FloatArray = float(fun @ fun) / dof * bread
        return textbook
    scores = np.zeros((groups, jac.shape[1]))
    np.add.at(scores, clusters, jac * fun[:, None])
    cov: FloatArray = bread @ (scores.T @ scores) @ bread * (groups / (groups - 1))
    return cov


def simulate(model: ZoneModel, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
    """Temperatures at the end of steps ``lo .. lo+steps−1``, from the measured ``T[lo]``."""
    spans = [(lo, steps)]
    data = stack(series, spans)
    simulated: FloatArray = simulate_stacked(vector_of(model), model.cop, data, series.step_hours)
    row: FloatArray = simulated[0]
    return row
