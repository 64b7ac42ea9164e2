"""Estimates with intervals and p-values over training seeds and evaluation items.

A study measures every metric once per trained model; models differ by training seed, and every
model is scored on the same evaluation items. Two sources of noise therefore sit in any
comparison, and both enter every interval here:

- **seeds** (the unit of replication): how much the estimate would move with other training
  runs. Estimated from the spread of per-seed values (or of per-seed residuals), with
  ``n_seeds - 1`` (or the regression's residual) degrees of freedom.
- **items**: how much it would move with other evaluation items. Estimated from the bootstrap
  replicates each cell stores: replicate ``b`` of every cell resampled the same items (common
  random numbers), so the statistic recomputed from replicate ``b`` of every cell gives one draw
  of the item-resampling distribution of the whole comparison, pairing included.

The two variances add (the seed component already holds some item noise, so the sum errs on
the wide side) and the t reference distribution takes the Welch-Satterthwaite degrees of
freedom, with the item component's taken as infinite. Intervals are symmetric around the
estimate, so they always contain it.

The tests:

- :func:`ratio_slope`: the slope of a metric on the bias ratio, with one intercept per seed
  (so a seed's models are compared with each other: inheritance is paired by seed). The slope
  is the fitted change from ratio 0 to ratio 1.
- :func:`paired_difference`: condition A minus condition B, paired by seed (a mitigation
  against no mitigation at the same ratio).
- :func:`seed_mean`: a cell's value averaged over seeds.

Benjamini-Hochberg q-values come from ``scipy.stats.false_discovery_control``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate", "bh_qvalues", "paired_difference", "ratio_slope", "seed_mean"]

NAN = float("nan")
ALPHA = 0.05

Key = Any  # a seed, or (seed, ratio)


@dataclass(frozen=True)
class Estimate:
    """An estimate with its combined standard error, interval and two-sided p-value (against 0)."""

    estimate: float
    se: float
    se_seed: float
    se_item: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    n_seeds: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def signed(self, direction: int) -> Estimate:
        """The same estimate multiplied by ``direction`` (+1 or -1), interval flipped to match."""
        if direction == 1:
            return self
        lo, hi = -self.ci_high, -self.ci_low
        return Estimate(-self.estimate, self.se, self.se_seed, self.se_item, self.df, lo, hi, self.p_value,
                        self.n_seeds)


def _empty(n_seeds: int = 0) -> Estimate:
    return Estimate(NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, n_seeds)


def _combine(estimate: float, var_seed: float, df_seed: float, var_item: float, n_seeds: int) -> Estimate:
    """Interval and p-value from the two variance components (Welch-Satterthwaite df)."""
    from scipy import stats

    var_seed = 0.0 if math.isnan(var_seed) else var_seed
    var_item = 0.0 if math.isnan(var_item) else var_item
    var = var_seed + var_item
    se = math.sqrt(var)
    if se == 0.0:
        # nothing varies: an exact zero is no effect; anything else cannot be tested
        p = 1.0 if estimate == 0.0 else NAN
        return Estimate(estimate, 0.0, 0.0, 0.0, math.inf, estimate, estimate, p, n_seeds)
    if var_seed == 0.0 or math.isinf(df_seed):
        df = math.inf
    elif df_seed <= 0:
        return Estimate(estimate, NAN, NAN, math.sqrt(var_item), NAN, NAN, NAN, NAN, n_seeds)
    else:
        df = var**2 / (var_seed**2 / df_seed)
    crit = float(stats.norm.ppf(1 - ALPHA / 2)) if math.isinf(df) else float(stats.t.ppf(1 - ALPHA / 2, df))
    t = estimate / se
    p = float(2 * (stats.norm.sf(abs(t)) if math.isinf(df) else stats.t.sf(abs(t), df)))
    return Estimate(estimate, se, math.sqrt(var_seed), math.sqrt(var_item), df, estimate - crit * se,
                    estimate + crit * se, p, n_seeds)


def _replicate_matrix(replicates: Mapping[Key, Sequence[float]], keys: Sequence[Key]) -> np.ndarray | None:
    """``(n_boot, len(keys))`` replicate values, rows with a NaN dropped; None if unavailable."""
    cols = [np.asarray(replicates.get(k, ()), dtype=float) for k in keys]
    if not cols or any(c.size == 0 for c in cols) or len({c.size for c in cols}) > 1:
        return None
    mat = np.stack(cols, axis=1)
    mat = mat[~np.isnan(mat).any(axis=1)]
    return mat if len(mat) >= 2 else None


def _slope(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float, int]:
    """OLS slope of y on x with one intercept per group; (slope, residual sum of squares, df)."""
    xc, yc = x.astype(float).copy(), y.astype(float).copy()
    for g in np.unique(groups):
        sel = groups == g
        xc[sel] -= x[sel].mean()
        yc[sel] -= y[sel].mean()
    sxx = float((xc**2).sum())
    if sxx == 0.0:
        return NAN, NAN, 0
    b = float((xc * yc).sum() / sxx)
    rss = float(((yc - b * xc) ** 2).sum())
    return b, rss, len(y) - len(np.unique(groups)) - 1


def ratio_slope(values: Mapping[tuple[int, float], float],
                replicates: Mapping[tuple[int, float], Sequence[float]] | None = None) -> Estimate:
    """Slope of the metric on the ratio, one intercept per seed. ``values`` maps (seed, ratio)
    to a cell's value; every seed should have the same ratios."""
    keys = sorted(values)
    if not keys or any(v is None or math.isnan(v) for v in values.values()):
        return _empty(len({k[0] for k in keys}))
    seeds = np.array([k[0] for k in keys])
    x = np.array([k[1] for k in keys], dtype=float)
    y = np.array([values[k] for k in keys], dtype=float)
    n_seeds = len(np.unique(seeds))
    b, rss, df = _slope(x, y, seeds)
    if math.isnan(b):
        return _empty(n_seeds)
    sxx = float(sum(((x[seeds == s] - x[seeds == s].mean()) ** 2).sum() for s in np.unique(seeds)))
    var_seed = rss / df / sxx if df > 0 else NAN
    var_item = NAN
    mat = _replicate_matrix(replicates or {}, keys)
    if mat is not None:
        var_item = float(np.var([_slope(x, row, seeds)[0] for row in mat], ddof=1))
    if df <= 0:
        # one seed: no estimate of the variance between training runs; not a test
        return Estimate(b, NAN, NAN, math.sqrt(var_item) if not math.isnan(var_item) else NAN, NAN, NAN, NAN,
                        NAN, n_seeds)
    return _combine(b, var_seed, df, var_item, n_seeds)


