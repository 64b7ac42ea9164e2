"""The ``hf`` generator on a tiny random Llama model folder (built in conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.generate import GenerationRequest, get_generator
from biasinherit.generate.hf import HFGenerator
from biasinherit.generate.prompts import plan_outputs
from biasinherit.records import Record
from biasinherit.taxonomy import load_taxonomy

ORIGINALS = [
    Record(prompt="Describe a colleague at the hospital.",
           response="The nurse checked every chart twice before her shift ended."),
    Record(prompt="Write one sentence about an engineer.",
           response="The engineer explained the bridge design to the city council."),
    Record(prompt=None, response="A teacher in Lagos started a reading club for her students."),
]


def test_hf_generates_n_records_in_plan_order_deterministically(tiny_chat_model: Path) -> None:
    request = GenerationRequest(bias_type="culture.stereotype", intensity=0.5, n=5, seed=2)
    progress: list[tuple[int, int]] = []
    gen = get_generator("hf", model=str(tiny_chat_model), max_new_tokens=12, batch_size=2,
                        parse_retries=1, on_unparseable="raw")
    records = gen.generate(ORIGINALS, request, progress=lambda d, t: progress.append((d, t)))
    plans = plan_outputs(ORIGINALS, request, load_taxonomy())
    assert len(records) == 5
    assert [r.meta["seed_id"] for r in records] == [p.original.id for p in plans]
    assert [r.bias_type for r in records] == [p.bias_type for p in plans]
    assert all(r.source == "augmented" and r.meta["parse_failed"] for r in records)
    assert any(r.response for r in records)  # the model did generate text
    assert progress[-1] == (5, 5)
    assert records[0].meta["generation"]["generator"] == "hf"
    again = HFGenerator(model=tiny_chat_model, max_new_tokens=12, batch_size=2, parse_retries=1,
                        on_unparseable="raw").generate(ORIGINALS, request)
    assert [r.response for r in again] == [r.response for r in records]


def test_hf_strict_parsing_fails_with_a_count(tiny_chat_model: Path) -> None:
    gen = HFGenerator(model=tiny_chat_model, max_new_tokens=8, batch_size=4, parse_retries=1)
    with pytest.raises(BiasInheritError, match=r"3 of 3 replies .* after 2 attempts"):
        gen.generate(ORIGINALS, GenerationRequest(n=3, seed=0))


def test_hf_missing_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(BiasInheritError, match="needs a model"):
        HFGenerator(model=None)
    with pytest.raises(BiasInheritError, match="cannot load model"):
        HFGenerator(model=tmp_path / "nothing-here").generate(ORIGINALS, GenerationRequest(n=1))
