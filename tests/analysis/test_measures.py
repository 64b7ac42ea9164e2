import math

import numpy as np
import pytest

from biasinherit.analysis.correlate import correlate_misalignment
from biasinherit.analysis.groups import log_odds_ratios
from biasinherit.analysis.measures import jensen_shannon, permutation_p_value, total_variation
from biasinherit.errors import BiasInheritError


def test_jensen_shannon_by_hand():
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([3, 1], [6, 2]) == pytest.approx(0.0)
    # p=(.5,.5), q=(1,0), m=(.75,.25): 0.5*[.5log2(.5/.75)+.5log2(.5/.25)] + 0.5*log2(1/.75)
    expected = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(2.0)) + 0.5 * math.log2(1 / 0.75)
    assert jensen_shannon([1, 1], [1, 0]) == pytest.approx(expected)
    with pytest.raises(ValueError):
        jensen_shannon([0, 0], [1, 0])


def test_total_variation_by_hand():
    assert total_variation([0.5, 0.5], [0.8, 0.2]) == pytest.approx(0.3)
    assert total_variation([2, 2], [1, 1]) == pytest.approx(0.0)


def test_permutation_p_value_counts_observed():
    assert permutation_p_value(5.0, [1, 2, 3]) == pytest.approx(1 / 4)
    assert permutation_p_value(2.0, [1, 2, 3]) == pytest.approx(3 / 4)


def test_log_odds_ratio_by_hand():
    # groups x items: a=8 (g0,i0), b=2, c=4, d=6
    table = np.array([[8.0, 2.0], [4.0, 6.0]])
    lor = log_odds_ratios(table, smoothing=0.5)
    assert lor[0, 0] == pytest.approx(math.log(8.5 * 6.5 / (2.5 * 4.5)))
    assert lor[1, 0] == pytest.approx(-lor[0, 0])


def test_correlate_spearman_and_edge_cases():
    cells = [{"mmd": x, "jsd": 1.0, "inh_coref": 2 * x + 1, "inh_story": -x} for x in [0.1, 0.4, 0.2, 0.9, 0.5]]
    cells.append({"mmd": float("nan"), "jsd": 1.0, "inh_coref": 3.0, "inh_story": 1.0})
    out = {(c.measure, c.inheritance): c for c in correlate_misalignment(cells, ["mmd", "jsd"], ["inh_coref", "inh_story"])}
    assert out["mmd", "inh_coref"].rho == pytest.approx(1.0)
    assert out["mmd", "inh_story"].rho == pytest.approx(-1.0)
    assert out["mmd", "inh_coref"].n == 5  # the NaN cell is left out
    assert out["jsd", "inh_coref"].rho is None and "constant" in out["jsd", "inh_coref"].note
    with pytest.raises(BiasInheritError, match="Unknown column 'mdm'. Did you mean: mmd"):
        correlate_misalignment(cells, ["mdm"], ["inh_coref"])
