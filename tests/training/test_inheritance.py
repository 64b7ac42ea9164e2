"""The inheritance experiment (issue 3, "What it must show"), at the defaults.

The tiny model trained on the built-in corpus alone (ratio 0) is near parity on the
occupation-pronoun probe; trained on builtin gender.association data (ratio 1.0) it prefers the
stereotyped pronoun; the mask mitigation at ratio 1.0 brings it back close to the ratio-0 model.
"""

from __future__ import annotations

import pytest

from biasinherit.models import LoadedModel
from biasinherit.models.pronoun_probe import PronounPreference, pronoun_preference

SIZE = 2000


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, LoadedModel]:
    """The three models, trained by ``biasinherit train`` at its defaults, side by side (one
    torch thread each, the default for tiny models)."""
    import subprocess
    import sys

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.mixing import mix_at_ratio
    from biasinherit.models import load_model
    from biasinherit.records import write_jsonl

    root = tmp_path_factory.mktemp("inheritance")
    original = build_corpus(CorpusConfig(size=SIZE, seed=0))
    augmented = BuiltinGenerator().generate(
        original, GenerationRequest(bias_type="gender.association", intensity=1.0, n=SIZE, seed=0)
    )
    jobs = {}
    for name, ratio, mitigation in (("r0", 0.0, "none"), ("r1", 1.0, "none"), ("r1_mask", 1.0, "mask")):
        mix = root / f"mix_{ratio}.jsonl"  # one file per ratio: the mask model trains on r1's mix
        if not mix.exists():
            write_jsonl(mix_at_ratio(original, augmented, ratio=ratio, size=SIZE, seed=0), mix)
        jobs[name] = subprocess.Popen(
            [sys.executable, "-m", "biasinherit", "train", "--data", str(mix), "--out", str(root / name),
             "--mitigation", mitigation, "--seed", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    out = {}
    for name, job in jobs.items():
        _, err = job.communicate()
        assert job.returncode == 0, err[-2000:]
        out[name] = load_model(root / name, device="cpu")
    return out


@pytest.fixture(scope="module")
def preferences(trained: dict[str, LoadedModel]) -> dict[str, PronounPreference]:
    return {name: pronoun_preference(model) for name, model in trained.items()}


@pytest.fixture(scope="module")
def task_values(trained: dict[str, LoadedModel]) -> dict[str, dict[tuple[str, str], float]]:
    """The ratio-0 and ratio-1.0 models on three of the ten tasks (issue 4's direction check)."""
    import torch

    from biasinherit.models.backend import HFBackend
    from biasinherit.tasks.base import EvalSettings
    from biasinherit.tasks.registry import resolve_tasks
    from biasinherit.tasks.runner import run_tasks

    torch.set_num_threads(1)
    out = {}
    for name in ("r0", "r1"):
        m = trained[name]
        backend = HFBackend(m.model, m.tokenizer, eval_prefix=m.metadata.eval_prefix,
                            add_bos=bool(m.metadata.add_bos))
        results, _ = run_tasks(backend, resolve_tasks("coref,stereo_pairs,story"), EvalSettings(seed=0, n_boot=20))
        out[name] = {(r.task, r.metric): r.value for r in results}
    return out


@pytest.mark.slow
def test_ratio_1_model_is_more_biased_on_coref_stereo_pairs_and_story(task_values) -> None:
    r0, r1 = task_values["r0"], task_values["r1"]
    assert r1[("coref", "pro_minus_anti")] > r0[("coref", "pro_minus_anti")]
    assert r1[("stereo_pairs", "pct_stereotype_gender")] > r0[("stereo_pairs", "pct_stereotype_gender")] + 0.05
    assert r1[("story", "stereotype_consistency")] > r0[("story", "stereotype_consistency")] + 0.1


@pytest.mark.slow
def test_ratio_1_model_inherits_the_association(preferences: dict[str, PronounPreference]) -> None:
    r0, r1 = preferences["r0"], preferences["r1"]
    assert r0.count == r1.count == 68  # 34 stereotyped occupations x 2 contexts
    assert abs(r0.mean_gap) < 0.5 and 0.3 < r0.stereotyped_share < 0.7
    assert r1.stereotyped_share - r0.stereotyped_share >= 0.3
    assert r1.mean_gap - r0.mean_gap >= 1.0


@pytest.mark.slow
def test_mask_mitigation_brings_ratio_1_back_towards_ratio_0(preferences: dict[str, PronounPreference]) -> None:
    r0, r1, masked = preferences["r0"], preferences["r1"], preferences["r1_mask"]
    assert abs(masked.mean_gap - r0.mean_gap) < 0.25 * abs(r1.mean_gap - r0.mean_gap)
    assert abs(masked.stereotyped_share - r0.stereotyped_share) < 0.5 * abs(
        r1.stereotyped_share - r0.stereotyped_share
    )
