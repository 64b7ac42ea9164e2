"""The --dry-run estimate: the reference machine's time for the work, scaled by this machine's
measured slowness, and calibrated against the presets' measured times (docs/validation.md)."""

from __future__ import annotations

import math

import pytest

from biasinherit.studies import build_grid, load_study_config
from biasinherit.studies.estimate import estimate_seconds, machine_slowness

# measured on the reference machine from empty caches, nothing else running (docs/benchmarks.md)
MEASURED_SECONDS = {"demo": 203.9, "quick": 106.5}


@pytest.mark.parametrize("preset", sorted(MEASURED_SECONDS))
def test_the_reference_estimate_is_within_30_percent_of_the_measured_time(preset):
    config = load_study_config(preset=preset)
    estimate = estimate_seconds(config, build_grid(config), slowness=1.0)
    assert estimate is not None
    assert abs(estimate["seconds"] - MEASURED_SECONDS[preset]) <= 0.3 * MEASURED_SECONDS[preset]


def test_a_slower_machine_gets_a_proportionally_longer_estimate():
    config = load_study_config(preset="quick")
    cells = build_grid(config)
    one = estimate_seconds(config, cells, slowness=1.0)
    two = estimate_seconds(config, cells, slowness=2.0)
    assert two["seconds"] == pytest.approx(2 * one["seconds"]) and two["reference_seconds"] == one["reference_seconds"]


def test_the_probe_measures_a_positive_slowness():
    slowness = machine_slowness()
    assert math.isfinite(slowness) and 0.05 < slowness < 100


def _hf_config(folder, **tasks):
    from biasinherit.studies.config import StudyConfig

    return StudyConfig.model_validate({
        "bias_types": ["gender.association"], "ratios": [0.0, 1.0], "seeds": [0, 1],
        "data": {"corpus_size": 100}, "mix": {"size": 60}, "pretrain": {"enabled": False},
        "model": {"model": f"hf:{folder}", "lora": True, "epochs": 1},
        "mitigation": {"names": []}, "tasks": {"names": ["coref", "story"], **tasks},
        "audit": {"enabled": False},
    })


def test_an_hf_folder_is_estimated_from_its_shape_and_tokenizer(tmp_path):
    """A Llama-shaped folder gets an estimate that grows with its tasks' sizes; an LLM
    generator or a hub id gets none."""
    import json

    from tiny_lm import save_tiny_llama

    from biasinherit.studies.estimate import matmul_params

    folder = save_tiny_llama(tmp_path / "llama")
    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    # 2 layers of width 32 (4 heads, 2 key-value heads of width 8; MLP 64) and the output head
    assert matmul_params(folder) == 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 64) + 32 * vocab
    config = _hf_config(folder)
    whole = estimate_seconds(config, build_grid(config), slowness=1.0)
    assert whole is not None and whole["seconds"] > 0
    fewer = _hf_config(folder, limit={"story": 5})
    assert estimate_seconds(fewer, build_grid(fewer), slowness=1.0)["seconds"] < whole["seconds"]
    llm = config.model_copy(update={"generator": config.generator.model_copy(update={"name": "hf"})})
    assert estimate_seconds(llm, build_grid(llm), slowness=1.0) is None
    hub = config.model_copy(update={"model": {**config.model, "model": "hf:someone/some-model"}})
    assert estimate_seconds(hub, build_grid(hub), slowness=1.0) is None


# examples/real_six_types.toml and examples/real_null.toml, measured on the reference machine
# with nothing else running (docs/validation.md)
MEASURED_REAL_SECONDS = {"real_six_types": 2380.0, "real_null": 619.0}


@pytest.mark.parametrize("name", sorted(MEASURED_REAL_SECONDS))
def test_the_smollm2_study_estimates_are_within_30_percent_of_their_measured_times(name, smollm2_dir, tmp_path):
    from pathlib import Path

    text = (Path(__file__).parents[2] / "examples" / f"{name}.toml").read_text()
    assert 'model = "hf:models/smollm2"' in text
    (tmp_path / "study.toml").write_text(text.replace('"hf:models/smollm2"', f'"hf:{smollm2_dir}"'))
    config = load_study_config(tmp_path / "study.toml")
    estimate = estimate_seconds(config, build_grid(config), slowness=1.0)
    assert estimate is not None
    measured = MEASURED_REAL_SECONDS[name]
    assert abs(estimate["seconds"] - measured) <= 0.3 * measured, (estimate["seconds"], measured)
