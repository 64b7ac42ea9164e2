"""Real benchmarks scored in every study cell (``[tasks] benchmarks``), on the real files."""

from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.studies.config import validate_mapping

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (real benchmark files) is absent")


@needs_shared
def test_a_cell_scores_crows_pairs_and_bbq_beside_the_tasks():
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.studies.evaluation import evaluate_trained
    from biasinherit.training import TrainConfig, train_model

    config = validate_mapping({
        "tasks": {"names": ["coref"], "limit": 5, "benchmark_limit": 12, "benchmarks": {
            "crows_pairs": str(SHARED / "crows_pairs" / "crows_pairs_anonymized.csv"),
            "bbq": str(SHARED / "bbq" / "Age.jsonl")}},
    })
    trained = train_model(TrainConfig(model="tiny-xs", epochs=1), build_corpus(CorpusConfig(size=60, seed=0)))
    rows, replicates = evaluate_trained(trained, config, seed=0)
    by_task = {}
    for row in rows:
        by_task.setdefault(row["task"], {})[row["metric"]] = row
    assert set(by_task) == {"coref", "crows_pairs", "bbq"}
    assert by_task["coref"]["accuracy"]["n"] == 5
    crows = by_task["crows_pairs"]["pct_stereotype"]
    assert crows["n"] == 12 and 0 <= crows["value"] <= 1 and crows["direction"] == 1
    assert len(replicates["crows_pairs|pct_stereotype"]) > 100  # pairable across cells like any task
    assert any(m.startswith("bias_score") for m in by_task["bbq"])


def test_an_unknown_benchmark_names_its_key():
    with pytest.raises(BiasInheritError) as err:
        validate_mapping({"tasks": {"benchmarks": {"crowspairs": "x.csv"}}}).validate_names()
    assert err.value.field == "tasks.benchmarks.crowspairs" and "crows_pairs" in err.value.message


def test_a_missing_benchmark_file_is_refused_before_any_work(tmp_path, cli):
    config = tmp_path / "study.toml"
    config.write_text('[tasks]\nbenchmarks = {crows_pairs = "no/such.csv"}\n')
    proc = cli("study", "--config", config, "--out", tmp_path / "run")
    assert proc.returncode == 2 and "no/such.csv" in proc.stderr and "tasks.benchmarks.crows_pairs" in proc.stderr
    assert not (tmp_path / "run").exists()