def paired_difference(a: Mapping[int, float], b: Mapping[int, float],
                      replicates_a: Mapping[int, Sequence[float]] | None = None,
                      replicates_b: Mapping[int, Sequence[float]] | None = None) -> Estimate:
    """Mean over seeds of ``a[seed] - b[seed]`` (seeds present in both)."""
    seeds = sorted(set(a) & set(b))
    if not seeds or any(a[s] is None or b[s] is None or math.isnan(a[s]) or math.isnan(b[s]) for s in seeds):
        return _empty(len(seeds))
    d = np.array([a[s] - b[s] for s in seeds], dtype=float)
    est = float(d.mean())
    var_seed = float(d.var(ddof=1) / len(d)) if len(d) > 1 else NAN
    var_item = NAN
    ma = _replicate_matrix(replicates_a or {}, seeds)
    mb = _replicate_matrix(replicates_b or {}, seeds)
    if ma is not None and mb is not None and ma.shape == mb.shape:
        var_item = float(np.var((ma - mb).mean(axis=1), ddof=1))
    if len(d) < 2:
        return Estimate(est, NAN, NAN, math.sqrt(var_item) if not math.isnan(var_item) else NAN, NAN, NAN, NAN,
                        NAN, len(d))
    return _combine(est, var_seed, len(d) - 1, var_item, len(d))


def seed_mean(values: Mapping[int, float], replicates: Mapping[int, Sequence[float]] | None = None) -> Estimate:
    """A cell's value averaged over seeds; one seed gives the item-only interval."""
    seeds = sorted(s for s, v in values.items() if v is not None and not math.isnan(v))
    if not seeds:
        return _empty()
    v = np.array([values[s] for s in seeds], dtype=float)
    est = float(v.mean())
    var_seed = float(v.var(ddof=1) / len(v)) if len(v) > 1 else 0.0
    var_item = NAN
    mat = _replicate_matrix(replicates or {}, seeds)
    if mat is not None:
        var_item = float(np.var(mat.mean(axis=1), ddof=1))
    return _combine(est, var_seed, len(v) - 1 if len(v) > 1 else math.inf, var_item, len(v))


def bh_qvalues(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values (NaN p-values stay NaN and do not count in the family)."""
    from scipy.stats import false_discovery_control

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, NAN)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return [float(x) for x in q]
