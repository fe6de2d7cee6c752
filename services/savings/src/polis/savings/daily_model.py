"""Daily change-point degree-day baseline (CalTRACK daily methods).

Usage per day is regressed on heating and cooling degree days computed from the day's mean
outdoor temperature, HDD(b) = max(b - T, 0), CDD(b) = max(T - b, 0). Candidates:

- intercept only;
- HDD only and CDD only, for every balance point on the grid;
- HDD + CDD for every pair of balance points with heating <= cooling.

A candidate qualifies when every slope is positive and significant (two-sided p < 0.1) and its
degree days are sufficient (at least 10 days with non-zero degree days and 20 °F-days in
total, i.e. 11.1 °C-days). The qualifying candidate with the highest adjusted R^2 wins. The
grid is CalTRACK's 30-90 °F in 1 °F steps, expressed in °C.

All candidate fits are closed-form least squares evaluated in bulk with numpy, so a year of
data is fitted in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from polis.savings.statistics import adjusted_r_squared
from polis.savings.tdist import t_critical, t_two_sided_p


def fahrenheit_to_celsius(value: ArrayLike) -> NDArray[np.float64]:
    return (np.asarray(value, dtype=float) - 32.0) * 5.0 / 9.0


#: CalTRACK balance-point grid, 30-90 °F in 1 °F steps, in °C.
CALTRACK_BALANCE_POINTS_C: tuple[float, ...] = tuple(
    float(v) for v in fahrenheit_to_celsius(np.arange(30, 91))
)


@dataclass(frozen=True, slots=True)
class DailyModelOptions:
    heating_balance_points_c: tuple[float, ...] = CALTRACK_BALANCE_POINTS_C
    cooling_balance_points_c: tuple[float, ...] = CALTRACK_BALANCE_POINTS_C
    max_p_value: float = 0.1
    min_nonzero_degree_days: int = 10
    min_total_degree_days_c: float = 20.0 * 5.0 / 9.0
    fit_heating: bool = True
    fit_cooling: bool = True


@dataclass(frozen=True, slots=True)
class DailyModel:
    """A fitted daily model: usage/day = intercept + beta_hdd HDD(hb) + beta_cdd CDD(cb)."""

    kind: str  # "intercept_only", "hdd_only", "cdd_only", "hdd_cdd"
    intercept: float
    beta_hdd: float = 0.0
    beta_cdd: float = 0.0
    heating_balance_point_c: float | None = None
    cooling_balance_point_c: float | None = None
    r_squared: float = 0.0
    adjusted_r_squared: float = 0.0
    p_values: dict[str, float] = field(default_factory=dict)
    candidates_tried: int = 1
    candidates_qualified: int = 1

    @property
    def parameters(self) -> int:
        """Coefficients plus balance points (ASHRAE counts change points as parameters)."""
        return {"intercept_only": 1, "hdd_only": 3, "cdd_only": 3, "hdd_cdd": 5}[self.kind]

    @property
    def label(self) -> str:
        names = {
            "intercept_only": "intercept only",
            "hdd_only": "HDD",
            "cdd_only": "CDD",
            "hdd_cdd": "HDD+CDD",
        }
        return f"daily change-point ({names[self.kind]})"

    def predict(self, temperature_c: ArrayLike) -> NDArray[np.float64]:
        """Usage per day for daily mean temperatures (NaN where the temperature is missing)."""
        t = np.asarray(temperature_c, dtype=float)
        y = np.full(t.shape, self.intercept)
        if self.heating_balance_point_c is not None:
            y = y + self.beta_hdd * np.maximum(self.heating_balance_point_c - t, 0.0)
        if self.cooling_balance_point_c is not None:
            y = y + self.beta_cdd * np.maximum(t - self.cooling_balance_point_c, 0.0)
        return np.where(np.isfinite(t), y, np.nan)


def _r2_adj(ss_res: NDArray[np.float64], ss_tot: float, n: int, k: int) -> NDArray[np.float64]:
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else np.zeros_like(ss_res)
    return np.asarray(1.0 - (1.0 - r2) * (n - 1) / (n - k - 1))


def fit_daily_model(
    usage_kwh: ArrayLike, temperature_c: ArrayLike, options: DailyModelOptions | None = None
) -> DailyModel:
    """Select and fit the CalTRACK daily model on days with both usage and temperature."""
    opts = options or DailyModelOptions()
    y_all = np.asarray(usage_kwh, dtype=float)
    t_all = np.asarray(temperature_c, dtype=float)
    ok = np.isfinite(y_all) & np.isfinite(t_all)
    y, t = y_all[ok], t_all[ok]
    n = int(y.size)
    if n < 10:
        raise ValueError(f"too few days with usage and temperature to fit ({n})")
    y_mean = float(y.mean())
    yc = y - y_mean
    ss_tot = float(yc @ yc)

    best = DailyModel(kind="intercept_only", intercept=y_mean)
    best_score = 0.0  # adjusted R^2 of the intercept-only model
    tried, qualified = 1, 1

    def sufficient(dd: NDArray[np.float64]) -> NDArray[np.bool_]:
        return np.asarray(
            ((dd > 0).sum(axis=0) >= opts.min_nonzero_degree_days)
            & (dd.sum(axis=0) >= opts.min_total_degree_days_c)
        )

    singles: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    if opts.fit_heating and opts.heating_balance_points_c:
        hb = np.asarray(opts.heating_balance_points_c, dtype=float)
        singles["hdd"] = (hb, np.maximum(hb[None, :] - t[:, None], 0.0))
    if opts.fit_cooling and opts.cooling_balance_points_c:
        cb = np.asarray(opts.cooling_balance_points_c, dtype=float)
        singles["cdd"] = (cb, np.maximum(t[:, None] - cb[None, :], 0.0))

    t_crit_1 = t_critical(1.0 - opts.max_p_value, n - 2)
    centred: dict[str, NDArray[np.float64]] = {}
    for name, (points, dd) in singles.items():
        xc = dd - dd.mean(axis=0)
        centred[name] = xc
        sxx = np.einsum("ij,ij->j", xc, xc)
        sxy = np.einsum("ij,i->j", xc, yc)
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = sxy / sxx
            ss_res = ss_tot - beta * sxy
            se = np.sqrt(ss_res / (n - 2) / sxx)
            tstat = beta / se
        valid = sufficient(dd) & (sxx > 0) & (beta > 0) & (tstat > t_crit_1)
        tried += points.size
        qualified += int(valid.sum())
        if not valid.any():
            continue
        score = np.where(valid, _r2_adj(ss_res, ss_tot, n, 1), -np.inf)
        j = int(np.argmax(score))
        if score[j] > best_score:
            best_score = float(score[j])
            mean_dd = float(dd[:, j].mean())
            intercept = y_mean - float(beta[j]) * mean_dd
            p = t_two_sided_p(float(tstat[j]), n - 2)
            if name == "hdd":
                best = DailyModel(
                    kind="hdd_only",
                    intercept=intercept,
                    beta_hdd=float(beta[j]),
                    heating_balance_point_c=float(points[j]),
                    p_values={"beta_hdd": p},
                )
            else:
                best = DailyModel(
                    kind="cdd_only",
                    intercept=intercept,
                    beta_cdd=float(beta[j]),
                    cooling_balance_point_c=float(points[j]),
                    p_values={"beta_cdd": p},
                )

    if "hdd" in singles and "cdd" in singles:
        hb, hdd = singles["hdd"]
        cb, cdd = singles["cdd"]
        hc, cc = centred["hdd"], centred["cdd"]
        shh = np.einsum("ij,ij->j", hc, hc)[:, None]
        scc = np.einsum("ij,ij->j", cc, cc)[None, :]
        # einsum rather than BLAS: small products, and no thread pool to contend for
        shc = np.einsum("ni,nj->ij", hc, cc)
        shy = np.einsum("ni,n->i", hc, yc)[:, None]
        scy = np.einsum("ni,n->i", cc, yc)[None, :]
        det = shh * scc - shc * shc
        pair_ok = (hb[:, None] <= cb[None, :]) & sufficient(hdd)[:, None] & sufficient(cdd)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            b_h = (scc * shy - shc * scy) / det
            b_c = (shh * scy - shc * shy) / det
            ss_res = ss_tot - b_h * shy - b_c * scy
            sigma2 = ss_res / (n - 3)
            t_h = b_h / np.sqrt(sigma2 * scc / det)
            t_c = b_c / np.sqrt(sigma2 * shh / det)
        t_crit_2 = t_critical(1.0 - opts.max_p_value, n - 3)
        valid = (
            pair_ok
            & (det > 1e-9 * shh * scc)
            & (b_h > 0)
            & (b_c > 0)
            & (t_h > t_crit_2)
            & (t_c > t_crit_2)
        )
        tried += int((hb[:, None] <= cb[None, :]).sum())
        qualified += int(valid.sum())
        if valid.any():
            score = np.where(valid, _r2_adj(ss_res, ss_tot, n, 2), -np.inf)
            flat = int(np.argmax(score))
            i, j = divmod(flat, score.shape[1])
            if score[i, j] > best_score:
                best_score = float(score[i, j])
                bh, bc = float(b_h[i, j]), float(b_c[i, j])
                intercept = y_mean - bh * float(hdd[:, i].mean()) - bc * float(cdd[:, j].mean())
                best = DailyModel(
                    kind="hdd_cdd",
                    intercept=intercept,
                    beta_hdd=bh,
                    beta_cdd=bc,
                    heating_balance_point_c=float(hb[i]),
                    cooling_balance_point_c=float(cb[j]),
                    p_values={
                        "beta_hdd": t_two_sided_p(float(t_h[i, j]), n - 3),
                        "beta_cdd": t_two_sided_p(float(t_c[i, j]), n - 3),
                    },
                )

    predicted = best.predict(t)
    resid = y - predicted
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 0.0
    regressors = {"intercept_only": 0, "hdd_only": 1, "cdd_only": 1, "hdd_cdd": 2}[best.kind]
    return DailyModel(
        kind=best.kind,
        intercept=best.intercept,
        beta_hdd=best.beta_hdd,
        beta_cdd=best.beta_cdd,
        heating_balance_point_c=best.heating_balance_point_c,
        cooling_balance_point_c=best.cooling_balance_point_c,
        r_squared=r2,
        adjusted_r_squared=adjusted_r_squared(r2, n, regressors) if regressors else 0.0,
        p_values=best.p_values,
        candidates_tried=tried,
        candidates_qualified=qualified,
    )
