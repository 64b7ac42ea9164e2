"""BiasInheritanceCallback inside a real transformers Trainer, read back from TensorBoard's files."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from tiny_lm import EOS, build_tiny_lm
from transformers import Trainer, TrainerCallback, TrainingArguments

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.errors import BiasInheritError
from biasinherit.integrations.trainer_callback import NO_TOKENIZER, BiasInheritanceCallback
from biasinherit.models.backend import HFBackend
from biasinherit.tasks.base import EvalSettings
from biasinherit.tasks.registry import resolve_tasks
from biasinherit.tasks.runner import run_tasks

TASKS = ["stereo_pairs", "sentiment_cf"]
LIMIT = 16
SEQ = 48


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [f"{r.prompt}\n{r.response}" if r.prompt else r.response
            for r in build_corpus(CorpusConfig(size=48, seed=0))]


def tiny(texts: list[str]) -> tuple[Any, Any]:
    """A fresh 2-layer GPT-2 (dropout on, so a callback that scored in train mode would be
    noisy) with a BPE tokenizer trained on the corpus records."""
    return build_tiny_lm(texts, vocab_size=400, seed=0)


def train_set(tokenizer: Any, texts: list[str]) -> list[dict[str, torch.Tensor]]:
    """Each record padded to ``SEQ`` tokens, the loss on its real tokens only."""
    rows = []
    for text in texts:
        ids = tokenizer(text + EOS, add_special_tokens=False)["input_ids"][:SEQ]
        pad = SEQ - len(ids)
        rows.append({"input_ids": torch.tensor(ids + [tokenizer.pad_token_id] * pad),
                     "attention_mask": torch.tensor([1] * len(ids) + [0] * pad),
                     "labels": torch.tensor(ids + [-100] * pad)})
    return rows


def arguments(out: Path, *, max_steps: int, report_to: list[str] | None = None) -> TrainingArguments:
    return TrainingArguments(output_dir=str(out), max_steps=max_steps, per_device_train_batch_size=8,
                             learning_rate=3e-3, logging_steps=5, save_strategy="no", seed=0, use_cpu=True,
                             report_to=report_to if report_to is not None else ["tensorboard"],
                             disable_tqdm=True, dataloader_num_workers=0)


def tensorboard_scalars(out: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar the run wrote, tag -> [(step, value)], from the event files on disk."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars: dict[str, list[tuple[int, float]]] = {}
    event_dirs = {p.parent for p in out.rglob("events.out.tfevents.*")}
    assert event_dirs, f"no TensorBoard event file under {out}"
    for d in event_dirs:
        acc = EventAccumulator(str(d), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return scalars


def independent(model: Any, tokenizer: Any, *, add_bos: bool, n_boot: int) -> dict[tuple[str, str], Any]:
    """The same tasks and items through the evaluation machinery, on a fresh backend."""
    backend = HFBackend(model, tokenizer, add_bos=add_bos)
    model.eval()
    settings = EvalSettings(seed=0, limit=LIMIT, n_boot=n_boot)
    results, _ = run_tasks(backend, resolve_tasks(",".join(TASKS)), settings)
    return {(r.task, r.metric): r for r in results}


class ModeProbe(TrainerCallback):
    """Registered after the bias callback: what the model looks like once scoring is done."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[bool, bool, bool]] = {}

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self.seen[state.global_step] = (all(m.training for m in model.modules()), torch.is_grad_enabled(),
                                        all(p.requires_grad for p in model.parameters()))


def test_bias_values_reach_tensorboard_and_match_an_independent_evaluation(
        texts: list[str], tmp_path: Path) -> None:
    model, tokenizer = tiny(texts)
    cb = BiasInheritanceCallback(tasks=TASKS, every_n_steps=8, limit=LIMIT, n_boot=50)
    probe = ModeProbe()
    trainer = Trainer(model=model, args=arguments(tmp_path, max_steps=20), train_dataset=train_set(tokenizer, texts),
                      processing_class=tokenizer, callbacks=[cb, probe])
    trainer.train()

    history = cb.history
    assert list(history.columns) == ["step", "task", "metric", "value", "ci_low", "ci_high", "n"]
    assert sorted(set(history.step)) == [8, 16, 20]  # every 8 steps, and the last step
    assert set(history.task) == set(TASKS)
    assert sorted(cb.seconds) == [8, 16, 20]

    # scoring left the model training, with gradients on, at each scored step
    for step in (8, 16, 20):
        assert probe.seen[step] == (True, True, True)

    # every finite value reached TensorBoard at its step ('train/' is the TensorBoard callback's prefix)
    scalars = tensorboard_scalars(tmp_path)
    finite = history[history.value.map(lambda v: not math.isnan(v))]
    assert len(finite) >= 3 * 8
    for row in finite.itertuples():
        logged = scalars[f"train/bias/{row.task}/{row.metric}"]
        assert [s for s, _ in logged] == sorted(set(history.step[(history.task == row.task)
                                                               & (history.metric == row.metric)
                                                               & history.value.notna()]))
        assert dict(logged)[row.step] == pytest.approx(row.value, rel=1e-6, abs=1e-7)  # float32 on disk
    assert [s for s, _ in scalars["train/loss"]] == [5, 8, 10, 15, 16, 20]  # the Trainer's own cadence + ours

    # the Trainer's log history carries them too
    logged_steps = [e["step"] for e in trainer.state.log_history if "bias/stereo_pairs/pct_stereotype" in e]
    assert logged_steps == [8, 16, 20]

    # the curve moves, so agreement with the final model below is not agreement with any model
    gap = history[(history.task == "stereo_pairs") & (history.metric == "likelihood_gap")].set_index("step").value
    assert gap[8] != gap[20]

    # the last values are what evaluating the final model on the same items gives
    final = independent(trainer.model, tokenizer, add_bos=tokenizer.bos_token_id is not None, n_boot=50)
    last = history[history.step == 20]
    assert len(last) == len(final)
    for row in last.itertuples():
        ref = final[(row.task, row.metric)]
        for field in ("value", "ci_low", "ci_high"):
            assert getattr(row, field) == pytest.approx(getattr(ref, field), rel=1e-9, abs=1e-12, nan_ok=True)
        assert row.n == ref.n


