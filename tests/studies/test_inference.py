"""Seed + item inference: each estimate against a value computed by hand."""

import math

import numpy as np
import pytest
from scipy import stats

from biasinherit.studies.inference import bh_qvalues, paired_difference, ratio_slope, seed_mean


def test_ratio_slope_with_one_intercept_per_seed_by_hand():
    # seed 0: 1, 2, 3; seed 1: 2, 3, 5 at ratios 0, 0.5, 1
    values = {(0, 0.0): 1.0, (0, 0.5): 2.0, (0, 1.0): 3.0, (1, 0.0): 2.0, (1, 0.5): 3.0, (1, 1.0): 5.0}
    est = ratio_slope(values)
    # centred within seed: sum xy = 1 + 1.5 = 2.5, sum xx = 1.0
    assert est.estimate == pytest.approx(2.5)
    # residuals 0.25, 0, -0.25 and -1/12, -1/3, 5/12: RSS = 5/12 on 6 - 2 - 1 = 3 df
    se = math.sqrt(5 / 12 / 3 / 1.0)
    assert est.se == pytest.approx(se) and est.df == pytest.approx(3)
    crit = stats.t.ppf(0.975, 3)
    assert (est.ci_low, est.ci_high) == pytest.approx((2.5 - crit * se, 2.5 + crit * se))
    assert est.p_value == pytest.approx(2 * stats.t.sf(2.5 / se, 3))
    assert est.n_seeds == 2


def test_ratio_slope_adds_the_item_variance_from_paired_replicates():
    values = {(0, 0.0): 1.0, (0, 1.0): 2.0, (1, 0.0): 1.5, (1, 1.0): 2.3}
    # replicate b saw the same items in every cell: the slope per replicate is the mean over seeds
    # of (ratio-1 minus ratio-0) replicate values
    rng = np.random.default_rng(0)
    reps = {k: (v + rng.normal(0, 0.1, 50)).tolist() for k, v in values.items()}
    est = ratio_slope(values, reps)
    slopes = [np.mean([reps[(s, 1.0)][b] - reps[(s, 0.0)][b] for s in (0, 1)]) for b in range(50)]
    var_item = np.var(slopes, ddof=1)
    d = np.array([1.0, 0.8])
    var_seed = np.var(d, ddof=1) / 2  # two seeds, ratios 0 and 1: the paired t-test's variance
    assert est.estimate == pytest.approx(0.9)
    assert est.se_item ** 2 == pytest.approx(var_item)
    assert est.se_seed ** 2 == pytest.approx(var_seed)
    assert est.se ** 2 == pytest.approx(var_seed + var_item)
    # Welch-Satterthwaite, the item part with infinite degrees of freedom
    assert est.df == pytest.approx((var_seed + var_item) ** 2 / (var_seed ** 2 / 1))


def test_paired_difference_by_hand_and_signed():
    a, b = {0: 1.0, 1: 2.0, 2: 4.0}, {0: 0.5, 1: 1.0, 2: 2.5}
    est = paired_difference(a, b)
    assert est.estimate == pytest.approx(1.0)  # differences 0.5, 1.0, 1.5
    assert est.se == pytest.approx(0.5 / math.sqrt(3)) and est.df == pytest.approx(2)
    flipped = est.signed(-1)
    assert flipped.estimate == -1.0 and (flipped.ci_low, flipped.ci_high) == (-est.ci_high, -est.ci_low)
    assert flipped.p_value == est.p_value


def test_missing_data_and_one_seed_are_not_tests():
    assert math.isnan(paired_difference({0: 1.0, 1: math.nan}, {0: 0.0, 1: 0.0}).p_value)
    one = ratio_slope({(0, 0.0): 1.0, (0, 1.0): 2.0})
    assert one.estimate == 1.0 and math.isnan(one.p_value) and one.n_seeds == 1


def test_no_variation_at_all_is_no_effect():
    est = paired_difference({0: 0.0, 1: 0.0}, {0: 0.0, 1: 0.0})
    assert est.estimate == 0.0 and est.p_value == 1.0


def test_seed_mean_interval_contains_its_estimate():
    est = seed_mean({0: 0.2, 1: 0.5, 2: 0.3}, {0: [0.2, 0.1, 0.3], 1: [0.5, 0.6, 0.4], 2: [0.3, 0.3, 0.2]})
    assert est.estimate == pytest.approx(1 / 3)
    assert est.ci_low < est.estimate < est.ci_high


def test_benjamini_hochberg_by_hand():
    q = bh_qvalues([0.01, 0.04, 0.03, 0.5, math.nan])
    assert q[:4] == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert math.isnan(q[4])
