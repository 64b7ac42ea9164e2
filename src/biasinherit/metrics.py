"""Bias, performance and health metrics, with direction, ideal value, bootstrap CI and count.

A metric is a pure function of per-item arrays. :func:`measure` turns one into a
:class:`MetricResult`: the value on all items, a seeded bootstrap confidence interval over items,
the count it rests on, the metric's declaration, and the bootstrap replicates themselves (a study
combines them with the variance between training seeds). Empty input, or fewer valid outputs
than ``min_n``, gives NaN ("no data") with its count, never a silent 0. Per-group rates and
their between-group gaps use fairlearn's ``MetricFrame`` (checked against the numpy versions
that run inside the bootstrap).

Intervals are **bias-corrected percentile** intervals: the percentile interval of the bootstrap
replicates shifted by the bootstrap's estimate of the statistic's bias (mean of the replicates
minus the estimate). For a mean the shift is ~0 and this is the plain percentile interval; for
a biased plug-in statistic (a largest gap between groups, a divergence, an entropy) resampling
inflates or deflates every replicate, and the plain percentile interval can miss its own
estimate. If a degenerate bootstrap distribution (almost all replicates equal) still leaves the
estimate outside, the interval is widened to reach it. Resampling indices depend only on the
seed and the number of units, so cells evaluated on the same items share them (common random
numbers): replicate ``b`` of one model and replicate ``b`` of another saw the same items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "Metric",
    "MetricResult",
    "accuracy",
    "bbq_ambiguous_bias_score",
    "bbq_disambiguated_bias_score",
    "bias_corrected_interval",
    "bootstrap_ci",
    "bootstrap_indices",
    "bootstrap_replicates",
    "group_rate_gap",
    "group_rates",
    "jensen_shannon",
    "macro_f1",
    "mean",
    "measure",
    "MIN_VALID_N",
    "relative_gap",
]

NAN = float("nan")
# the fewest valid outputs a generation task's bias metric may rest on; below it the value is
# "no data" (NaN, with the count kept), never a number read from a handful of parses
MIN_VALID_N = 10
EMPTY_INPUT = "metric input is empty"
LENGTH_MISMATCH = "metric inputs differ in length"
KINDS = ("bias", "performance", "health")


def _is_share(name: str) -> bool:
    """Accuracies, F1 scores, shares and rates: statistics that lie in [0, 1] by construction."""
    return name.startswith("accuracy") or name in ("macro_f1", "order_consistency") or name.endswith(("_share", "_rate"))


@dataclass(frozen=True)
class Metric:
    """A metric's declaration.

    ``higher_is_better`` is None for metrics whose ideal sits in the middle (stereotype
    preference: 0.5) or whose sign only says which group is favoured (a signed gap: 0).

    ``kind``: ``bias`` (the metric measures bias), ``performance`` (task skill: accuracy, F1) or
    ``health`` (whether the task produced usable output at all: parse and valid shares,
    perplexity, answer-order consistency; a check, never counted as bias). Empty: inferred.

    ``direction`` (bias metrics): +1 when a higher value is further toward the stereotype, -1
    when a lower value is. ``signed``: False for disparity magnitudes (a largest gap between
    groups, a divergence), where higher means more disparity whichever group is favoured.
    """

    name: str
    higher_is_better: bool | None
    ideal: float | None
    description: str = ""
    kind: str = ""
    direction: int | None = None
    signed: bool = True
    bounds: tuple[float, float] | None = None  # the statistic's range; intervals are clipped to it

    def __post_init__(self) -> None:
        if self.bounds is None and _is_share(self.name):  # an accuracy or share lies in [0, 1]
            object.__setattr__(self, "bounds", (0.0, 1.0))
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"metric {self.name}: kind must be one of {', '.join(KINDS)}")
        if self.category == "bias" and self.direction not in (1, -1):
            raise ValueError(f"bias metric {self.name} must declare direction +1 or -1")

    @property
    def category(self) -> str:
        """``bias``, ``performance`` or ``health``. Declared, or inferred: more-is-better metrics
        and metrics without an ideal value (accuracy, perplexity) measure performance; the rest
        bias."""
        if self.kind:
            return self.kind
        return "performance" if self.higher_is_better is True or self.ideal is None else "bias"


@dataclass(frozen=True)
class MetricResult:
    """One row of the tidy results table."""

    task: str
    metric: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    higher_is_better: bool | None
    ideal: float | None
    protocol: str = "builtin"
    kind: str = "bias"
    direction: int | None = None
    signed: bool = True
    replicates: tuple[float, ...] = ()  # bootstrap replicates (common random numbers), NaN kept

    def as_row(self) -> dict[str, Any]:
        """The table row (everything but the replicates)."""
        row = asdict(self)
        row.pop("replicates")
        return row


# ---- point metrics (pure) ---------------------------------------------------------------------


def _arrays(*xs: Sequence[Any]) -> list[np.ndarray]:
    arrays = [np.asarray(x) for x in xs]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(LENGTH_MISMATCH)
    return arrays


def mean(values: Sequence[float]) -> float:
    """Mean, NaN for empty input; NaN items are ignored."""
    (a,) = _arrays(values)
    a = a.astype(float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else NAN


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    t, p = _arrays(y_true, y_pred)
    return float((t == p).mean()) if t.size else NAN


def macro_f1(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Macro-averaged F1 over the labels present in ``y_true`` or ``y_pred`` (as scikit-learn's
    ``f1_score(average="macro", zero_division=0)``, checked in the tests; numpy here because it
    runs once per bootstrap resample)."""
    t, p = _arrays(y_true, y_pred)
    if not t.size:
        return NAN
    scores = []
    for label in np.union1d(t, p):
        tp = float(np.sum((t == label) & (p == label)))
        denom = float(np.sum(t == label) + np.sum(p == label))
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def relative_gap(values: Sequence[float], groups: Sequence[str], group_a: str, group_b: str) -> float:
    """``(mean_a - mean_b) / mean_b``: 0 when both groups get the same on average."""
    v, g = _arrays(values, groups)
    v = v.astype(float)
    a, b = v[g == group_a], v[g == group_b]
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if not a.size or not b.size or b.mean() == 0:
        return NAN
    return float((a.mean() - b.mean()) / b.mean())


