from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.studies import build_grid, describe_grid, load_study_config


def write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_quick_is_the_default():
    config = load_study_config()
    assert config.name == "quick" and len(config.bias_types) == 6
    assert config.model["model"] == "tiny" and config.generator.name == "builtin"
    assert sorted(config.mitigation.names) == ["loss", "mask", "token"]


def test_paper_grid_size():
    plan = describe_grid(load_study_config(preset="paper"))
    # 3 seeds x (1 shared baseline + 6 types x (5 ratios + 5 ratios x 3 mitigations))
    assert plan["n_cells"] == 3 * (1 + 6 * (5 + 5 * 3))


def test_power_preset_is_the_quick_study_with_six_seeds_and_four_epochs():
    quick, power = load_study_config(preset="quick"), load_study_config(preset="power")
    assert power.seeds == [0, 1, 2, 3, 4, 5] and power.model["epochs"] == 4
    assert (power.bias_types, power.ratios, power.mix, power.data) == (quick.bias_types, quick.ratios, quick.mix,
                                                                      quick.data)
    # inheritance only: one shared baseline and six types per seed
    assert describe_grid(power)["n_cells"] == 6 * (1 + 6)


def test_mitigation_seeds_restrict_the_mitigated_cells(tmp_path):
    config = load_study_config(write(tmp_path, "seeds = [0, 1, 2, 3]\n[mitigation]\nseeds = [1, 3]\n"))
    mitigated = [c for c in build_grid(config) if c.mitigation != "none"]
    assert {c.seed for c in mitigated} == {1, 3} and len(mitigated) == 2 * 3  # gender.representation x 3
    assert {c.seed for c in build_grid(config) if c.is_baseline} == {0, 1, 2, 3}


def test_file_overrides_preset(tmp_path):
    config = load_study_config(write(tmp_path, 'bias_types = ["gender.association"]\nratios = [0, 1]\n[tasks]\nlimit = 5\n'))
    assert config.bias_types == ["gender.association"] and config.ratios == [0.0, 1.0]
    assert config.tasks.limit == 5 and config.mitigation.names  # untouched sections keep the preset
    cells = build_grid(config)
    assert [c.key for c in cells][:2] == ["s0__baseline", "s0__gender.association__r1.000__none"]


def test_model_section_keeps_the_presets_schedule_unless_it_switches_backend(tmp_path):
    quick = load_study_config().model
    longer = load_study_config(write(tmp_path, "[model]\nepochs = 4\n")).model
    assert longer == {**quick, "epochs": 4}  # batches of 4 kept: only what the file names changes
    wider = load_study_config(write(tmp_path, '[model]\nmodel = "tiny-m"\n')).model
    assert wider == {**quick, "model": "tiny-m"}
    # a pretrained hf model gets its own defaults, not the tiny model's epochs and batches
    hf = load_study_config(write(tmp_path, '[model]\nmodel = "hf:some/model"\nlora = true\n')).model
    assert hf == {"model": "hf:some/model", "lora": True}


def test_yaml(tmp_path):
    config = load_study_config(write(tmp_path, "seeds: [1, 2]\nmix:\n  size: 100\n", "s.yaml"))
    assert config.seeds == [1, 2] and config.mix.size == 100


@pytest.mark.parametrize("text, expected", [
    ("ratioz = [0, 1]\n", "field 'ratioz': unknown key. Did you mean: ratios"),
    ("[tasks]\nnames = ['corref']\n", "Unknown task 'corref'. Did you mean: coref?"),
    ("ratios = [0, 1.5]\n", "field 'ratios': ratio 1.5 is outside [0, 1]"),
    ("[mitigation]\nnames = ['mask', 'tokn']\n", "Unknown mitigation 'tokn'. Did you mean: token?"),
    ("[model]\nepochz = 2\n", "field 'model.epochz'"),
    ("bias_types = ['gender.stereotyp']\n", "Did you mean: gender.stereotype"),
    ("[executor]\nname = 'slurm'\n", "field 'executor.name'"),
    ("ratios = [0, 1\n", "cannot parse TOML"),
    ("[generator]\nname = 'openai'\noptions = { model = 'm', api_key = 'sk-1' }\n",
     "field 'generator.options.api_key': the openai generator has no option 'api_key'. Did you mean: api_key_env?"),
    ("[generator]\nname = 'gpt'\n", "Unknown generator 'gpt'"),
    ("seeds = [0, 1]\n[mitigation]\nseeds = [2]\n", "mitigation.seeds: 2 is not one of the study's seeds [0, 1]"),
])
def test_bad_config_names_the_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(BiasInheritError) as err:
        load_study_config(path)
    assert expected in str(err.value) and "study.toml" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(BiasInheritError, match="study config not found"):
        load_study_config(tmp_path / "none.toml")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_load(path):
    config = load_study_config(path)
    config.validate_names()
    assert describe_grid(config)["n_cells"] > 0
