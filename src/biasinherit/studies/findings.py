"""Findings: one test per (bias type, task, bias metric) and per mitigation, with FDR control.

Every bias metric declares its stereotype direction, so every effect here is **signed**:
positive means toward the stereotype (for a disparity magnitude such as a largest gap between
groups, which has no stereotype side, positive means more disparity; ``signed`` says which).

- ``ratio`` tests: does the metric move with the bias ratio? The effect is the slope of the
  metric on the ratio with one intercept per seed (the fitted change from ratio 0 to 1, paired
  by seed), over the unmitigated cells and the ratio-0 baseline.
- ``mitigation:<name>`` tests: the mitigated model minus the unmitigated one at the same ratio
  and seed (negative: the mitigation moved the model away from the stereotype).

Intervals and p-values combine seed and item variance (:mod:`biasinherit.studies.inference`).
All tests of a study form one family: Benjamini-Hochberg q-values over it, and a discovery is
``q <= 0.05``. A test whose cells lack data (a task that produced too few valid outputs for a
metric, in any cell it needs) is ``no data``, never ``no effect``; a test with one seed is
``one seed`` (no variance between training runs to test against). Health and performance
metrics are never tested as bias: :func:`mitigation_checks` reports them beside the tests.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.studies.grid import BASELINE
from biasinherit.studies.inference import Estimate, bh_qvalues, paired_difference, ratio_slope, seed_mean

if TYPE_CHECKING:
    from biasinherit.studies.config import StudyConfig

__all__ = ["FINDING_COLUMNS", "CellValues", "build_findings", "mitigation_checks", "summarise_cells", "write_findings"]

Q_LEVEL = 0.05
FINDING_COLUMNS = [
    "comparison", "bias_type", "task", "metric", "signed", "direction", "effect", "ci_low", "ci_high", "se",
    "se_seed", "se_item", "df", "p_value", "q_value", "discovery", "status", "n_seeds", "ratio",
    "reference", "compared",
]
HEALTH_DROP = 0.25  # a health share falling this much (absolute) under a mitigation breaks the task


class CellValues:
    """Values and bootstrap replicates of every (bias type, ratio, mitigation, seed, task, metric);
    the ratio-0 baseline of a seed stands for every bias type at ratio 0."""

    def __init__(self, results: Iterable[dict[str, Any]], bias_types: Sequence[str]) -> None:
        self.value: dict[tuple[str, float, str, int, str, str], float] = {}
        self.reps: dict[tuple[str, float, str, int, str, str], list[float]] = {}
        self.meta: dict[tuple[str, str], dict[str, Any]] = {}
        for result in results:
            cell = result["cell"]
            targets = list(bias_types) if cell["bias_type"] == BASELINE else [cell["bias_type"]]
            replicates = result.get("replicates", {})
            for row in result["rows"]:
                task, metric = row["task"], row["metric"]
                self.meta.setdefault((task, metric), {
                    "kind": row.get("kind"), "direction": row.get("direction"), "signed": row.get("signed", True),
                })
                v = row["value"]
                value = math.nan if v is None else float(v)
                reps = [math.nan if x is None else float(x) for x in replicates.get(f"{task}|{metric}", [])]
                for bt in targets:
                    key = (bt, float(cell["ratio"]), cell["mitigation"], int(cell["seed"]), task, metric)
                    self.value[key] = value
                    self.reps[key] = reps

    def metrics(self, kind: str) -> list[tuple[str, str]]:
        return [tm for tm, m in self.meta.items() if m["kind"] == kind]

    def seeds(self) -> list[int]:
        return sorted({k[3] for k in self.value})

    def get(self, bias_type: str, ratio: float, mitigation: str, task: str, metric: str,
            seeds: Sequence[int]) -> tuple[dict[int, float], dict[int, list[float]]]:
        vals, reps = {}, {}
        for s in seeds:
            key = (bias_type, ratio, mitigation, s, task, metric)
            if key in self.value:
                vals[s], reps[s] = self.value[key], self.reps[key]
        return vals, reps


def _status(est: Estimate, values: Iterable[float], n_seeds: int) -> str:
    if any(v is None or math.isnan(v) for v in values):
        return "no data"
    if n_seeds < 2:
        return "one seed"
    if math.isnan(est.p_value):
        return "untestable"
    return "tested"


def _row(comparison: str, bias_type: str, task: str, metric: str, meta: dict[str, Any], est: Estimate,
         status: str, ratio: float | None, reference: float, compared: float) -> dict[str, Any]:
    direction = int(meta.get("direction") or 1)
    signed = est.signed(direction)
    return {
        "comparison": comparison, "bias_type": bias_type, "task": task, "metric": metric,
        "signed": bool(meta.get("signed", True)), "direction": direction,
        "effect": signed.estimate, "ci_low": signed.ci_low, "ci_high": signed.ci_high, "se": est.se,
        "se_seed": est.se_seed, "se_item": est.se_item, "df": est.df,
        "p_value": est.p_value if status == "tested" else math.nan, "q_value": math.nan, "discovery": False,
        "status": status, "n_seeds": est.n_seeds, "ratio": ratio, "reference": reference, "compared": compared,
    }


def _mean(values: Iterable[float]) -> float:
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return sum(xs) / len(xs) if xs else math.nan


def build_findings(results: Iterable[dict[str, Any]], *, bias_types: Sequence[str], ratios: Sequence[float],
                   mitigations: Sequence[str], mitigation_ratios: Sequence[float]) -> list[dict[str, Any]]:
    """Every test of the study, with q-values over the whole family."""
    cv = CellValues(results, bias_types)
    seeds = cv.seeds()
    rows: list[dict[str, Any]] = []
    top = max(ratios) if ratios else 0.0
    for bias_type in bias_types:
        for task, metric in cv.metrics("bias"):
            meta = cv.meta[(task, metric)]
            # ---- the ratio: slope over the unmitigated cells, paired by seed
            values: dict[tuple[int, float], float] = {}
            reps: dict[tuple[int, float], list[float]] = {}
            for r in ratios:
                v, rp = cv.get(bias_type, float(r), "none", task, metric, seeds)
                for s in v:
                    values[(s, float(r))], reps[(s, float(r))] = v[s], rp[s]
            if len({r for _s, r in values}) >= 2:
                est = ratio_slope(values, reps)
                n_seeds = len({s for s, _r in values})
                status = _status(est, values.values(), n_seeds)
                ref = _mean(v for (s, r), v in values.items() if r == min(ratios))
                cmp_ = _mean(v for (s, r), v in values.items() if r == top)
                rows.append(_row("ratio", bias_type, task, metric, meta, est, status, None, ref, cmp_))
            # ---- each mitigation against none, same ratio and seed
            for r in mitigation_ratios:
                base_v, base_r = cv.get(bias_type, float(r), "none", task, metric, seeds)
                for m in mitigations:
                    mit_v, mit_r = cv.get(bias_type, float(r), m, task, metric, seeds)
                    if not mit_v or not base_v:
                        continue
                    est = paired_difference(mit_v, base_v, mit_r, base_r)
                    common = sorted(set(mit_v) & set(base_v))
                    status = _status(est, [*(mit_v[s] for s in common), *(base_v[s] for s in common)], len(common))
                    rows.append(_row(f"mitigation:{m}", bias_type, task, metric, meta, est, status, float(r),
                                     _mean(base_v[s] for s in common), _mean(mit_v[s] for s in common)))
    tested = [k for k, row in enumerate(rows) if row["status"] == "tested"]
    for k, q in zip(tested, bh_qvalues([rows[k]["p_value"] for k in tested])):
        rows[k]["q_value"] = q
        rows[k]["discovery"] = bool(q <= Q_LEVEL)
    return rows


def summarise_cells(results: Iterable[dict[str, Any]], *, bias_types: Sequence[str]) -> list[dict[str, Any]]:
    """Per (bias type, ratio, mitigation, task, metric): the value averaged over seeds and the
    inheritance (value minus the same seed's ratio-0 value), each with a seed + item interval."""
    cv = CellValues(results, bias_types)
    seeds = cv.seeds()
    groups: dict[tuple[str, float, str, str, str], None] = {}
    for (bt, r, m, _s, task, metric) in cv.value:
        groups[(bt, r, m, task, metric)] = None
    out = []
    for bt, r, m, task, metric in groups:
        meta = cv.meta[(task, metric)]
        vals, reps = cv.get(bt, r, m, task, metric, seeds)
        value = seed_mean(vals, reps)
        base_v, base_r = cv.get(bt, 0.0, "none", task, metric, seeds)
        inherit = paired_difference(vals, base_v, reps, base_r) if base_v else None
        out.append({
            "bias_type": bt, "ratio": r, "mitigation": m, "task": task, "metric": metric, "kind": meta["kind"],
            "direction": meta["direction"], "signed": meta["signed"],
            "value": value.estimate, "ci_low": value.ci_low, "ci_high": value.ci_high,
            "n_seeds": value.n_seeds, "no_data_seeds": sum(math.isnan(v) for v in vals.values()),
            "inheritance": inherit.estimate if inherit else math.nan,
            "inheritance_ci_low": inherit.ci_low if inherit else math.nan,
            "inheritance_ci_high": inherit.ci_high if inherit else math.nan,
        })
    return out


_SHARES = {"valid_share": 1, "parse_rate": 1, "unparsed_share": -1}  # health shares; -1: lower is healthier


def mitigation_checks(results: Iterable[dict[str, Any]], *, bias_types: Sequence[str], mitigations: Sequence[str],
                      mitigation_ratios: Sequence[float]) -> list[dict[str, Any]]:
    """Per mitigation, ratio and task: performance and health next to the unmitigated model, and
    whether the mitigation broke the task (a health share fell by ``HEALTH_DROP`` or more, or a
    bias metric lost its data)."""
    results = list(results)
    cv = CellValues(results, bias_types)
    seeds = cv.seeds()
    per_task: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for task, metric in cv.meta:
        per_task[task].append((task, metric))
    out = []
    for r in mitigation_ratios:
        for m in mitigations:
            for task, metrics in per_task.items():
                row: dict[str, Any] = {"mitigation": m, "ratio": float(r), "task": task, "broken": False,
                                       "reasons": []}
                for _t, metric in metrics:
                    kind = cv.meta[(task, metric)]["kind"]
                    # the unmitigated cells of the same bias types and seeds as the mitigated ones,
                    # so shares and counts of missing data compare like with like
                    none_v, mit_v = [], []
                    for bt in bias_types:
                        mit = cv.get(bt, float(r), m, task, metric, seeds)[0]
                        none = cv.get(bt, float(r), "none", task, metric, list(mit))[0]
                        common = sorted(set(mit) & set(none))
                        mit_v += [mit[s] for s in common]
                        none_v += [none[s] for s in common]
                    if not mit_v:
                        continue
                    a, b = _mean(none_v), _mean(mit_v)
                    if kind in ("performance", "health"):
                        row[metric] = (a, b)
                    if metric in _SHARES and not (math.isnan(a) or math.isnan(b)):
                        if _SHARES[metric] * (b - a) <= -HEALTH_DROP:
                            row["broken"] = True
                            row["reasons"].append(f"{metric} {a:.2f} -> {b:.2f}")
                    if kind == "bias":
                        lost = sum(math.isnan(v) for v in mit_v) - sum(math.isnan(v) for v in none_v)
                        if lost > 0:
                            row["broken"] = True
                            row["reasons"].append(f"{metric}: no data in {lost} more cells")
                if len(row) > 5:
                    out.append(row)
    return out


def write_findings(config: StudyConfig, results: list[dict[str, Any]], run_dir: Path) -> None:
    """``findings.csv`` (every test, BH over the family), ``summary.csv`` (values and inheritance
    over seeds) and ``checks.json`` (mitigations' performance and task health)."""
    import json

    from biasinherit.records import atomic_write
    from biasinherit.studies.results import write_csv

    mitigations = list(config.mitigation.names)
    findings = build_findings(results, bias_types=config.bias_types, ratios=config.ratios,
                              mitigations=mitigations, mitigation_ratios=config.mitigation.ratios)
    write_csv(findings, run_dir / "findings.csv", FINDING_COLUMNS)
    write_csv(summarise_cells(results, bias_types=config.bias_types), run_dir / "summary.csv")
    checks = mitigation_checks(results, bias_types=config.bias_types, mitigations=mitigations,
                               mitigation_ratios=config.mitigation.ratios)
    with atomic_write(run_dir / "checks.json") as fh:
        json.dump(checks, fh, indent=1, default=str)
