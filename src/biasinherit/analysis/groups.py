"""Group-data misalignment: who appears, and with which occupations and traits (DESIGN §9).

Every record is read as one unit (prompt and response together, the text a model trains on).
Groups are detected in the text with the taxonomy's lexicons (declared ``groups`` are not used,
so an original file with annotations and an LLM's output without them are treated alike); a
lexicon form that is also an occupation ("police officer", "salesperson") is not a group
mention. Occupations and traits are the taxonomy's vocabularies, matched as whole words.

Measures, per attribute (gender, culture, ...):

- ``share_tvd``: total-variation distance between the groups' shares of mentions in the original
  and in the augmented data (0 = same shares; 1 = disjoint), with a permutation p-value (records
  of both sets pooled and re-split), since a bootstrap interval of a distance is biased upward.
- ``occupation_association`` / ``trait_association``: the change, in share points, of the
  *stereotype-consistent share*: among co-occurrences of a group of the attribute with an item
  that has a stereotyped group (``Attribute.associations`` for occupations,
  ``Trait.stereotyped_for`` for traits), the share in which the group is the stereotyped one.
  Positive = the augmented data pairs groups and items more stereotypically. The smoothed
  log-odds ratio of every group x item pair (Haldane–Anscombe, +0.5) and its change are tabled,
  and the most shifted pairs listed.

Intervals of the association shifts are percentile bootstraps over records, each set resampled
independently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biasinherit.analysis.measures import (
    AnalysisResult,
    Measure,
    bootstrap_interval,
    permutation_p_value,
    total_variation,
)
from biasinherit.formats import training_text
from biasinherit.records import Record
from biasinherit.taxonomy import Taxonomy

__all__ = ["GroupFeatures", "analyze_groups", "extract_group_features", "log_odds_ratios"]

SMOOTHING = 0.5
MIN_PAIR_SUPPORT = 5  # co-occurrences an item needs in each set before its pair shifts are listed
MIN_DOMAIN_SUPPORT = 20  # mentions a domain needs in each set before it gets a plain reading


@dataclass
class GroupFeatures:
    """Per-record indicator matrices (records x columns), 0/1 as float32."""

    groups: list[str]  # "attribute:group" column names
    occupations: list[str]
    traits: list[str]
    group_matrix: np.ndarray
    occupation_matrix: np.ndarray
    trait_matrix: np.ndarray

    @property
    def n(self) -> int:
        return int(self.group_matrix.shape[0])


def _word_pattern(forms: Sequence[str]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE)


class _Matchers:
    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.groups = [f"{a.attribute}:{g}" for a in taxonomy.attributes.values() for g in a.groups]
        self.group_col = {g: i for i, g in enumerate(self.groups)}
        self.occupations = [o.name for o in taxonomy.occupations]
        occ_forms: dict[str, int] = {}
        for i, o in enumerate(taxonomy.occupations):
            occ_forms[o.name.lower()] = i
            occ_forms[o.plural.lower()] = i
        self.occ_forms = occ_forms
        self.occ_pattern = _word_pattern(list(occ_forms))
        self.traits = [t.trait for t in taxonomy.traits]
        self.trait_col = {t.lower(): i for i, t in enumerate(self.traits)}
        self.trait_pattern = _word_pattern(self.traits)

    def groups_in(self, text: str) -> set[int]:
        cols = set()
        for _s, _e, entry in self.taxonomy.find_terms(text):
            form = text[_s:_e].lower()
            if form in self.occ_forms:
                continue  # an occupation word, not a group term
            attr = self.taxonomy.attributes[entry.attribute]
            if entry.group not in attr.default_groups and (
                entry.concept.startswith("pronoun") or entry.concept in ("person", "child", "parent")
            ):
                continue  # same rule as Taxonomy.detect_groups: needs a distinctive form
            cols.add(self.group_col[f"{entry.attribute}:{entry.group}"])
        return cols


def extract_group_features(records: Sequence[Record], taxonomy: Taxonomy) -> GroupFeatures:
    """Which groups, occupations and traits each record mentions."""
    m = _Matchers(taxonomy)
    n = len(records)
    gm = np.zeros((n, len(m.groups)), dtype=np.float32)
    om = np.zeros((n, len(m.occupations)), dtype=np.float32)
    tm = np.zeros((n, len(m.traits)), dtype=np.float32)
    for i, rec in enumerate(records):
        text = training_text(rec.prompt, rec.response)
        for c in m.groups_in(text):
            gm[i, c] = 1
        for match in m.occ_pattern.finditer(text):
            om[i, m.occ_forms[match.group(0).lower()]] = 1
        for match in m.trait_pattern.finditer(text):
            tm[i, m.trait_col[match.group(0).lower()]] = 1
    return GroupFeatures(m.groups, m.occupations, m.traits, gm, om, tm)


def log_odds_ratios(cooc: np.ndarray, smoothing: float = SMOOTHING) -> np.ndarray:
    """Smoothed log-odds ratio of every (group, item) cell of a groups x items count table:
    ``log((a+s)(d+s) / ((b+s)(c+s)))`` with a = the cell, b = the group's other items,
    c = the item's other groups, d = everything else. Positive = the pair co-occurs more than
    the group's and the item's totals predict."""
    cooc = np.asarray(cooc, dtype=float)
    total = cooc.sum()
    a = cooc
    b = cooc.sum(axis=1, keepdims=True) - a
    c = cooc.sum(axis=0, keepdims=True) - a
    d = total - a - b - c
    s = smoothing
    return np.log((a + s) * (d + s) / ((b + s) * (c + s)))  # type: ignore[no-any-return]


# ---- per-attribute statistics ---------------------------------------------------------------


@dataclass
class _AttributeView:
    name: str
    group_cols: list[int]
    group_names: list[str]  # bare group names, e.g. 'female'
    labels: list[str]  # plural nouns for readings, e.g. 'women'


def _shares(f: GroupFeatures, view: _AttributeView, weights: np.ndarray) -> np.ndarray:
    return weights @ f.group_matrix[:, view.group_cols]  # mention counts per group


def _cooc(f: GroupFeatures, view: _AttributeView, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
    g = f.group_matrix[:, view.group_cols] * weights[:, None]
    return g.T @ items  # groups x items


def _weighted_cooc(g: np.ndarray, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return (g.T * weights) @ items  # groups x items


def _stereotype_mask(view: _AttributeView, item_groups: list[set[str]]) -> np.ndarray:
    """groups x items: 1 where the group is a stereotyped group of the item."""
    mask = np.zeros((len(view.group_names), len(item_groups)), dtype=float)
    for j, groups in enumerate(item_groups):
        for i, g in enumerate(view.group_names):
            if g in groups:
                mask[i, j] = 1
    return mask


def _consistent_share(cooc: np.ndarray, mask: np.ndarray) -> float:
    """Share of co-occurrences (with items that have a stereotyped group) that pair the item
    with its stereotyped group; NaN when there are none."""
    has_stereo = mask.sum(axis=0) > 0
    denom = cooc[:, has_stereo].sum()
    if denom <= 0:
        return float("nan")
    return float((cooc * mask)[:, has_stereo].sum() / denom)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _pts(x: float) -> str:
    n = round(100 * abs(x))
    return f"{n} point{'' if n == 1 else 's'}"


def _share_measure(fo: GroupFeatures, fa: GroupFeatures, view: _AttributeView, n_perm: int, seed: int) -> tuple[Measure, dict]:
    mo = fo.group_matrix[:, view.group_cols]
    ma = fa.group_matrix[:, view.group_cols]
    so, sa = mo.sum(axis=0).astype(float), ma.sum(axis=0).astype(float)
    name = f"groups.{view.name}.share_tvd"
    table = {
        "groups": view.group_names,
        "labels": view.labels,
        "original_mentions": so.tolist(),
        "augmented_mentions": sa.tolist(),
        "original_share": (so / so.sum()).tolist() if so.sum() else None,
        "augmented_share": (sa / sa.sum()).tolist() if sa.sum() else None,
    }
    nro = int((mo.sum(axis=1) > 0).sum())
    nra = int((ma.sum(axis=1) > 0).sum())
    if so.sum() == 0 or sa.sum() == 0:
        which = "either dataset" if so.sum() == 0 and sa.sum() == 0 else (
            "the original data" if so.sum() == 0 else "the augmented data")
        return Measure(name, None, nro, nra, note=f"no {view.name} group mentions in {which}"), table
    value = total_variation(so, sa)
    # Permutation test: records of both sets pooled and re-split at random, n_perm times.
    pooled = np.concatenate([mo, ma])
    total = pooled.sum(axis=0, dtype=np.float64)
    rng = np.random.default_rng(seed)
    labels = np.zeros(len(pooled), dtype=np.float32)
    labels[: fo.n] = 1
    null = []
    for start in range(0, n_perm, 50):
        perms = np.stack([rng.permutation(labels) for _ in range(min(50, n_perm - start))])
        part = perms @ pooled
        for row in part.astype(np.float64):
            rest = total - row
            if row.sum() > 0 and rest.sum() > 0:
                null.append(total_variation(row, rest))
    p_value = permutation_p_value(value, null)
    po, pa = so / so.sum(), sa / sa.sum()
    delta = pa - po
    # the most changed group; on a tie (two groups) name the one that gained
    k = int(np.argmax(delta)) if delta.max() >= -delta.min() - 1e-9 else int(np.argmin(delta))
    diff = delta[k]
    verb = "over-represents" if diff > 0 else "under-represents"
    if abs(diff) < 0.005:
        reading = f"group shares match the original (largest difference under 1 point, {view.labels[k]})"
    else:
        reading = (
            f"augmented data {verb} {view.labels[k]}: {_pct(pa[k])} of {view.name} mentions vs "
            f"{_pct(po[k])} in the original ({'+' if diff >= 0 else '-'}{_pts(diff)})"
        )
    return Measure(name, value, nro, nra, p_value=p_value, reading=reading,
                   details={"records_with_mentions": [nro, nra], "n_permutations": n_perm,
                            "null_median": float(np.median(null)) if null else None}), table


def _association(
    fo: GroupFeatures, fa: GroupFeatures, view: _AttributeView, kind: str, items: list[str],
    om: np.ndarray, am: np.ndarray, stereo_groups: list[set[str]], domains: list[str] | None,
    n_boot: int, seed: int, top_k: int,
) -> tuple[Measure, dict]:
    name = f"groups.{view.name}.{kind}_association"
    ones_o, ones_a = np.ones(fo.n, dtype=np.float32), np.ones(fa.n, dtype=np.float32)
    co, ca = _cooc(fo, view, om, ones_o), _cooc(fa, view, am, ones_a)
    mask = _stereotype_mask(view, stereo_groups)
    lor_o, lor_a = log_odds_ratios(co), log_odds_ratios(ca)
    support_o, support_a = co.sum(axis=0), ca.sum(axis=0)
    pairs = []
    for j, item in enumerate(items):
        if support_o[j] < MIN_PAIR_SUPPORT or support_a[j] < MIN_PAIR_SUPPORT:
            continue
        for i, g in enumerate(view.group_names):
            if max(co[i, j], ca[i, j]) < MIN_PAIR_SUPPORT:
                continue  # a pair seen (almost) never: its log-odds change is smoothing noise
            pairs.append({
                "group": g, "item": item,
                "log_odds_original": float(lor_o[i, j]), "log_odds_augmented": float(lor_a[i, j]),
                "change": float(lor_a[i, j] - lor_o[i, j]),
                "share_original": float(co[i, j] / support_o[j]),
                "share_augmented": float(ca[i, j] / support_a[j]),
                "count_original": int(co[i, j]), "count_augmented": int(ca[i, j]),
                "stereotyped": bool(mask[i, j]),
            })
    pairs.sort(key=lambda p: -p["change"])  # most strengthened pairs first
    table: dict = {"top_shifted_pairs": pairs[:top_k], "items_with_support": len({p["item"] for p in pairs})}
    n_o, n_a = int(co.sum()), int(ca.sum())
    share_o, share_a = _consistent_share(co, mask), _consistent_share(ca, mask)
    if not np.isfinite(share_o) or not np.isfinite(share_a):
        which = "either dataset" if not np.isfinite(share_o) and not np.isfinite(share_a) else (
            "the original data" if not np.isfinite(share_o) else "the augmented data")
        return Measure(name, None, n_o, n_a, note=(
            f"no {view.name} group co-occurs with a stereotyped {kind} in {which}")), table
    value = share_a - share_o

    # Only records that mention a group and a stereotyped item change the statistic.
    has_stereo = mask.sum(axis=0) > 0
    go, ga = fo.group_matrix[:, view.group_cols], fa.group_matrix[:, view.group_cols]
    oso, osa = om[:, has_stereo], am[:, has_stereo]
    mask_s = mask[:, has_stereo]

    def stat(io: np.ndarray, ia: np.ndarray) -> float:
        wo = np.bincount(io, minlength=fo.n).astype(np.float32)
        wa = np.bincount(ia, minlength=fa.n).astype(np.float32)
        return (_consistent_share(_weighted_cooc(ga, osa, wa), mask_s)
                - _consistent_share(_weighted_cooc(go, oso, wo), mask_s))

    lo, hi = bootstrap_interval(stat, fo.n, fa.n, n_resamples=n_boot, seed=seed)
    direction = "toward" if value >= 0 else "away from"
    reading = (
        f"{kind}s co-occur with their stereotyped {view.name} group in {_pct(share_a)} of "
        f"{view.name} mentions vs {_pct(share_o)} in the original "
        f"({_pts(value)} {direction} the stereotype)"
    )
    stereo_lor = [(lor_o[i, j], lor_a[i, j]) for i, j in zip(*np.nonzero(mask))
                  if support_o[j] >= MIN_PAIR_SUPPORT and support_a[j] >= MIN_PAIR_SUPPORT]
    details = {
        # the mentions the share rests on (groups with a stereotyped item), in the smaller set
        "support": int(min(co[:, has_stereo].sum(), ca[:, has_stereo].sum())),
        "consistent_share_original": share_o,
        "consistent_share_augmented": share_a,
        "mean_stereotyped_log_odds_original": float(np.mean([x for x, _ in stereo_lor])) if stereo_lor else None,
        "mean_stereotyped_log_odds_augmented": float(np.mean([y for _, y in stereo_lor])) if stereo_lor else None,
    }
    if domains is not None:
        table["domains"], domain_reading = _domain_shifts(co, ca, view, domains)
        if domain_reading and lo is not None and (lo > 0 or (hi is not None and hi < 0)):
            reading = f"{domain_reading}; {reading}"
    return Measure(name, value, n_o, n_a, lo, hi, reading=reading, details=details), table


def _domain_shifts(co: np.ndarray, ca: np.ndarray, view: _AttributeView, domains: list[str]) -> tuple[list[dict], str]:
    """Each group's share of mentions among a domain's occupations, original vs augmented."""
    rows = []
    for d in sorted(set(domains)):
        cols = [j for j, x in enumerate(domains) if x == d]
        so, sa = co[:, cols].sum(axis=1), ca[:, cols].sum(axis=1)
        if so.sum() < MIN_PAIR_SUPPORT or sa.sum() < MIN_PAIR_SUPPORT:
            continue
        for i, g in enumerate(view.group_names):
            po, pa = so[i] / so.sum(), sa[i] / sa.sum()
            rows.append({"domain": d, "group": g, "label": view.labels[i], "share_original": float(po),
                         "share_augmented": float(pa), "change": float(pa - po),
                         "mentions_original": int(so.sum()), "mentions_augmented": int(sa.sum())})
    rows.sort(key=lambda r: -r["change"])
    readable = [r for r in rows if min(r["mentions_original"], r["mentions_augmented"]) >= MIN_DOMAIN_SUPPORT]
    if not readable or readable[0]["change"] < 0.05:
        return rows, ""
    top = readable[0]
    return rows, (
        f"augmented data over-represents {top['label']} in {top['domain']} occupations by "
        f"{_pts(top['change'])} ({_pct(top['share_augmented'])} vs {_pct(top['share_original'])})"
    )


def analyze_groups(
    original: Sequence[Record],
    augmented: Sequence[Record],
    taxonomy: Taxonomy,
    *,
    n_bootstrap: int = 200,
    n_permutations: int = 200,
    seed: int = 0,
    top_k: int = 10,
) -> AnalysisResult:
    """Group shares and group x occupation/trait associations, original vs augmented."""
    fo = extract_group_features(original, taxonomy)
    fa = extract_group_features(augmented, taxonomy)
    result = AnalysisResult("groups")
    if fo.group_matrix.sum() == 0 and fa.group_matrix.sum() == 0:
        result.notes.append(
            "no group mentions found in either dataset (no gender or culture terms, names or "
            "pronouns from the taxonomy): group measures are not available"
        )
    occ_by_name = {o.name: o for o in taxonomy.occupations}
    for attr in taxonomy.attributes.values():
        cols = [fo.groups.index(f"{attr.attribute}:{g}") for g in attr.groups]
        view = _AttributeView(attr.attribute, cols, list(attr.groups), [attr.label(g) for g in attr.groups])
        m, table = _share_measure(fo, fa, view, n_permutations, seed)
        result.measures.append(m)
        result.tables[f"{attr.attribute}.shares"] = table
        occ_groups = [{g for g, occs in attr.associations.items() if o in occs} for o in fo.occupations]
        trait_groups = [
            {s.split(":", 1)[1] for s in t.stereotyped_for if s.split(":", 1)[0] == attr.attribute}
            for t in taxonomy.traits
        ]
        for kind, items, om, am, stereo, domains in (
            ("occupation", fo.occupations, fo.occupation_matrix, fa.occupation_matrix, occ_groups,
             [occ_by_name[o].domain or o for o in fo.occupations]),
            ("trait", fo.traits, fo.trait_matrix, fa.trait_matrix, trait_groups, None),
        ):
            m, table = _association(fo, fa, view, kind, items, om, am, stereo, domains,
                                    n_bootstrap, seed, top_k)
            result.measures.append(m)
            result.tables[f"{attr.attribute}.{kind}_association"] = table
    return result
