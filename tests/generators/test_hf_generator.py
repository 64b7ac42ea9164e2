"""The ``hf`` generator on a tiny random Llama model folder (built in conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.generators import GenerationRequest, get_generator
from biasinherit.generators.hf import HFGenerator
from biasinherit.generators.prompts import plan_outputs
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
    assert all(r.source == "augmented" for r in records)
    # raw mode keeps every reply: a rewrite, or the raw text marked as not parsed
    assert all(r.meta.get("parse_failed") is True or r.meta["generation"]["reply_format"] == "rewrite"
               for r in records)
    assert records[0].meta["generation"]["chat_template_used"] is True  # the folder has a template
    assert any(r.response for r in records)  # the model did generate text
    assert progress[-1] == (5, 5)
    assert records[0].meta["generation"]["generator"] == "hf"
    again = HFGenerator(model=tiny_chat_model, max_new_tokens=12, batch_size=2, parse_retries=1,
                        on_unparseable="raw").generate(ORIGINALS, request)
    assert [r.response for r in again] == [r.response for r in records]


def test_hf_strict_parsing_fails_with_a_count(tiny_chat_model: Path) -> None:
    gen = HFGenerator(model=tiny_chat_model, max_new_tokens=8, batch_size=4, parse_retries=1,
                      request_style="example")  # a random model writes no JSON object
    with pytest.raises(BiasInheritError, match=r"3 of 3 replies .* did not parse \(example request\) after 2 attempts"):
        gen.generate(ORIGINALS, GenerationRequest(n=3, seed=0))


def test_hf_chat_template_off_and_on(tiny_chat_model: Path, tmp_path: Path) -> None:
    request = GenerationRequest(n=2, seed=1)
    off = HFGenerator(model=tiny_chat_model, max_new_tokens=4, parse_retries=0, on_unparseable="raw",
                      chat_template="off").generate(ORIGINALS, request)
    assert all(r.meta["generation"]["chat_template_used"] is False for r in off)
    assert off[0].meta["generation"]["arguments"]["chat_template"] == "off"
    # a folder without a template: 'on' is a user error naming the option
    import json
    import shutil

    bare = tmp_path / "no-template"
    shutil.copytree(tiny_chat_model, bare)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    for extra in bare.glob("chat_template.*"):
        extra.unlink()
    with pytest.raises(BiasInheritError, match="--chat-template on, but the model's tokenizer has no chat template"):
        HFGenerator(model=bare, chat_template="on", on_unparseable="raw").generate(ORIGINALS, request)
    with pytest.raises(BiasInheritError, match="chat_template must be auto, on or off"):
        HFGenerator(model=bare, chat_template="yes")


def test_hf_missing_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(BiasInheritError, match="needs a model"):
        HFGenerator(model=None)
    with pytest.raises(BiasInheritError, match="cannot load model"):
        HFGenerator(model=tmp_path / "nothing-here").generate(ORIGINALS, GenerationRequest(n=1))


def test_the_model_folder_is_named_with_or_without_hf(tiny_chat_model: Path) -> None:
    """``generate --model DIR`` took no prefix while train needed one; every command now takes
    both spellings of a local folder."""
    import biasinherit

    kwargs = dict(generator="hf", bias_type="plain", n=2, seed=1, max_new_tokens=6, parse_retries=0,
                  on_unparseable="raw")
    plain = biasinherit.generate(ORIGINALS, model=str(tiny_chat_model), **kwargs)
    prefixed = biasinherit.generate(ORIGINALS, model=f"hf:{tiny_chat_model}", **kwargs)
    assert [r.response for r in prefixed] == [r.response for r in plain]
