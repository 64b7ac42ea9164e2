"""Values misalignment: how each group's stances on value items differ (DESIGN §9).

Each value-laden record gives a stance (agree / disagree) on one value dimension (tradition,
risk, ...) for every group it mentions (see :mod:`biasinherit.analysis.stance` for where stances
come from). For each group and dimension with enough records in both sets, the stance
distribution of the original and of the augmented data are compared:

- ``values.jsd``: Jensen–Shannon divergence (bits) between the two stance distributions,
  averaged over (group, dimension) cells weighted by their records; per group in the table.
- ``values.stereotype_shift``: over cells where the taxonomy names a stereotyped stance
  (``Attribute.value_stereotypes``), the mean change in the share of records taking it.
  Positive = the augmented data moves groups toward their stereotyped values.

``values.jsd`` gets a permutation p-value (records of both sets pooled and re-split: a distance's
bootstrap interval is biased upward); ``values.stereotype_shift`` a percentile bootstrap interval.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biasinherit.analysis.measures import (
    AnalysisResult,
    Measure,
    bootstrap_interval,
    jensen_shannon,
    permutation_p_value,
)
from biasinherit.analysis.stance import EmbeddingStanceScorer, StanceReading, annotated_stance
from biasinherit.formats import training_text
from biasinherit.records import Record
from biasinherit.taxonomy import Taxonomy

__all__ = ["StanceTable", "analyze_values", "read_stances"]

log = logging.getLogger(__name__)

MIN_CELL = 3  # records a (group, dimension) cell needs in each set to be compared


@dataclass
class StanceTable:
    """One row per (record, group) stance: parallel arrays."""

    record: np.ndarray  # record index
    cell: np.ndarray  # index into cells
    agree: np.ndarray  # 1 = agree, 0 = disagree
    cells: list[tuple[str, str]]  # (attribute:group, dimension)
    n_records: int
    sources: dict[str, int]


def read_stances(
    records: Sequence[Record],
    taxonomy: Taxonomy,
    cells: list[tuple[str, str]],
    scorer: EmbeddingStanceScorer | None,
    *,
    max_scored: int = 2000,
    seed: int = 0,
) -> StanceTable:
    """Stances of value-laden records, one row per mentioned group (``cells`` grows in place)."""
    readings: dict[int, StanceReading] = {}
    unread = []
    for i, rec in enumerate(records):
        r = annotated_stance(rec, taxonomy)
        if r is not None:
            readings[i] = r
        else:
            unread.append(i)
    if scorer is not None and unread:
        unread = [i for i in unread if scorer.is_candidate(training_text(records[i].prompt, records[i].response))]
    if scorer is not None and unread:
        if len(unread) > max_scored:
            rng = np.random.default_rng(seed)
            unread = sorted(rng.choice(unread, size=max_scored, replace=False).tolist())
        scored = scorer.read([training_text(records[i].prompt, records[i].response) for i in unread])
        for i, r in zip(unread, scored):
            if r is not None:
                readings[i] = r
    attrs = [a for a in taxonomy.attributes.values() if a.value_stereotypes]
    cell_index = {c: k for k, c in enumerate(cells)}
    rows_r, rows_c, rows_a = [], [], []
    sources: dict[str, int] = {}
    for i, r in readings.items():
        rec = records[i]
        groups = taxonomy.detect_groups(training_text(rec.prompt, rec.response), [a.attribute for a in attrs])
        for g in groups:
            key = (g, r.dimension)
            if key not in cell_index:
                cell_index[key] = len(cells)
                cells.append(key)
            rows_r.append(i)
            rows_c.append(cell_index[key])
            rows_a.append(1 if r.stance == taxonomy.stances[0] else 0)
        if groups:
            sources[r.source] = sources.get(r.source, 0) + 1
    return StanceTable(np.array(rows_r, dtype=int), np.array(rows_c, dtype=int),
                       np.array(rows_a, dtype=float), cells, len(records), sources)


def _cell_counts(t: StanceTable, n_cells: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(records per cell, agreeing records per cell) under record weights."""
    w = weights[t.record] if len(t.record) else np.zeros(0)
    total = np.bincount(t.cell, weights=w, minlength=n_cells)
    agree = np.bincount(t.cell, weights=w * t.agree, minlength=n_cells)
    return total, agree


