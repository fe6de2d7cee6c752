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

Day types (optional): each day-type code (weekday, weekend, closed day — see
``polis.savings.closures``) gets its own intercept, with the degree-day slopes shared. The
candidates are then solved on usage and degree days centred within each day type (the
Frisch-Waugh-Lovell theorem: the slopes are those of the full regression with day-type
indicators), so the grid search costs the same; the degrees of freedom lose one per extra type.

All candidate fits are closed-form least squares evaluated in bulk with numpy, so a year of
data is fitted in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    #: Intercept per day-type code (NaN for a type the baseline never saw); empty without
    #: day types, when ``intercept`` applies to every day.
    day_intercepts: tuple[float, ...] = ()

    @property
    def day_type_count(self) -> int:
        return int(np.isfinite(self.day_intercepts).sum()) if self.day_intercepts else 1

    @property
    def parameters(self) -> int:
        """Coefficients plus balance points (ASHRAE counts change points as parameters)."""
        base = {"intercept_only": 1, "hdd_only": 3, "cdd_only": 3, "hdd_cdd": 5}[self.kind]
        return base + self.day_type_count - 1

    @property
    def label(self) -> str:
        names = {
            "intercept_only": "intercept only",
            "hdd_only": "HDD",
            "cdd_only": "CDD",
            "hdd_cdd": "HDD+CDD",
        }
        types = f", {self.day_type_count} day types" if self.day_intercepts else ""
        return f"daily change-point ({names[self.kind]}{types})"

    def predict(
        self, temperature_c: ArrayLike, day_type: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Usage per day for daily mean temperatures and day types.

        NaN where the temperature is missing or the day type was not in the baseline.
        """
        t = np.asarray(temperature_c, dtype=float)
        if self.day_intercepts:
            if day_type is None:
                raise ValueError("this model has day types: give each day's day type")
            codes = np.asarray(day_type, dtype=np.int64)
            table = np.asarray(self.day_intercepts, dtype=float)
            inside = (codes >= 0) & (codes < table.size)
            y = np.where(inside, table[np.clip(codes, 0, table.size - 1)], np.nan)
        else:
            y = np.full(t.shape, self.intercept)
        if self.heating_balance_point_c is not None:
            y = y + self.beta_hdd * np.maximum(self.heating_balance_point_c - t, 0.0)
        if self.cooling_balance_point_c is not None:
            y = y + self.beta_cdd * np.maximum(t - self.cooling_balance_point_c, 0.0)
        return np.where(np.isfinite(t), y, np.nan)


def _r2_adj(ss_res: NDArray[np.float64], ss_tot: float, n: int, k: int) -> NDArray[np.float64]:
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else np.zeros_like(ss_res)
    return np.asarray(1.0 - (1.0 - r2) * (n - 1) / (n - k - 1))


class _Groups:
    """Day-type groups of the fitted days: centring within groups and group means."""

    def __init__(self, day_type: NDArray[np.int64] | None, n: int) -> None:
        if day_type is None:
            self.codes: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
            self.index = np.zeros(n, dtype=np.int64)
        else:
            self.codes, self.index = np.unique(day_type, return_inverse=True)
        self.count = max(int(self.codes.size), 1)
        self.sizes = np.bincount(self.index, minlength=self.count).astype(float)

    def means(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Group means of a vector (g,) or of each column of a matrix (g, k)."""
        if values.ndim == 1:
            sums1 = np.bincount(self.index, weights=values, minlength=self.count)
            return np.asarray(sums1 / self.sizes, dtype=float)
        sums = np.zeros((self.count, values.shape[1]))
        np.add.at(sums, self.index, values)
        return np.asarray(sums / self.sizes[:, None], dtype=float)

    def centre(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return values - self.means(values)[self.index]


#: A candidate's balance points and degree-day columns: (heating, cooling), None where unused.
_Pair = tuple[float | None, float | None]
_Columns = tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]


@dataclass(frozen=True, slots=True)
class _Days:
    """The days fitted (usage and temperature both known) and the sums every candidate shares."""

    y: NDArray[np.float64]
    t: NDArray[np.float64]
    types: NDArray[np.int64] | None
    groups: _Groups
    ss_tot: float  # about the overall mean
    yc: NDArray[np.float64]  # usage centred within day types
    ss_within: float

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def extra(self) -> int:
        """Intercepts beyond the first."""
        return self.groups.count - 1

    def day_type_only_score(self) -> float:
        """Adjusted R^2 of the day-type-only model (0 for the intercept-only model)."""
        if not self.extra:
            return 0.0
        return float(_r2_adj(np.asarray(self.ss_within), self.ss_tot, self.n, self.extra))


def _fitted_day_types(
    day_type: ArrayLike | None, shape: tuple[int, ...], ok: NDArray[np.bool_]
) -> NDArray[np.int64] | None:
    if day_type is None:
        return None
    types = np.asarray(day_type, dtype=np.int64)
    if types.shape != shape:
        raise ValueError("day_type must give one code per day")
    if (types < 0).any():
        raise ValueError("day-type codes must be >= 0")
    return types[ok]


def _days(usage_kwh: ArrayLike, temperature_c: ArrayLike, day_type: ArrayLike | None) -> _Days:
    y_all = np.asarray(usage_kwh, dtype=float)
    t_all = np.asarray(temperature_c, dtype=float)
    ok = np.isfinite(y_all) & np.isfinite(t_all)
    y, t = y_all[ok], t_all[ok]
    n = int(y.size)
    if n < 10:
        raise ValueError(f"too few days with usage and temperature to fit ({n})")
    types = _fitted_day_types(day_type, y_all.shape, ok)
    groups = _Groups(types, n)
    y_mean = float(y.mean())
    ss_tot = float((y - y_mean) @ (y - y_mean))
    yc = groups.centre(y)
    return _Days(y, t, types, groups, ss_tot, yc, float(yc @ yc))


@dataclass(slots=True)
class _Selection:
    """The qualifying candidate with the highest adjusted R^2 so far, and the search's counts."""

    score: float
    kind: str = "intercept_only"
    beta: tuple[float, float] = (0.0, 0.0)
    points: _Pair = (None, None)
    columns: _Columns = (None, None)
    p_values: dict[str, float] = field(default_factory=dict)
    tried: int = 1
    qualified: int = 1

    def count(self, tried: int, valid: NDArray[np.bool_]) -> None:
        self.tried += tried
        self.qualified += int(valid.sum())


def _sufficient(dd: NDArray[np.float64], opts: DailyModelOptions) -> NDArray[np.bool_]:
    """Per balance point: enough days with degree days, and enough degree days in total."""
    return np.asarray(
        ((dd > 0).sum(axis=0) >= opts.min_nonzero_degree_days)
        & (dd.sum(axis=0) >= opts.min_total_degree_days_c)
    )


@dataclass(frozen=True, slots=True)
class _Regressor:
    """HDD or CDD at every balance point of its grid."""

    name: str  # "hdd" or "cdd"
    points: NDArray[np.float64]  # (k,)
    dd: NDArray[np.float64]  # (n, k)
    centred: NDArray[np.float64]  # (n, k), within day types


def _regressors(days: _Days, opts: DailyModelOptions) -> dict[str, _Regressor]:
    """HDD and CDD at every balance point on the grids, for the slopes the options allow."""
    t = days.t
    found: dict[str, _Regressor] = {}
    if opts.fit_heating and opts.heating_balance_points_c:
        hb = np.asarray(opts.heating_balance_points_c, dtype=float)
        hdd = np.maximum(hb[None, :] - t[:, None], 0.0)
        found["hdd"] = _Regressor("hdd", hb, hdd, days.groups.centre(hdd))
    if opts.fit_cooling and opts.cooling_balance_points_c:
        cb = np.asarray(opts.cooling_balance_points_c, dtype=float)
        cdd = np.maximum(t[:, None] - cb[None, :], 0.0)
        found["cdd"] = _Regressor("cdd", cb, cdd, days.groups.centre(cdd))
    return found


def _search_singles(
    days: _Days, regressors: dict[str, _Regressor], opts: DailyModelOptions, best: _Selection
) -> None:
    """Offer the best HDD-only and then the best CDD-only fit."""
    # Evaluated even without candidates, so bad options are refused whatever the grids.
    t_crit = t_critical(1.0 - opts.max_p_value, days.n - days.groups.count - 1)
    for regressor in regressors.values():
        _search_single(days, regressor, t_crit, opts, best)


def _search_single(
    days: _Days, x: _Regressor, t_crit: float, opts: DailyModelOptions, best: _Selection
) -> None:
    """One slope (HDD or CDD) at every balance point, solved in bulk."""
    points, dd, xc = x.points, x.dd, x.centred
    dof = days.n - days.groups.count - 1
    sxx = np.einsum("ij,ij->j", xc, xc)
    sxy = np.einsum("ij,i->j", xc, days.yc)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = sxy / sxx
        ss_res = days.ss_within - beta * sxy
        se = np.sqrt(ss_res / dof / sxx)
        tstat = beta / se
    valid = _sufficient(dd, opts) & (sxx > 1e-12) & (beta > 0) & (tstat > t_crit)
    best.count(points.size, valid)
    if not valid.any():
        return
    score = np.where(valid, _r2_adj(ss_res, days.ss_tot, days.n, days.extra + 1), -np.inf)
    j = int(np.argmax(score))
    if not score[j] > best.score:  # not `<=`: a NaN score must lose, as it does under `>`
        return
    best.score = float(score[j])
    p = t_two_sided_p(float(tstat[j]), dof)
    if x.name == "hdd":
        best.kind, best.beta = "hdd_only", (float(beta[j]), 0.0)
        best.points, best.columns = (float(points[j]), None), (dd[:, j], None)
        best.p_values = {"beta_hdd": p}
    else:
        best.kind, best.beta = "cdd_only", (0.0, float(beta[j]))
        best.points, best.columns = (None, float(points[j])), (None, dd[:, j])
        best.p_values = {"beta_cdd": p}


def _search_pairs(
    days: _Days, heating: _Regressor, cooling: _Regressor, opts: DailyModelOptions, best: _Selection
) -> None:
    """HDD + CDD for every pair of balance points with heating <= cooling, solved in bulk."""
    hb, hdd, hc = heating.points, heating.dd, heating.centred
    cb, cdd, cc = cooling.points, cooling.dd, cooling.centred
    yc = days.yc
    shh = np.einsum("ij,ij->j", hc, hc)[:, None]
    scc = np.einsum("ij,ij->j", cc, cc)[None, :]
    # einsum rather than BLAS: small products, and no thread pool to contend for
    shc = np.einsum("ni,nj->ij", hc, cc)
    shy = np.einsum("ni,n->i", hc, yc)[:, None]
    scy = np.einsum("ni,n->i", cc, yc)[None, :]
    det = shh * scc - shc * shc
    ordered = hb[:, None] <= cb[None, :]
    pair_ok = ordered & _sufficient(hdd, opts)[:, None] & _sufficient(cdd, opts)[None, :]
    dof = days.n - days.groups.count - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        b_h = (scc * shy - shc * scy) / det
        b_c = (shh * scy - shc * shy) / det
        ss_res = days.ss_within - b_h * shy - b_c * scy
        sigma2 = ss_res / dof
        t_h = b_h / np.sqrt(sigma2 * scc / det)
        t_c = b_c / np.sqrt(sigma2 * shh / det)
    t_crit = t_critical(1.0 - opts.max_p_value, dof)
    valid = (
        pair_ok & (det > 1e-9 * shh * scc) & (b_h > 0) & (b_c > 0) & (t_h > t_crit) & (t_c > t_crit)
    )
    best.count(int(ordered.sum()), valid)
    if not valid.any():
        return
    score = np.where(valid, _r2_adj(ss_res, days.ss_tot, days.n, days.extra + 2), -np.inf)
    i, j = divmod(int(np.argmax(score)), score.shape[1])
    if not score[i, j] > best.score:  # a NaN score loses
        return
    best.score = float(score[i, j])
    best.kind = "hdd_cdd"
    best.beta = (float(b_h[i, j]), float(b_c[i, j]))
    best.points = (float(hb[i]), float(cb[j]))
    best.columns = (hdd[:, i], cdd[:, j])
    best.p_values = {
        "beta_hdd": t_two_sided_p(float(t_h[i, j]), dof),
        "beta_cdd": t_two_sided_p(float(t_c[i, j]), dof),
    }


def _day_type_intercepts(days: _Days, best: _Selection) -> NDArray[np.float64]:
    """Intercept of each day type: its mean usage less the slopes times its mean degree days."""
    intercepts = days.groups.means(days.y)
    for beta_value, column in zip(best.beta, best.columns, strict=True):
        if column is not None:
            intercepts = intercepts - beta_value * days.groups.means(column)
    return intercepts


def _fitted_model(days: _Days, best: _Selection) -> DailyModel:
    """The selected candidate with its intercepts and goodness of fit."""
    groups, n = days.groups, days.n
    intercepts = _day_type_intercepts(days, best)
    day_intercepts: tuple[float, ...] = ()
    if days.types is not None:
        table = np.full(int(groups.codes.max()) + 1, np.nan)
        table[groups.codes] = intercepts
        day_intercepts = tuple(float(v) for v in table)
    model = DailyModel(
        kind=best.kind,
        intercept=float(intercepts @ groups.sizes / n),
        beta_hdd=best.beta[0],
        beta_cdd=best.beta[1],
        heating_balance_point_c=best.points[0],
        cooling_balance_point_c=best.points[1],
        p_values=best.p_values,
        candidates_tried=best.tried,
        candidates_qualified=best.qualified,
        day_intercepts=day_intercepts,
    )
    resid = days.y - model.predict(days.t, days.types)
    r2 = 1.0 - float(resid @ resid) / days.ss_tot if days.ss_tot > 0 else 0.0
    regressors = {"intercept_only": 0, "hdd_only": 1, "cdd_only": 1, "hdd_cdd": 2}[best.kind]
    regressors += days.extra
    return replace(
        model,
        r_squared=r2,
        adjusted_r_squared=adjusted_r_squared(r2, n, regressors) if regressors else 0.0,
    )


def fit_daily_model(
    usage_kwh: ArrayLike,
    temperature_c: ArrayLike,
    options: DailyModelOptions | None = None,
    day_type: ArrayLike | None = None,
) -> DailyModel:
    """Select and fit the CalTRACK daily model on days with both usage and temperature.

    ``day_type`` (a small non-negative code per day, see ``polis.savings.closures``) gives
    each type its own intercept; without it one intercept serves every day (CalTRACK).
    """
    opts = options or DailyModelOptions()
    days = _days(usage_kwh, temperature_c, day_type)
    best = _Selection(score=days.day_type_only_score())
    regressors = _regressors(days, opts)
    _search_singles(days, regressors, opts, best)
    if "hdd" in regressors and "cdd" in regressors:
        _search_pairs(days, regressors["hdd"], regressors["cdd"], opts, best)
    return _fitted_model(days, best)
