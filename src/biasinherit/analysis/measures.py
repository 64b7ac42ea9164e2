"""The result type every analysis returns, and the small statistics they share.

A :class:`Measure` is one number with its uncertainty (a confidence interval, a p-value, or
both), the counts it rests on, and a plain-language reading. Measures that cannot be computed
(no group mentions, no value-laden records) carry ``value=None`` and a ``note`` saying why,
never a silent 0 or a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "AnalysisResult",
    "Measure",
    "bootstrap_interval",
    "jensen_shannon",
    "permutation_p_value",
    "total_variation",
]


@dataclass
class Measure:
    """One misalignment measure comparing augmented data with the original."""

    name: str
    value: float | None
    n_original: int
    n_augmented: int
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    reading: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def _clean(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def jensen_shannon(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Jensen–Shannon divergence in bits (0 = identical, 1 = disjoint) of two count or
    probability vectors over the same support. Each vector is normalised; empty input raises."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise ValueError("jensen_shannon: p and q must have the same shape")
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("jensen_shannon: both distributions need positive mass")
    p = p / p.sum()
    q = q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return max(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m))


def total_variation(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Total variation distance (half the L1 distance) between two normalised vectors."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("total_variation: both distributions need positive mass")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def bootstrap_interval(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    n_original: int,
    n_augmented: int,
    *,
    n_resamples: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """Percentile interval of ``statistic(idx_original, idx_augmented)`` where each index array
    is a resample (with replacement) of its set; the two sets are resampled independently.
    Resamples where the statistic is undefined (NaN) are dropped."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        io = rng.integers(0, n_original, n_original)
        ia = rng.integers(0, n_augmented, n_augmented)
        v = statistic(io, ia)
        if v is not None and math.isfinite(v):
            values.append(v)
    if len(values) < max(10, n_resamples // 4):
        return None, None
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))


def permutation_p_value(observed: float, null: Sequence[float] | np.ndarray) -> float:
    """One-sided permutation p-value, counting the observed arrangement itself
    (so it is never 0): ``(1 + #{null >= observed}) / (1 + n)``."""
    null = np.asarray(null, dtype=float)
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + len(null)))


@dataclass
class AnalysisResult:
    """What one analysis (values, groups, distribution) returns: its measures, the tables the
    report plots, and notes (what was subsampled, what could not be computed and why)."""

    analysis: str
    measures: list[Measure] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise KeyError(f"no measure '{name}' in {self.analysis} (have: {[m.name for m in self.measures]})")

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "analysis": self.analysis,
                "measures": [m.to_dict() for m in self.measures],
                "tables": self.tables,
                "notes": self.notes,
            }
        )
