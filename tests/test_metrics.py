import math

import numpy as np
import pytest

from biasinherit.metrics import (
    LENGTH_MISMATCH,
    Metric,
    accuracy,
    bbq_ambiguous_bias_score,
    bbq_disambiguated_bias_score,
    bootstrap_ci,
    group_rate_gap,
    jensen_shannon,
    macro_f1,
    mean,
    measure,
)


def test_empty_input_is_nan_with_count_zero():
    assert math.isnan(mean([])) and math.isnan(accuracy([], [])) and math.isnan(macro_f1([], []))
    r = measure("t", Metric("m", True, 1.0), lambda i: 0.0, 0)
    assert math.isnan(r.value) and r.n == 0 and math.isnan(r.ci_low)


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match=LENGTH_MISMATCH):
        accuracy([1, 0], [1])


def test_measure_carries_direction_ideal_and_a_seeded_ci():
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    m = Metric("pct_stereotype", None, 0.5, direction=1)
    a = measure("stereo_pairs", m, lambda i: mean(x[i]), len(x), seed=1)
    b = measure("stereo_pairs", m, lambda i: mean(x[i]), len(x), seed=1)
    assert a == b and a.value == 0.75 and a.ideal == 0.5 and a.higher_is_better is None
    assert a.ci_low <= 0.75 <= a.ci_high and a.ci_low < a.ci_high


def test_bootstrap_ci_of_a_constant_is_the_constant():
    assert bootstrap_ci(lambda i: 3.0, 10, seed=0) == (3.0, 3.0)


def test_group_rate_gap_equals_fairlearn_difference():
    from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate

    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    g = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    for name, fn in (("false_positive_rate", false_positive_rate), ("false_negative_rate", false_negative_rate),
                     ("selection_rate", selection_rate)):
        expected = MetricFrame(metrics=fn, y_true=t, y_pred=p, sensitive_features=g).difference()
        assert group_rate_gap(t, p, g, name) == pytest.approx(expected)
    assert math.isnan(group_rate_gap([1, 0], [1, 1], ["a", "a"], "selection_rate"))


def test_bbq_scores_by_hand():
    # 3 biased of 4 non-unknown answers: 2 * 3/4 - 1 = 0.5
    assert bbq_disambiguated_bias_score([1, 1, 1, 0, 0], [1, 1, 1, 1, 0]) == pytest.approx(0.5)
    # ambiguous: accuracy 1/5 -> (1 - 0.2) * 0.5 = 0.4
    assert bbq_ambiguous_bias_score([0, 0, 0, 0, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0]) == pytest.approx(0.4)
    assert bbq_disambiguated_bias_score([0, 0], [0, 0]) == 0.0  # the harness's convention


def test_jensen_shannon():
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([3, 1], [6, 2]) == pytest.approx(0.0)


def test_macro_f1_equals_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    for _ in range(20):
        t, p = rng.integers(0, 3, 25), rng.integers(0, 3, 25)
        assert macro_f1(t, p) == pytest.approx(f1_score(t, p, average="macro", zero_division=0))


def test_bias_metrics_must_declare_a_stereotype_direction():
    with pytest.raises(ValueError, match="direction"):
        Metric("gap", None, 0.0)
    assert Metric("valid_share", True, 1.0, kind="health").category == "health"


def test_interval_of_a_biased_statistic_contains_its_estimate():
    # a largest gap between many small groups: resampling inflates it, so the percentile
    # interval of the replicates lies above the estimate; the bias-corrected one does not
    # twelve groups with two harmless statements each, one flagged: every FPR is 0.5, the gap 0
    groups = np.repeat(np.arange(12), 2)
    t = np.zeros(24, dtype=int)
    p = np.tile([1, 0], 12)
    m = Metric("fpr_gap", False, 0.0, direction=1, signed=False, bounds=(0.0, 1.0))
    r = measure("toxicity_detection", m, lambda i: group_rate_gap(t[i], p[i], groups[i], "false_positive_rate"),
                len(t), seed=0)
    reps = np.array(r.replicates)
    assert np.quantile(reps[~np.isnan(reps)], 0.025) > r.value  # the plain percentile interval misses it
    assert r.ci_low <= r.value <= r.ci_high


def test_too_few_valid_outputs_is_no_data_with_its_count():
    m = Metric("female_share", None, 0.5, direction=-1)
    r = measure("story", m, lambda i: 0.5, 40, count=3, min_n=10)
    assert math.isnan(r.value) and r.n == 3 and r.replicates == ()


def test_resampling_indices_are_shared_by_cells_with_the_same_items():
    from biasinherit.metrics import bootstrap_indices

    assert (bootstrap_indices(30, seed=0) == bootstrap_indices(30, seed=0)).all()
    assert not (bootstrap_indices(30, seed=0) == bootstrap_indices(30, seed=1)).all()


def test_measure_below_min_n_is_no_data_with_its_count():
    from biasinherit.metrics import MIN_VALID_N, Metric, measure

    metric = Metric("gap", None, 0.0, direction=1)
    values = np.arange(12, dtype=float)
    few = measure("t", metric, lambda i: float(values[i].mean()), MIN_VALID_N - 1, min_n=MIN_VALID_N)
    assert math.isnan(few.value) and math.isnan(few.ci_low) and few.n == MIN_VALID_N - 1
    enough = measure("t", metric, lambda i: float(values[i].mean()), MIN_VALID_N, min_n=MIN_VALID_N, n_boot=20)
    assert enough.value == float(values[:MIN_VALID_N].mean()) and enough.n == MIN_VALID_N
    assert measure("t", metric, lambda i: 1.0, 3).value == 1.0  # no minimum unless asked for


def test_accuracies_and_shares_have_intervals_within_zero_and_one():
    """An accuracy's bootstrap interval went below 0 (coref accuracy_pro [-0.004, 0.371] on 20
    items): accuracies, F1, shares and rates are bounded in [0, 1] without each task saying so."""
    from biasinherit.tasks.registry import resolve_tasks

    shares = [m for t in resolve_tasks("all") for m in t.metrics
              if m.name.startswith("accuracy") or m.name.endswith(("_share", "_rate")) or m.name == "macro_f1"]
    assert len(shares) > 10
    assert all(m.bounds is not None and 0.0 <= m.bounds[0] and m.bounds[1] <= 1.0 for m in shares)
    import numpy as np

    from biasinherit.metrics import bias_corrected_interval

    lo, hi = bias_corrected_interval(0.05, np.array([0.0, 0.0, 0.05, 0.1, -0.02, 0.15] * 20), bounds=shares[0].bounds)
    assert lo >= 0.0 and lo <= 0.05 <= hi
