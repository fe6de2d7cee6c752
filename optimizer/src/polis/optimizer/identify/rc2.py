"""The 2R2C zone model: an air node and a mass node, for zones whose short and long
responses differ (a light interior on a heavy structure).

    C_a dT_a/dt = (T_out − T_a)/R_ao + (T_m − T_a)/R_am + Q
    C_m dT_m/dt = (T_a − T_m)/R_am

Q enters the air node and is built as in the 1R1C model. Inputs are held over each step and
the step is taken exactly with the matrix exponential. The mass temperature is not measured:
an observer runs the mass equation on the *measured* air temperature over the whole series
(it is stable, so it forgets its start within a few R_am·C_m), and each window starts from
its value there. Starting the mass at the air temperature instead biased the time constant
by 14 % on a synthetic two-node zone. The overall time constant is R_ao·(C_a + C_m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm
from scipy.optimize import least_squares
from scipy.signal import lfilter

from polis.optimizer.identify.cop import CopLine
from polis.optimizer.identify.rc import (
    DEFAULT_EER,
    FIT_HORIZON_HOURS,
    Stacked,
    ZoneModel,
    free_parameters,
    recurse,
    sandwich_covariance,
    stack,
    vector_of,
)
from polis.optimizer.identify.series import FloatArray, ZoneSeries

NAMES2 = (
    "r_k_per_kw",
    "r_mass_k_per_kw",
    "c_air_kwh_per_k",
    "c_mass_kwh_per_k",
    "gains_occupied_kw",
    "gains_unoccupied_kw",
    "aperture_m2",
    "eer",
)
LOWER2 = np.array([0.01, 0.001, 0.1, 0.1, 0.0, 0.0, 0.0, 1.0])
UPPER2 = np.array([100.0, 100.0, 5000.0, 5000.0, 500.0, 500.0, 1000.0, 12.0])


def step_matrices(x: FloatArray, step_hours: float) -> tuple[FloatArray, FloatArray]:
    """``(Ad, Bd)`` of ``[T_a, T_m]`` with inputs ``[T_out, Q]`` held over one step.

    In closed form: the 2×2 system matrix has two distinct real eigenvalues (its
    off-diagonal terms are both positive), so ``exp(M·h)`` is a combination of ``I`` and
    ``M`` (Sylvester), and ``Bd = M⁻¹(Ad − I)B``. A general matrix exponential per step
    cost 20–100 µs in BLAS calls (and far more with BLAS threads contending on a busy
    machine); this costs a few µs."""
    r_ao, r_am, c_a, c_m = (float(v) for v in x[:4])
    a = -(1.0 / r_ao + 1.0 / r_am) / c_a
    b = 1.0 / (r_am * c_a)
    c = 1.0 / (r_am * c_m)
    d = -1.0 / (r_am * c_m)
    disc = math.sqrt((a - d) ** 2 + 4.0 * b * c)
    if not disc > 1e-12 * abs(a + d):
        return _step_matrices_expm(x, step_hours)
    # det(M) in closed form, and the slow eigenvalue from it: a + d + disc cancels.
    det = 1.0 / (r_ao * r_am * c_a * c_m)
    l2 = (a + d - disc) / 2.0
    l1 = det / l2
    # exp(M·h) = diagonal·I + coupling·M, with diagonal − 1 kept exact through expm1 for
    # Bd = M⁻¹(Ad − I)B, which B's single non-zero row (the air node's) reduces to a column.
    m1, m2 = math.expm1(l1 * step_hours), math.expm1(l2 * step_hours)
    diagonal_less_one = (l1 * m2 - l2 * m1) / disc
    coupling = (m1 - m2) / disc
    a11_less_one = diagonal_less_one + coupling * a
    a12, a21 = coupling * b, coupling * c
    a22_less_one = diagonal_less_one + coupling * d
    p1 = (d * a11_less_one - b * a21) / det
    p2 = (-c * a11_less_one + a * a21) / det
    a11, a22 = 1.0 + a11_less_one, 1.0 + a22_less_one
    ad = np.array([[a11, a12], [a21, a22]])
    bd = np.array([[p1 / (r_ao * c_a), p1 / c_a], [p2 / (r_ao * c_a), p2 / c_a]])
    return ad, bd


def _step_matrices_expm(x: FloatArray, step_hours: float) -> tuple[FloatArray, FloatArray]:
    """The same by the augmented matrix exponential, for the degenerate case."""
    r_ao, r_am, c_a, c_m = x[:4]
    m = np.zeros((4, 4))
    m[0, 0] = -(1.0 / r_ao + 1.0 / r_am) / c_a
    m[0, 1] = 1.0 / (r_am * c_a)
    m[1, 0] = 1.0 / (r_am * c_m)
    m[1, 1] = -1.0 / (r_am * c_m)
    m[0, 2] = 1.0 / (r_ao * c_a)
    m[0, 3] = 1.0 / c_a
    e = expm(m * step_hours)
    return e[:2, :2], e[:2, 2:]


@dataclass(frozen=True)
class ZoneModel2:
    r_k_per_kw: float  # envelope, air to outdoor
    r_mass_k_per_kw: float  # air to mass
    c_air_kwh_per_k: float
    c_mass_kwh_per_k: float
    gains_occupied_kw: float
    gains_unoccupied_kw: float
    aperture_m2: float
    cop: CopLine
    eer: float = DEFAULT_EER

    @property
    def c_kwh_per_k(self) -> float:
        return self.c_air_kwh_per_k + self.c_mass_kwh_per_k

    @property
    def tau_h(self) -> float:
        return self.r_k_per_kw * self.c_kwh_per_k

    def vector(self) -> FloatArray:
        return np.array(
            [
                self.r_k_per_kw,
                self.r_mass_k_per_kw,
                self.c_air_kwh_per_k,
                self.c_mass_kwh_per_k,
                self.gains_occupied_kw,
                self.gains_unoccupied_kw,
                self.aperture_m2,
                self.eer,
            ]
        )

    def _gains(self) -> ZoneModel:
        # The heat terms are the 1R1C model's; only its R and C are unused here.
        return ZoneModel(
            self.r_k_per_kw,
            1.0,
            self.gains_occupied_kw,
            self.gains_unoccupied_kw,
            self.aperture_m2,
            self.cop,
            self.eer,
        )

    def simulate(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
        data = stack(series, [(lo, steps)])
        mass = mass_observer(self.vector(), self.cop, series)[[lo]]
        simulated = simulate_stacked2(self.vector(), self.cop, data, series.step_hours, mass)
        row: FloatArray = simulated[0]
        return row

    def required_power_kw(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray:
        """Heat pump power that makes the air node follow the measured temperatures."""
        ad, bd = step_matrices(self.vector(), series.step_hours)
        t = series.temperature_c[lo : lo + steps + 1]
        out = series.outdoor_c[lo : lo + steps]
        other = self._gains().other_heat_kw(series, lo, lo + steps)
        power = np.empty(steps)
        mass = float(mass_observer(self.vector(), self.cop, series)[lo])
        for k in range(steps):
            free = ad[0, 0] * t[k] + ad[0, 1] * mass + bd[0, 0] * out[k]
            heat = (t[k + 1] - free) / bd[0, 1]
            mass = ad[1, 0] * t[k] + ad[1, 1] * mass + bd[1, 0] * out[k] + bd[1, 1] * heat
            power[k] = heat - other[k]
        result: FloatArray = power / self.cop.at(out)
        return result


def mass_observer(x: FloatArray, cop: CopLine, series: ZoneSeries) -> FloatArray:
    """The mass temperature at every step, driven by the measured air temperature (gaps
    interpolated: the mass is too slow to notice)."""
    ad, bd = step_matrices(x, series.step_hours)
    air = _filled(series.temperature_c)
    outdoor = _filled(series.outdoor_c)
    model = ZoneModel(x[0], 1.0, x[4], x[5], x[6], cop, x[7])
    filled = replace(
        series,
        outdoor_c=outdoor,
        power_kw=np.nan_to_num(series.power_kw),
        irradiance_w_m2=_zeros_for_gaps(series.irradiance_w_m2),
        occupancy=_zeros_for_gaps(series.occupancy),
        cooling_power_kw=_zeros_for_gaps(series.cooling_power_kw),
    )
    drive = ad[1, 0] * air + bd[1, 0] * outdoor + bd[1, 1] * model.heat_kw(filled)
    # m[k+1] = ad11·m[k] + drive[k], from m[0] = air[0]
    mass = np.empty(len(air))
    mass[0] = air[0]
    if len(air) > 1:
        zi = np.array([ad[1, 1] * air[0]])
        mass[1:], _ = lfilter([1.0], [1.0, -ad[1, 1]], drive[:-1], zi=zi)
    return mass


def _filled(values: FloatArray) -> FloatArray:
    ok = np.isfinite(values)
    if not ok.any():
        return np.zeros(len(values))
    index = np.arange(len(values))
    filled: FloatArray = np.interp(index, index[ok], values[ok])
    return filled


def _zeros_for_gaps(values: FloatArray | None) -> FloatArray | None:
    return None if values is None else np.nan_to_num(values)


def simulate_stacked2(
    x: FloatArray, cop: CopLine, data: Stacked, step_hours: float, mass0: FloatArray
) -> FloatArray:
    """Air temperatures at the end of each step of each window, from ``x``.

    Run in the system's modes: with ``Ad = V·diag(μ)·V⁻¹``, each modal coordinate follows a
    first-order recursion (``recurse``, in C for all windows at once) and the air node is
    the sum of the modes' first components."""
    ad, bd = step_matrices(x, step_hours)
    g_occ, g_unocc, aperture, eer = x[4:]
    heat = cop.at(data.outdoor) * data.power + g_unocc + (g_occ - g_unocc) * data.occupancy
    heat = heat + aperture * data.irradiance_kw_m2 - eer * data.cooling
    mu, v, v_inv = _modes(ad)
    if v is None or v_inv is None:
        return _simulate_stepwise(ad, bd, data.outdoor, heat, data.t0, mass0)
    force_air = bd[0, 0] * data.outdoor + bd[0, 1] * heat
    force_mass = bd[1, 0] * data.outdoor + bd[1, 1] * heat
    out: FloatArray = np.zeros(heat.shape)
    for i in range(2):
        modal_force = v_inv[i, 0] * force_air + v_inv[i, 1] * force_mass
        modal_start = v_inv[i, 0] * data.t0 + v_inv[i, 1] * mass0
        out += v[0, i] * recurse(mu[i], modal_force, modal_start)
    return out


