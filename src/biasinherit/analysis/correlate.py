"""Correlate misalignment measures with downstream inheritance across study cells (DESIGN §9).

The input is a table of cells (one row per study cell: bias type, ratio, seed, ...), each with
its misalignment measures and its inheritance per task. The output is one row per
(measure, inheritance) pair: Spearman's rho, its p-value and the number of cells both are
known for. This is the "understanding" half of a study made into a table.
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
            out.append(Correlation(m, h, float(res.statistic), float(res.pvalue), len(xs)))
    return out
