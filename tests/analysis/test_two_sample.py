import numpy as np
import pytest

from biasinherit.analysis.two_sample import (
    classifier_two_sample_test,
    frechet_distance,
    mmd_rbf_test,
)


def _gauss(n, shift=0.0, seed=0, d=8):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_mmd_rejects_shift_and_not_same_distribution():
    shifted = mmd_rbf_test(_gauss(100), _gauss(100, shift=0.7, seed=1), n_permutations=100)
    same = mmd_rbf_test(_gauss(100), _gauss(100, seed=2), n_permutations=100)
    assert shifted.p_value < 0.05 and shifted.statistic > same.statistic
    assert same.p_value > 0.05
    assert shifted.extra > 0  # median-heuristic bandwidth


def test_mmd_unbiased_estimate_matches_direct_formula():
    x, y = _gauss(20, seed=3, d=3), _gauss(15, shift=0.5, seed=4, d=3)
    sigma = mmd_rbf_test(x, y, n_permutations=10).extra
    k = lambda a, b: np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (2 * sigma**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m, n = len(x), len(y)
    direct = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
              - 2 * kxy.mean())
    assert mmd_rbf_test(x, y, n_permutations=10).statistic == pytest.approx(direct, rel=1e-4)


def test_frechet_distance_of_a_translation_is_the_squared_shift():
    x = _gauss(300, seed=5, d=6)
    shift = np.array([0.5, -1.0, 0.0, 0.0, 2.0, 0.0])
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6, abs=1e-6)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_classifier_test_auc():
    far = classifier_two_sample_test(_gauss(150), _gauss(150, shift=1.0, seed=6))
    near = classifier_two_sample_test(_gauss(150), _gauss(150, seed=7))
    assert far.statistic > 0.9 and far.p_value < 1e-6
    assert 0.35 < near.statistic < 0.65