def _modes(ad: FloatArray) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """Eigenvalues and eigenvectors of the 2×2 step matrix (real and distinct for an RC
    network: its off-diagonal terms are both positive); None where they are not."""
    a, b, c, d = ad[0, 0], ad[0, 1], ad[1, 0], ad[1, 1]
    disc = float(np.sqrt(max((a - d) ** 2 + 4.0 * b * c, 0.0)))
    if not (b > 0.0 and disc > 1e-12):
        return np.zeros(2), None, None
    mu = np.array([(a + d + disc) / 2.0, (a + d - disc) / 2.0])
    v = np.array([[b, b], [mu[0] - a, mu[1] - a]])
    det = b * (mu[1] - mu[0])
    v_inv = np.array([[mu[1] - a, -b], [-(mu[0] - a), b]]) / det
    return mu, v, v_inv


def _simulate_stepwise(
    ad: FloatArray,
    bd: FloatArray,
    outdoor: FloatArray,
    heat: FloatArray,
    air0: FloatArray,
    mass0: FloatArray,
) -> FloatArray:
    air, mass = air0.copy(), mass0.copy()
    out: FloatArray = np.empty(heat.shape)
    for k in range(heat.shape[1]):
        u_out, u_q = outdoor[:, k], heat[:, k]
        air, mass = (
            ad[0, 0] * air + ad[0, 1] * mass + bd[0, 0] * u_out + bd[0, 1] * u_q,
            ad[1, 0] * air + ad[1, 1] * mass + bd[1, 0] * u_out + bd[1, 1] * u_q,
        )
        out[:, k] = air
    return out


