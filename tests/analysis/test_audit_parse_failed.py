"""The audit leaves out replies that did not parse, says how many, and marks thin measures."""

import pytest

from biasinherit.analysis import AuditConfig, run_audit
from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.errors import BiasInheritError
from biasinherit.generators import GenerationRequest
from biasinherit.generators.builtin import BuiltinGenerator

N = 160


@pytest.fixture(scope="module")
def data():
    corpus = build_corpus(CorpusConfig(size=N, seed=0))
    augmented = BuiltinGenerator().generate(
        corpus, GenerationRequest(bias_type="gender.association", n=N, seed=1))
    # what `--on-unparseable raw` keeps: the raw reply as the response, marked
    for r in augmented[:40]:
        r.response = "JSON: { \"response\": { \"type\": \"json\" } } women are always nurses"
        r.meta["parse_failed"] = True
    return corpus, augmented


def _config(embed_cache, **extra):
    return AuditConfig(cache_dir=embed_cache, max_embedded=40, stance_scorer=False, n_permutations=30,
                       n_frechet_permutations=10, n_bootstrap=30, **extra)


@pytest.fixture(scope="module")
def default_report(data, embedder, embed_cache):
    return run_audit(*data, _config(embed_cache), embedder=embedder)


def test_parse_failed_records_are_left_out_and_counted(data, default_report, embedder, embed_cache):
    corpus, augmented = data
    report = default_report
    assert report.counts["augmented"] == N - 40
    assert report.counts["augmented_parse_failed_left_out"] == 40
    assert report.counts["original_parse_failed_left_out"] == 0
    assert any(f"left out 40 of {N} augmented records" in n for n in report.notes)
    both = run_audit(corpus, augmented, _config(embed_cache, include_parse_failed=True), embedder=embedder)
    assert both.counts["augmented"] == N and both.counts["augmented_parse_failed_left_out"] == 0
    assert not any("left out" in n for n in both.notes)


def test_only_parse_failed_records_is_a_user_error(data, embedder, embed_cache):
    corpus, augmented = data
    with pytest.raises(BiasInheritError, match="all 40 augmented records are replies that did not parse"):
        run_audit(corpus, augmented[:40], _config(embed_cache), embedder=embedder)


def test_measures_on_few_records_are_marked_and_never_lead(data, default_report, embedder, embed_cache):
    corpus, augmented = data
    normal = default_report
    assoc = normal.measure("groups.gender.occupation_association")
    assert not assoc["few_data"] and assoc["support"] >= 20
    assert any("toward the stereotype" in f for f in normal.findings)
    strict = run_audit(corpus, augmented, _config(embed_cache, min_count=assoc["support"] + 1),
                       embedder=embedder)
    row = strict.measure("groups.gender.occupation_association")
    assert row["few_data"] and row["reading"].startswith(f"few data (n={assoc['support']} < ")
    assert not any("toward the stereotype" in f for f in strict.findings)
    assert any("marked 'few data'" in n and "groups.gender.occupation_association" in n for n in strict.notes)
