"""Data-distribution misalignment: do the two sets look like the same data? (DESIGN §9)

Sentence embeddings of both sets (at most ``max_embedded`` records of each, a seeded random
subsample, stated in the output) feed three two-sample tests: MMD with an RBF kernel and a
permutation p-value, the Fréchet distance with a permutation p-value, and a classifier test
(cross-validated AUC). Lexical statistics use every record. The embedding map is a 2-D PCA
projection of the embedded records, for the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from biasinherit.analysis.embeddings import EmbeddingModel
from biasinherit.analysis.lexical import lexical_measures
from biasinherit.analysis.measures import AnalysisResult, Measure
from biasinherit.analysis.two_sample import classifier_two_sample_test, frechet_test, mmd_rbf_test
from biasinherit.formats import training_text
from biasinherit.records import Record

__all__ = ["analyze_distribution", "subsample_indices"]

log = logging.getLogger(__name__)

MAP_POINTS = 400  # points per set in the embedding map


def subsample_indices(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted seeded sample of ``min(n, k)`` indices out of ``n``."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def _significance(p: float) -> str:
    return "distinguishable" if p < 0.05 else "not distinguishable"


def analyze_distribution(
    original: Sequence[Record],
    augmented: Sequence[Record],
    embedder: EmbeddingModel,
    *,
    max_embedded: int = 2000,
    n_permutations: int = 200,
    n_frechet_permutations: int = 50,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> AnalysisResult:
    """MMD, Fréchet distance, classifier AUC on embeddings; length, TTR, vocabulary JSD."""
    result = AnalysisResult("distribution")
    to = [training_text(r.prompt, r.response) for r in original]
    ta = [training_text(r.prompt, r.response) for r in augmented]
    io = subsample_indices(len(to), max_embedded, seed)
    ia = subsample_indices(len(ta), max_embedded, seed + 1)
    if len(io) < len(to) or len(ia) < len(ta):
        result.notes.append(
            f"embedding measures use a seeded random subsample of {len(io)} original and "
            f"{len(ia)} augmented records (of {len(to)} and {len(ta)}); lexical measures use all"
        )
    result.tables["embedded"] = {"original": int(len(io)), "augmented": int(len(ia))}
    texts = [to[i] for i in io] + [ta[i] for i in ia]
    z = embedder.encode(texts, progress=progress)
    x, y = z[: len(io)], z[len(io) :]
    n_o, n_a = len(x), len(y)
    log.info("embedded %d + %d records with %s", n_o, n_a, embedder.model_id)
    if n_o >= 5 and n_a >= 5:
        mmd = mmd_rbf_test(x, y, n_permutations=n_permutations, seed=seed)
        result.measures.append(Measure(
            "distribution.mmd", mmd.statistic, n_o, n_a, p_value=mmd.p_value,
            reading=f"embedding distributions are {_significance(mmd.p_value)} by MMD",
            details={"kernel": "rbf", "bandwidth": mmd.extra, "bandwidth_rule": "median heuristic",
                     "n_permutations": n_permutations, "unbiased": True},
        ))
        fr = frechet_test(x, y, n_permutations=n_frechet_permutations, seed=seed)
        result.measures.append(Measure(
            "distribution.frechet", fr.statistic, n_o, n_a, p_value=fr.p_value,
            reading=f"Fréchet distance {fr.statistic:.4f} ({_significance(fr.p_value)})",
            details={"n_permutations": n_frechet_permutations},
        ))
        c2 = classifier_two_sample_test(x, y, seed=seed)
        result.measures.append(Measure(
            "distribution.classifier_auc", c2.statistic, n_o, n_a, p_value=c2.p_value,
            reading=(f"a classifier tells augmented from original records with AUC {c2.statistic:.2f} "
                     "(0.50 = cannot tell)"),
            details={"model": "logistic regression", "folds": 5},
        ))
        result.tables["embedding_map"] = _embedding_map(x, y, seed)
    else:
        for name in ("distribution.mmd", "distribution.frechet", "distribution.classifier_auc"):
            result.measures.append(Measure(name, None, n_o, n_a, note="needs at least 5 records in each set"))
    lex, tables = lexical_measures(to, ta, n_permutations=n_permutations, seed=seed)
    result.measures.extend(lex)
    result.tables.update(tables)
    result.tables["embedding_model"] = embedder.model_id
    return result


def _embedding_map(x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """2-D PCA of both sets (fitted on both), at most MAP_POINTS points of each."""
    z = np.concatenate([x, y]).astype(np.float64)
    mean = z.mean(axis=0)
    _u, _s, vt = np.linalg.svd(z - mean, full_matrices=False)
    proj = (z - mean) @ vt[:2].T
    px, py = proj[: len(x)], proj[len(x) :]
    kx = subsample_indices(len(px), MAP_POINTS, seed + 2)
    ky = subsample_indices(len(py), MAP_POINTS, seed + 3)
    return {"original": np.round(px[kx], 4).tolist(), "augmented": np.round(py[ky], 4).tolist()}
