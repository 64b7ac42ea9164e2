"""Lexical statistics of two text sets: length, type-token ratio, vocabulary divergence.

Words are lower-cased ``\\w+`` runs. These are cheap, so they use every record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from biasinherit.analysis.measures import Measure, jensen_shannon, permutation_p_value

__all__ = ["lexical_measures", "segment_type_token_ratios", "tokenize"]

_WORD = re.compile(r"\w+")
TTR_SEGMENT = 200  # tokens per segment of the standardised type-token ratio


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def segment_type_token_ratios(docs: Sequence[list[str]], segment: int = TTR_SEGMENT) -> np.ndarray:
    """Type-token ratio of consecutive ``segment``-token pieces of the concatenated documents
    (standardised TTR: comparable across sets of different size)."""
    stream = [w for d in docs for w in d]
    out = [len(set(stream[i : i + segment])) / segment for i in range(0, len(stream) - segment + 1, segment)]
    return np.array(out)


def lexical_measures(
    original: Sequence[str], augmented: Sequence[str], *, n_permutations: int = 200, seed: int = 0
) -> tuple[list[Measure], dict]:
    """Length (KS test), standardised TTR (Welch t-test) and vocabulary JSD (permutation)."""
    from scipy import sparse
    from scipy.stats import ks_2samp, ttest_ind

    do = [tokenize(t) for t in original]
    da = [tokenize(t) for t in augmented]
    n_o, n_a = len(do), len(da)
    measures: list[Measure] = []
    lo_len = np.array([len(d) for d in do], dtype=float)
    la_len = np.array([len(d) for d in da], dtype=float)
    ks = ks_2samp(lo_len, la_len)
    mo, ma = float(lo_len.mean()), float(la_len.mean())
    word = "longer" if ma > mo else "shorter"
    measures.append(Measure(
        "distribution.length_ks", float(ks.statistic), n_o, n_a, p_value=float(ks.pvalue),
        reading=f"augmented records are {word}: {ma:.1f} vs {mo:.1f} words on average",
        details={"mean_words_original": mo, "mean_words_augmented": ma,
                 "median_words_original": float(np.median(lo_len)),
                 "median_words_augmented": float(np.median(la_len))},
    ))
    # Segments are taken in a seeded random record order so template order does not matter.
    rng = np.random.default_rng(seed)
    to = segment_type_token_ratios([do[i] for i in rng.permutation(n_o)])
    ta = segment_type_token_ratios([da[i] for i in rng.permutation(n_a)])
    if len(to) >= 2 and len(ta) >= 2:
        diff = float(ta.mean() - to.mean())
        t = ttest_ind(ta, to, equal_var=False)
        se = float(np.sqrt(ta.var(ddof=1) / len(ta) + to.var(ddof=1) / len(to)))
        measures.append(Measure(
            "distribution.type_token_ratio", diff, n_o, n_a, diff - 1.96 * se, diff + 1.96 * se,
            p_value=float(t.pvalue),
            reading=(f"augmented text is lexically {'richer' if diff > 0 else 'poorer'}: type-token ratio "
                     f"{ta.mean():.3f} vs {to.mean():.3f} per {TTR_SEGMENT} words"),
            details={"ttr_original": float(to.mean()), "ttr_augmented": float(ta.mean()),
                     "segment_tokens": TTR_SEGMENT},
        ))
    else:
        measures.append(Measure("distribution.type_token_ratio", None, n_o, n_a,
                                note=f"needs at least {2 * TTR_SEGMENT} words in each set"))
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for r, d in enumerate(do + da):
        for w in d:
            rows.append(r)
            cols.append(vocab.setdefault(w, len(vocab)))
    if not vocab or not any(do) or not any(da):
        measures.append(Measure("distribution.vocabulary_jsd", None, n_o, n_a, note="a set has no words"))
        return measures, {"length_histogram": _histogram(lo_len, la_len)}
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_o + n_a, len(vocab)))
    observed = jensen_shannon(np.asarray(counts[:n_o].sum(axis=0)).ravel(), np.asarray(counts[n_o:].sum(axis=0)).ravel())
    total = np.asarray(counts.sum(axis=0)).ravel()
    null = []
    labels = np.zeros(n_o + n_a)
    labels[:n_o] = 1
    for _ in range(n_permutations):
        s = rng.permutation(labels)
        part = np.asarray(counts.T @ s).ravel()
        rest = total - part
        if part.sum() > 0 and rest.sum() > 0:
            null.append(jensen_shannon(part, rest))
    p = permutation_p_value(observed, null)
    measures.append(Measure(
        "distribution.vocabulary_jsd", observed, n_o, n_a, p_value=p,
        reading=(f"word distributions differ by {observed:.3f} bits (same-source splits: "
                 f"{np.median(null):.3f})"),
        details={"vocabulary_size": len(vocab), "null_median": float(np.median(null)),
                 "n_permutations": n_permutations},
    ))
    return measures, {"length_histogram": _histogram(lo_len, la_len)}


def _histogram(lo: np.ndarray, la: np.ndarray, bins: int = 30) -> dict:
    hi = float(np.quantile(np.concatenate([lo, la]), 0.99)) if len(lo) + len(la) else 1.0
    edges = np.linspace(0, max(hi, 1.0), bins + 1)
    return {"edges": edges.tolist(), "original": np.histogram(np.clip(lo, 0, hi), edges)[0].tolist(),
            "augmented": np.histogram(np.clip(la, 0, hi), edges)[0].tolist()}
