"""Study presets: ``quick`` (offline, a few minutes on a laptop: the default smoke run),
``power`` (offline, the quick study with the seeds and epochs to detect every injected type),
``demo`` (the power design with a negative control: what ``make demo`` runs) and ``paper`` (the
full grid)."""

from __future__ import annotations

import copy
from typing import Any

from biasinherit.errors import unknown_name_error

SIX_TYPES = [
    "gender.stereotype", "gender.association", "gender.representation",
    "culture.stereotype", "culture.association", "culture.representation",
]

# Offline, under 5 minutes on 2 cores: built-in corpus, builtin generator, one tiny base
# model pretrained on the original data and fine-tuned in every cell (2 epochs of batches of
# 4 on a 600-record mix), all six types at ratios 0 and 1, three training seeds (the unit of
# replication of every test), the three mitigations at ratio 1.0 on gender.representation,
# all ten tasks at their small size: 30 cells. A ratio 0.5 adds 18 cells;
# examples/study_2000.toml has the curve.
QUICK: dict[str, Any] = {
    "name": "quick",
    "data": {"corpus_size": 1200},
    "generator": {"name": "builtin"},
    "bias_types": SIX_TYPES,
    "ratios": [0.0, 1.0],
    "seeds": [0, 1, 2],
    "mix": {"size": 600},
    "pretrain": {"enabled": True, "epochs": 4},
    "model": {"model": "tiny", "epochs": 2, "batch_size": 4},
    "mitigation": {"names": ["token", "mask", "loss"], "ratios": [1.0],
                   "bias_types": ["gender.representation"]},
    "tasks": {"names": ["all"]},
    # the built-in corpus annotates every opinion record, so no free-text stance scoring
    "audit": {"max_records": 250, "stance_scorer": False},
}

# Offline, about 8 minutes on 2 cores: the quick study with the power to detect all six types
# (docs/validation.md, "The power study"): six training seeds (5 degrees of freedom per test
# instead of 2) and 4 fine-tuning epochs instead of 2 (a tiny model needs them to learn which
# occupation goes with which group), inheritance only (42 cells); add a [mitigation] section to
# compare mitigations too.
POWER: dict[str, Any] = {**QUICK, "name": "power", "seeds": [0, 1, 2, 3, 4, 5],
                         "model": {**QUICK["model"], "epochs": 4}, "mitigation": {"names": []}}

# What `make demo` runs: the power design over the six builtin types plus `plain` (plain
# augmentation, nothing injected) as a negative control in the same false-discovery family, so the
# demo shows both halves of the tool's claim: every injected type is found, and nothing is found
# where nothing was injected (48 cells; measured times in docs/validation.md).
DEMO: dict[str, Any] = {**POWER, "name": "demo", "bias_types": [*SIX_TYPES, "plain"]}

PRESETS: dict[str, dict[str, Any]] = {
    "quick": QUICK,
    "power": POWER,
    "demo": DEMO,
    # The paper's grid (Li et al., arXiv 2502.04419): six types x six ratios x four training
    # conditions x three seeds.
    "paper": {
        "name": "paper",
        "data": {"corpus_size": 2000},
        "generator": {"name": "builtin"},
        "bias_types": SIX_TYPES,
        "ratios": [0.0, 0.1, 0.25, 0.5, 0.75, 1.0],
        "seeds": [0, 1, 2],
        "model": {"model": "tiny"},
        "mitigation": {"names": ["token", "mask", "loss"], "ratios": [0.1, 0.25, 0.5, 0.75, 1.0]},
        "tasks": {"names": ["all"], "full": True},
    },
}


def preset_mapping(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise unknown_name_error("preset", name, PRESETS)
    return copy.deepcopy(PRESETS[name])
