"""Mix original and augmented records at a bias ratio (DESIGN §6).

``replace`` keeps the total at ``size``: ``round(ratio * size)`` augmented records and the rest
original. ``add`` keeps every original record and adds augmented ones until they are ``ratio`` of
the total. For one seed the augmented records chosen at a smaller ratio are a subset of those
chosen at a larger one, because every ratio takes a prefix of the same seeded permutation.

**Paired mixes.** When the augmented records were written from the originals (each names its
original in ``meta["seed_id"]``, as every generator here does) and every original the seed draws
has one, a ``replace`` mix is paired: the seed draws ``size`` original records in a fixed order,
and ratio ``r`` replaces a seeded ``r`` share of them, each by an augmentation of itself, in
place. Two mixes of one seed at different ratios then hold the same items in the same order and
differ only in what augmentation did to them, so the models trained on them differ by the
augmentation and not by which records and which order the seed happened to draw (common random
numbers: a seed's ratio-0 and ratio-1 models are compared with each other). The ratio-0 mix is
the same in both designs. Otherwise the augmented records are drawn independently.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from biasinherit.errors import BiasInheritError
from biasinherit.records import Record

MixMode = Literal["replace", "add"]

__all__ = ["MixCounts", "check_unique_ids", "mix_at_ratio", "mix_counts"]


@dataclass(frozen=True)
class MixCounts:
    original: int
    augmented: int

    @property
    def total(self) -> int:
        return self.original + self.augmented


def mix_counts(ratio: float, *, size: int | None, n_original: int, mode: MixMode = "replace") -> MixCounts:
    """How many original and augmented records a mix needs."""
    if not (0.0 <= ratio <= 1.0) or math.isnan(ratio):
        raise BiasInheritError(f"ratio must be in [0, 1], got {ratio}", field="ratio")
    if mode == "replace":
        if size is None:
            size = n_original
        if size < 0:
            raise BiasInheritError(f"size must be >= 0, got {size}", field="size")
        n_aug = round(ratio * size)
        return MixCounts(original=size - n_aug, augmented=n_aug)
    if mode == "add":
        if ratio >= 1.0 and n_original > 0:
            raise BiasInheritError(
                "ratio 1.0 in 'add' mode would need infinitely many augmented records; "
                "use --mode replace", field="ratio",
            )
        n_aug = 0 if ratio == 0 else round(ratio * n_original / (1.0 - ratio))
        return MixCounts(original=n_original, augmented=n_aug)
    raise BiasInheritError(f"unknown mix mode '{mode}' (use replace or add)", field="mode")


def _seeded_order(n: int, seed: int, salt: str) -> list[int]:
    order = list(range(n))
    random.Random(f"{seed}:{salt}").shuffle(order)
    return order


def mix_at_ratio(
    original: Sequence[Record] | Any,
    augmented: Sequence[Record] | Any,
    *,
    ratio: float,
    size: int | None = None,
    mode: MixMode = "replace",
    seed: int = 0,
    draw_seed: int | None = None,
) -> list[Record]:
    """The training mix: exact counts, nested across ratios for one seed, shuffled.

    ``draw_seed`` fixes which original records are drawn (one dataset for every ``seed``, which
    then only decides the order and, at ratios between 0 and 1, which records are replaced or
    which augmentations added); None: ``seed`` draws them too."""
    from biasinherit.records import as_records

    original, augmented = as_records(original), as_records(augmented)  # a DataFrame, a Dataset, a path, ...
    draw = seed if draw_seed is None else draw_seed
    counts = mix_counts(ratio, size=size, n_original=len(original), mode=mode)
    if counts.original > len(original):
        raise BiasInheritError(
            f"not enough original records: the mix needs {counts.original}, there are "
            f"{len(original)}", field="original",
        )
    if counts.augmented > len(augmented):
        raise BiasInheritError(
            f"not enough augmented records: the mix needs {counts.augmented}, there are "
            f"{len(augmented)}", field="augmented",
        )
    if mode == "replace" and counts.augmented:
        paired = _paired_mix(original, augmented, counts, seed, draw)
        if paired is not None:
            return paired
    # Prefixes of fixed permutations: the augmented pick at ratio r is a subset of that at r' > r,
    # and in replace mode the original pick at r' is a subset of that at r.
    aug_pick = [augmented[i] for i in _seeded_order(len(augmented), seed, "augmented")[: counts.augmented]]
    orig_pick = [original[i] for i in _seeded_order(len(original), draw, "original")[: counts.original]]
    # Provenance follows the role the caller gave each set, so the token mitigation and the
    # analysis can rely on ``source`` even when an input file did not carry it.
    mixed = [
        *(r if r.source == "original" else r.model_copy(update={"source": "original"}) for r in orig_pick),
        *(r if r.source == "augmented" else r.model_copy(update={"source": "augmented"}) for r in aug_pick),
    ]
    random.Random(_shuffle_salt(seed, ratio, mode)).shuffle(mixed)
    return mixed


def _shuffle_salt(seed: int, ratio: float, mode: str) -> str:
    """The seed of a mix's final shuffle (a paired mix takes its ratio-0 mix's)."""
    return f"{seed}:mix:{float(ratio)}:{mode}"


def _paired_mix(original: Sequence[Record], augmented: Sequence[Record], counts: MixCounts,
                seed: int, draw: int) -> list[Record] | None:
    """The paired ``replace`` mix (see the module notes), or None when some original drawn (with
    ``draw``) has no augmentation written from it."""
    slots = [original[i] for i in _seeded_order(len(original), draw, "original")[: counts.total]]
    derived: dict[str, list[Record]] = {}
    for rec in augmented:
        seed_id = rec.meta.get("seed_id")
        if isinstance(seed_id, str):
            derived.setdefault(seed_id, []).append(rec)
    if not all(slot.id in derived for slot in slots):
        return None
    replaced = set(_seeded_order(len(slots), seed, "replaced")[: counts.augmented])
    picked: list[Record] = []
    for k, slot in enumerate(slots):
        if k not in replaced:
            picked.append(slot if slot.source == "original" else slot.model_copy(update={"source": "original"}))
            continue
        options = derived[slot.id]
        rec = options[random.Random(f"{seed}:derived:{slot.id}").randrange(len(options))]
        picked.append(rec if rec.source == "augmented" else rec.model_copy(update={"source": "augmented"}))
    # the order of the ratio-0 mix (the unpaired shuffle of the same originals): one order per seed
    order = list(range(len(picked)))
    random.Random(_shuffle_salt(seed, 0.0, "replace")).shuffle(order)
    return [picked[i] for i in order]


def check_unique_ids(records: Sequence[Record], *, path: str | Path, others: Sequence[Record] = (),
                     others_path: str | Path | None = None) -> None:
    """Every id once in ``records`` and none shared with ``others``: a mix of records that share
    ids cannot tell them apart (provenance, deduplication, the token mitigation's tags)."""
    seen: dict[str, int] = {}
    for i, rec in enumerate(records, start=1):
        if rec.id in seen:
            raise BiasInheritError(f"duplicate id '{rec.id}' (records {seen[rec.id]} and {i}); "
                                   "give every record its own id", path=path)
        seen[rec.id] = i
    for i, rec in enumerate(others, start=1):
        if rec.id in seen:
            raise BiasInheritError(f"id '{rec.id}' (record {i}) is also record {seen[rec.id]} of {path}; "
                                   "original and augmented records need distinct ids", path=others_path)

