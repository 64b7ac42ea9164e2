"""Two-sample statistics on embeddings: MMD, Fréchet distance, classifier test.

Pure functions of two arrays ``x`` (m, d) and ``y`` (n, d); each returns its statistic and a
p-value for "both samples come from the same distribution".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biasinherit.analysis.measures import permutation_p_value

__all__ = [
    "TwoSampleResult",
    "classifier_two_sample_test",
    "frechet_distance",
    "frechet_test",
    "mmd_rbf_test",
    "median_bandwidth",
]


@dataclass(frozen=True)
class TwoSampleResult:
    statistic: float
    p_value: float
    n_permutations: int = 0
    extra: float | None = None  # e.g. the kernel bandwidth


def _sq_dists(z: np.ndarray) -> np.ndarray:
    sq = np.sum(z * z, axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (z @ z.T)
    return np.maximum(d2, 0.0)  # type: ignore[no-any-return]


def median_bandwidth(d2: np.ndarray) -> float:
    """Median heuristic: the median of the off-diagonal pairwise distances."""
    n = d2.shape[0]
    off = d2[~np.eye(n, dtype=bool)]
    med = float(np.sqrt(np.median(off))) if off.size else 1.0
    return med if med > 0 else 1.0


def mmd_rbf_test(
    x: np.ndarray, y: np.ndarray, *, n_permutations: int = 200, seed: int = 0
) -> TwoSampleResult:
    """Unbiased MMD² with an RBF kernel ``exp(-d²/(2σ²))``, σ by the median heuristic on the
    pooled sample, and a permutation p-value. ``extra`` is σ."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("mmd_rbf_test needs at least 2 points in each sample")
    z = np.concatenate([x, y]).astype(np.float64)
    d2 = _sq_dists(z)
    sigma = median_bandwidth(d2)
    k = np.exp(-d2 / (2.0 * sigma * sigma)).astype(np.float32)
    np.fill_diagonal(k, 0.0)
    row = k.sum(axis=1, dtype=np.float64)
    total = float(row.sum())

    def mmd2(s: np.ndarray) -> np.ndarray:
        """MMD² for assignments s (N, P) of 0/1 with m ones per column."""
        ks = (k @ s.astype(np.float32)).astype(np.float64)
        sxx = np.sum(s * ks, axis=0)
        srow = s.T @ row
        syy = total - 2.0 * srow + sxx
        sxy = srow - sxx
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2.0 * sxy / (m * n)  # type: ignore[no-any-return]

    labels = np.zeros(m + n)
    labels[:m] = 1
    observed = float(mmd2(labels[:, None])[0])
    rng = np.random.default_rng(seed)
    null = []
    for start in range(0, n_permutations, 50):
        p = min(50, n_permutations - start)
        s = np.stack([rng.permutation(labels) for _ in range(p)], axis=1)
        null.extend(mmd2(s).tolist())
    return TwoSampleResult(observed, permutation_p_value(observed, null), n_permutations, sigma)


def _trace_sqrt_product(a: np.ndarray, b: np.ndarray) -> float:
    """Tr(sqrt(A B)) for symmetric PSD A, B: the eigenvalues of A B are those of the symmetric
    L^T B L with A = L L^T (Cholesky, cheap); falls back to sqrt(A) B sqrt(A) when A is singular."""
    try:
        low = np.linalg.cholesky(a)
        ev = np.linalg.eigvalsh(low.T @ b @ low)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(a)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        ev = np.linalg.eigvalsh(root @ b @ root)
    return float(np.sum(np.sqrt(np.clip(ev, 0, None))))


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to x and y:
    ``|mu_x - mu_y|² + Tr(S_x + S_y - 2 (S_x S_y)^½)``."""
    if len(x) < 2 or len(y) < 2:
        raise ValueError("frechet_distance needs at least 2 points in each sample")
    mx, my = x.mean(axis=0), y.mean(axis=0)
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    value = float(np.sum((mx - my) ** 2) + np.trace(sx) + np.trace(sy) - 2.0 * _trace_sqrt_product(sx, sy))
    return max(value, 0.0)


def frechet_test(
    x: np.ndarray, y: np.ndarray, *, n_permutations: int = 50, seed: int = 0
) -> TwoSampleResult:
    """Fréchet distance with a permutation p-value (each permutation refits both Gaussians)."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    observed = frechet_distance(x, y)
    z = np.concatenate([x, y])
    m = len(x)
    rng = np.random.default_rng(seed)
    null = []
    for _ in range(n_permutations):
        perm = rng.permutation(len(z))
        null.append(frechet_distance(z[perm[:m]], z[perm[m:]]))
    return TwoSampleResult(observed, permutation_p_value(observed, null), n_permutations)


def classifier_two_sample_test(
    x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0
) -> TwoSampleResult:
    """Cross-validated AUC of a logistic regression telling y from x (0.5 = indistinguishable).

    The p-value is the one-sided Mann–Whitney test that out-of-fold scores of y exceed those
    of x, which is the AUC's own test statistic.
    """
    from scipy.stats import mannwhitneyu
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    z = np.concatenate([x, y])
    labels = np.concatenate([np.zeros(len(x)), np.ones(len(y))])
    folds = max(2, min(folds, len(x), len(y)))
    scores = np.zeros(len(z))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(z, labels):
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(z[train], labels[train])
        scores[test] = clf.decision_function(z[test])
    auc = float(roc_auc_score(labels, scores))
    p = float(mannwhitneyu(scores[labels == 1], scores[labels == 0], alternative="greater").pvalue)
    return TwoSampleResult(auc, p)