def _compare(
    to: StanceTable, ta: StanceTable, n_cells: int, wo: np.ndarray, wa: np.ndarray, stereo: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """(weighted mean JSD, stereotype shift, per-cell JSD, per-cell p_orig, per-cell p_aug)."""
    no, ao = _cell_counts(to, n_cells, wo)
    na, aa = _cell_counts(ta, n_cells, wa)
    ok = (no >= MIN_CELL) & (na >= MIN_CELL)
    po = np.divide(ao, no, out=np.full(n_cells, np.nan), where=no > 0)
    pa = np.divide(aa, na, out=np.full(n_cells, np.nan), where=na > 0)
    jsd = np.full(n_cells, np.nan)
    for k in np.nonzero(ok)[0]:
        jsd[k] = jensen_shannon([po[k], 1 - po[k]], [pa[k], 1 - pa[k]])
    weight = no + na
    mean_jsd = float(np.sum(jsd[ok] * weight[ok]) / np.sum(weight[ok])) if ok.any() else float("nan")
    # stereo: +1 stereotyped stance is agree, -1 disagree, 0 none
    s_ok = ok & (stereo != 0)
    shift = float(np.mean(stereo[s_ok] * (pa[s_ok] - po[s_ok]))) if s_ok.any() else float("nan")
    return mean_jsd, shift, jsd, po, pa


def _permutation_p(
    to: StanceTable, ta: StanceTable, n_cells: int, stereo: np.ndarray, observed: float, n_perm: int, seed: int
) -> float:
    """Records of both sets pooled and re-split at random; the mean JSD recomputed each time."""
    pooled = StanceTable(
        np.concatenate([to.record, ta.record + to.n_records]), np.concatenate([to.cell, ta.cell]),
        np.concatenate([to.agree, ta.agree]), to.cells, to.n_records + ta.n_records, {},
    )
    rng = np.random.default_rng(seed)
    labels = np.zeros(pooled.n_records)
    labels[: to.n_records] = 1
    null = []
    for _ in range(n_perm):
        w = rng.permutation(labels)
        v = _compare(pooled, pooled, n_cells, w, 1.0 - w, stereo)[0]
        if np.isfinite(v):
            null.append(v)
    return permutation_p_value(observed, null)


def analyze_values(
    original: Sequence[Record],
    augmented: Sequence[Record],
    taxonomy: Taxonomy,
    *,
    scorer: EmbeddingStanceScorer | None = None,
    max_scored: int = 2000,
    n_bootstrap: int = 200,
    n_permutations: int = 200,
    seed: int = 0,
) -> AnalysisResult:
    """Stance distributions per group and dimension, original vs augmented."""
    result = AnalysisResult("values")
    cells: list[tuple[str, str]] = []
    to = read_stances(original, taxonomy, cells, scorer, max_scored=max_scored, seed=seed)
    ta = read_stances(augmented, taxonomy, cells, scorer, max_scored=max_scored, seed=seed + 1)
    n_cells = len(cells)
    stereo = np.zeros(n_cells)
    for k, (g, dim) in enumerate(cells):
        attr, group = g.split(":", 1)
        stance = taxonomy.attributes[attr].value_stereotypes.get(group, {}).get(dim)
        if stance is not None:
            stereo[k] = 1.0 if stance == taxonomy.stances[0] else -1.0
    n_o, n_a = len(set(to.record.tolist())), len(set(ta.record.tolist()))
    result.tables["stance_sources"] = {"original": to.sources, "augmented": ta.sources}
    if scorer is None:
        result.notes.append("stances from annotations and the values format only (no embedding scorer)")
    elif to.sources.get("scorer") or ta.sources.get("scorer"):
        result.notes.append(
            f"free-text stances read by the embedding stance scorer (at most {max_scored} "
            "unannotated records per set)"
        )
    ones_o, ones_a = np.ones(to.n_records), np.ones(ta.n_records)
    mean_jsd, shift, jsd, po, pa = _compare(to, ta, n_cells, ones_o, ones_a, stereo)
    no, _ = _cell_counts(to, n_cells, ones_o)
    na, _ = _cell_counts(ta, n_cells, ones_a)
    result.tables["cells"] = [
        {"group": g, "dimension": d, "agree_original": po[k], "agree_augmented": pa[k],
         "records_original": int(no[k]), "records_augmented": int(na[k]), "jsd": jsd[k],
         "stereotyped_stance": None if stereo[k] == 0 else ("agree" if stereo[k] > 0 else "disagree")}
        for k, (g, d) in enumerate(cells)
    ]
    per_group: dict[str, list[float]] = {}
    for k, (g, _d) in enumerate(cells):
        if np.isfinite(jsd[k]):
            per_group.setdefault(g, []).append(float(jsd[k]))
    result.tables["jsd_per_group"] = {g: float(np.mean(v)) for g, v in sorted(per_group.items())}

    def boot(which: int):  # type: ignore[no-untyped-def]
        def stat(io: np.ndarray, ia: np.ndarray) -> float:
            wo = np.bincount(io, minlength=to.n_records).astype(float)
            wa = np.bincount(ia, minlength=ta.n_records).astype(float)
            return _compare(to, ta, n_cells, wo, wa, stereo)[which]
        return stat

    if not np.isfinite(mean_jsd):
        why = ("no value-laden records that mention a group"
               if n_o == 0 or n_a == 0 else
               f"no group and value dimension has {MIN_CELL}+ stances in both sets")
        which = "" if n_o and n_a else (" in the original data" if n_o == 0 and n_a else
                                        " in the augmented data" if n_a == 0 and n_o else " in either dataset")
        note = f"{why}{which}"
        result.measures.append(Measure("values.jsd", None, n_o, n_a, note=note))
        result.measures.append(Measure("values.stereotype_shift", None, n_o, n_a, note=note))
        return result
    p_value = _permutation_p(to, ta, n_cells, stereo, mean_jsd, n_permutations, seed)
    top = max(result.tables["jsd_per_group"].items(), key=lambda kv: kv[1])
    result.measures.append(Measure(
        "values.jsd", mean_jsd, n_o, n_a, p_value=p_value,
        reading=(f"stance distributions differ by {mean_jsd:.3f} bits on average "
                 f"(most for {top[0]}: {top[1]:.3f})"),
        details={"cells_compared": int(np.isfinite(jsd).sum()),
                 "support": int(min(no[np.isfinite(jsd)].sum(), na[np.isfinite(jsd)].sum()))},
    ))
    if np.isfinite(shift):
        lo, hi = bootstrap_interval(boot(1), to.n_records, ta.n_records, n_resamples=n_bootstrap, seed=seed)
        direction = "toward" if shift >= 0 else "away from"
        reading = (f"groups take their stereotyped stance {100 * abs(shift):.0f} points "  # noqa: ISC003
                   f"{'more' if shift >= 0 else 'less'} often ({direction} the stereotype)")
        in_stereo = (stereo != 0) & np.isfinite(jsd)
        result.measures.append(Measure("values.stereotype_shift", shift, n_o, n_a, lo, hi, reading=reading,
                                       details={"cells_with_stereotype": int(in_stereo.sum()),
                                                "support": int(min(no[in_stereo].sum(), na[in_stereo].sum()))}))
    else:
        result.measures.append(Measure("values.stereotype_shift", None, n_o, n_a,
                                       note="no compared cell has a stereotyped stance in the taxonomy"))
    return result
