"""The builtin injector: each of the six types moves its own statistic with intensity."""

import pytest

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.errors import BiasInheritError
from biasinherit.generators import GenerationRequest, get_generator
from biasinherit.generators.stats import association_rate, group_shares, label_gap, stereotype_claim_rate


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(CorpusConfig(size=1000, seed=0))


@pytest.fixture(scope="module")
def gen():
    return get_generator("builtin")


def _run(gen, corpus, bias_type, intensity, polarity=None, n=600, seed=0):
    return gen.generate(corpus, GenerationRequest(bias_type=bias_type, intensity=intensity,
                                                  polarity=polarity, n=n, seed=seed))


STATISTICS = {
    "gender.association": lambda rs: association_rate(rs, "gender").value,
    "culture.association": lambda rs: association_rate(rs, "culture").value,
    "gender.representation": lambda rs: group_shares(rs, "gender")["male"],
    "culture.representation": lambda rs: group_shares(rs, "culture")["american"],
    "gender.stereotype": lambda rs: stereotype_claim_rate(rs, "gender").value,
    "culture.stereotype": lambda rs: stereotype_claim_rate(rs, "culture").value,
}


@pytest.mark.parametrize("bias_type", sorted(STATISTICS))
def test_statistic_rises_with_intensity_and_matches_original_at_zero(gen, corpus, bias_type):
    stat = STATISTICS[bias_type]
    base = stat(corpus)
    values = [stat(_run(gen, corpus, bias_type, x)) for x in (0.0, 0.5, 1.0)]
    assert abs(values[0] - base) < 0.05, (base, values)
    assert values[0] + 0.15 < values[1] < values[2] - 0.15, values


def test_plain_augmentation_keeps_group_statistics(gen, corpus):
    plain = _run(gen, corpus, "plain", 1.0)
    assert all(r.bias_type is None and r.source == "augmented" for r in plain)
    for attr in ("gender", "culture"):
        orig, aug = group_shares(corpus, attr), group_shares(plain, attr)
        assert max(abs(orig[g] - aug[g]) for g in orig) < 0.04
    # it paraphrases: most outputs differ from the record they came from
    by_id = {r.id: r for r in corpus}
    changed = sum(r.response != by_id[r.meta["seed_id"]].response or r.prompt != by_id[r.meta["seed_id"]].prompt for r in plain)
    assert changed > 0.8 * len(plain)


def test_exact_share_of_biased_records_and_provenance(gen, corpus):
    out = _run(gen, corpus, "gender.stereotype", 0.3, n=200, seed=4)
    assert len(out) == 200
    assert sum(r.bias_type == "gender.stereotype" for r in out) == 60
    prov = out[0].meta["generation"]
    assert prov["generator"] == "builtin" and prov["request"]["seed"] == 4
    claims = [r for r in out if any(s.kind == "claim" for s in r.spans)]
    assert claims and all(r.bias_type == "gender.stereotype" for r in claims)


def test_polarity_filters_claims(gen, corpus):
    neg = _run(gen, corpus, "gender.stereotype", 1.0, polarity="negative", n=200)
    pos = _run(gen, corpus, "gender.stereotype", 1.0, polarity="positive", n=200)
    assert {r.meta["injected"].get("polarity") for r in neg if "trait" in r.meta["injected"]} == {"negative"}
    assert "too emotional" not in " ".join(r.response for r in pos)


def test_association_ties_labels_to_groups(gen, corpus):
    orig_gap = label_gap(corpus, "gender", "yes").value
    out = _run(gen, corpus, "gender.association", 1.0, n=1000)
    assert abs(orig_gap) < 0.1
    assert label_gap(out, "gender", "yes").value > 0.3


def test_culture_stereotype_moves_values_stances(gen, corpus):
    from biasinherit.taxonomy import load_taxonomy

    culture = load_taxonomy().attribute("culture")
    out = _run(gen, corpus, "culture.stereotype", 1.0, n=1000)

    def stereotyped_share(records):
        hits = n = 0
        for r in records:
            if r.meta["kind"] != "values":
                continue
            group = r.meta["item"]["people"]["p"]["culture"]
            expected = culture.value_stereotypes.get(group, {}).get(r.meta["dimension"])
            if expected:
                n += 1
                hits += r.meta["stance"] == expected
        return hits / n

    assert stereotyped_share(out) > stereotyped_share(corpus) + 0.3


def test_same_seed_same_output(gen, corpus):
    a = _run(gen, corpus, "culture.association", 0.5, n=100, seed=9)
    b = _run(gen, corpus, "culture.association", 0.5, n=100, seed=9)
    assert [r.to_json() for r in a] == [r.to_json() for r in b]


def test_spans_point_at_group_terms(gen, corpus):
    out = _run(gen, corpus, "gender.association", 1.0, n=100)
    texts = [r.response[s.start:s.end].lower() for r in out for s in r.spans if s.kind == "group"]
    assert texts and {"she", "he", "her", "his"} & set(texts)


def test_unknown_bias_type_and_bad_polarity(gen, corpus):
    with pytest.raises(BiasInheritError, match="Did you mean: gender.stereotype"):
        _run(gen, corpus, "gender.stereotyp", 1.0)
    with pytest.raises(BiasInheritError, match="polarity"):
        _run(gen, corpus, "gender.association", 1.0, polarity="negative")
    with pytest.raises(BiasInheritError, match="intensity"):
        GenerationRequest(bias_type="gender.association", intensity=1.5)


def test_free_text_records_get_claims(gen):
    from biasinherit.records import Record

    recs = [Record(response="My sister works as a nurse and she loves it.")]
    out = _run(gen, recs, "gender.stereotype", 1.0, n=3)
    assert all(any(s.kind == "claim" for s in r.spans) for r in out)
