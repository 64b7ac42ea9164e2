"""Correlate misalignment measures with downstream inheritance across study cells (DESIGN §9).

The input is a table of cells (one row per study cell: bias type, ratio, seed, ...), each with
its misalignment measures and its inheritance per task. The output is one row per
(measure, inheritance) pair: Spearman's rho, its p-value and the number of cells both are
known for. This is the "understanding" half of a study made into a table.

p-values are permutation p-values of rho (every permutation up to 7 cells, 9,999 random ones
above), not scipy's t approximation, which says p = 0 for a perfect rank correlation of five
points (the exact two-sided p-value is then 2/120).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from biasinherit.errors import BiasInheritError

__all__ = ["Correlation", "correlate_misalignment"]

MIN_CELLS = 3


@dataclass(frozen=True)
class Correlation:
    measure: str
    inheritance: str
    rho: float | None
    p_value: float | None
    n: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def correlate_misalignment(
    cells: Sequence[Mapping[str, Any]] | Any,
    measures: Sequence[str],
    inheritance: Sequence[str],
) -> list[Correlation]:
    """Spearman correlation of each measure column with each inheritance column.

    ``cells`` is a sequence of mappings or a pandas DataFrame. Cells where either value is
    missing or not finite are left out of that pair; a pair with fewer than 3 cells, or with a
    constant column, gets ``rho=None`` and a note.
    """
    from scipy.stats import spearmanr

    if hasattr(cells, "to_dict"):
        cells = cells.to_dict(orient="records")
    rows = list(cells)
    if not rows:
        raise BiasInheritError("no cells to correlate", field="cells")
    columns = set().union(*(r.keys() for r in rows))
    for name in [*measures, *inheritance]:
        if name not in columns:
            from biasinherit.errors import unknown_name_error

            raise unknown_name_error("column", name, columns)
    out = []
    for m in measures:
        for h in inheritance:
            pairs = [(_number(r.get(m)), _number(r.get(h))) for r in rows]
            xs = [x for x, y in pairs if x is not None and y is not None]
            ys = [y for x, y in pairs if x is not None and y is not None]
            if len(xs) < MIN_CELLS:
                out.append(Correlation(m, h, None, None, len(xs), f"needs at least {MIN_CELLS} cells"))
                continue
            if len(set(xs)) == 1 or len(set(ys)) == 1:
                out.append(Correlation(m, h, None, None, len(xs), "a column is constant"))
                continue
            res = spearmanr(xs, ys)
            out.append(Correlation(m, h, float(res.statistic), spearman_p_value(xs, ys), len(xs)))
    return out


EXACT_UP_TO = 7


def spearman_p_value(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Two-sided permutation p-value of Spearman's rho (the share of pairings whose |rho| is at
    least the observed one; exact for up to 7 points)."""
    import itertools

    import numpy as np
    from scipy.stats import permutation_test, rankdata

    rx, ry = rankdata(xs), rankdata(ys)
    rx, ry = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean()), ry - ry.mean()
    ry = ry / np.linalg.norm(ry)
    observed = abs(float(rx @ ry))
    if len(rx) <= EXACT_UP_TO:
        perms = np.array(list(itertools.permutations(ry)))  # (n!, n)
        return float(np.mean(np.abs(perms @ rx) >= observed - 1e-12))

    def statistic(y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.abs(np.moveaxis(y, axis, -1) @ rx)

    res = permutation_test((ry,), statistic, permutation_type="pairings", n_resamples=9999,
                           vectorized=True, alternative="greater", random_state=0)
    return float(res.pvalue)
