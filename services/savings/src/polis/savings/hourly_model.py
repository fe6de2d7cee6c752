"""Hourly time-of-week and temperature (TOWT) baseline (LBNL / CalTRACK hourly methods).

Design per segment:

- 168 time-of-week indicators (no intercept), local time, Monday 00:00 = 0;
- piecewise-linear temperature components on bins with endpoints 30, 45, 55, 65, 75, 90 °F
  (in °C); a bin with fewer than 20 hours is merged into its neighbour by dropping an
  endpoint, starting from the extremes;
- separate temperature coefficients for occupied and unoccupied hours of the week. Occupancy
  is detected from a simple fit, usage ~ 1 + CDD(65 °F) + HDD(50 °F): an hour of the week is
  occupied when more than 65 % of its residuals are positive.

Closed days (holidays, school breaks: ``polis.savings.closures``) are a day type of their own:
their hours use 24 further time-of-day indicators (slots 168-191) instead of their weekday's,
and occupancy is detected for those slots like any other, so a closed week is modelled as a
closed week rather than as a working week with huge residuals.

Segmentation follows CalTRACK: ``three_month_weighted`` fits one model per calendar month on
that month (weight 1) and its two neighbours (weight 0.5), and predicts each hour with its
month's model; ``single`` fits one model on the whole baseline (the original LBNL form).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from polis.savings.daily_model import fahrenheit_to_celsius

HOURS_PER_WEEK = 168
#: Time-of-week slots: the 168 hours of the week, then 24 hours of a closed day.
SLOTS = HOURS_PER_WEEK + 24
DEFAULT_BIN_ENDPOINTS_C: tuple[float, ...] = tuple(
    float(v) for v in fahrenheit_to_celsius([30, 45, 55, 65, 75, 90])
)
OCCUPANCY_CDD_BASE_C = float(fahrenheit_to_celsius(65.0))
OCCUPANCY_HDD_BASE_C = float(fahrenheit_to_celsius(50.0))


class Segmentation(StrEnum):
    SINGLE = "single"
    THREE_MONTH_WEIGHTED = "three_month_weighted"


@dataclass(frozen=True, slots=True)
class HourlyModelOptions:
    bin_endpoints_c: tuple[float, ...] = DEFAULT_BIN_ENDPOINTS_C
    min_hours_per_bin: int = 20
    occupancy_threshold: float = 0.65
    segmentation: Segmentation = Segmentation.THREE_MONTH_WEIGHTED


def temperature_components(
    temperature_c: NDArray[np.float64], endpoints: tuple[float, ...]
) -> NDArray[np.float64]:
    """Piecewise-linear components (n x len(endpoints)+1) that sum to the temperature."""
    t = np.asarray(temperature_c, dtype=float)
    if not endpoints:
        return t[:, None].copy()
    edges = np.asarray(endpoints, dtype=float)
    cols = [np.minimum(t, edges[0])]
    for lo, hi in itertools.pairwise(edges.tolist()):
        cols.append(np.clip(t - lo, 0.0, hi - lo))
    cols.append(np.maximum(t - edges[-1], 0.0))
    return np.column_stack(cols)


def fit_bin_endpoints(
    temperature_c: NDArray[np.float64], endpoints: tuple[float, ...], min_hours: int
) -> tuple[float, ...]:
    """Drop endpoints until every bin holds at least ``min_hours`` temperatures.

    An under-filled first bin loses its upper endpoint, an under-filled last bin its lower
    one, and an under-filled middle bin its upper one; repeated until all bins are filled.
    """
    kept = sorted(endpoints)
    t = temperature_c[np.isfinite(temperature_c)]
    while kept:
        edges = np.asarray(kept)
        # bins closed on the right: (-inf, e0], (e0, e1], ..., (e_last, inf)
        counts = np.bincount(np.searchsorted(edges, t, side="left"), minlength=edges.size + 1)
        drop: set[float] = set()
        if counts[0] < min_hours:
            drop.add(kept[0])
        if counts[-1] < min_hours:
            drop.add(kept[-1])
        for i in range(1, edges.size):
            if counts[i] < min_hours:
                drop.add(kept[i])
        if not drop:
            break
        kept = [e for e in kept if e not in drop]
    return tuple(kept)


def detect_occupancy(
    usage: NDArray[np.float64],
    temperature_c: NDArray[np.float64],
    hour_of_week: NDArray[np.int64],
    weights: NDArray[np.float64],
    threshold: float,
    slots: int = HOURS_PER_WEEK,
) -> NDArray[np.bool_]:
    """Occupied time-of-week slots from the residuals of usage ~ 1 + CDD65F + HDD50F."""
    x = np.column_stack(
        [
            np.ones_like(usage),
            np.maximum(temperature_c - OCCUPANCY_CDD_BASE_C, 0.0),
            np.maximum(OCCUPANCY_HDD_BASE_C - temperature_c, 0.0),
        ]
    )
    xtx = np.einsum("ni,n,nj->ij", x, weights, x)
    xty = np.einsum("ni,n,n->i", x, weights, usage)
    beta = np.linalg.pinv(xtx, rcond=1e-12) @ xty
    positive = (usage - np.einsum("ni,i->n", x, beta)) > 0
    total = np.bincount(hour_of_week, minlength=slots)
    above = np.bincount(hour_of_week, weights=positive.astype(float), minlength=slots)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, above / total, 0.0)
    return np.asarray(share > threshold)


@dataclass(frozen=True, slots=True)
class SegmentModel:
    occupied: NDArray[np.bool_]  # per time-of-week slot
    bin_endpoints_c: tuple[float, ...]
    coefficients: NDArray[np.float64]  # SLOTS indicators, then the temperature terms
    rank: int
    seen: NDArray[np.bool_]  # slots the segment had data for; others cannot be predicted

    def design(
        self, temperature_c: NDArray[np.float64], hour_of_week: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        n = temperature_c.size
        tow = np.zeros((n, SLOTS))
        tow[np.arange(n), hour_of_week] = 1.0
        comps = temperature_components(temperature_c, self.bin_endpoints_c)
        occ = self.occupied[hour_of_week][:, None]
        return np.hstack([tow, comps * occ, comps * ~occ])

    def predict(
        self, temperature_c: NDArray[np.float64], hour_of_week: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        comps = temperature_components(temperature_c, self.bin_endpoints_c)
        k = comps.shape[1]
        occupied_beta = self.coefficients[SLOTS : SLOTS + k]
        unoccupied_beta = self.coefficients[SLOTS + k :]
        occ = self.occupied[hour_of_week]
        temperature_part = np.where(
            occ,
            np.einsum("ni,i->n", comps, occupied_beta),
            np.einsum("ni,i->n", comps, unoccupied_beta),
        )
        predicted = self.coefficients[hour_of_week] + temperature_part
        return np.asarray(np.where(self.seen[hour_of_week], predicted, np.nan))


def _fit_segment(
    usage: NDArray[np.float64],
    temperature_c: NDArray[np.float64],
    hour_of_week: NDArray[np.int64],
    weights: NDArray[np.float64],
    opts: HourlyModelOptions,
) -> SegmentModel:
    use = weights > 0
    y, t, how, w = usage[use], temperature_c[use], hour_of_week[use], weights[use]
    occupied = detect_occupancy(y, t, how, w, opts.occupancy_threshold, SLOTS)
    endpoints = fit_bin_endpoints(t, opts.bin_endpoints_c, opts.min_hours_per_bin)
    comps = temperature_components(t, endpoints)
    occ = occupied[how][:, None]
    temp_x = np.hstack([comps * occ, comps * ~occ])
    beta, rank = _weighted_least_squares(how, temp_x, y, w)
    seen = np.bincount(how, weights=w, minlength=SLOTS) > 0
    return SegmentModel(occupied, endpoints, beta, rank, seen)


def _weighted_least_squares(
    how: NDArray[np.int64],
    temp_x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
) -> tuple[NDArray[np.float64], int]:
    """Solve the weighted normal equations of [time-of-week indicators | temperature terms].

    X'WX = [[D, B], [B', C]] where D (the indicator block) is diagonal, so the temperature
    coefficients solve the small Schur complement (C - B' D^-1 B) b_t = r_t - B' D^-1 r_d and
    the time-of-week coefficients follow as b_d = D^-1 (r_d - B b_t). Everything is built from
    bincounts and small products: no dense n x 168 matrix and no large BLAS call (which
    multi-threaded BLAS turns slow on a busy machine). A rank-deficient temperature block (a
    bin never seen while occupied, say) gets the minimum-norm solution; a slot without data
    gets no indicator coefficient.
    """
    k = temp_x.shape[1]
    d = np.bincount(how, weights=w, minlength=SLOTS)
    wx = temp_x * w[:, None]
    b = np.stack([np.bincount(how, weights=wx[:, j], minlength=SLOTS) for j in range(k)], axis=1)
    c = np.einsum("ni,nj->ij", temp_x, wx)
    r_d = np.bincount(how, weights=w * y, minlength=SLOTS)
    r_t = np.einsum("ni,n->i", wx, y)
    seen = d > 0
    d_inv = np.where(seen, 1.0 / np.where(seen, d, 1.0), 0.0)
    schur = c - np.einsum("hi,h,hj->ij", b, d_inv, b)
    rhs = r_t - np.einsum("hi,h,h->i", b, d_inv, r_d)
    # Scale to unit diagonal so the rank decision does not depend on units.
    diag = np.sqrt(np.clip(np.diag(schur), 0.0, None))
    scale = np.where(diag > 1e-12, 1.0 / np.where(diag > 1e-12, diag, 1.0), 0.0)
    scaled = schur * scale[:, None] * scale[None, :]
    rank_t = int(np.linalg.matrix_rank(scaled, tol=1e-10)) if k else 0
    beta_t = (np.linalg.pinv(scaled, rcond=1e-10) @ (rhs * scale)) * scale
    beta_d = d_inv * (r_d - b @ beta_t)
    return np.concatenate([beta_d, beta_t]), int(seen.sum()) + rank_t


@dataclass(frozen=True, slots=True)
class HourlyModel:
    """A fitted TOWT model: one segment, or one per calendar month (1-12)."""

    segmentation: Segmentation
    segments: dict[int, SegmentModel]  # key 0 for a single model, else calendar month 1..12

    @property
    def parameters(self) -> int:
        """Effective parameters of the model that predicts any one hour (the largest rank)."""
        return max(segment.rank for segment in self.segments.values())

    @property
    def label(self) -> str:
        return f"hourly TOWT ({self.segmentation.value.replace('_', ' ')})"

    def predict(
        self,
        temperature_c: ArrayLike,
        hour_of_week: ArrayLike,
        calendar_month: ArrayLike,
        closed: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """kWh per hour; NaN where the temperature is missing, no segment covers the month or
        the segment never saw the hour's time-of-week slot (a closed day, say)."""
        t = np.asarray(temperature_c, dtype=float)
        how = time_of_week_slots(hour_of_week, closed)
        month = np.asarray(calendar_month, dtype=np.int64)
        out = np.full(t.shape, np.nan)
        ok = np.isfinite(t)
        for key, segment in self.segments.items():
            rows = ok if key == 0 else ok & (month == key)
            if rows.any():
                out[rows] = segment.predict(t[rows], how[rows])
        return out

    def occupied(
        self,
        hour_of_week: ArrayLike,
        calendar_month: ArrayLike,
        closed: ArrayLike | None = None,
    ) -> NDArray[np.bool_]:
        """Whether the model counts each hour as occupied (its segment's detected occupancy
        of the hour's time-of-week slot); False where no segment covers the month."""
        how = time_of_week_slots(hour_of_week, closed)
        month = np.asarray(calendar_month, dtype=np.int64)
        out = np.zeros(how.shape, dtype=bool)
        for key, segment in self.segments.items():
            rows = np.ones(how.shape, dtype=bool) if key == 0 else month == key
            out[rows] = segment.occupied[how[rows]]
        return out


def time_of_week_slots(hour_of_week: ArrayLike, closed: ArrayLike | None) -> NDArray[np.int64]:
    """Slot of each hour: its hour of the week, or 168 + hour of day on a closed day."""
    how = np.asarray(hour_of_week, dtype=np.int64)
    if closed is None:
        return how
    shut = np.asarray(closed, dtype=bool)
    if shut.shape != how.shape:
        raise ValueError("closed must give one flag per hour")
    return np.where(shut, HOURS_PER_WEEK + how % 24, how)


def three_month_weights(calendar_month: NDArray[np.int64], month: int) -> NDArray[np.float64]:
    """CalTRACK weights for the model of ``month``: 1 for it, 0.5 for either neighbour."""
    prev_m = (month - 2) % 12 + 1
    next_m = month % 12 + 1
    w = np.zeros(calendar_month.shape)
    w[calendar_month == prev_m] = 0.5
    w[calendar_month == next_m] = 0.5
    w[calendar_month == month] = 1.0
    return w


def fit_hourly_model(
    usage_kwh: ArrayLike,
    temperature_c: ArrayLike,
    hour_of_week: ArrayLike,
    calendar_month: ArrayLike,
    options: HourlyModelOptions | None = None,
    closed: ArrayLike | None = None,
) -> HourlyModel:
    """Fit TOWT on hours that have both usage and temperature.

    ``closed`` flags hours of closed days, which get time-of-day slots of their own.
    """
    opts = options or HourlyModelOptions()
    y_all = np.asarray(usage_kwh, dtype=float)
    t_all = np.asarray(temperature_c, dtype=float)
    ok = np.isfinite(y_all) & np.isfinite(t_all)
    y, t = y_all[ok], t_all[ok]
    how = time_of_week_slots(hour_of_week, closed)[ok]
    month = np.asarray(calendar_month, dtype=np.int64)[ok]
    if y.size < HOURS_PER_WEEK * 2:
        raise ValueError(f"too few hours with usage and temperature to fit ({y.size})")
    segments: dict[int, SegmentModel] = {}
    if opts.segmentation is Segmentation.SINGLE:
        segments[0] = _fit_segment(y, t, how, np.ones_like(y), opts)
    else:
        for m in range(1, 13):
            w = three_month_weights(month, m)
            if (w > 0).sum() >= HOURS_PER_WEEK:
                segments[m] = _fit_segment(y, t, how, w, opts)
    if not segments:
        raise ValueError("no month has enough data to fit a segment")
    return HourlyModel(opts.segmentation, segments)