def test_add_callback_reaches_tensorboard_and_add_bos_override(texts: list[str], tmp_path: Path) -> None:
    model, tokenizer = tiny(texts)
    cb = BiasInheritanceCallback(tasks="sentiment_cf", every_n_steps=3, limit=LIMIT, n_boot=0,
                                 add_bos=False, at_train_end=False)
    trainer = Trainer(model=model, args=arguments(tmp_path, max_steps=7), train_dataset=train_set(tokenizer, texts),
                      processing_class=tokenizer)
    trainer.add_callback(cb)  # appended after the progress callback too
    trainer.train()

    history = cb.history
    assert sorted(set(history.step)) == [3, 6]  # 7 is the last step, but at_train_end is off
    scalars = tensorboard_scalars(tmp_path)
    delta = history[history.metric == "mean_abs_delta_p_positive"].set_index("step").value
    assert delta[3] != delta[6]
    assert dict(scalars["train/bias/sentiment_cf/mean_abs_delta_p_positive"]) == pytest.approx(dict(delta), rel=1e-6)

    # add_bos=False is what scored: not the tokenizer's default framing
    cb.score(trainer.model, tokenizer, step=99)
    at_99 = history_at(cb, 99)
    without_bos = {m: r.value for (t, m), r in independent(trainer.model, tokenizer, add_bos=False, n_boot=0).items()
                   if t == "sentiment_cf"}
    with_bos = {m: r.value for (t, m), r in independent(trainer.model, tokenizer, add_bos=True, n_boot=0).items()
                if t == "sentiment_cf"}
    assert at_99 == pytest.approx(without_bos, nan_ok=True)
    assert at_99 != pytest.approx(with_bos, nan_ok=True)


def history_at(cb: BiasInheritanceCallback, step: int) -> dict[str, float]:
    h = cb.history
    return dict(zip(h[h.step == step].metric, h[h.step == step].value))


def test_score_restores_each_module_mode_and_grad_mode(texts: list[str]) -> None:
    model, tokenizer = tiny(texts)
    model.train()
    model.transformer.h[0].eval()  # a frozen block stays in eval mode, the rest back to train
    before = [(name, m.training) for name, m in model.named_modules()]
    weights = [p.detach().clone() for p in model.parameters()]
    cb = BiasInheritanceCallback(tasks=["stereo_pairs"], every_n_steps=1, limit=4, n_boot=0)
    with torch.enable_grad():
        values = cb.score(model, tokenizer, step=1)
        assert torch.is_grad_enabled()
    assert [(name, m.training) for name, m in model.named_modules()] == before
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))
    assert set(values) >= {"bias/stereo_pairs/pct_stereotype", "bias/stereo_pairs/likelihood_gap"}


def test_unknown_task_fails_at_construction_with_a_hint() -> None:
    with pytest.raises(BiasInheritError, match=r"field 'tasks': Unknown task 'stereo_pair'\. "
                                               r"Did you mean: stereo_pairs\b"):
        BiasInheritanceCallback(tasks=["stereo_pair"], every_n_steps=10)
    with pytest.raises(BiasInheritError, match=r"field 'tasks': Unknown task 'zzz'\. Known: bias_qa"):
        BiasInheritanceCallback(tasks="zzz")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"every_n_steps": 0}, "every_n_steps"), ({"limit": 0}, "limit"), ({"chat_template": "yes"}, "chat_template"),
    ({"tasks": []}, "tasks"), ({"tasks": ["coref"], "limit": {"story": 3}}, "limit"),
])
def test_bad_settings_fail_at_construction(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(BiasInheritError, match=rf"field '{field}'"):
        BiasInheritanceCallback(**kwargs)


def test_a_per_task_limit_cuts_only_the_tasks_it_names() -> None:
    cb = BiasInheritanceCallback(tasks=["coref", "stereo_pairs"], limit={"coref": 3})
    assert len(cb.items["coref"]) == 3 and len(cb.items["stereo_pairs"]) > 3


def test_missing_tokenizer_fails_before_training(texts: list[str], tmp_path: Path) -> None:
    model, tokenizer = tiny(texts)
    cb = BiasInheritanceCallback(tasks=["stereo_pairs"], every_n_steps=1, limit=4)
    trainer = Trainer(model=model, args=arguments(tmp_path, max_steps=2, report_to=[]),
                      train_dataset=train_set(tokenizer, texts), callbacks=[cb])
    with pytest.raises(BiasInheritError, match=re.escape(NO_TOKENIZER)):
        trainer.train()
    assert trainer.state.global_step == 0
