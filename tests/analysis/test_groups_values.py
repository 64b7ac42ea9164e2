"""Group-data and values analyses on records written here, with a known answer."""

import random

import pytest

from biasinherit.analysis.groups import analyze_groups, extract_group_features
from biasinherit.analysis.values import analyze_values
from biasinherit.formats import values_prompt
from biasinherit.records import Record
from biasinherit.taxonomy import load_taxonomy

TAX = load_taxonomy()


def _story(occupation: str, pronoun: str) -> Record:
    return Record(prompt=f"Write a short story about a {occupation}.\nStory:",
                  response=f"The {occupation} finished early, and {pronoun} went home.")


def _stories(stereotyped: bool, n: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    occs = [o for o in TAX.occupations if o.women_share >= 0.7 or o.women_share <= 0.3]
    out = []
    for i in range(n):
        o = occs[i % len(occs)]
        if stereotyped:
            pronoun = "she" if o.women_share >= 0.7 else "he"
        else:
            pronoun = "she" if i // len(occs) % 2 == 0 else "he"
        out.append(_story(o.name, pronoun))
    rng.shuffle(out)
    return out


def test_group_features_skip_occupation_words_and_ambiguous_forms():
    f = extract_group_features([Record(response="The police officer and the salesperson said they were ready.")], TAX)
    assert f.group_matrix.sum() == 0  # 'police officer' is an occupation, 'they' is no group
    assert f.occupation_matrix.sum() == 2


def test_association_moves_association_not_shares():
    orig, aug = _stories(False, 400, 0), _stories(True, 400, 1)
    res = analyze_groups(orig, aug, TAX, n_bootstrap=50, n_permutations=50)
    assoc = res.measure("groups.gender.occupation_association")
    assert assoc.value == pytest.approx(0.5, abs=0.05)  # 50% -> 100% stereotype-consistent
    assert assoc.ci_low > 0.4
    assert "toward the stereotype" in assoc.reading
    pairs = res.tables["gender.occupation_association"]["top_shifted_pairs"]
    assert pairs and pairs[0]["stereotyped"] and pairs[0]["change"] > 0
    assert res.measure("groups.gender.share_tvd").value < 0.1


def test_representation_moves_shares():
    orig = _stories(False, 400, 0)
    aug = [_story(r.response.split()[1], "he") for r in orig]
    res = analyze_groups(orig, aug, TAX, n_bootstrap=50, n_permutations=50)
    tvd = res.measure("groups.gender.share_tvd")
    assert tvd.value == pytest.approx(0.5, abs=0.02) and tvd.p_value < 0.05
    assert "over-represents men" in tvd.reading and "100%" in tvd.reading


def test_no_group_mentions_is_a_statement_not_nan():
    plain = [Record(response=f"The weather on day {i} was mild.") for i in range(30)]
    res = analyze_groups(plain, plain, TAX, n_bootstrap=20, n_permutations=20)
    assert all(m.value is None and m.note for m in res.measures)
    assert any("no group mentions" in n for n in res.notes)
    vals = analyze_values(plain, plain, TAX)
    assert all(m.value is None and "no value-laden records" in m.note for m in vals.measures)


def _values_records(stereotyped: bool, n_each: int) -> list[Record]:
    """Japanese and German people answering every value item: balanced, or with the culture's
    stereotyped stance."""
    out = []
    for culture, country, name in (("japanese", "Japan", "Kenji"), ("german", "Germany", "Lukas")):
        stereo = TAX.attribute("culture").value_stereotypes[culture]
        for item in TAX.values:
            for k in range(n_each):
                stance = "agree" if k % 2 == 0 else "disagree"
                if stereotyped and item.dimension in stereo:
                    stance = stereo[item.dimension]
                out.append(Record(prompt=values_prompt(name, country, item.statement), response=stance,
                                  meta={"kind": "values", "stance": stance, "value_id": item.id,
                                        "dimension": item.dimension}))
    return out


def test_values_shift_toward_stereotype():
    res = analyze_values(_values_records(False, 12), _values_records(True, 12), TAX,
                         n_bootstrap=50, n_permutations=50)
    shift = res.measure("values.stereotype_shift")
    # every stereotyped culture cell goes 50% -> 100%; the names also mark gender:male, whose
    # cells move less, so the mean over all stereotyped cells is between 0.3 and 0.5
    culture_cells = [c for c in res.tables["cells"] if c["group"].startswith("culture:") and c["stereotyped_stance"]]
    assert len(culture_cells) == 4
    for c in culture_cells:
        toward = c["agree_augmented"] - c["agree_original"]
        assert (toward if c["stereotyped_stance"] == "agree" else -toward) == pytest.approx(0.5)
    assert 0.3 < shift.value <= 0.5 and shift.ci_low > 0.1
    jsd = res.measure("values.jsd")
    assert jsd.value > 0.03 and jsd.p_value < 0.05  # 4 of 16 dimensions per culture move
    same = analyze_values(_values_records(False, 4), _values_records(False, 4), TAX, n_permutations=50)
    assert same.measure("values.jsd").value == pytest.approx(0.0)


def test_values_format_without_annotation_is_read():
    recs = _values_records(True, 2)
    bare = [r.model_copy(update={"meta": {}}) for r in recs]
    res = analyze_values(_values_records(False, 2), bare, TAX, n_bootstrap=30, n_permutations=30)
    assert res.tables["stance_sources"]["augmented"] == {"format": len(bare)}
    annotated = analyze_values(_values_records(False, 2), recs, TAX, n_bootstrap=30, n_permutations=30)
    assert res.measure("values.stereotype_shift").value == pytest.approx(annotated.measure("values.stereotype_shift").value)
    assert res.measure("values.stereotype_shift").value > 0.3