def _start(one: ZoneModel) -> FloatArray:
    """From the 1R1C fit: a light air node (a tenth of C) tightly coupled to the mass."""
    x1 = vector_of(one)
    c = one.c_kwh_per_k
    return np.array([one.r_k_per_kw, one.r_k_per_kw / 10.0, c / 10.0, 0.9 * c, *x1[2:]])


@dataclass(frozen=True)
class Fit2:
    model: ZoneModel2
    rmse_k: float  # simulation error over the training windows
    tau_standard_error_h: float  # of R_ao·(C_a + C_m), cluster-robust as the 1R1C fit's


def fit_2r2c(series: ZoneSeries, one: ZoneModel) -> Fit2 | None:
    """The simulation-error fit started from the 1R1C model."""
    spans = series.fit_windows(round(FIT_HORIZON_HOURS / series.step_hours))
    if not spans:
        return None
    data = stack(series, spans)
    free1: NDArray[np.bool_] = free_parameters(series)
    free = np.concatenate([[True, True, True, True], free1[2:]])
    full = np.clip(_start(one), LOWER2, UPPER2)
    starts = np.array([start for start, _ in spans])

    def residuals(theta: FloatArray) -> FloatArray:
        x = full.copy()
        x[free] = theta
        mass0 = mass_observer(x, one.cop, series)[starts]
        simulated = simulate_stacked2(x, one.cop, data, series.step_hours, mass0)
        error: FloatArray = (simulated - data.measured)[data.mask]
        return error

    result = least_squares(
        residuals,
        full[free],
        bounds=(LOWER2[free], UPPER2[free]),
        x_scale="jac",
        method="trf",
    )
    x = full.copy()
    x[free] = result.x
    r_ao, r_am, c_a, c_m, g_occ, g_unocc, aperture, eer = (float(v) for v in x)
    model = ZoneModel2(r_ao, r_am, c_a, c_m, g_occ, g_unocc, aperture, one.cop, eer)
    cov = sandwich_covariance(result.jac, result.fun, np.nonzero(data.mask)[0])
    grad = np.zeros(int(free.sum()))
    grad[:4] = [c_a + c_m, 0.0, r_ao, r_ao]  # d(τ)/d(R_ao, R_am, C_a, C_m), always free
    tau_error = float(np.sqrt(max(float(grad @ cov @ grad), 0.0)))
    return Fit2(model, float(np.sqrt(np.mean(result.fun**2))), tau_error)


def parameters_at_bound(model: ZoneModel2) -> list[str]:
    """Parameters pinned at a bound of the fit (a zero gain or aperture is no bound)."""
    x = model.vector()
    low = (x <= LOWER2 * 1.001 + 1e-9) & (LOWER2 > 0)
    high = x >= UPPER2 * 0.999
    return [name for name, hit in zip(NAMES2, low | high, strict=True) if hit]
