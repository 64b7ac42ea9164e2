"""Our LoRA trainer does the arithmetic of the Hugging Face ``Trainer`` + PEFT: on the same
batches, from the same adapter, with the same optimizer and schedule, every step's loss agrees to
float rounding (the benchmark ``benchmarks/train_throughput.py`` times the two)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "train_throughput.py"


def _benchmark():
    spec = importlib.util.spec_from_file_location("train_throughput", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_step_loss_equals_the_hf_trainers_on_the_same_batches(tmp_path):
    from tiny_lm import save_tiny_llama
    from toy_mix import toy_mix

    from biasinherit.training import TrainConfig, train_model

    bench = _benchmark()
    folder = save_tiny_llama(tmp_path / "llama")
    mix = toy_mix(1)
    config = TrainConfig(model=f"hf:{folder}", lora=True, lora_r=4, lora_alpha=8, epochs=2, batch_size=4,
                         learning_rate=5e-3, num_threads=1, seed=3)
    ours = train_model(config, mix)
    rows = bench.encode_rows(ours, mix)
    args = argparse.Namespace(threads=1, batch_size=4, epochs=2, model=config.model)
    _, theirs = bench._hf_trainer(args, config, rows, str(tmp_path / "hf"), ours.tokenizer,
                                  batches=bench.ours_batches(rows, config))
    mine = [c["loss"] for c in ours.loss_curve]
    assert len(mine) == len(theirs) == 2 * -(-len(mix) // 4)
    assert mine == pytest.approx(theirs, abs=1e-5)
    assert mine[-1] < mine[0]  # it learned: the comparison is not between two idle runs
