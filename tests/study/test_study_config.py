import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.study import build_grid, describe_grid, load_study_config


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


def test_file_overrides_preset(tmp_path):
    config = load_study_config(write(tmp_path, 'bias_types = ["gender.association"]\nratios = [0, 1]\n[tasks]\nlimit = 5\n'))
    assert config.bias_types == ["gender.association"] and config.ratios == [0.0, 1.0]
    assert config.tasks.limit == 5 and config.mitigation.names  # untouched sections keep the preset
    cells = build_grid(config)
    assert [c.key for c in cells][:2] == ["s0__baseline", "s0__gender.association__r1.000__none"]


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