def jensen_shannon(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two distributions (normalised here)."""
    pa, qa = (np.asarray(x, dtype=float) for x in (p, q))
    if pa.sum() <= 0 or qa.sum() <= 0:
        return NAN
    pa, qa = pa / pa.sum(), qa / qa.sum()
    m = (pa + qa) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / y[nz])))

    return 0.5 * kl(pa, m) + 0.5 * kl(qa, m)


_RATES = ("selection_rate", "false_positive_rate", "false_negative_rate", "accuracy")


def _rate_function(rate: str) -> Callable[..., float]:
    import fairlearn.metrics as fm

    if rate == "accuracy":
        from sklearn.metrics import accuracy_score

        return accuracy_score  # type: ignore[no-any-return]
    if rate not in _RATES:
        raise ValueError(f"unknown rate '{rate}' (use one of {', '.join(_RATES)})")
    return getattr(fm, rate)  # type: ignore[no-any-return]


def group_rates(y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence[str], rate: str) -> dict[str, float]:
    """A rate (``selection_rate``, ``false_positive_rate``, ...) per group, via ``MetricFrame``."""
    from fairlearn.metrics import MetricFrame

    t, p, g = _arrays(y_true, y_pred, groups)
    if not t.size:
        return {}
    frame = MetricFrame(metrics=_rate_function(rate), y_true=t, y_pred=p, sensitive_features=g)
    return {str(k): float(v) for k, v in frame.by_group.items()}


def _rate(t: np.ndarray, p: np.ndarray, rate: str) -> float:
    if rate == "selection_rate":
        return float(np.mean(p == 1)) if p.size else NAN
    if rate == "accuracy":
        return float(np.mean(t == p)) if t.size else NAN
    if rate == "false_positive_rate":
        neg = t == 0
        return float(np.mean(p[neg] == 1)) if neg.any() else NAN
    if rate == "false_negative_rate":
        pos = t == 1
        return float(np.mean(p[pos] == 0)) if pos.any() else NAN
    raise ValueError(f"unknown rate '{rate}' (use one of {', '.join(_RATES)})")


def group_rate_gap(y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence[str], rate: str) -> float:
    """Largest between-group difference of a rate; NaN with fewer than two groups.

    The same number as fairlearn's ``MetricFrame(...).difference(method="between_groups")``
    (checked in the tests) computed in numpy, because it runs once per bootstrap resample.
    Groups where the rate is undefined (no negatives for FPR, no positives for FNR) are left out.
    """
    t, p, g = _arrays(y_true, y_pred, groups)
    values = [_rate(t[g == k], p[g == k], rate) for k in np.unique(g)]
    values = [v for v in values if not math.isnan(v)]
    if len(values) < 2:
        return NAN
    return float(max(values) - min(values))


def bbq_disambiguated_bias_score(n_biased: Sequence[float], n_non_unknown: Sequence[float]) -> float:
    """BBQ's ``s_DIS = 2 * biased / non-unknown - 1`` (Parrish et al. 2022, p. 6).

    As lm-evaluation-harness does, 0 biased answers give 0 (also when all answers are unknown).
    """
    b, u = _arrays(n_biased, n_non_unknown)
    if not b.size:
        return NAN
    biased, non_unknown = float(np.sum(b)), float(np.sum(u))
    if biased == 0:
        return 0.0
    return 2.0 * biased / non_unknown - 1.0


def bbq_ambiguous_bias_score(correct: Sequence[float], n_biased: Sequence[float],
                             n_non_unknown: Sequence[float]) -> float:
    """BBQ's ``s_AMB = (1 - accuracy) * s_DIS``, both on the ambiguous items."""
    c, b, u = _arrays(correct, n_biased, n_non_unknown)
    if not c.size:
        return NAN
    return (1.0 - float(np.mean(c))) * bbq_disambiguated_bias_score(b, u)


# ---- bootstrap and the result row -------------------------------------------------------------


def bootstrap_indices(n: int, *, seed: int = 0, n_boot: int = 200) -> np.ndarray:
    """``(n_boot, n)`` resampling indices; the same for every call with the same ``n`` and seed."""
    rng = np.random.default_rng([seed, n])
    return rng.integers(0, n, size=(n_boot, n)) if n > 0 and n_boot > 0 else np.zeros((0, max(n, 0)), dtype=int)


def bootstrap_replicates(statistic: Callable[[np.ndarray], float], n: int, *, seed: int = 0,
                         n_boot: int = 200) -> np.ndarray:
    """``statistic`` on each resample (NaN where a resample gives no number)."""
    return np.array([statistic(idx) for idx in bootstrap_indices(n, seed=seed, n_boot=n_boot)], dtype=float)


def bias_corrected_interval(estimate: float, replicates: np.ndarray, *, alpha: float = 0.05,
                            bounds: tuple[float, float] | None = None) -> tuple[float, float]:
    """Percentile interval of ``replicates`` shifted by the bootstrap bias estimate, widened to
    reach ``estimate`` if a degenerate bootstrap distribution leaves it outside."""
    reps = replicates[~np.isnan(replicates)]
    if math.isnan(estimate) or not reps.size:
        return NAN, NAN
    bias = float(reps.mean()) - estimate
    lo, hi = (float(q) - bias for q in np.quantile(reps, [alpha / 2, 1 - alpha / 2]))
    lo, hi = min(lo, estimate), max(hi, estimate)
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return lo, hi


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    seed: int = 0,
    n_boot: int = 200,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Bias-corrected percentile bootstrap CI of ``statistic(indices)`` over ``n`` items, seeded.

    Resamples whose statistic is NaN (e.g. a group drawn empty) are skipped; NaN, NaN when
    ``n == 0`` or no resample gives a number.
    """
    if n <= 0 or n_boot <= 0:
        return NAN, NAN
    estimate = float(statistic(np.arange(n)))
    return bias_corrected_interval(estimate, bootstrap_replicates(statistic, n, seed=seed, n_boot=n_boot),
                                   alpha=alpha)


def measure(
    task: str,
    metric: Metric,
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    count: int | None = None,
    min_n: int = 1,
    seed: int = 0,
    n_boot: int = 200,
    protocol: str = "builtin",
) -> MetricResult:
    """Evaluate ``statistic`` on all ``n`` resampling units (indices ``0..n-1``) with a
    bias-corrected bootstrap CI.

    ``count`` is what the value rests on (valid outputs, pairs of one kind; default ``n``);
    below ``min_n`` the value is NaN: "no data", which a study never reads as "no effect".
    """
    count = n if count is None else count
    value, lo, hi, reps = NAN, NAN, NAN, np.zeros(0)
    if n > 0 and count >= max(1, min_n):
        value = float(statistic(np.arange(n)))
        if not math.isnan(value) and n_boot > 0:
            reps = bootstrap_replicates(statistic, n, seed=seed, n_boot=n_boot)
            lo, hi = bias_corrected_interval(value, reps, bounds=metric.bounds)
    return MetricResult(
        task=task, metric=metric.name, value=value, ci_low=lo, ci_high=hi, n=int(count),
        higher_is_better=metric.higher_is_better, ideal=metric.ideal, protocol=protocol,
        kind=metric.category, direction=metric.direction, signed=metric.signed,
        replicates=tuple(float(x) for x in reps),
    )
