"""Instances of issue #27 that must now succeed (the refusals are rows of the bad-input table):
a model folder named without hf: trains, and a folder of a command's own kind is written again."""

from __future__ import annotations

from pathlib import Path

from bad_input_support import run_in_process


def test_a_model_folder_without_hf_trains_and_is_written_again(bad_library: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "m"
    for seed in ("0", "1"):  # the second run writes into a model folder: its own kind
        code, _, err = run_in_process(["train", "--data", str(bad_library["corpus"]), "--model",
                                       str(bad_library["model"]), "--epochs", "1", "--seed", seed, "--out", str(out)])
        assert code == 0, err
    assert (out / "biasinherit_model.json").is_file()


def test_an_evaluation_folder_takes_another_evaluation(bad_library: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "eval"
    shutil.copytree(bad_library["evaluation"], folder)
    code, _, err = run_in_process(["evaluate", "--model", str(bad_library["model"]), "--tasks", "coref", "--limit",
                                   "2", "--n-boot", "0", "--out", str(folder)])
    assert code == 0, err
    assert "coref" in (folder / "results.csv").read_text()
