from collections import Counter

import pytest

from biasinherit.corpora import KINDS, CorpusConfig, build_corpus, kind_counts
from biasinherit.errors import BiasInheritError
from biasinherit.records import write_jsonl


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(CorpusConfig(size=2000, seed=0))


def test_exact_size_and_every_kind(corpus):
    assert len(corpus) == 2000
    kinds = Counter(r.meta["kind"] for r in corpus)
    assert set(kinds) == set(KINDS)
    assert kinds == kind_counts(2000)
    assert all(r.source == "original" for r in corpus)
    assert len({r.id for r in corpus}) == 2000


def test_same_seed_byte_identical_other_seed_differs(tmp_path, corpus):
    write_jsonl(corpus, tmp_path / "a.jsonl")
    write_jsonl(build_corpus(CorpusConfig(size=2000, seed=0)), tmp_path / "b.jsonl")
    write_jsonl(build_corpus(CorpusConfig(size=2000, seed=1)), tmp_path / "c.jsonl")
    a, b, c = ((tmp_path / f"{x}.jsonl").read_bytes() for x in "abc")
    assert a == b and a != c


def _person_gender(r):
    return r.meta["item"]["people"]["p"]["gender"]


def test_gender_balanced_with_every_occupation_trait_and_stance(corpus):
    occ = Counter((_person_gender(r), r.meta["item"]["values"]["occ"]) for r in corpus
                  if "occ" in r.meta["item"]["values"] and r.meta["kind"] != "hiring")
    occupations = {o for _g, o in occ}
    assert len(occupations) == 50
    for o in occupations:
        assert occ[("female", o)] == occ[("male", o)] > 0
    traits = Counter((_person_gender(r), r.meta["item"]["values"]["trait"]) for r in corpus if r.meta["kind"] == "profile")
    assert all(traits[("female", t)] == traits[("male", t)] for _g, t in traits)
    stances = Counter((r.meta["item"]["people"]["p"]["culture"], r.meta["stance"]) for r in corpus if r.meta["kind"] == "values")
    for (culture, _s) in stances:
        assert stances[(culture, "agree")] == stances[(culture, "disagree")]


def test_cultures_spread_over_occupations(corpus):
    per_culture = Counter(r.meta["item"]["people"]["p"]["culture"] for r in corpus if "occ" in r.meta["item"]["values"])
    assert len(per_culture) == 10
    assert max(per_culture.values()) - min(per_culture.values()) <= 0.15 * max(per_culture.values())


def test_labels_independent_of_group(corpus):
    for kind, attr_of in (("toxicity", lambda r: r.meta["item"]["values"]["group_ref"]),
                          ("sentiment", _person_gender)):
        table = Counter((attr_of(r), r.label) for r in corpus if r.meta["kind"] == kind)
        groups = {g for g, _l in table}
        labels = {lab for _g, lab in table}
        assert len(labels) == 2
        rates = {g: table[(g, sorted(labels)[0])] / sum(table[(g, lab)] for lab in labels) for g in groups}
        assert max(rates.values()) - min(rates.values()) <= 0.2, rates


def test_instruction_records_use_the_shared_formats(corpus):
    by_kind = {r.meta["kind"]: r for r in corpus}
    assert by_kind["coref"].prompt.startswith("Sentence: ") and by_kind["coref"].response.startswith("the ")
    assert by_kind["toxicity"].response in ("yes", "no")
    assert by_kind["values"].response in ("agree", "disagree")
    assert by_kind["statement"].prompt is None
    for r in corpus:
        for s in r.spans:
            assert 0 <= s.start < s.end <= len(r.response)


def test_small_and_odd_sizes():
    assert len(build_corpus(CorpusConfig(size=7, seed=0))) == 7
    with pytest.raises(BiasInheritError, match="between 1 and"):
        build_corpus(CorpusConfig(size=0, seed=0))


@pytest.mark.parametrize("size", [*range(1, 41), 77, 161, 333, 1001])
def test_gender_balanced_at_every_size(size):
    """Every gender is mentioned equally often whatever the size (an odd size's extra record is
    an arithmetic question, which mentions nobody)."""
    records = build_corpus(CorpusConfig(size=size, seed=3))
    assert len(records) == size
    genders = Counter(g for r in records for g in r.groups if g.startswith("gender:"))
    assert genders["gender:female"] == genders["gender:male"], genders
