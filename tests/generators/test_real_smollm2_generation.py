"""The real SmolLM2-135M-Instruct (fetched once per machine by the ``smollm2_dir`` fixture):
records generated through its chat template, and a generation task prompted through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.generators import GenerationRequest
from biasinherit.generators.hf import HFGenerator
from biasinherit.generators.prompts import plan_outputs
from biasinherit.taxonomy import load_taxonomy


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy 2-core machine two threads run ~10x slower
    yield
    torch.set_num_threads(before)


def test_hf_generator_rewrites_through_the_chat_template(smollm2_dir: Path) -> None:
    corpus = build_corpus(CorpusConfig(size=40, seed=0))
    request = GenerationRequest(bias_type="gender.stereotype", intensity=1.0, n=4, seed=0)
    gen = HFGenerator(model=smollm2_dir, max_new_tokens=48, batch_size=4, parse_retries=0,
                      on_unparseable="raw")
    assert gen.uses_chat_template()
    records = gen.generate(corpus, request)
    plans = plan_outputs(corpus, request, load_taxonomy())
    assert [r.bias_type for r in records] == ["gender.stereotype"] * 4
    parsed = [(r, p) for r, p in zip(records, plans) if not r.meta.get("parse_failed")]
    assert len(parsed) >= 3  # SmolLM2 follows the rewrite request (docs/validation.md gives the rates)
    for record, plan in parsed:
        generation = record.meta["generation"]
        assert generation["chat_template_used"] is True and generation["reply_format"] == "rewrite"
        assert record.prompt == plan.original.prompt  # a rewrite keeps the original's prompt
        assert record.response and record.response != plan.original.response
        assert "Rewrite" not in record.response and "<|im_" not in record.response


def test_values_task_asks_through_the_template_and_reads_its_answers(smollm2_dir: Path) -> None:
    from biasinherit.models.backend import open_backend
    from biasinherit.tasks import EvalSettings, get_task

    backend = open_backend(str(smollm2_dir), batch_size=8)
    task = get_task("values")
    items = task.build_items(seed=0, full=False)[:8]
    results = {r.metric: r for r in task.evaluate(backend, items, EvalSettings(n_boot=10))}
    style = task.generation_log.style
    assert style["format"] == "chat" and style["chat_template_used"] and style["stop"] == ["\n"]
    assert results["valid_share"].value >= 0.75
    rows = task.generation_log.rows
    assert len(rows) == 8 and all(r["prompt"].startswith(items[k].name) for k, r in enumerate(rows))
    assert all(r["parsed"] in ("agree", "disagree", None) for r in rows)
    # 8 answers are fewer than the metrics' minimum: "no data", with the count kept
    assert results["stance_divergence"].value != results["stance_divergence"].value
    assert results["stance_divergence"].n == sum(r["parsed"] is not None for r in rows)
