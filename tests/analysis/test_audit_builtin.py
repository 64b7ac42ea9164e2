"""Each analysis responds to what the builtin generator injected, and plain augmentation
(intensity 0) stays close to the original on all three."""

import pytest

from biasinherit.analysis import AuditConfig, run_audit
from biasinherit.analysis.groups import analyze_groups
from biasinherit.analysis.values import analyze_values
from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.generators import GenerationRequest
from biasinherit.generators.builtin import BuiltinGenerator
from biasinherit.taxonomy import load_taxonomy

TAX = load_taxonomy()
N = 1200


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(CorpusConfig(size=N, seed=0))


def _augment(corpus, bias_type, intensity=1.0):
    return BuiltinGenerator().generate(
        corpus, GenerationRequest(bias_type=bias_type, intensity=intensity, n=N, seed=1))


def _fast(embed_cache):
    # the stance scorer has its own test; the corpus annotates its stances
    return AuditConfig(cache_dir=embed_cache, max_embedded=100, stance_scorer=False, n_permutations=100,
                       n_frechet_permutations=20, n_bootstrap=60)


def test_gender_association_moves_association_not_shares(corpus, embedder, embed_cache):
    report = run_audit(corpus, _augment(corpus, "gender.association"), _fast(embed_cache), embedder=embedder)
    assoc = report.measure("groups.gender.occupation_association")
    assert assoc["value"] > 0.25 and assoc["ci_low"] > 0.15
    assert "toward the stereotype" in assoc["reading"]
    assert report.measure("groups.gender.share_tvd")["value"] < 0.05
    assert any("over-represents" in f and "occupations" in f for f in report.findings)


def test_gender_representation_moves_shares(corpus):
    res = analyze_groups(corpus, _augment(corpus, "gender.representation"), TAX, n_bootstrap=40, n_permutations=40)
    tvd = res.measure("groups.gender.share_tvd")
    assert tvd.value > 0.2 and tvd.p_value < 0.05
    assert "men" in tvd.reading


def test_culture_stereotype_moves_values(corpus):
    res = analyze_values(corpus, _augment(corpus, "culture.stereotype"), TAX, n_bootstrap=60, n_permutations=60)
    shift = res.measure("values.stereotype_shift")
    assert shift.value > 0.2 and shift.ci_low > 0
    assert res.measure("values.jsd").p_value < 0.05


def test_plain_augmentation_stays_close_on_all_three(corpus, embedder, embed_cache):
    report = run_audit(corpus, _augment(corpus, "gender.association", intensity=0.0), _fast(embed_cache),
                       embedder=embedder)
    for name in ("groups.gender.share_tvd", "groups.culture.share_tvd"):
        assert report.measure(name)["value"] < 0.05
    for name in ("groups.gender.occupation_association", "groups.culture.occupation_association"):
        row = report.measure(name)
        assert abs(row["value"]) < 0.05 and row["ci_low"] <= 0 <= row["ci_high"]
    assert report.measure("values.jsd")["value"] < 0.02
    for name in ("distribution.mmd", "distribution.classifier_auc", "distribution.frechet"):
        assert report.measure(name)["p_value"] > 0.05, name
    assert report.findings == ["no measure shows a clear difference between the augmented and the original data"]
