import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.mixing import mix_at_ratio, mix_counts
from biasinherit.records import Record

ORIG = [Record(id=f"o{i}", response=f"original {i}") for i in range(200)]
AUG = [Record(id=f"a{i}", response=f"augmented {i}", source="augmented") for i in range(200)]


@pytest.mark.parametrize("ratio, n_aug", [(0, 0), (0.1, 10), (0.25, 25), (0.5, 50), (1.0, 100)])
def test_replace_mode_exact_counts(ratio, n_aug):
    mixed = mix_at_ratio(ORIG, AUG, ratio=ratio, size=100, seed=3)
    assert len(mixed) == 100
    assert sum(r.source == "augmented" for r in mixed) == n_aug
    assert len({r.id for r in mixed}) == 100


def test_add_mode_keeps_all_originals():
    mixed = mix_at_ratio(ORIG[:90], AUG, ratio=0.1, mode="add", seed=0)
    assert sum(r.source == "original" for r in mixed) == 90
    assert sum(r.source == "augmented" for r in mixed) == 10


def test_nested_selection_across_ratios():
    picks = {}
    for ratio in (0.0, 0.1, 0.5, 1.0):
        mixed = mix_at_ratio(ORIG, AUG, ratio=ratio, size=100, seed=7)
        picks[ratio] = {r.id for r in mixed if r.source == "augmented"}
    assert picks[0.0] <= picks[0.1] <= picks[0.5] <= picks[1.0]
    assert picks[0.1] < picks[0.5]


def test_seed_changes_the_pick_and_same_seed_repeats():
    a = [r.id for r in mix_at_ratio(ORIG, AUG, ratio=0.5, size=100, seed=1)]
    b = [r.id for r in mix_at_ratio(ORIG, AUG, ratio=0.5, size=100, seed=1)]
    c = [r.id for r in mix_at_ratio(ORIG, AUG, ratio=0.5, size=100, seed=2)]
    assert a == b and a != c


def test_source_follows_the_role():
    unlabeled = [Record(id=f"u{i}", response=f"u {i}") for i in range(10)]
    mixed = mix_at_ratio(ORIG, unlabeled, ratio=0.5, size=20, seed=0)
    assert sum(r.source == "augmented" for r in mixed) == 10


@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_bad_ratio(ratio):
    with pytest.raises(BiasInheritError, match="ratio must be in \\[0, 1\\]"):
        mix_counts(ratio, size=10, n_original=10)


def test_too_few_records_says_needed_and_available():
    with pytest.raises(BiasInheritError, match="the mix needs 150, there are 100"):
        mix_at_ratio(ORIG, AUG[:100], ratio=0.75, size=200, seed=0)


DERIVED = [Record(id=f"d{i}", response=f"rewritten {i}", source="augmented", meta={"seed_id": f"o{i}"})
           for i in range(200)]


def test_paired_mix_replaces_originals_by_their_own_augmentations_in_place():
    zero = mix_at_ratio(ORIG, DERIVED, ratio=0.0, size=100, seed=5)
    assert [r.id for r in zero] == [r.id for r in mix_at_ratio(ORIG, [], ratio=0.0, size=100, seed=5)]
    previous: set[str] = set()
    for ratio in (0.25, 0.5, 1.0):
        mixed = mix_at_ratio(ORIG, DERIVED, ratio=ratio, size=100, seed=5)
        assert sum(r.source == "augmented" for r in mixed) == round(ratio * 100)
        # slot k holds original k of the ratio-0 mix or an augmentation written from it
        assert [r.meta.get("seed_id", r.id) for r in mixed] == [r.id for r in zero]
        replaced = {r.id for r in mixed if r.source == "augmented"}
        assert previous <= replaced  # nested across ratios
        previous = replaced
    other_seed = mix_at_ratio(ORIG, DERIVED, ratio=1.0, size=100, seed=6)
    assert [r.id for r in other_seed] != [r.id for r in mix_at_ratio(ORIG, DERIVED, ratio=1.0, size=100, seed=5)]


def test_mix_is_unpaired_when_an_original_has_no_augmentation():
    partial = DERIVED[:150]  # originals o150..o199 were never augmented
    mixed = mix_at_ratio(ORIG, partial, ratio=1.0, size=100, seed=5)
    assert len(mixed) == 100 and all(r.source == "augmented" for r in mixed)
    zero = [r.id for r in mix_at_ratio(ORIG, [], ratio=0.0, size=100, seed=5)]
    assert [r.meta["seed_id"] for r in mixed] != zero


def test_draw_seed_fixes_the_originals_and_leaves_the_order_to_the_seed():
    def ids(mixed: list[Record], source: str) -> set[str]:
        return {r.meta.get("seed_id", r.id) if source == "slot" else r.id for r in mixed
                if source == "slot" or r.source == source}

    # paired: every seed fills its slots with the same 100 originals (each kept or replaced by its
    # own rewrite); unpaired: every seed keeps the same 50 originals
    for augmented, source in ((DERIVED, "slot"), (AUG, "original")):
        a = mix_at_ratio(ORIG, augmented, ratio=0.5, size=100, seed=5, draw_seed=0)
        b = mix_at_ratio(ORIG, augmented, ratio=0.5, size=100, seed=6, draw_seed=0)
        assert ids(a, source) == ids(b, source)
        assert [r.id for r in a] != [r.id for r in b]  # another order and another replaced share
    zero = [r.id for r in mix_at_ratio(ORIG, [], ratio=0.0, size=100, seed=9, draw_seed=0)]
    default = [r.id for r in mix_at_ratio(ORIG, [], ratio=0.0, size=100, seed=0)]
    assert sorted(zero) == sorted(default) and zero != default  # seed 0's draw, seed 9's order
    # without draw_seed each seed draws its own originals, as before
    assert sorted(r.id for r in mix_at_ratio(ORIG, [], ratio=0.0, size=100, seed=9)) != sorted(zero)
